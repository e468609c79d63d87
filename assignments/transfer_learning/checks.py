"""Hidden checks for the transfer_learning assignment, one per graded part.

Networks are rebuilt from seeds on both sides (`harness.seeded_resnet18`); the
judge recomputes what correct code gives with library parts (`F.cross_entropy`, `ReduceLROnPlateau`) and
explains the usual mistakes. As in two_layer_net, `cases_*` draws, the harness runs, `judge_*` compares.

Part (nbgrader grade_id)        student code             what is checked
test_make_model                 make_model               head size, frozen / trainable parameters, backbone weights kept
test_trainable_parameters       trainable_parameters     exactly the parameters that require gradients, once each
test_train_one_epoch            train_one_epoch          one zero_grad/backward/step per batch, fresh gradients, the
                                                         layers being trained in training mode, frozen BatchNorm
                                                         statistics still, the mean loss
test_evaluate                   evaluate                 exact mean loss and accuracy, eval mode, no gradients
test_fit                        fit                      ReduceLROnPlateau schedule, early stopping, best weights
"""
import math

import torch
import torch.nn.functional as F

from autograder.harness.i18n import _
from autograder.judging import Check, Report, SubChecks, torch_gen
from assignments.transfer_learning import harness

SIZE = harness.IMAGE_SIZE


def _images(gen, n):
    return torch.randn(n, 3, SIZE, SIZE, generator=gen)


def _batched_case(rng, gen, source_classes, num_classes, sizes):
    n = sum(sizes)
    bounds, start = [], 0
    for size in sizes:
        bounds.append([start, start + size])
        start += size
    return {"seed": rng.randrange(2**31), "source_classes": source_classes, "num_classes": num_classes,
            "images": _images(gen, n), "labels": torch.randint(num_classes, (n,), generator=gen), "bounds": bounds}


# make_model -------------------------------------------------------------------------------------------

def cases_make_model(rng):
    """Both modes, a head as wide as the old one (it must still be new), odd class counts, and a backbone that ends
    at an earlier block (its head takes 64 to 256 features, as the course's experiment may give)."""
    gen = torch_gen(rng)
    cases = []
    for freeze, source, classes, block in ((True, 5, 5, "layer4"), (False, 5, rng.randint(2, 9), "layer4"),
                                           (True, 1000, rng.randint(11, 40), "layer4"), (False, 1000, 1000, "layer4"),
                                           (rng.random() < 0.5, 5, rng.randint(2, 9),
                                            rng.choice(("layer1", "layer2", "layer3")))):
        cases.append({"seed": rng.randrange(2**31), "source_classes": source, "num_classes": classes,
                      "freeze": freeze, "block": block, "images": _images(gen, 3),
                      "labels": torch.randint(classes, (3,), generator=gen)})
    return {"cases": cases}


def judge_make_model(cases, outputs, seed):
    results = SubChecks({"head": (_("new head `fc` with num_classes outputs"), 0.3),
                         "frozen": (_("freeze=True trains only the head; freeze=False trains everything"), 0.4),
                         "weights": (_("the backbone's weights are kept"), 0.2),
                         "step": (_("one optimiser step changes exactly the trainable parameters"), 0.1)})
    for case, out in zip(cases["cases"], outputs["results"]):
        ends = "" if case["block"] == "layer4" else _(", a backbone ending at {block}").format(block=case["block"])
        mode = f"[freeze={case['freeze']}, num_classes={case['num_classes']}{ends}]"
        if "error" in out:
            results.fail(f"make_model {out['error']}{_width_hint(out['error'])} {mode}")
            continue
        results.add("head", _judge_head(case, out, mode))
        results.add("frozen", _judge_frozen(case, out, mode))
        missing = [n for n in out["names"] if not n.startswith("fc.") and n not in out["kept"]]
        results.add("weights", (not missing and len(out["kept"]) > 0,
                                _("the backbone's weights were replaced ({name} differs from the given backbone): "
                                  "build the model from `backbone`, do not create a new ResNet {mode}").format(
                                    name=(missing or ["all"])[0], mode=mode)))
        expected, changed = set(out["trainable"]), set(out["changed_in_step"])
        results.add("step", (changed == expected and bool(changed),
                             _("after one SGD step, {names} changed unexpectedly {mode}").format(
                                 names=_few(sorted(changed ^ expected)), mode=mode)
                             if changed != expected else ""))
    return results.into(Report("test_make_model", seed))


