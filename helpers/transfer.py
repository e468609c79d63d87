"""Transfer learning: the experiment the transfer_learning notebook runs, with its data, backbones and summaries.

The course chooses one experiment for every student (helpers/course.toml, `[transfer_learning] experiment`):

    fashion_halves_layer3  offline, as Yosinski et al. (2014) split ImageNet in halves: a ResNet-18 trained by the
                      kit on Fashion-MNIST classes A (T-shirt/top, trouser, pullover, dress, coat: clothes) is
                      transferred to classes B (sandal, shirt, sneaker, bag, ankle boot: mostly shoes and bags),
                      reused from its stem through layer3: its last block, specific to the clothes, is left out.
    fashion_halves    the same, reusing the whole network (through layer4).
    fashion_mixed     the whole network, on a split whose halves both hold tops and footwear: A (T-shirt/top,
                      trouser, pullover, sandal, sneaker) -> B (dress, coat, shirt, bag, ankle boot).
    imagenet_cifar10  the homework's own: torchvision's ImageNet ResNet-18 transferred to CIFAR-10. Needs the
                      weights file in the torch hub cache (`torch.hub.get_dir()`/checkpoints) and CIFAR-10's files.
                      CIFAR-10's 32-pixel images are resized to the course's `[transfer_learning]
                      imagenet_image_size` (224 as shipped), the same on every machine, whatever its device.

Each experiment keeps its target task's whole training set as a labelled pool; `Experiment.with_labels(k, seed)`
draws k training and k validation images per class from it (another seed, other images), so the same experiment
runs at several label budgets. Inputs are adapted with torchvision transforms (grey -> 3 channels, resizing,
normalisation with the statistics the backbone was trained with), applied batch by batch as the loaders hand the
images out: the images are kept as the dataset stores them (uint8), so large inputs for ImageNet weights (224 pixels
as shipped) do not have to fit in memory at once.
"""
import copy
import hashlib
import itertools
import json
import os
import statistics
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlparse

import torch
from torch import nn

from helpers.course import course_setting, settings_file
from helpers.data import cache_dir, raw_images
from helpers.i18n import _, ngettext
from helpers.utils import budget, display_width, pad, progress, reset_seed
from helpers.utils import confusion_matrix  # noqa: F401 - the notebook imports it from here

#: Fashion-MNIST splits: experiment -> (classes of the source task A, classes of the target task B).
FASHION_SPLITS = {"fashion_halves_layer3": ((0, 1, 2, 3, 4), (5, 6, 7, 8, 9)),
                  "fashion_halves": ((0, 1, 2, 3, 4), (5, 6, 7, 8, 9)),
                  "fashion_mixed": ((0, 1, 2, 5, 7), (3, 4, 6, 8, 9))}
EXPERIMENTS = tuple(FASHION_SPLITS) + ("imagenet_cifar10",)
#: A ResNet-18's stages in order, and the channels each hands on (global average pooling makes them the features).
BLOCKS = {"stem": 64, "layer1": 64, "layer2": 128, "layer3": 256, "layer4": 512}
#: The last block of the source network an experiment reuses; the others reuse the whole network (through layer4).
REUSED_BLOCK = {"fashion_halves_layer3": "layer3"}
#: Side of the square images the backbones see: Fashion-MNIST's 28 pixels resized to 32; ImageNet weights on CIFAR-10
#: at the course's `imagenet_image_size` (helpers/course.toml), at least CIFAR-10's own 32 pixels.
FASHION_SIZE = 32
IMAGENET_MIN_SIZE = 32
#: How the kit trains a Fashion-MNIST source model on classes A: about a minute on two CPU cores.
SOURCE_SETTINGS = {"images_per_class": 3000, "epochs": 2, "batch_size": 128, "learning_rate": 1e-3, "seed": 0}
#: Labelled training images per class of the label-budget experiment.
LABEL_BUDGETS = (5, 10, 20, 50, 100)


class WeightsNotFoundError(FileNotFoundError):
    """Pretrained weights that are not on this machine (nothing is downloaded without being asked)."""


