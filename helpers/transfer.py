"""Transfer learning: the experiment the transfer_learning notebook runs, with its data, backbones and summaries.

Two experiments; `prepare_experiment('auto')` picks the first this machine can run without downloading:

    imagenet_cifar10  the homework's own: torchvision's ImageNet ResNet-18 transferred to CIFAR-10. Needs the
                      weights file in the torch hub cache (`torch.hub.get_dir()`/checkpoints) and CIFAR-10's files.
    fashion_halves    offline, as Yosinski et al. (2014) split ImageNet in halves: a ResNet-18 trained by the kit on
                      Fashion-MNIST classes A (0-4: tops, trousers, dresses, coats) is transferred to classes B
                      (5-9: sandals, shirts, sneakers, bags, ankle boots) with 100 labelled images per class.

Inputs are adapted with torchvision transforms (grey -> 3 channels, resizing, normalisation with the statistics
the backbone was trained with), applied batch by batch as the loaders hand the images out: the images are kept as
the dataset stores them (uint8), so 224-pixel inputs for ImageNet weights do not have to fit in memory at once.
"""
import copy
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import torch
from torch import nn

from helpers.data import DatasetNotFoundError, cache_dir, raw_images
from helpers.utils import budget, progress, reset_seed

EXPERIMENTS = ("imagenet_cifar10", "fashion_halves")
#: Fashion-MNIST classes of the source task (A) and the target task (B).
CLASSES_A, CLASSES_B = (0, 1, 2, 3, 4), (5, 6, 7, 8, 9)
#: Side of the square images the backbones see: Fashion-MNIST's 28 pixels resized to 32; ImageNet weights on CIFAR-10
#: at the homework's 224 on a GPU, smaller on a CPU so that an epoch takes minutes, not hours.
FASHION_SIZE = 32
IMAGENET_SIZE = {"cuda": 224, "other": 64}
#: How the kit trains the Fashion-MNIST source model (classes A): about a minute on two CPU cores.
SOURCE_SETTINGS = {"images_per_class": 3000, "epochs": 2, "batch_size": 128, "learning_rate": 1e-3, "seed": 0}


class WeightsNotFoundError(FileNotFoundError):
    """Pretrained weights that are not on this machine (nothing is downloaded without being asked)."""


@dataclass
class Experiment:
    """A transfer experiment ready to run: the target task's data and its backbones.

    `train`, `val`, `test`: (images (N, C, H, W) uint8 as stored, labels (N,) int64) of the target task; `loaders`
    hands them out adapted by `transform`, as (N, 3, image_size, image_size) float32 batches.
    `pretrained()` gives a fresh copy of the source network (its old head included); `scratch()` an untrained one.
    """
    name: str
    description: str
    class_names: list
    image_size: int
    transform: object               # the torchvision transform applied to the raw images
    train: tuple
    val: tuple
    test: tuple
    source_weights: dict = field(repr=False, default=None)
    source_classes: int = 1000

    def pretrained(self):
        model = resnet18(self.source_classes)
        model.load_state_dict(self.source_weights)
        return model

    def scratch(self):
        return resnet18(self.source_classes)

    def loaders(self, batch_size=50, seed=0):
        """(train, val, test) DataLoaders of transformed batches; the training loader reshuffles each epoch from
        `seed`."""
        from torch.utils.data import DataLoader, TensorDataset
        shuffled = torch.Generator().manual_seed(seed)
        adapt = TransformBatch(self.transform)
        return (DataLoader(TensorDataset(*self.train), batch_size=batch_size, shuffle=True, generator=shuffled,
                           collate_fn=adapt),
                DataLoader(TensorDataset(*self.val), batch_size=4 * batch_size, collate_fn=adapt),
                DataLoader(TensorDataset(*self.test), batch_size=4 * batch_size, collate_fn=adapt))


class TransformBatch:
    """A DataLoader collate_fn: stacks (image, label) pairs and applies the transform to the whole batch at once."""

    def __init__(self, transform):
        self.transform = transform

    def __call__(self, items):
        images, labels = zip(*items)
        return self.transform(torch.stack(images)), torch.stack(labels)