def _width_hint(error):
    """A hint when the network failed because its head's input width does not match the backbone's features."""
    if "shapes cannot be multiplied" in error:
        return _(": the new head must take as many inputs as the backbone's old head, `backbone.fc.in_features` "
                 "(512 for a whole ResNet-18, fewer when the backbone ends at an earlier block)")
    return ""


def _judge_head(case, out, mode):
    expected = [len(case["images"]), case["num_classes"]]
    if out["scores_shape"] != expected:
        got = out["scores_shape"][-1] if out["scores_shape"] else "?"
        hint = (_(": the head still has the backbone's old number of outputs") if got == case["source_classes"] else
                _(": the head's out_features must be num_classes"))
        return False, _("the network outputs {got} scores per image, expected {expected}{hint} {mode}").format(
            got=got, expected=case["num_classes"], hint=hint, mode=mode)
    if out["head_is_old"]:
        return False, _("`fc` is still the backbone's head (same weights): make a new nn.Linear even when the class "
                        "count matches, the new classes are not the old ones {mode}").format(mode=mode)
    return True, ""


def _judge_frozen(case, out, mode):
    names, trainable = out["names"], set(out["trainable"])
    head = {n for n in names if n.startswith("fc.")}
    if case["freeze"]:
        if not trainable:
            return False, _("nothing is trainable: the new head must stay trainable (freeze before replacing fc) "
                            "{mode}").format(mode=mode)
        if trainable == set(names):
            return False, _("freeze=True left the backbone trainable: set requires_grad=False on its parameters "
                            "{mode}").format(mode=mode)
        if not head <= trainable:
            return False, _("the head is frozen too: freeze the backbone before replacing fc, or unfreeze fc "
                            "{mode}").format(mode=mode)
        if trainable != head:
            return False, _("freeze=True left {names} trainable {mode}").format(names=_few(sorted(trainable - head)),
                                                                                 mode=mode)
        return True, ""
    if trainable != set(names):
        return False, _("freeze=False must train every parameter, but {names} is frozen {mode}").format(
            names=_few(sorted(set(names) - trainable)), mode=mode)
    return True, ""


def _few(names):
    return ", ".join(names[:2]) + (_(" and {count} more").format(count=len(names) - 2) if len(names) > 2 else "")


# trainable_parameters ---------------------------------------------------------------------------------

def cases_trainable_parameters(rng):
    prefixes = [["conv1.", "bn1.", "layer"], ["conv1.", "bn1.", "layer1.", "layer2."], [],
                ["conv1.", "bn1.", "layer", "fc."][:rng.randint(1, 3)]]
    return {"cases": [{"seed": rng.randrange(2**31), "num_classes": rng.randint(2, 12), "frozen_prefixes": p}
                      for p in prefixes]}


def judge_trainable_parameters(cases, outputs, seed):
    results = SubChecks({"exact": (_("exactly the parameters with requires_grad=True"), 0.8),
                         "once": (_("each parameter once"), 0.2)})
    for case, out in zip(cases["cases"], outputs["results"]):
        if "error" in out:
            results.fail(f"trainable_parameters {out['error']}")
            continue
        with torch.device("meta"):  # only the names are needed
            model = harness.resnet18(num_classes=case["num_classes"])
        expected = {n for n, _parameter in model.named_parameters()
                    if not any(n.startswith(p) for p in case["frozen_prefixes"])}
        got = [n for n in out["names"] if n]
        if out["foreign"]:
            results.add("exact", (False, _("returned objects that are not the model's parameters (return the "
                                           "parameters themselves, e.g. [p for p in model.parameters() if "
                                           "p.requires_grad])")))
        elif set(got) - expected:
            results.add("exact", (False, _("returned frozen parameters ({names}): the optimiser must receive only "
                                           "parameters with requires_grad=True").format(
                                               names=_few(sorted(set(got) - expected)))))
        elif expected - set(got):
            results.add("exact", (False, _("left out trainable parameters ({names})").format(
                names=_few(sorted(expected - set(got))))))
        else:
            results.add("exact", (True, ""))
        results.add("once", (len(got) == len(set(got)), _("returned some parameters more than once")))
    return results.into(Report("test_trainable_parameters", seed))