@dataclass
class Experiment:
    """A transfer experiment ready to run: the target task's data and its backbones.

    `pool`: (images (N, C, H, W) uint8 as stored, labels (N,) int64) of every labelled training image of the target
    task, from which `with_labels` draws `train` and `val` (as many images per class each); `test`: the target task's
    test set. `loaders` hands them out adapted by `transform`, as (N, 3, image_size, image_size) float32 batches.
    `pretrained()` gives a fresh copy of the source network through `block`, with a head `fc` on that block's
    features (the old head when the whole network is reused); `scratch()` the same network untrained.
    """
    name: str
    task: str                       # source -> target, in words
    class_names: list
    image_size: int
    transform: object               # the torchvision transform applied to the raw images
    pool: tuple = field(repr=False)
    test: tuple = field(repr=False)
    train: tuple = field(repr=False, default=None)
    val: tuple = field(repr=False, default=None)
    labels_per_class: int = 0
    seed: int = 0
    source_weights: dict = field(repr=False, default=None)
    source_classes: int = 1000
    block: str = "layer4"           # the last block of the source network that is reused (see cut_after)

    @property
    def description(self):
        return _("{task}, {count} labelled training images per class (draw {seed})").format(
            task=self.task, count=self.labels_per_class, seed=self.seed)

    def with_labels(self, labels_per_class, seed=0):
        """This experiment with `labels_per_class` training and as many validation images per class, drawn from the
        pool by `seed`; the test set stays. Under the grading budget at most 4 of each."""
        per_class = budget(labels_per_class, min(labels_per_class, 4))
        classes = range(len(self.class_names))
        train = _draw(*self.pool, classes, per_class, offset=0, seed=seed)
        val = _draw(*self.pool, classes, per_class, offset=per_class, seed=seed)
        return replace(self, train=train, val=val, labels_per_class=labels_per_class, seed=seed)

    def through(self, block):
        """This experiment reusing the source network through `block` (a key of BLOCKS) instead."""
        return replace(self, block=block)

    def pretrained(self):
        model = resnet18(self.source_classes)
        model.load_state_dict(self.source_weights)
        return cut_after(model, self.block)

    def scratch(self):
        return cut_after(resnet18(self.source_classes), self.block)

    def loaders(self, batch_size=50, seed=0, augment=None):
        """(train, val, test) DataLoaders of transformed batches; the training loader reshuffles each epoch from
        `seed` and, given `augment` (a torchvision transform of one uint8 image), applies it to each training image
        before the adaptation, drawing new random changes every time an image is handed out."""
        from torch.utils.data import DataLoader, TensorDataset
        shuffled = torch.Generator().manual_seed(seed)
        adapt = TransformBatch(self.transform)
        return (DataLoader(TensorDataset(*self.train), batch_size=batch_size, shuffle=True, generator=shuffled,
                           collate_fn=TransformBatch(self.transform, augment)),
                DataLoader(TensorDataset(*self.val), batch_size=4 * batch_size, collate_fn=adapt),
                DataLoader(TensorDataset(*self.test), batch_size=4 * batch_size, collate_fn=adapt))


class TransformBatch:
    """A DataLoader collate_fn: augments each image on its own (optional), stacks the (image, label) pairs and applies
    the transform to the whole batch at once."""

    def __init__(self, transform, augment=None):
        self.transform, self.augment = transform, augment

    def __call__(self, items):
        images, labels = zip(*items)
        if self.augment is not None:
            images = [self.augment(image) for image in images]
        return self.transform(torch.stack(images)), torch.stack(labels)


def resnet18(num_classes=1000):
    """An untrained torchvision ResNet-18 with `num_classes` outputs."""
    from torchvision.models import resnet18 as build
    return build(weights=None, num_classes=num_classes)


