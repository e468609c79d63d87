"""Running the transfer_learning student code on hidden cases, with spies for the loader, optimiser and loss.

Each `run_*` takes the student's objects and the cases (plain data drawn by checks.py)
and returns plain data for judging. Networks are never shipped: both sides rebuild them from a seed
(`seeded_resnet18`), so the judge can recompute what the student's code should have produced.
"""
import numpy as np
import torch
from torch import nn
from torchvision.models import resnet18  # imported with the harness, so that no part's time budget pays for it

from autograder.harness.core import StudentError, as_plain_tensor, call_student, namespace_of, plain_float
from autograder.harness.i18n import _
from helpers.spies import (BatchLoader, LoopRecorder, SpyLoss, batchnorm_moved, frozen_batchnorm_buffers,
                           scripted_epochs, spy_sgd)
from helpers.transfer import cut_after

_equal = torch.equal  # bound before student code runs, which may rebind torch.equal
_cross_entropy = nn.functional.cross_entropy
#: Side of the images hidden cases use: small, yet every ResNet-18 stage still sees at least one pixel.
IMAGE_SIZE = 16


def seeded_resnet18(seed, num_classes, head_classes=None):
    """A torchvision ResNet-18 whose weights and BatchNorm statistics are drawn from `seed` (as if pretrained); with
    `head_classes`, its `fc` replaced by a head of that many outputs, also drawn from the seed. The same seed gives
    the same network in the sandbox and in the judge, whatever else runs: the draws use a generator of their own,
    never torch's global one (judges run in parallel threads)."""
    with torch.device("meta"):  # built without drawing anything: every tensor is filled below
        model = resnet18(weights=None, num_classes=num_classes)
        if head_classes is not None:
            model.fc = nn.Linear(model.fc.in_features, head_classes)
    model = model.to_empty(device="cpu")
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                fan_in = module.weight[0].numel()
                module.weight.copy_(torch.randn(module.weight.shape, generator=gen) * (2.0 / fan_in) ** 0.5)
                if module.bias is not None:
                    module.bias.copy_(0.1 * torch.randn(module.bias.shape, generator=gen))
            elif isinstance(module, nn.BatchNorm2d):
                module.weight.copy_(0.5 + torch.rand(module.weight.shape, generator=gen))
                module.bias.copy_(0.1 * torch.randn(module.bias.shape, generator=gen))
                module.running_mean.copy_(0.2 * torch.randn(module.running_mean.shape, generator=gen))
                module.running_var.copy_(0.5 + 1.5 * torch.rand(module.running_var.shape, generator=gen))
                module.num_batches_tracked.zero_()
    return model


def freeze_all_but_head(model):
    """The plain way to freeze: no gradients for any parameter outside `fc`."""
    for name, parameter in model.named_parameters():
        parameter.requires_grad_(name.startswith("fc."))
    return model


def _batches(case):
    return [(case["images"][a:b].clone(), case["labels"][a:b].clone()) for a, b in case["bounds"]]


# make_model -----------------------------------------------------------------------------------------

def run_make_model(make_model, cases):
    results = []
    for case in cases["cases"]:
        try:
            results.append(_make_model_case(make_model, case))
        except StudentError as error:
            results.append({"error": error.text})
    return {"results": results}


def _make_model_case(make_model, case):
    backbone = cut_after(seeded_resnet18(case["seed"], case["source_classes"]), case["block"])
    original = {name: value.detach().clone() for name, value in backbone.state_dict().items()}
    model = call_student(make_model, backbone, case["num_classes"], case["freeze"])
    if not isinstance(model, nn.Module):
        raise StudentError(_("should return an nn.Module (the network), got {type}").format(type=type(model).__name__))
    head = getattr(model, "fc", None)
    if not isinstance(head, nn.Module):
        raise StudentError(_("the returned network has no `fc` module: replace the backbone's head `fc` with the new "
                             "one"))
    named = dict(model.named_parameters())
    state = model.state_dict()
    kept = _kept_tensors(state, original)
    head_is_old = "fc.weight" in state and state["fc.weight"].shape == original["fc.weight"].shape and _equal(
        state["fc.weight"].detach().cpu(), original["fc.weight"])
    images, labels = case["images"].clone(), case["labels"].clone()
    call_student(model.eval)
    with torch.no_grad():
        scores = as_plain_tensor(call_student(model, images), _("the network's output"))
    changed = _one_step(model, images, labels)
    return {"trainable": [n for n, p in named.items() if p.requires_grad], "names": list(named),
            "kept": kept, "head_is_old": head_is_old, "scores_shape": list(scores.shape), "changed_in_step": changed}