def resnet18(num_classes=1000):
    """An untrained torchvision ResNet-18 with `num_classes` outputs."""
    from torchvision.models import resnet18 as build
    return build(weights=None, num_classes=num_classes)


def prepare_experiment(name="auto", labels_per_class=100, device=None, root=None, verify_checksums=True):
    """The experiment `name` ('auto', 'imagenet_cifar10' or 'fashion_halves'), its data and backbones ready.

    'auto' runs the homework's ImageNet -> CIFAR-10 experiment when the weights and CIFAR-10 are on this machine, and
    the Fashion-MNIST halves otherwise, saying why. Under the grading budget the data shrink to a few images.
    `root` is the folder holding the data (None: the default places, see helpers.data); `verify_checksums` checks
    CIFAR-10's files against torchvision's MD5 sums. Raises WeightsNotFoundError or DatasetNotFoundError, with how to
    get what is missing, when `name` is explicit.
    """
    if name not in EXPERIMENTS + ("auto",):
        raise ValueError(f"unknown experiment {name!r}; choose one of {EXPERIMENTS + ('auto',)}")
    device = torch.device(device) if device is not None else torch.device("cpu")
    if name in ("auto", "imagenet_cifar10"):
        try:
            return _imagenet_cifar10(labels_per_class, device, root, verify_checksums)
        except (WeightsNotFoundError, DatasetNotFoundError) as missing:
            if name != "auto":
                raise
            print(f"The homework's ImageNet -> CIFAR-10 experiment cannot run here: {missing}\n"
                  "Running the offline experiment instead: Fashion-MNIST classes A -> classes B.")
    return _fashion_halves(labels_per_class, root)


def imagenet_weights_file():
    """Where torchvision keeps the ImageNet ResNet-18 weights once downloaded (torch hub cache); may not exist."""
    from torchvision.models import ResNet18_Weights
    url = ResNet18_Weights.IMAGENET1K_V1.url
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(url).path).name


def imagenet_weights():
    """The ImageNet ResNet-18 state dict from the torch hub cache; WeightsNotFoundError when it is not there."""
    path = imagenet_weights_file()
    if not path.is_file():
        raise WeightsNotFoundError(
            f"the ImageNet ResNet-18 weights are not in {path.parent}. On a machine with internet, run "
            "`python -c \"import torchvision; torchvision.models.resnet18(weights='IMAGENET1K_V1')\"` (it saves "
            f"{path.name} there), or copy that file into {path.parent} (set TORCH_HOME to use another folder).")
    return torch.load(path, map_location="cpu", weights_only=True)


def _imagenet_cifar10(labels_per_class, device, root, verify_checksums):
    from torchvision.models import ResNet18_Weights
    from torchvision.transforms import v2
    weights = imagenet_weights()
    raw = raw_images("cifar10", root=root, download=False, verify_checksums=verify_checksums)
    size = IMAGENET_SIZE["cuda" if device.type == "cuda" else "other"]
    stats = ResNet18_Weights.IMAGENET1K_V1.transforms()
    transform = v2.Compose([v2.Resize(size, antialias=True), v2.ToDtype(torch.float32, scale=True),
                            v2.Normalize(mean=stats.mean, std=stats.std)])
    classes = tuple(range(10))
    train, val, test = _target_splits(raw, classes, labels_per_class)
    return Experiment("imagenet_cifar10", f"ImageNet ResNet-18 -> CIFAR-10, {labels_per_class} labelled images per "
                      f"class, {size}x{size} pixels", list(raw["class_names"]), size, transform, train, val, test,
                      source_weights=weights, source_classes=1000)


def _fashion_halves(labels_per_class, root):
    raw = raw_images("fashion_mnist", root=root)
    source = source_model(root=root)
    transform = fashion_transform(source["mean"], source["std"])
    train, val, test = _target_splits(raw, CLASSES_B, labels_per_class)
    names = [raw["class_names"][c] for c in CLASSES_B]
    return Experiment("fashion_halves", f"ResNet-18 trained on Fashion-MNIST classes A ({', '.join(raw['class_names'][c] for c in CLASSES_A)}) "
                      f"-> classes B ({', '.join(names)}), {labels_per_class} labelled images per class",
                      names, FASHION_SIZE, transform, train, val, test,
                      source_weights=source["state_dict"], source_classes=len(CLASSES_A))


