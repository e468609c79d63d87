"""Style corpus of the transfer_learning assignment: correct answer cells written the ways students write them.

Every style must earn full marks in every part (tests/test_checks_transfer_learning.py). A style may touch two
cells when they only work together: BatchNorm kept still by make_model's network (a wrapper, or a ResNet subclass,
whose train() leaves frozen BatchNorm layers in eval mode) paired with a train_one_epoch that just calls
model.train().
"""
from autograder.styles import Style

# --- make_model ---------------------------------------------------------------------------------------

MAKE_REQUIRES_GRAD_ = '''
def make_model(backbone, num_classes, freeze):
    """The backbone with a new head `fc` of num_classes outputs; freeze=True trains only that head."""
    model = backbone
    model.requires_grad_(not freeze)
    model.fc = nn.Linear(model.fc.in_features, num_classes)
    return model
'''

MAKE_FREEZE_BY_NAME = '''
def make_model(backbone, num_classes, freeze):
    """The backbone with a new head `fc` of num_classes outputs; freeze=True trains only that head."""
    model = backbone
    in_features = model.fc.in_features
    model.fc = nn.Linear(in_features, num_classes)
    if freeze:
        # the new head was just added, so freeze everything whose name is not the head's
        for name, param in model.named_parameters():
            if not name.startswith('fc'):
                param.requires_grad = False
    return model
'''

MAKE_DEEPCOPY_SEQUENTIAL_HEAD = '''
import copy


def make_model(backbone, num_classes, freeze):
    """The backbone with a new head `fc` of num_classes outputs; freeze=True trains only that head."""
    model = copy.deepcopy(backbone)  # leave the caller's backbone untouched
    if freeze:
        for child_name, child in model.named_children():
            if child_name != "fc":
                for p in child.parameters():
                    p.requires_grad = False
    n_features = model.fc.in_features
    model.fc = nn.Sequential(
        nn.Dropout(p=0.2),
        nn.Linear(n_features, num_classes),
    )
    return model
'''

TRANSFER_NET_CLASS = '''
class TransferNet(nn.Module):
    """A backbone's features followed by a new linear head `fc`.

    With a frozen backbone, train() leaves the backbone in eval mode, so its BatchNorm layers keep their running
    statistics while the head trains.
    """

    def __init__(self, backbone, num_classes, freeze):
        super().__init__()
        in_features = backbone.fc.in_features
        backbone.fc = nn.Identity()
        self.backbone = backbone
        self.fc = nn.Linear(in_features, num_classes)
        self.freeze = freeze
        if freeze:
            for p in self.backbone.parameters():
                p.requires_grad = False

    def forward(self, x):
        features = self.backbone(x)
        return self.fc(features)

    def train(self, mode=True):
        super().train(mode)
        if self.freeze:
            self.backbone.eval()
        return self
'''

MAKE_WRAPPER = '''
def make_model(backbone, num_classes, freeze):
    """The backbone with a new head `fc` of num_classes outputs; freeze=True trains only that head."""
    return TransferNet(backbone, num_classes, freeze)
'''

MAKE_SUBCLASS_SWAP = '''
from torchvision.models.resnet import ResNet


class FrozenBNResNet(ResNet):
    """A ResNet whose BatchNorm layers with frozen parameters stay in eval mode when train() is called."""

    def train(self, mode=True):
        super().train(mode)
        for module in self.modules():
            if isinstance(module, nn.BatchNorm2d) and not module.weight.requires_grad:
                module.eval()
        return self


def make_model(backbone, num_classes, freeze):
    """The backbone with a new head `fc` of num_classes outputs; freeze=True trains only that head."""
    model = backbone
    model.__class__ = FrozenBNResNet
    for param in model.parameters():
        param.requires_grad = not freeze
    model.fc = nn.Linear(model.fc.in_features, num_classes)
    return model
'''