# train_one_epoch --------------------------------------------------------------------------------------

def cases_train_one_epoch(rng):
    gen = torch_gen(rng)
    cases = []
    for sizes in ([4, 4, 3], [5, 3, 2, 4]):
        case = _batched_case(rng, gen, rng.choice([5, 1000]), rng.randint(2, 9), sizes)
        case["lr"] = rng.choice([0.01, 0.05, 0.1])
        cases.append(case)
    return {"cases": cases}


def judge_train_one_epoch(cases, outputs, seed):
    results = SubChecks({"loop": (_("one zero_grad / backward / step per batch, every batch once"), 0.3),
                         "fresh": (_("gradients start from zero at every batch"), 0.15),
                         "mode": (_("training mode with gradients on"), 0.15),
                         "batchnorm": (_("frozen BatchNorm statistics stay put"), 0.2),
                         "loss": (_("returns the epoch's mean training loss"), 0.2)})
    for case, out in zip(cases["cases"], outputs["results"]):
        if "error" in out:
            results.fail(f"train_one_epoch {out['error']}")
            continue
        batches = len(case["bounds"])
        events = out["events"]
        counts = {e: events.count(e) for e in ("forward", "backward", "step", "zero_grad")}
        loop_ok = (counts["backward"] == counts["step"] == batches and out["passes"] == 1
                   and len(out["losses"]) == batches)
        results.add("loop", (loop_ok, _loop_diagnosis(counts, batches, out)))
        early = steps_before_backward(events)
        results.add("fresh", (out["stale_steps"] == 0 and loop_ok,
                              _("optimizer.step() ran before loss.backward() ({early} of {steps} steps): the step "
                                "must use the gradients of this batch's loss").format(early=early, steps=counts["step"])
                              if early else
                              _("gradients accumulate across batches ({stale} of {steps} steps used stale gradients): "
                                "call optimizer.zero_grad() before each backward()").format(
                                  stale=out["stale_steps"], steps=counts["step"])
                              if out["stale_steps"] else _("see the loop diagnosis")))
        train_mode = bool(out["trained_in_train_mode"]) and all(out["trained_in_train_mode"])
        results.add("mode", (train_mode and all(out["grad_enabled"]),
                             _("the layers being trained were not in training mode: call model.train() at the start "
                               "of the epoch") if not train_mode
                             else _("gradients were off during training (torch.no_grad)")))
        still = not out["batchnorm_moved"] or out.get("batchnorm_moved_via_make_model") is False
        results.add("batchnorm", (still, _("the frozen backbone's BatchNorm statistics moved ({names}): after "
                                           "model.train(), put every BatchNorm layer whose parameters are frozen back "
                                           "in eval mode").format(names=_few(out["batchnorm_moved"]))))
        results.add("loss", _judge_mean_loss(out))
    return results.into(Report("test_train_one_epoch", seed))


def steps_before_backward(events):
    """How many optimiser steps came after a batch's loss but before its backward pass."""
    early, backward_since_loss = 0, True
    for event in events:
        if event == "loss":
            backward_since_loss = False
        elif event == "backward":
            backward_since_loss = True
        elif event == "step" and not backward_since_loss:
            early += 1
    return early