def fashion_transform(mean, std):
    """Grey 28x28 uint8 images -> 3 x 32 x 32 float, normalised with the source model's training statistics."""
    from torchvision.transforms import v2
    return v2.Compose([v2.Grayscale(num_output_channels=3), v2.Resize(FASHION_SIZE, antialias=True),
                       v2.ToDtype(torch.float32, scale=True), v2.Normalize(mean=[mean] * 3, std=[std] * 3)])


def _target_splits(raw, classes, labels_per_class):
    """(train, val, test) of the target task, each (uint8 images, labels): `labels_per_class` training and as many
    validation images per class, drawn from the training set (fixed order), and the whole test set of those classes
    (a few images under the grading budget). Labels are renumbered 0..len(classes)-1."""
    per_class = budget(labels_per_class, 4)
    train = _select(raw["x_train"], raw["y_train"], classes, per_class, offset=0)
    val = _select(raw["x_train"], raw["y_train"], classes, per_class, offset=per_class)
    test = _select(raw["x_test"], raw["y_test"], classes, budget(None, 10), offset=0)
    return train, val, test


def _select(images, labels, classes, per_class, offset):
    """The images of `classes`, `per_class` of each (None: all) from a fixed shuffle, and their renumbered labels."""
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))
    chosen, renumbered = [], []
    for new_label, c in enumerate(classes):
        idx = order[labels[order] == c]
        idx = idx[offset:offset + per_class] if per_class is not None else idx[offset:]
        chosen.append(idx)
        renumbered.append(torch.full((len(idx),), new_label, dtype=torch.int64))
    idx = torch.cat(chosen)
    return images[idx], torch.cat(renumbered)