MAKE_PATCHED_TRAIN = '''
def make_model(backbone, num_classes, freeze):
    """The backbone with a new head `fc` of num_classes outputs; freeze=True trains only that head."""
    model = backbone
    if freeze:
        for param in model.parameters():
            param.requires_grad = False
        plain_train = model.train

        def train(mode=True):
            # model.train() would put the frozen BatchNorm layers in training mode: put them back
            plain_train(mode)
            for layer in model.modules():
                if isinstance(layer, nn.BatchNorm2d):
                    layer.eval()
            return model

        model.train = train
    model.fc = nn.Linear(model.fc.in_features, num_classes)
    return model
'''

MAKE_SEQUENTIAL_FEATURES = '''
class FeaturesAndHead(nn.Module):
    """The backbone's layers up to the pooling, as one nn.Sequential, then a new linear head `fc`."""

    def __init__(self, backbone, num_classes):
        super().__init__()
        self.features = nn.Sequential(*list(backbone.children())[:-1])
        self.fc = nn.Linear(backbone.fc.in_features, num_classes)

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


def make_model(backbone, num_classes, freeze):
    """The backbone with a new head `fc` of num_classes outputs; freeze=True trains only that head."""
    model = FeaturesAndHead(backbone, num_classes)
    if freeze:
        for p in model.features.parameters():
            p.requires_grad = False
    return model
'''

# --- trainable_parameters -----------------------------------------------------------------------------

PARAMS_FILTER = '''
def trainable_parameters(model):
    """The parameters of `model` that require gradients, as a list, each once: what the optimiser receives."""
    return list(filter(lambda p: p.requires_grad, model.parameters()))
'''

PARAMS_NAMED_LOOP = '''
def trainable_parameters(model):
    """The parameters of `model` that require gradients, as a list, each once: what the optimiser receives."""
    params_to_update = []
    for name, param in model.named_parameters():
        if param.requires_grad == True:
            params_to_update.append(param)
    return params_to_update
'''

PARAMS_DEDUP_BY_ID = '''
def trainable_parameters(model):
    """The parameters of `model` that require gradients, as a list, each once: what the optimiser receives."""
    seen = set()
    params = []
    for p in model.parameters():
        if p.requires_grad and id(p) not in seen:
            seen.add(id(p))
            params.append(p)
    return params
'''

PARAMS_GENERATOR_LIST = '''
def trainable_parameters(model):
    """The parameters of `model` that require gradients, as a list, each once: what the optimiser receives."""
    trainable = (p for _, p in model.named_parameters() if p.requires_grad)
    return list(trainable)
'''

# --- train_one_epoch ----------------------------------------------------------------------------------

EPOCH_MODEL_ZERO_GRAD_ENUMERATE = '''
def train_one_epoch(model, loader, optimizer, loss_fn, device):
    """One pass over `loader`, one optimiser step per batch; returns the mean training loss (a float)."""
    model.train()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d) and not m.weight.requires_grad:
            m.eval()
    running_loss = 0.0
    for i, (inputs, targets) in enumerate(loader):
        inputs = inputs.to(device)
        targets = targets.to(device)
        model.zero_grad()
        outputs = model(inputs)
        loss = loss_fn(outputs, targets)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
    return running_loss / len(loader)
'''

EPOCH_ZERO_AFTER_STEP_DATASET = '''
def train_one_epoch(model, loader, optimizer, loss_fn, device):
    """One pass over `loader`, one optimiser step per batch; returns the mean training loss (a float)."""
    model.train(True)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            if all(not p.requires_grad for p in module.parameters()):
                module.train(False)
    epoch_loss = 0.0
    for batch in loader:
        x, y = batch
        x, y = x.to(device), y.to(device)
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=False)
        epoch_loss += loss.item() * x.size(0)
    return epoch_loss / len(loader.dataset)
'''

EPOCH_ANY_FROZEN_NUMPY_MEAN = '''
import numpy as np


def train_one_epoch(model, loader, optimizer, loss_fn, device):
    """One pass over `loader`, one optimiser step per batch; returns the mean training loss (a float)."""
    model.train()
    # a frozen backbone: keep all its BatchNorm layers in eval mode so the running statistics do not change
    if any(not p.requires_grad for p in model.parameters()):
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()
    batch_losses = []
    for inputs, targets in loader:
        inputs, targets = inputs.to(device), targets.to(device)
        optimizer.zero_grad(set_to_none=True)
        outputs = model(inputs)
        loss = loss_fn(outputs, targets)
        loss.backward()
        optimizer.step()
        batch_losses.append(loss.item())
    return np.mean(batch_losses)
'''