def _loop_diagnosis(counts, batches, out):
    if out["passes"] != 1:
        return _("the loader was iterated {passes} times: one epoch is one pass over it").format(passes=out["passes"])
    if counts["step"] == 0:
        return _("optimizer.step() was never called")
    if counts["backward"] != batches:
        return _("backward() ran {count} times for {batches} batches: once per batch").format(
            count=counts["backward"], batches=batches)
    if counts["step"] != batches:
        return _("optimizer.step() ran {count} times for {batches} batches: once per batch").format(
            count=counts["step"], batches=batches)
    return _("the loss function was called {count} times for {batches} batches").format(count=len(out["losses"]),
                                                                                       batches=batches)


def _judge_mean_loss(out):
    losses, sizes = out["losses"], out["sizes"]
    if not losses:
        return False, _("no loss was computed")
    per_batch = sum(losses) / len(losses)
    per_image = sum(loss * n for loss, n in zip(losses, sizes)) / sum(sizes)
    got = out["returned"]
    if any(math.isclose(got, want, rel_tol=1e-4, abs_tol=1e-6) for want in (per_batch, per_image)):
        return True, ""
    if math.isclose(got, losses[-1], rel_tol=1e-4):
        return False, _("returned the last batch's loss: return the mean over the epoch")
    if math.isclose(got, sum(losses), rel_tol=1e-4) or math.isclose(got, per_image * sum(sizes), rel_tol=1e-4):
        return False, _("returned the sum of the losses: divide by the number of batches (or images)")
    return False, _("returned {got}, but the epoch's mean loss was {mean}").format(got=f"{got:.4g}",
                                                                                  mean=f"{per_image:.4g}")


# evaluate ---------------------------------------------------------------------------------------------

def cases_evaluate(rng):
    gen = torch_gen(rng)
    return {"cases": [_batched_case(rng, gen, rng.choice([5, 1000]), rng.randint(2, 6), sizes)
                      for sizes in ([6, 6, 5], [4, 7])]}


def reference_evaluate(case):
    """(mean loss per image, mean of the per-batch mean losses, accuracy) of the case's seeded network in eval mode.

    The mean of batch means is also accepted: it is how many students average, and it differs only by weighing the
    last, smaller batch a little more."""
    model = harness.seeded_resnet18(case["seed"], case["source_classes"], case["num_classes"]).eval()
    sums, correct, n = [], 0, 0
    with torch.no_grad():
        for a, b in case["bounds"]:
            scores = model(case["images"][a:b])
            labels = case["labels"][a:b]
            sums.append(F.cross_entropy(scores, labels, reduction="sum").item())
            correct += (scores.argmax(dim=1) == labels).sum().item()
            n += b - a
    per_batch = sum(total / (b - a) for total, (a, b) in zip(sums, case["bounds"])) / len(sums)
    return sum(sums) / n, per_batch, correct / n


def judge_evaluate(cases, outputs, seed):
    results = SubChecks({"loss": (_("mean loss over the validation set"), 0.35),
                         "accuracy": (_("accuracy as a fraction of the images"), 0.35),
                         "mode": (_("eval mode, no gradients"), 0.3)})
    for case, out in zip(cases["cases"], outputs["results"]):
        if "error" in out:
            results.fail(f"evaluate {out['error']}")
            continue
        ref_loss, ref_batch_mean, ref_acc = reference_evaluate(case)
        eval_mode = bool(out["forward_modes"]) and not any(out["forward_modes"])
        if not eval_mode:
            results.fail(_("the network was in training mode: call model.eval() before evaluating"),
                         ("loss", "accuracy"))
        else:
            results.add("loss", _close(out["loss"], ref_loss, _("mean loss"), ref_batch_mean))
            results.add("accuracy", _judge_accuracy(out["accuracy"], ref_acc))
        no_grad = bool(out["grad_enabled"]) and not any(out["grad_enabled"])
        results.add("mode", (eval_mode and no_grad and not out["buffers_moved"],
                             _("gradients were on: evaluate inside torch.no_grad() (or torch.inference_mode())")
                             if eval_mode and not no_grad else
                             _("the network was in training mode: call model.eval()")))
    return results.into(Report("test_evaluate", seed))