def cut_after(model, block):
    """The ResNet-18 `model` ending at `block` (a key of BLOCKS), in place: the blocks after it become identities, so
    that global average pooling turns that block's BLOCKS[block] channels into the features, and the head `fc`
    becomes a new linear layer on them (kept as it is when `block` is the last one). Returns `model`."""
    if block not in BLOCKS:
        raise ValueError(_("unknown block {block}; choose one of {blocks}").format(block=repr(block),
                                                                                   blocks=tuple(BLOCKS)))
    names = list(BLOCKS)
    if block == names[-1]:
        return model
    for later in names[names.index(block) + 1:]:
        setattr(model, later, nn.Identity())
    model.fc = nn.Linear(BLOCKS[block], model.fc.out_features)
    return model


def prepare_experiment(name=None, labels_per_class=100, seed=0, test_per_class=None, device=None, root=None,
                       verify_checksums=True, download=True):
    """The experiment `name` (one of EXPERIMENTS; None: the course's, from helpers/course.toml), its data and
    backbones ready, with `labels_per_class` labelled training images per class drawn by `seed`, and
    `test_per_class` test images per class (None: the whole test set of the target classes).

    Under the grading budget the data shrink to a few images. `root` is the folder holding the data (None: the
    default places, see helpers.data); `verify_checksums` checks CIFAR-10's files against torchvision's MD5 sums.
    `download=True` lets torchvision fetch Fashion-MNIST (the fashion_* experiments) when no copy is found, as
    helpers.data.load_dataset does; the ImageNet weights and CIFAR-10 are never downloaded. `device` changes
    nothing (the image size is the course's, the same on every device); it is accepted for older notebooks.
    Raises WeightsNotFoundError or DatasetNotFoundError, saying how to get what is missing.
    """
    name = name or course_experiment()
    if name not in EXPERIMENTS:
        raise ValueError(_("unknown experiment {name}; choose one of {experiments}").format(name=repr(name),
                                                                                           experiments=EXPERIMENTS))
    if name == "imagenet_cifar10":
        experiment = _imagenet_cifar10(root, verify_checksums, test_per_class)
    else:
        experiment = _fashion(name, root, test_per_class, download)
    return experiment.with_labels(labels_per_class, seed)


def course_experiment():
    """The transfer experiment the course runs for every student: helpers/course.toml's
    `[transfer_learning] experiment`."""
    name = course_setting("transfer_learning", "experiment")
    if name not in EXPERIMENTS:
        raise ValueError(f"the course's settings name an unknown transfer experiment {name!r}; choose one of "
                         f"{EXPERIMENTS}")
    return name


def check_experiment_available(name=None, root=None):
    """Raise WeightsNotFoundError or DatasetNotFoundError (saying what to install) unless this machine has what
    experiment `name` (None: the course's) needs; the Fashion-MNIST source network may still have to be trained.
    Downloads nothing (the grader's pre-flight check)."""
    name = name or course_experiment()
    if name == "imagenet_cifar10":
        imagenet_image_size()
        imagenet_weights_file_present()
        raw_images("cifar10", root=root, download=False, verify_checksums=False)
    else:
        raw_images("fashion_mnist", root=root, download=False)
    return name


def imagenet_image_size():
    """The side, in pixels, of the images the ImageNet backbone sees in imagenet_cifar10: helpers/course.toml's
    `[transfer_learning] imagenet_image_size`, the same for every student and the grader; a ValueError, naming the
    settings file, unless it is a whole number of at least IMAGENET_MIN_SIZE (CIFAR-10's own 32 pixels)."""
    size = course_setting("transfer_learning", "imagenet_image_size")
    if isinstance(size, bool) or not isinstance(size, int) or size < IMAGENET_MIN_SIZE:
        raise ValueError(f"the course's settings file {settings_file()} sets imagenet_image_size = {size!r}; it must "
                         f"be a whole number of pixels, at least {IMAGENET_MIN_SIZE} (CIFAR-10's own size): 224 as "
                         "the homework's Xception saw, or smaller, such as 64, for a class without GPUs")
    return size


def imagenet_weights_file():
    """Where torchvision keeps the ImageNet ResNet-18 weights once downloaded (torch hub cache); may not exist."""
    from torchvision.models import ResNet18_Weights
    url = ResNet18_Weights.IMAGENET1K_V1.url
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(url).path).name