def _kept_tensors(state, original):
    """Names (in the returned network) of the entries that still hold one of the given backbone's non-head tensors.

    Matched by name first, then by value: a correct network may hold the backbone under other names (a wrapper
    with `self.backbone`, or `nn.Sequential(*list(backbone.children())[:-1])`)."""
    by_shape = {}
    for name, value in original.items():
        if not name.startswith("fc."):
            by_shape.setdefault(tuple(value.shape), []).append(value)
    kept = []
    for name, value in state.items():
        if not torch.is_tensor(value):  # a module's extra state may be anything
            continue
        value = value.detach().cpu()
        if name in original and not name.startswith("fc."):
            if _equal(value, original[name]):
                kept.append(name)
        elif any(_equal(value, candidate) for candidate in by_shape.get(tuple(value.shape), ())):
            kept.append(name)
    return kept


def _one_step(model, images, labels):
    """Names of the parameters one plain SGD step on every parameter that receives a gradient changes."""
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    call_student(model.train)
    scores = call_student(model, images)
    if type(scores) is not torch.Tensor or scores.dim() != 2 or len(scores) != len(labels) or scores.shape[1] == 0:
        return []
    # Labels folded into the outputs there are: a head of the wrong width is diagnosed by the head check, and
    # must not crash this one (cross-entropy refuses a label beyond the last output).
    loss = _cross_entropy(scores, labels % scores.shape[1])
    if not loss.requires_grad:
        return []
    loss.backward()
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.grad is not None:
                parameter -= 0.1 * parameter.grad
    return [n for n, p in model.named_parameters() if not _equal(p.detach(), before[n])]


# trainable_parameters -------------------------------------------------------------------------------

def run_trainable_parameters(trainable_parameters, cases):
    results = []
    for case in cases["cases"]:
        model = seeded_resnet18(case["seed"], case["num_classes"])
        for name, parameter in model.named_parameters():
            parameter.requires_grad_(not any(name.startswith(prefix) for prefix in case["frozen_prefixes"]))
        try:
            returned = call_student(trainable_parameters, model)
            try:
                items = list(returned)
            except TypeError:
                raise StudentError(_("should return a list of parameters, got {type}").format(
                    type=type(returned).__name__)) from None
            by_id = {id(p): n for n, p in model.named_parameters()}
            results.append({"names": [by_id.get(id(p), "") for p in items],
                            "foreign": sum(id(p) not in by_id for p in items)})
        except StudentError as error:
            results.append({"error": error.text})
    return {"results": results}


# train_one_epoch ------------------------------------------------------------------------------------

def run_train_one_epoch(train_one_epoch, cases):
    results = []
    make_model = namespace_of(train_one_epoch).get("make_model")
    for case in cases["cases"]:
        model = freeze_all_but_head(seeded_resnet18(case["seed"], case["source_classes"], case["num_classes"]))
        result = _train_case(train_one_epoch, model, case)
        if result.get("batchnorm_moved") and callable(make_model):
            # BatchNorm layers may be kept still by make_model's network instead (e.g. a train() that leaves them in
            # eval mode): that route is correct too.
            result["batchnorm_moved_via_make_model"] = _batchnorm_via_make_model(train_one_epoch, make_model, case)
        results.append(result)
    return {"results": results}


def _train_case(train_one_epoch, model, case):
    recorder = LoopRecorder(model, list(model.parameters()))
    loader = BatchLoader(_batches(case))
    optimizer = spy_sgd([p for p in model.parameters() if p.requires_grad], case["lr"], recorder)
    buffers = frozen_batchnorm_buffers(model)
    call_student(model.eval)  # the student's code must switch it to training mode
    try:
        returned = plain_float(call_student(train_one_epoch, model, loader, optimizer, SpyLoss(recorder), "cpu"),
                               _("the mean training loss"))
    except StudentError as error:
        return {"error": error.text}
    return {"returned": returned, "events": recorder.events, "losses": [loss for loss, _size in recorder.losses],
            "sizes": [size for _loss, size in recorder.losses], "trained_in_train_mode": recorder.trained_in_train_mode,
            "grad_enabled": recorder.grad_enabled, "stale_steps": recorder.stale_steps, "passes": loader.passes,
            "batchnorm_moved": batchnorm_moved(model, buffers)}