FREEZE_BN_HELPER = '''
def set_frozen_batchnorm_eval(module):
    """For model.apply: a BatchNorm layer whose parameters are all frozen goes to eval mode (its running statistics
    stay put)."""
    if isinstance(module, nn.modules.batchnorm._BatchNorm):
        params = list(module.parameters())
        if params and not any(p.requires_grad for p in params):
            module.eval()
'''

EPOCH_HELPER_TENSOR_SUM = '''
def train_one_epoch(model, loader, optimizer, loss_fn, device):
    """One pass over `loader`, one optimiser step per batch; returns the mean training loss (a float)."""
    model.train()
    model.apply(set_frozen_batchnorm_eval)
    total = torch.zeros(())
    n_images = 0
    for images, labels in loader:
        images = images.to(device, non_blocking=True)
        labels = labels.to(device, non_blocking=True)
        optimizer.zero_grad()
        scores = model(images)
        loss = loss_fn(scores, labels)
        loss.backward()
        optimizer.step()
        total += loss.detach().cpu() * labels.shape[0]
        n_images += labels.shape[0]
    return (total / n_images).item()
'''

EPOCH_PLAIN_TRAIN = '''
def train_one_epoch(model, loader, optimizer, loss_fn, device):
    """One pass over `loader`, one optimiser step per batch; returns the mean training loss (a float)."""
    model.train()  # make_model's network keeps its frozen BatchNorm layers in eval mode itself
    total_loss, n_seen = 0.0, 0
    for x, y in loader:
        x = x.to(device)
        y = y.to(device)
        optimizer.zero_grad()
        out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * x.shape[0]
        n_seen += x.shape[0]
    return total_loss / n_seen
'''

EPOCH_PLAIN_TRAIN_BATCH_MEAN = '''
def train_one_epoch(model, loader, optimizer, loss_fn, device):
    """One pass over `loader`, one optimiser step per batch; returns the mean training loss (a float)."""
    model.train()
    losses = []
    for step, (images, labels) in enumerate(loader):
        images, labels = images.to(device), labels.to(device)
        predictions = model(images)
        loss = loss_fn(predictions, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.detach().item())
    return sum(losses) / len(losses)
'''

EPOCH_LINEAR_PROBE = '''
def train_one_epoch(model, loader, optimizer, loss_fn, device):
    """One pass over `loader`, one optimiser step per batch; returns the mean training loss (a float)."""
    model.eval()       # the frozen backbone, BatchNorm included, stays as it was trained
    model.fc.train()   # only the new head learns
    running, seen = 0.0, 0
    for inputs, targets in loader:
        inputs, targets = inputs.to(device), targets.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        running += loss.item() * inputs.size(0)
        seen += inputs.size(0)
    return running / seen
'''

EPOCH_MODE_PER_MODULE = '''
def train_one_epoch(model, loader, optimizer, loss_fn, device):
    """One pass over `loader`, one optimiser step per batch; returns the mean training loss (a float)."""
    for module in model.modules():  # training mode exactly where something is trained
        module.train(any(p.requires_grad for p in module.parameters(recurse=False)))
    batch_losses, batch_sizes = [], []
    for images, labels in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(images.to(device)), labels.to(device))
        loss.backward()
        optimizer.step()
        batch_losses.append(loss.item())
        batch_sizes.append(len(labels))
    return sum(l * n for l, n in zip(batch_losses, batch_sizes)) / sum(batch_sizes)
'''

# --- evaluate -----------------------------------------------------------------------------------------

EVAL_INFERENCE_MODE_FLOAT_MEAN = '''
def evaluate(model, loader, loss_fn, device):
    """(mean loss per image, accuracy as a fraction) of `model` over `loader`, in eval mode without gradients."""
    model.train(False)
    loss_sum, acc_sum, n = 0.0, 0.0, 0
    with torch.inference_mode():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            logits = model(x)
            batch = y.size(0)
            loss_sum += loss_fn(logits, y).item() * batch
            acc_sum += (logits.argmax(1) == y).float().mean().item() * batch
            n += batch
    return loss_sum / n, acc_sum / n
'''