def _close(got, want, name, also=None):
    if (math.isclose(got, want, rel_tol=1e-4, abs_tol=1e-6)
            or (also is not None and math.isclose(got, also, rel_tol=1e-4))):
        return True, ""
    return False, _("{name} is {got}, expected {expected}").format(name=name, got=f"{got:.4g}",
                                                                   expected=f"{want:.4g}")


def _judge_accuracy(got, want):
    if math.isclose(got, want, abs_tol=1e-6):
        return True, ""
    if math.isclose(got, 100 * want, abs_tol=1e-4) and want > 0:
        return False, _("accuracy is a percentage: return the fraction of correct images (between 0 and 1)")
    return False, _("accuracy is {got}, expected {expected}").format(got=f"{got:.4g}", expected=f"{want:.4g}")


# fit --------------------------------------------------------------------------------------------------

def cases_fit(rng):
    """Scripted validation curves: one that stalls (early stopping, after the learning rate is lowered), one that
    improves to the end, one that worsens at once; the training loss falls throughout, as in real training. In the
    one that stalls, the validation accuracy peaks two epochs after the loss's best (an over-confident network): the
    best epoch is the loss's, not the accuracy's (and the accuracy's is not the loss's + 1, which counting epochs from
    1 gives)."""
    cases = []
    for shape in ("stalls", "improves", "worsens"):
        # The run that stalls stays long enough after its best epoch for the scheduler to cut the rate before early
        # stopping ends it (patience > lr_patience + 1): a fit that never steps the scheduler, or steps it with the
        # falling training loss, loses points on every draw.
        lr_patience = rng.randint(0, 1)
        patience = rng.randint(lr_patience + 2 if shape == "stalls" else 2, 4)
        epochs = rng.randint(10, 13)
        val = _scripted_curve(rng, shape, epochs, patience)
        accuracy = [round(1.0 - v / 4, 4) for v in val]
        if shape == "stalls":
            best = val.index(min(val))
            accuracy[best + 2] = round(accuracy[best] + 0.02, 4)  # patience >= 2: the run gets there
        cases.append({"shape": shape, "epochs": epochs, "patience": patience, "lr_patience": lr_patience,
                      "lr_factor": rng.choice([0.1, 0.5]), "lr": rng.choice([0.1, 0.01]), "val_loss": val,
                      "val_acc": accuracy, "train_loss": _falling_curve(rng, val[0] * rng.uniform(0.6, 0.9), epochs)})
    return {"cases": cases}


def _falling_curve(rng, start, epochs):
    """Training losses as real training gives them: falling every epoch, whatever the validation loss does (a
    scheduler stepped with them never sees a plateau)."""
    curve = [start]
    for _epoch in range(epochs - 1):
        curve.append(curve[-1] * rng.uniform(0.8, 0.95))
    return [round(v, 4) for v in curve]


def _scripted_curve(rng, shape, epochs, patience):
    """Validation losses whose every change is large (no tie with ReduceLROnPlateau's threshold)."""
    value, curve = rng.uniform(1.5, 2.5), []
    # A "stalls" curve stops at least two epochs before the cap: a fit that runs one epoch too many is then told so,
    # not that it never stopped.
    best_at = {"stalls": rng.randint(3, epochs - patience - 3), "improves": epochs - 1, "worsens": 0}[shape]
    # A "stalls" curve has one bump before its best epoch: a counter of epochs without improvement that is not reset
    # when the loss improves again stops too early.
    bump = rng.randint(1, best_at - 1) if shape == "stalls" else None
    for epoch in range(epochs):
        if epoch == 0:
            curve.append(round(value, 4))
        elif epoch <= best_at and epoch != bump:
            value *= rng.uniform(0.75, 0.9)
            curve.append(round(value, 4))
        else:  # worse than the best so far, by a clear margin
            curve.append(round(min(curve) * rng.uniform(1.05, 1.3), 4))
    return curve