def _batchnorm_via_make_model(train_one_epoch, make_model, case):
    """Whether frozen BatchNorm statistics still move when the network comes from the student's make_model; None
    when make_model fails or freezes no BatchNorm layer."""
    try:
        model = call_student(make_model, seeded_resnet18(case["seed"], case["source_classes"]), case["num_classes"],
                             True)
        buffers = frozen_batchnorm_buffers(model)
        if not isinstance(model, nn.Module) or not buffers:
            return None
        recorder = LoopRecorder(model, list(model.parameters()))
        optimizer = spy_sgd([p for p in model.parameters() if p.requires_grad], case["lr"], recorder)
        call_student(train_one_epoch, model, BatchLoader(_batches(case)), optimizer, SpyLoss(recorder), "cpu")
        return bool(batchnorm_moved(model, buffers))
    except (StudentError, AttributeError, TypeError, ValueError):
        return None


# evaluate -------------------------------------------------------------------------------------------

def run_evaluate(evaluate, cases):
    results = []
    for case in cases["cases"]:
        model = seeded_resnet18(case["seed"], case["source_classes"], case["num_classes"])
        recorder = LoopRecorder(model, [])
        buffers = {n: b.clone() for n, b in model.named_buffers()}
        call_student(model.train)  # the student's code must switch it to evaluation mode
        try:
            out = call_student(evaluate, model, BatchLoader(_batches(case)), nn.CrossEntropyLoss(), "cpu")
            if not isinstance(out, (tuple, list)) or len(out) != 2:
                raise StudentError(_("should return the pair (mean_loss, accuracy)"))
            results.append({"loss": plain_float(out[0], "mean_loss"), "accuracy": plain_float(out[1], "accuracy"),
                            "forward_modes": recorder.forward_modes, "grad_enabled": recorder.grad_enabled,
                            "buffers_moved": [n for n, b in model.named_buffers() if not _equal(b, buffers[n])]})
        except StudentError as error:
            results.append({"error": error.text})
    return {"results": results}


# fit ------------------------------------------------------------------------------------------------

def run_fit(fit, cases):
    results = []
    for case in cases["cases"]:
        try:
            with scripted_epochs(fit, case["train_loss"], case["val_loss"], case["val_acc"], lr=case["lr"]) as (
                    script, model, train_loader, val_loader, optimizer):
                history = call_student(fit, model, train_loader, val_loader, optimizer, nn.CrossEntropyLoss(), "cpu",
                                       case["epochs"], patience=case["patience"], lr_factor=case["lr_factor"],
                                       lr_patience=case["lr_patience"])
            results.append({"history": _plain_history(history), "lrs_used": script.lrs,
                            "lr_at_end": float(optimizer.param_groups[0]["lr"]),
                            "final_weight": float(model.weight.detach()[0, 0]),
                            "wrong_loader": script.wrong_loader[:3]})
        except StudentError as error:
            results.append({"error": error.text})
    return {"results": results}


def _plain_history(history):
    if not isinstance(history, dict):
        raise StudentError(_("should return the history dict, got {type}").format(type=type(history).__name__))
    plain = {}
    for key in ("train_loss", "val_loss", "val_acc", "lr"):
        values = history.get(key)
        if not isinstance(values, (list, tuple)):
            raise StudentError(_("history[{key!r}] should be a list with one entry per epoch, got {type}").format(
                key=key, type=type(values).__name__))
        entries = _("history[{key!r}] entries").format(key=key)
        plain[key] = [plain_float(v, entries) for v in values]
    best = history.get("best_epoch")
    if isinstance(best, np.integer):  # e.g. np.argmin(history["val_loss"])
        best = int(best)
    if type(best) is not int and not (torch.is_tensor(best) and best.numel() == 1):
        raise StudentError(_("history['best_epoch'] should be an int, got {type}").format(type=type(best).__name__))
    plain["best_epoch"] = int(best)
    return plain