EVAL_SUM_REDUCTION = '''
def evaluate(model, loader, loss_fn, device):
    """(mean loss per image, accuracy as a fraction) of `model` over `loader`, in eval mode without gradients."""
    model.eval()
    total_loss = 0.0
    total_correct = 0
    total = 0
    with torch.no_grad():
        for images, labels in loader:
            images = images.to(device)
            labels = labels.to(device)
            outputs = model(images)
            total_loss += F.cross_entropy(outputs, labels, reduction='sum').item()
            _, predicted = torch.max(outputs, 1)
            total_correct += (predicted == labels).sum().item()
            total += labels.size(0)
    mean_loss = total_loss / total
    accuracy = total_correct / total
    return mean_loss, accuracy
'''

EVAL_CONCATENATE = '''
def evaluate(model, loader, loss_fn, device):
    """(mean loss per image, accuracy as a fraction) of `model` over `loader`, in eval mode without gradients."""
    model.eval()
    all_scores, all_labels = [], []
    with torch.no_grad():
        for images, labels in loader:
            all_scores.append(model(images.to(device)))
            all_labels.append(labels.to(device))
    scores = torch.cat(all_scores)
    labels = torch.cat(all_labels)
    mean_loss = loss_fn(scores, labels).item()
    accuracy = (scores.argmax(dim=1) == labels).float().mean().item()
    return mean_loss, accuracy
'''

EVAL_DECORATOR_NUMPY = '''
import numpy as np


@torch.no_grad()
def evaluate(model, loader, loss_fn, device):
    """(mean loss per image, accuracy as a fraction) of `model` over `loader`, in eval mode without gradients."""
    model.eval()
    batch_losses, batch_sizes, predictions, targets = [], [], [], []
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        scores = model(images)
        batch_losses.append(loss_fn(scores, labels).item())
        batch_sizes.append(len(labels))
        predictions.extend(scores.argmax(dim=1).cpu().tolist())
        targets.extend(labels.cpu().tolist())
    accuracy = np.mean(np.array(predictions) == np.array(targets))
    return np.average(batch_losses, weights=batch_sizes), accuracy
'''

# --- fit ----------------------------------------------------------------------------------------------

FIT_CLONED_STATE_LAST_LR = '''
def fit(model, train_loader, val_loader, optimizer, loss_fn, device, epochs, patience=3, lr_factor=0.1,
        lr_patience=1):
    """Train with early stopping and ReduceLROnPlateau on the validation loss; restore the best weights."""
    history = {"train_loss": [], "val_loss": [], "val_acc": [], "lr": [], "best_epoch": 0}
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=lr_factor, patience=lr_patience)
    best_val = float("inf")
    best_epoch = 0
    best_state = {k: v.clone() for k, v in model.state_dict().items()}
    for epoch in range(epochs):
        current_lr = scheduler.get_last_lr()[0]
        train_loss = train_one_epoch(model, train_loader, optimizer, loss_fn, device)
        val_loss, val_acc = evaluate(model, val_loader, loss_fn, device)
        scheduler.step(val_loss)
        history["train_loss"].append(train_loss)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
        history["lr"].append(current_lr)
        print(f"epoch {epoch}: train {train_loss:.4f} val {val_loss:.4f} acc {val_acc:.3f} lr {current_lr:g}")
        if val_loss < best_val:
            best_val = val_loss
            best_epoch = epoch
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        if epoch - best_epoch >= patience:
            print(f"early stopping at epoch {epoch}")
            break
    model.load_state_dict(best_state)
    history["best_epoch"] = best_epoch
    return history
'''