def reference_fit(case):
    """What fit must do on the case's scripted curve: (learning rate used in each epoch run, best epoch)."""
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([parameter], lr=case["lr"])
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=case["lr_factor"],
                                                           patience=case["lr_patience"])
    lrs, best, best_epoch = [], math.inf, 0
    for epoch in range(case["epochs"]):
        lrs.append(optimizer.param_groups[0]["lr"])
        val_loss = case["val_loss"][epoch]
        scheduler.step(val_loss)
        if val_loss < best:
            best, best_epoch = val_loss, epoch
        elif epoch - best_epoch >= case["patience"]:
            break
    return lrs, best_epoch


def judge_fit(cases, outputs, seed):
    results = SubChecks({"history": (_("history: one entry per epoch run (train_loss, val_loss, val_acc, lr)"), 0.15),
                         "stop": (_("early stopping after `patience` epochs without improvement"), 0.25),
                         "schedule": (_("ReduceLROnPlateau on the validation loss"), 0.25),
                         "best": ("best_epoch", 0.1),
                         "restore": (_("the best epoch's weights are restored"), 0.25)})
    shapes = {"stalls": _("validation loss stalls"), "improves": _("validation loss improves"),
              "worsens": _("validation loss worsens")}
    for case, out in zip(cases["cases"], outputs["results"]):
        tag = " [{shape}, patience={patience}, lr_patience={lr_patience}]".format(
            shape=shapes[case["shape"]], patience=case["patience"], lr_patience=case["lr_patience"])
        if "error" in out:
            results.fail(f"fit {out['error']}{tag}")
            continue
        lrs, best_epoch = reference_fit(case)
        history, ran = out["history"], len(out["lrs_used"])
        results.add("history", _judge_history(case, history, ran, out))
        results.add("stop", (ran == len(lrs), _stop_diagnosis(ran, len(lrs), best_epoch, case) + tag))
        results.add("schedule", _judge_schedule(out["lrs_used"], lrs, case, tag))
        by_accuracy = _best_by_accuracy(case, ran, best_epoch)
        results.add("best", (history["best_epoch"] == best_epoch,
                             _best_diagnosis(history["best_epoch"], best_epoch, by_accuracy) + tag))
        restored = out["final_weight"] == best_epoch + 1.0
        results.add("restore", (restored, _restore_diagnosis(out["final_weight"], ran, best_epoch, by_accuracy) + tag))
    return results.into(Report("test_fit", seed))


def _judge_history(case, history, ran, out):
    if out["wrong_loader"]:
        return False, _("{problem}: train on train_loader, evaluate on val_loader").format(
            problem=out["wrong_loader"][0])
    lengths = {key: len(history[key]) for key in ("train_loss", "val_loss", "val_acc", "lr")}
    if any(n != ran for n in lengths.values()):
        return False, _("history lists have lengths {lengths} for {ran} epochs run: one entry per epoch").format(
            lengths=lengths, ran=ran)
    for key, script in (("train_loss", case["train_loss"]), ("val_loss", case["val_loss"]),
                        ("val_acc", case["val_acc"])):
        if any(not math.isclose(a, b, rel_tol=1e-6) for a, b in zip(history[key], script)):
            return False, _("history[{key!r}] does not hold the values train_one_epoch / evaluate returned").format(
                key=key)
    # The learning rate each epoch trained with, or the one the scheduler set after it: both are read as "the lr".
    used = out["lrs_used"]
    if not any(all(math.isclose(a, b, rel_tol=1e-6) for a, b in zip(history["lr"], convention))
               for convention in (used, used[1:] + [out["lr_at_end"]])):
        return False, _("history['lr'] does not hold the learning rates of the epochs run: record "
                        "optimizer.param_groups[0]['lr'] once per epoch")
    return True, ""