def imagenet_weights_file_present():
    """The path of the ImageNet ResNet-18 weights; WeightsNotFoundError, with how to get them, when they are not
    here."""
    path = imagenet_weights_file()
    if not path.is_file():
        raise WeightsNotFoundError(_(
            "the ImageNet ResNet-18 weights are not in {folder}. On a machine with internet, run "
            "`python -c \"import torchvision; torchvision.models.resnet18(weights='IMAGENET1K_V1')\"` (it saves "
            "{file} there), or copy that file into {folder} (set TORCH_HOME to use another folder).").format(
                folder=path.parent, file=path.name))
    return path


def imagenet_weights():
    """The ImageNet ResNet-18 state dict from the torch hub cache; WeightsNotFoundError when it is not there."""
    return torch.load(imagenet_weights_file_present(), map_location="cpu", weights_only=True)


def _imagenet_cifar10(root, verify_checksums, test_per_class):
    from torchvision.models import ResNet18_Weights
    from torchvision.transforms import v2
    size = imagenet_image_size()
    weights = imagenet_weights()
    raw = raw_images("cifar10", root=root, download=False, verify_checksums=verify_checksums)
    stats = ResNet18_Weights.IMAGENET1K_V1.transforms()
    transform = v2.Compose([v2.Resize(size, antialias=True), v2.ToDtype(torch.float32, scale=True),
                            v2.Normalize(mean=stats.mean, std=stats.std)])
    pool, test = _target_sets(raw, tuple(range(10)), test_per_class)
    return Experiment("imagenet_cifar10", _("ImageNet ResNet-18 -> CIFAR-10 at {size}x{size} pixels").format(size=size),
                      list(raw["class_names"]), size, transform, pool, test, source_weights=weights,
                      source_classes=1000)


def _fashion(name, root, test_per_class, download=True):
    classes_a, classes_b = FASHION_SPLITS[name]
    raw = raw_images("fashion_mnist", root=root, download=download)
    source = source_model(classes_a, root=root, download=download)
    pool, test = _target_sets(raw, classes_b, test_per_class)

    def names(classes):
        return ", ".join(raw["class_names"][c] for c in classes)
    block = REUSED_BLOCK.get(name, "layer4")
    task = (_("ResNet-18 trained on Fashion-MNIST classes A ({classes_a}), whole network reused -> classes B "
              "({classes_b})") if block == "layer4" else
            _("ResNet-18 trained on Fashion-MNIST classes A ({classes_a}), stem to {block} reused -> classes B "
              "({classes_b})")).format(classes_a=names(classes_a), classes_b=names(classes_b), block=block)
    return Experiment(name, task, [raw["class_names"][c] for c in classes_b], FASHION_SIZE,
                      fashion_transform(source["mean"], source["std"]), pool, test,
                      source_weights=source["state_dict"], source_classes=len(classes_a), block=block)


def fashion_transform(mean, std):
    """Grey 28x28 uint8 images -> 3 x 32 x 32 float, normalised with the source model's training statistics."""
    from torchvision.transforms import v2
    return v2.Compose([v2.Grayscale(num_output_channels=3), v2.Resize(FASHION_SIZE, antialias=True),
                       v2.ToDtype(torch.float32, scale=True), v2.Normalize(mean=[mean] * 3, std=[std] * 3)])


def _target_sets(raw, classes, test_per_class=None):
    """(pool, test) of the target task, each (uint8 images, labels renumbered 0..len(classes)-1): every training
    image of `classes`, and `test_per_class` test images of each (None: all; a few under the grading budget)."""
    pool = _draw(raw["x_train"], raw["y_train"], classes, None, offset=0)
    test = _draw(raw["x_test"], raw["y_test"], classes, budget(test_per_class, 10), offset=0)
    return pool, test


def _draw(images, labels, classes, per_class, offset, seed=0):
    """The images of `classes`, `per_class` of each (None: all) from position `offset` of a shuffle drawn by `seed`,
    and their labels renumbered 0..len(classes)-1."""
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    chosen, renumbered = [], []
    for new_label, c in enumerate(classes):
        idx = order[labels[order] == c]
        idx = idx[offset:offset + per_class] if per_class is not None else idx[offset:]
        chosen.append(idx)
        renumbered.append(torch.full((len(idx),), new_label, dtype=torch.int64))
    idx = torch.cat(chosen)
    return images[idx], torch.cat(renumbered)