FIT_CHECKPOINT_FILE = '''
import os
import tempfile


def fit(model, train_loader, val_loader, optimizer, loss_fn, device, epochs, patience=3, lr_factor=0.1,
        lr_patience=1):
    """Train with early stopping and ReduceLROnPlateau on the validation loss; restore the best weights."""
    history = {"train_loss": [], "val_loss": [], "val_acc": [], "lr": [], "best_epoch": 0}
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=lr_factor,
                                                           patience=lr_patience)
    checkpoint = os.path.join(tempfile.mkdtemp(), "best_model.pt")
    best_loss = None
    bad_epochs = 0
    for epoch in range(epochs):
        lr = optimizer.param_groups[0]["lr"]
        tr_loss = train_one_epoch(model, train_loader, optimizer, loss_fn, device)
        v_loss, v_acc = evaluate(model, val_loader, loss_fn, device)
        history["lr"].append(lr)
        history["train_loss"].append(tr_loss)
        history["val_loss"].append(v_loss)
        history["val_acc"].append(v_acc)
        if best_loss is None or v_loss < best_loss:
            best_loss = v_loss
            history["best_epoch"] = epoch
            torch.save(model.state_dict(), checkpoint)
            bad_epochs = 0
        else:
            bad_epochs += 1
        scheduler.step(v_loss)
        if bad_epochs == patience:
            break
    model.load_state_dict(torch.load(checkpoint))
    os.remove(checkpoint)
    os.rmdir(os.path.dirname(checkpoint))
    return history
'''

FIT_DEEPCOPY_MODEL_WHILE = '''
import copy


def fit(model, train_loader, val_loader, optimizer, loss_fn, device, epochs, patience=3, lr_factor=0.1,
        lr_patience=1):
    """Train with early stopping and ReduceLROnPlateau on the validation loss; restore the best weights."""
    history = {"train_loss": [], "val_loss": [], "val_acc": [], "lr": [], "best_epoch": 0}
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "min", factor=lr_factor, patience=lr_patience)
    best_model = None
    best_val_loss = float("inf")
    epoch, wait = 0, 0
    while epoch < epochs and wait < patience:
        train_loss = train_one_epoch(model, train_loader, optimizer, loss_fn, device)
        val_loss, val_acc = evaluate(model, val_loader, loss_fn, device)
        # the learning rate this epoch trained with: read before the scheduler may lower it
        history["lr"].append(optimizer.param_groups[0]["lr"])
        scheduler.step(val_loss)
        history["train_loss"].append(train_loss)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
        if val_loss < best_val_loss:
            best_val_loss = val_loss
            best_model = copy.deepcopy(model)
            history["best_epoch"] = epoch
            wait = 0
        else:
            wait += 1
        epoch += 1
    if best_model is not None:
        model.load_state_dict(best_model.state_dict())
    return history
'''

FIT_NUMPY_ARGMIN = '''
import copy

import numpy as np


def fit(model, train_loader, val_loader, optimizer, loss_fn, device, epochs, patience=3, lr_factor=0.1,
        lr_patience=1):
    """Train with early stopping and ReduceLROnPlateau on the validation loss; restore the best weights."""
    history = {"train_loss": [], "val_loss": [], "val_acc": [], "lr": [], "best_epoch": 0}
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=lr_factor,
                                                           patience=lr_patience)
    saved_weights = None
    for epoch in range(epochs):
        history["lr"].append(optimizer.param_groups[0]["lr"])
        history["train_loss"].append(train_one_epoch(model, train_loader, optimizer, loss_fn, device))
        val_loss, val_acc = evaluate(model, val_loader, loss_fn, device)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
        scheduler.step(val_loss)
        best_epoch = np.argmin(history["val_loss"])
        history["best_epoch"] = best_epoch
        if best_epoch == epoch:
            saved_weights = copy.deepcopy(model.state_dict())
        elif epoch - best_epoch >= patience:
            break
    model.load_state_dict(saved_weights)
    return history
'''