def _stop_diagnosis(ran, expected, best_epoch, case):
    if ran == expected + 1:
        return _("ran one epoch more than patience={patience} allows: stop as soon as the count of epochs without "
                 "improvement reaches `patience` (>=, not >)").format(patience=case["patience"])
    if ran == case["epochs"] and expected < ran:
        return _("ran all {ran} epochs: stop once `patience` epochs in a row bring no improvement of the validation "
                 "loss").format(ran=ran)
    if ran < expected:
        return _("stopped after {ran} epochs, expected {expected}: count the epochs without improvement since the "
                 "best epoch (reset the counter whenever the validation loss improves)").format(ran=ran,
                                                                                               expected=expected)
    return _("ran {ran} epochs, expected {expected} (best epoch {best}, patience {patience})").format(
        ran=ran, expected=expected, best=best_epoch, patience=case["patience"])


def _judge_schedule(used, expected, case, tag):
    n = min(len(used), len(expected))
    if n and all(math.isclose(a, b, rel_tol=1e-6) for a, b in zip(used[:n], expected[:n])):
        return True, ""
    if n and all(math.isclose(a, case["lr"]) for a in used[:n]):
        return False, _("the learning rate never changed although the validation loss stalled: create "
                        "ReduceLROnPlateau(optimizer, factor=lr_factor, patience=lr_patience) once, before the loop, "
                        "and call scheduler.step(val_loss) once per epoch (the training loss keeps falling: a "
                        "scheduler stepped with it never lowers the rate)") + tag
    return False, _("learning rates per epoch were {used}, expected {expected}: step ReduceLROnPlateau once per "
                    "epoch with the validation loss, with factor=lr_factor and patience=lr_patience").format(
        used=[f"{v:g}" for v in used[:n]], expected=[f"{v:g}" for v in expected[:n]]) + tag


def _best_by_accuracy(case, ran, best_epoch):
    """The epoch with the highest validation accuracy among the `ran` epochs, when it is not the loss's best
    (`best_epoch`); else None."""
    accuracy = case["val_acc"][:ran]
    best = accuracy.index(max(accuracy)) if accuracy else None
    return None if best == best_epoch else best


def _by_accuracy(by_accuracy, best_epoch):
    return _("the epoch with the highest validation accuracy ({kept}) was kept: keep the epoch with the lowest "
             "validation loss ({best}), as the notebook asks (and Keras's EarlyStopping(monitor='val_loss') "
             "does)").format(kept=by_accuracy, best=best_epoch)


def _best_diagnosis(got, best_epoch, by_accuracy):
    if by_accuracy is not None and got == by_accuracy:
        return _by_accuracy(by_accuracy, best_epoch)
    return (_("best_epoch is {got}, the epoch with the lowest validation loss is {best}").format(got=got,
                                                                                               best=best_epoch)
            + (_(": best_epoch counts from 0, as the history lists do") if got == best_epoch + 1 else ""))


def _restore_diagnosis(final, ran, best_epoch, by_accuracy=None):
    if by_accuracy is not None and final == by_accuracy + 1.0 and final != float(ran):
        return _by_accuracy(by_accuracy, best_epoch)
    if final == float(ran):
        return _("the network ends with the last epoch's weights, not the best epoch's ({best}): keep a copy "
                 "(copy.deepcopy(model.state_dict()); state_dict() alone returns references that keep changing) and "
                 "load it at the end").format(best=best_epoch)
    return _("the network ends with epoch {epoch}'s weights, expected the best epoch's ({best})").format(
        epoch=int(final) - 1, best=best_epoch)


CHECKS = {
    "test_make_model": Check(cases_make_model, harness.run_make_model, judge_make_model),
    "test_trainable_parameters": Check(cases_trainable_parameters, harness.run_trainable_parameters,
                                       judge_trainable_parameters),
    "test_train_one_epoch": Check(cases_train_one_epoch, harness.run_train_one_epoch, judge_train_one_epoch),
    "test_evaluate": Check(cases_evaluate, harness.run_evaluate, judge_evaluate),
    "test_fit": Check(cases_fit, harness.run_fit, judge_fit),
}