def source_model(root=None, settings=None):
    """The Fashion-MNIST source network (ResNet-18 trained on classes A), trained once and then cached.

    Returns {'state_dict', 'mean', 'std', 'val_accuracy', 'settings'}. Training takes about a minute on two CPU
    cores and shows a progress bar; under the grading budget a few batches stand in for it (a separate cache entry).
    """
    settings = dict(settings or SOURCE_SETTINGS)
    if budget(False, True):
        settings.update(images_per_class=100, epochs=1)
    key = hashlib.sha256(json.dumps([settings, torch.__version__], sort_keys=True).encode()).hexdigest()[:12]
    path = cache_dir() / "transfer" / f"fashion_A_resnet18-{key}.pth"
    if path.is_file():
        return torch.load(path, map_location="cpu", weights_only=True)
    print(f"Training the source network (ResNet-18 on Fashion-MNIST classes A) once; it is cached in {path.parent}.")
    trained = train_source_model(raw_images("fashion_mnist", root=root), settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.part")
    torch.save(trained, partial)
    os.replace(partial, path)  # atomic: two notebooks training at once never see half a file
    return trained


def train_source_model(raw, settings):
    """Train a ResNet-18 on classes A with Adam and cross-entropy; keep the weights of the best validation epoch."""
    reset_seed(settings["seed"])
    per = settings["images_per_class"]
    train = _select(raw["x_train"], raw["y_train"], CLASSES_A, per, offset=0)
    val = _select(raw["x_train"], raw["y_train"], CLASSES_A, per // 5, offset=per)
    grey = train[0].float() / 255
    mean, std = grey.mean().item(), grey.std().item()
    transform = fashion_transform(mean, std)
    (x_train, y_train), (x_val, y_val) = ((transform(x), y) for x, y in (train, val))
    model = resnet18(len(CLASSES_A))
    optimizer = torch.optim.Adam(model.parameters(), lr=settings["learning_rate"])
    loss_fn = nn.CrossEntropyLoss()
    best = (-1.0, None)
    for _ in range(settings["epochs"]):
        model.train()
        order = torch.randperm(len(y_train))
        for start in progress(range(0, len(order), settings["batch_size"]), desc="source network", disable=False):
            idx = order[start:start + settings["batch_size"]]
            loss = loss_fn(model(x_train[idx]), y_train[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        accuracy = accuracy_of(model, x_val, y_val)
        if accuracy > best[0]:
            best = (accuracy, copy.deepcopy(model.state_dict()))
    return {"state_dict": best[1], "mean": mean, "std": std, "val_accuracy": best[0], "settings": settings}


@torch.no_grad()
def accuracy_of(model, images, labels, batch_size=500):
    """Share of `images` (N, 3, S, S) the model labels correctly, in eval mode."""
    model.eval()
    correct = sum((model(images[i:i + batch_size]).argmax(dim=1) == labels[i:i + batch_size]).sum().item()
                  for i in range(0, len(labels), batch_size))
    return correct / len(labels)


def summary(model, image_size, device="cpu"):
    """torchinfo's table of the model, like Keras' `model.summary()`: output shape and parameters per layer, then
    total, trainable and non-trainable counts."""
    import torchinfo
    return torchinfo.summary(model, input_size=(1, 3, image_size, image_size), device=device, depth=1,
                             col_names=("output_size", "num_params", "trainable"), row_settings=("var_names",),
                             verbose=0)


def count_parameters(model):
    """(trainable, non-trainable) parameter counts."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, sum(p.numel() for p in model.parameters()) - trainable


#: The three ways to start: (pretrained backbone, frozen, Adam's learning rate). A frozen backbone trains only a
#: linear head, which takes a larger step; fine-tuning moves pretrained weights gently.
MODES = {"frozen": (True, True, 1e-2), "fine-tuned": (True, False, 1e-4), "from scratch": (False, False, 1e-3)}


def compare_modes(experiment, make_model, trainable_parameters, fit, evaluate, epochs=20, patience=3, seed=0,
                  device="cpu", batch_size=50, modes=MODES):
    """Train one network per mode with the given functions (the notebook's own) and test each on the test set.

    Returns (histories: mode -> fit's history, results: mode -> {'test_loss', 'test_acc', 'trainable', 'frozen',
    'seconds', 'epochs_run', 'best_epoch', 'best_val_acc'}).
    """
    histories, results = {}, {}
    loss_fn = nn.CrossEntropyLoss()
    for mode in progress(modes, desc="modes"):
        pretrained, freeze, lr = modes[mode]
        reset_seed(seed)
        backbone = experiment.pretrained() if pretrained else experiment.scratch()
        model = make_model(backbone, len(experiment.class_names), freeze).to(device)
        optimizer = torch.optim.Adam(trainable_parameters(model), lr=lr)
        train_loader, val_loader, test_loader = experiment.loaders(batch_size, seed)
        start = time.perf_counter()
        history = fit(model, train_loader, val_loader, optimizer, loss_fn, device, epochs, patience=patience)
        test_loss, test_acc = evaluate(model, test_loader, loss_fn, device)
        trainable, frozen = count_parameters(model)
        histories[mode] = history
        results[mode] = {"test_loss": float(test_loss), "test_acc": float(test_acc), "trainable": trainable,
                         "frozen": frozen, "seconds": time.perf_counter() - start, "epochs_run": len(history["val_loss"]),
                         "best_epoch": history["best_epoch"],
                         "best_val_acc": float(history["val_acc"][history["best_epoch"]])}
    return histories, results


def results_table(results):
    """The results of compare_modes as a text table, one row per mode."""
    header = f"{'mode':<14}{'trainable':>12}{'frozen':>12}{'epochs run':>12}{'best epoch':>12}{'val acc':>10}" \
             f"{'test acc':>10}{'seconds':>9}"
    rows = [f"{mode:<14}{r['trainable']:>12,}{r['frozen']:>12,}{r['epochs_run']:>12}{r['best_epoch']:>12}"
            f"{100 * r['best_val_acc']:>9.1f}%{100 * r['test_acc']:>9.1f}%{r['seconds']:>9.1f}"
            for mode, r in results.items()]
    return "\n".join([header, "-" * len(header)] + rows)