FIT_LOCAL_LISTS = '''
from copy import deepcopy
from torch.optim.lr_scheduler import ReduceLROnPlateau


def fit(model, train_loader, val_loader, optimizer, loss_fn, device, epochs, patience=3, lr_factor=0.1,
        lr_patience=1):
    """Train with early stopping and ReduceLROnPlateau on the validation loss; restore the best weights."""
    train_losses, val_losses, val_accs, lrs = [], [], [], []
    plateau = ReduceLROnPlateau(optimizer, factor=lr_factor, patience=lr_patience)
    best = {"loss": float("inf"), "epoch": -1, "weights": None}
    no_improvement = 0
    for epoch in range(epochs):
        lrs.append(plateau.optimizer.param_groups[0]["lr"])
        train_losses.append(float(train_one_epoch(model, train_loader, optimizer, loss_fn, device)))
        val_loss, val_acc = evaluate(model, val_loader, loss_fn, device)
        val_losses.append(float(val_loss))
        val_accs.append(float(val_acc))
        plateau.step(val_loss)
        if val_loss < best["loss"]:
            best.update(loss=val_loss, epoch=epoch, weights=deepcopy(model.state_dict()))
            no_improvement = 0
        else:
            no_improvement += 1
        if no_improvement > patience - 1:
            break
    model.load_state_dict(best["weights"])
    return dict(train_loss=train_losses, val_loss=val_losses, val_acc=val_accs, lr=lrs, best_epoch=best["epoch"])
'''