def source_model(classes, root=None, settings=None, download=True):
    """The Fashion-MNIST source network (ResNet-18 trained on `classes`, task A), trained once and then cached;
    Fashion-MNIST is downloaded first when it is missing and `download` is true.

    Returns {'state_dict', 'mean', 'std', 'val_accuracy', 'settings'}. Training takes about a minute on two CPU
    cores and shows a progress bar; under the grading budget a few batches stand in for it (a separate cache entry).
    """
    settings = dict(settings or SOURCE_SETTINGS, classes=list(classes))
    if budget(False, True):
        settings.update(images_per_class=100, epochs=1)
    key = hashlib.sha256(json.dumps([settings, torch.__version__], sort_keys=True).encode()).hexdigest()[:12]
    path = cache_dir() / "transfer" / f"fashion_{''.join(map(str, classes))}_resnet18-{key}.pth"
    if path.is_file():
        return torch.load(path, map_location="cpu", weights_only=True)
    print(_("Training the source network (ResNet-18 on Fashion-MNIST classes {classes}) once; it is cached in "
            "{folder}.").format(classes=list(classes), folder=path.parent))
    trained = train_source_model(raw_images("fashion_mnist", root=root, download=download), settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.part")
    torch.save(trained, partial)
    os.replace(partial, path)  # atomic: two notebooks training at once never see half a file
    return trained


def train_source_model(raw, settings):
    """Train a ResNet-18 on settings['classes'] with Adam and cross-entropy; keep the best validation epoch's
    weights."""
    reset_seed(settings["seed"])
    per, classes = settings["images_per_class"], settings["classes"]
    train = _draw(raw["x_train"], raw["y_train"], classes, per, offset=0)
    val = _draw(raw["x_train"], raw["y_train"], classes, per // 5, offset=per)
    grey = train[0].float() / 255
    mean, std = grey.mean().item(), grey.std().item()
    transform = fashion_transform(mean, std)
    (x_train, y_train), (x_val, y_val) = ((transform(x), y) for x, y in (train, val))
    model = resnet18(len(classes))
    optimizer = torch.optim.Adam(model.parameters(), lr=settings["learning_rate"])
    loss_fn = nn.CrossEntropyLoss()
    best = (-1.0, None)
    for _epoch in range(settings["epochs"]):
        model.train()
        order = torch.randperm(len(y_train))
        for start in progress(range(0, len(order), settings["batch_size"]), desc=_("source network"), disable=False):
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


def mode_name(mode):
    """A mode (a key of MODES; results and runs are keyed by it) in the course's language, for tables and plots; any
    other label (a variant's) as it is."""
    names = {"frozen": _("frozen"), "fine-tuned": _("fine-tuned"), "from scratch": _("from scratch")}
    return names.get(mode, mode)


def build_mode(experiment, mode, make_model, device="cpu", modes=MODES):
    """(model, Adam's learning rate) of `mode`: the notebook's make_model on a pretrained or fresh backbone."""
    pretrained, freeze, lr = modes[mode]
    backbone = experiment.pretrained() if pretrained else experiment.scratch()
    return make_model(backbone, len(experiment.class_names), freeze).to(device), lr


def train_and_test(experiment, model, optimizer, fit, evaluate, epochs=20, patience=3, seed=0, device="cpu",
                   batch_size=50, augment=None):
    """Train `model` with the notebook's `fit` on the experiment's training and validation sets, then test it.

    Returns (fit's history, {'test_loss', 'test_acc', 'trainable', 'frozen', 'seconds', 'epochs_run', 'best_epoch',
    'best_val_acc'}).
    """
    loss_fn = nn.CrossEntropyLoss()
    train_loader, val_loader, test_loader = experiment.loaders(batch_size, seed, augment=augment)
    start = time.perf_counter()
    history = fit(model, train_loader, val_loader, optimizer, loss_fn, device, epochs, patience=patience)
    test_loss, test_acc = evaluate(model, test_loader, loss_fn, device)
    trainable, frozen = count_parameters(model)
    return history, {"test_loss": float(test_loss), "test_acc": float(test_acc), "trainable": trainable,
                     "frozen": frozen, "seconds": time.perf_counter() - start,
                     "epochs_run": len(history["val_loss"]), "best_epoch": history["best_epoch"],
                     "best_val_acc": float(history["val_acc"][history["best_epoch"]])}


def compare_modes(experiment, make_model, trainable_parameters, fit, evaluate, epochs=20, patience=3, seed=0,
                  device="cpu", batch_size=50, modes=MODES):
    """Train one network per mode with the given functions (the notebook's own) and test each on the test set.

    Returns (histories: mode -> fit's history, results: mode -> train_and_test's results, models: mode -> the
    trained network, best weights restored).
    """
    histories, results, models = {}, {}, {}
    for mode in progress(modes, desc=_("modes")):
        reset_seed(seed)
        model, lr = build_mode(experiment, mode, make_model, device, modes)
        optimizer = torch.optim.Adam(trainable_parameters(model), lr=lr)
        histories[mode], results[mode] = train_and_test(experiment, model, optimizer, fit, evaluate, epochs,
                                                        patience, seed, device, batch_size)
        models[mode] = model
    return histories, results, models


def results_table(results):
    """The results of compare_modes as a text table, one row per mode (or per variant)."""
    names = {mode: mode_name(mode) for mode in results}
    # Each column: its title, its least width, and how it writes one result; a column widens to fit its title.
    columns = ((_("trainable"), 12, lambda r, w: f"{r['trainable']:>{w},}"),
               (_("frozen"), 12, lambda r, w: f"{r['frozen']:>{w},}"),
               (_("epochs run"), 12, lambda r, w: f"{r['epochs_run']:>{w}}"),
               (_("best epoch"), 12, lambda r, w: f"{r['best_epoch']:>{w}}"),
               (_("val acc"), 10, lambda r, w: f"{100 * r['best_val_acc']:>{w - 1}.1f}%"),
               (_("test acc"), 10, lambda r, w: f"{100 * r['test_acc']:>{w - 1}.1f}%"),
               (_("seconds"), 9, lambda r, w: f"{r['seconds']:>{w}.1f}"))
    widths = [max(least, display_width(title) + 2) for title, least, _cell in columns]
    width = max(display_width(_("mode")), *map(display_width, names.values())) + 2
    header = pad(_("mode"), width) + "".join(pad(title, w, ">") for (title, _least, _cell), w in zip(columns, widths))
    rows = [pad(names[mode], width) + "".join(cell(r, w) for (_title, _least, cell), w in zip(columns, widths))
            for mode, r in results.items()]
    return "\n".join([header, "-" * display_width(header)] + rows)


def label_budget_curve(experiment, make_model, trainable_parameters, fit, evaluate, budgets=LABEL_BUDGETS,
                       seeds=(0, 1), epochs=20, patience=3, device="cpu", batch_size=50, modes=MODES):
    """Every mode at every number of labelled images per class, once per seed (a seed draws other labelled images
    and other random numbers), with the notebook's functions.

    Returns one dict per run: {'labels_per_class', 'mode', 'seed', 'test_acc', 'epochs_run', 'best_epoch',
    'seconds'}.
    """
    runs = []
    for labels_per_class, seed in progress(list(itertools.product(budgets, seeds)), desc=_("label budgets")):
        _histories, results, _models = compare_modes(experiment.with_labels(labels_per_class, seed), make_model,
                                      trainable_parameters, fit, evaluate, epochs, patience, seed, device,
                                      batch_size, modes)
        runs += [{"labels_per_class": labels_per_class, "mode": mode, "seed": seed, "test_acc": r["test_acc"],
                  "epochs_run": r["epochs_run"], "best_epoch": r["best_epoch"], "seconds": round(r["seconds"], 1)}
                 for mode, r in results.items()]
    return runs


def budget_summary(runs):
    """{labels_per_class: {mode: {'mean', 'low', 'high', 'n'}}} of the test accuracies (fractions) over seeds."""
    summary_ = {}
    for run in runs:
        summary_.setdefault(run["labels_per_class"], {}).setdefault(run["mode"], []).append(run["test_acc"])
    return {k: {mode: {"mean": statistics.mean(accs), "low": min(accs), "high": max(accs), "n": len(accs)}
                for mode, accs in by_mode.items()}
            for k, by_mode in sorted(summary_.items())}


def budget_table(runs):
    """The label-budget runs as a text table: per budget, each mode's mean test accuracy over seeds and its range,
    then the gap between fine-tuned and from scratch."""
    table = budget_summary(runs)
    modes = list(dict.fromkeys(run["mode"] for run in runs))
    seeds = len(set(run["seed"] for run in runs))
    header = pad(_("labels/class"), 12, ">") + "".join(pad(mode_name(mode), 24, ">") for mode in modes)
    if {"fine-tuned", "from scratch"} <= set(modes):
        header += pad(_("fine-tuned - scratch"), 22, ">")
    lines = [ngettext("Test accuracy, mean of {count} seed [lowest, highest]",
                      "Test accuracy, mean of {count} seeds [lowest, highest]", max(seeds, 1)).format(count=seeds),
             header, "-" * display_width(header)]
    for k, by_mode in table.items():
        row = f"{k:>12}" + "".join(
            f"{100 * s['mean']:>11.1f}% [{100 * s['low']:4.1f}, {100 * s['high']:4.1f}]" for s in by_mode.values())
        if {"fine-tuned", "from scratch"} <= set(by_mode):
            row += f"{100 * (by_mode['fine-tuned']['mean'] - by_mode['from scratch']['mean']):>+21.1f}"
        lines.append(row)
    return "\n".join(lines)


@torch.no_grad()
def backbone_features(model, images, transform, batch_size=500):
    """The features a ResNet-18 hands its head `fc`, for uint8 `images` (N, C, H, W): (N, D), eval mode; D = 512 for
    the whole network, BLOCKS[block] for one cut after `block`."""
    model.eval()
    head, model.fc = model.fc, nn.Identity()
    try:
        return torch.cat([model(transform(images[i:i + batch_size])) for i in range(0, len(images), batch_size)])
    finally:
        model.fc = head


def project_2d(features):
    """(N, D) -> (N, 2): the features' two principal components (PCA with torch.pca_lowrank), centred."""
    centred = features - features.mean(dim=0)
    _u, _s, v = torch.pca_lowrank(centred, q=2, center=False)
    return centred @ v


def nearest_mean_accuracy(train_features, train_labels, test_features, test_labels):
    """Share of test images whose features lie closest (Euclidean) to their own class's mean training feature: how
    well the features separate the classes before any head is trained."""
    means = torch.stack([train_features[train_labels == c].mean(dim=0) for c in range(int(train_labels.max()) + 1)])
    return (torch.cdist(test_features, means).argmin(dim=1) == test_labels).float().mean().item()


def nearest_mean_by_block(model, experiment):
    """{block: nearest_mean_accuracy} for each block of the ResNet-18 `model` (left as it is; copies are cut): the
    features of each depth, from the experiment's labelled training images to its test set. How well each block
    separates the target's classes before any head is trained (Yosinski et al. 2014: early blocks are general, the
    last ones specific to the source task)."""
    scores = {}
    for block in BLOCKS:
        cut = cut_after(copy.deepcopy(model), block)
        train, test = (backbone_features(cut, images, experiment.transform)
                       for images in (experiment.train[0], experiment.test[0]))
        scores[block] = nearest_mean_accuracy(train, experiment.train[1], test, experiment.test[1])
    return scores


@torch.no_grad()
def predictions(model, loader, device="cpu"):
    """(predicted labels, true labels) of `model` over `loader`, in eval mode, on the CPU."""
    model.eval()
    predicted, truth = [], []
    for images, labels in loader:
        predicted.append(model(images.to(device)).argmax(dim=1).cpu())
        truth.append(labels)
    return torch.cat(predicted), torch.cat(truth)