STYLES = (
    Style("make_requires_grad_", {"make_model": MAKE_REQUIRES_GRAD_},
          description="backbone.requires_grad_(not freeze), then a new nn.Linear head"),
    Style("make_freeze_by_name", {"make_model": MAKE_FREEZE_BY_NAME},
          description="the head replaced first, then every parameter whose name does not start with 'fc' "
                      "frozen"),
    Style("make_deepcopy_sequential_head", {"make_model": MAKE_DEEPCOPY_SEQUENTIAL_HEAD},
          description="works on copy.deepcopy(backbone), freezes child by child but fc, and the head is "
                      "nn.Sequential(Dropout, Linear) (parameters fc.1.*)"),
    Style("make_subclass_swap_plain_train", {"make_model": MAKE_SUBCLASS_SWAP,
                                             "train_one_epoch": EPOCH_PLAIN_TRAIN_BATCH_MEAN},
          description="the backbone's class swapped to a ResNet subclass whose train() leaves frozen BatchNorm "
                      "layers in eval mode; train_one_epoch only calls model.train(), zero_grad after the "
                      "forward, the mean of the batch losses"),
    Style("make_patched_train_plain_train", {"make_model": MAKE_PATCHED_TRAIN, "train_one_epoch": EPOCH_PLAIN_TRAIN},
          description="freeze=True replaces the instance's train method by a closure that calls the original and "
                      "puts every BatchNorm layer back in eval mode; train_one_epoch only calls model.train()"),
    Style("params_filter", {"trainable_parameters": PARAMS_FILTER},
          description="list(filter(lambda p: p.requires_grad, model.parameters()))"),
    Style("params_named_loop", {"trainable_parameters": PARAMS_NAMED_LOOP},
          description="a loop over named_parameters appending those with requires_grad == True"),
    Style("params_dedup_by_id", {"trainable_parameters": PARAMS_DEDUP_BY_ID},
          description="skips parameters already seen, by id()"),
    Style("params_generator_list", {"trainable_parameters": PARAMS_GENERATOR_LIST},
          description="a generator over named_parameters turned into a list"),
    Style("epoch_model_zero_grad_enumerate", {"train_one_epoch": EPOCH_MODEL_ZERO_GRAD_ENUMERATE},
          description="model.zero_grad() instead of optimizer.zero_grad(), enumerate(loader), frozen "
                      "BatchNorm2d found by weight.requires_grad, the mean of the batch losses (/ len(loader))"),
    Style("epoch_zero_after_step_dataset", {"train_one_epoch": EPOCH_ZERO_AFTER_STEP_DATASET},
          description="zero_grad(set_to_none=False) after each step only, `for batch in "
                      "loader: x, y = batch`, BatchNorm put back with .train(False), divided by len(loader.dataset)"),
    Style("epoch_any_frozen_numpy_mean", {"train_one_epoch": EPOCH_ANY_FROZEN_NUMPY_MEAN},
          description="every BatchNorm2d in eval mode as soon as any parameter is frozen; returns "
                      "np.mean(batch_losses), a numpy float64"),
    Style("epoch_linear_probe", {"train_one_epoch": EPOCH_LINEAR_PROBE},
          description="public linear-probe code: model.eval() then model.fc.train(), so the frozen backbone "
                      "(BatchNorm included) stays in eval mode and only the head is in training mode"),
    Style("epoch_mode_per_module", {"train_one_epoch": EPOCH_MODE_PER_MODULE},
          description="each module in training mode exactly when it holds trainable parameters of its own "
                      "(module.train(any(p.requires_grad ...))), the loss weighted by batch size"),
    Style("epoch_helper_tensor_sum", {"train_one_epoch": EPOCH_HELPER_TENSOR_SUM},
          added_cells=(("train_one_epoch", FREEZE_BN_HELPER),),
          description="model.apply(set_frozen_batchnorm_eval), a helper in a cell of its own; the loss summed as a "
                      "0-dim tensor weighted by batch size, .item() at the end"),
    Style("eval_inference_mode_float_mean", {"evaluate": EVAL_INFERENCE_MODE_FLOAT_MEAN},
          description="model.train(False), torch.inference_mode(), per-batch (argmax == y).float().mean() "
                      "weighted by the batch size"),
    Style("eval_sum_reduction", {"evaluate": EVAL_SUM_REDUCTION},
          description="F.cross_entropy(reduction='sum') summed over batches, labels from torch.max(outputs, 1)"),
    Style("eval_concatenate", {"evaluate": EVAL_CONCATENATE},
          description="all scores and labels concatenated with torch.cat, one loss_fn call and one accuracy"),
    Style("eval_decorator_numpy", {"evaluate": EVAL_DECORATOR_NUMPY},
          description="@torch.no_grad() on the function, predictions gathered as Python lists, numpy accuracy "
                      "and np.average of the batch losses weighted by batch size (numpy float64s)"),
    Style("fit_cloned_state_last_lr", {"fit": FIT_CLONED_STATE_LAST_LR},
          description="best weights as {k: v.clone()}, best_epoch tracked and `epoch - best_epoch >= patience`, "
                      "the lr from scheduler.get_last_lr() before training, prints each epoch"),
    Style("fit_checkpoint_file", {"fit": FIT_CHECKPOINT_FILE},
          description="best weights saved with torch.save to a temporary file and loaded back with torch.load, "
                      "scheduler stepped after the early-stopping bookkeeping, `bad_epochs == patience`"),
    Style("fit_deepcopy_model_while", {"fit": FIT_DEEPCOPY_MODEL_WHILE},
          description="a while loop on `wait < patience`, copy.deepcopy(model) as the best model, the lr read "
                      "after evaluate but before scheduler.step"),
    Style("fit_numpy_argmin", {"fit": FIT_NUMPY_ARGMIN},
          description="best_epoch = np.argmin(history['val_loss']) each epoch (a numpy int64 in the history), "
                      "weights copied when the newest epoch is the best"),
    Style("fit_local_lists", {"fit": FIT_LOCAL_LISTS},
          description="local lists and a best dict, the history built at the end with dict(...), lr read through "
                      "scheduler.optimizer, `no_improvement > patience - 1`"),
    # Networks that wrap the backbone instead of returning it (its parameters renamed backbone.* or features.*).
    Style("make_sequential_features", {"make_model": MAKE_SEQUENTIAL_FEATURES},
          description="a module of nn.Sequential(*list(backbone.children())[:-1]) (parameters features.0.*, "
                      "features.4.0.*, ...) then flatten and a new head fc; the features frozen"),
    Style("make_wrapper_plain_train", {"make_model": MAKE_WRAPPER, "train_one_epoch": EPOCH_PLAIN_TRAIN},
          added_cells=(("make_model", TRANSFER_NET_CLASS),),
          description="a TransferNet(nn.Module) defined in a cell of its own: the backbone (its fc an "
                      "nn.Identity, parameters backbone.*) and a new head fc; its train() keeps a frozen backbone in "
                      "eval mode, so train_one_epoch only calls model.train()"),
)
