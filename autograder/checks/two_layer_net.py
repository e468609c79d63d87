"""Hidden checks for the two_layer_net assignment, one per graded part.

The reference is written with library parts (`F.cross_entropy`, `torch.autograd`), independently of
the hand-written solution in source/, so the two check each other. Every check draws fresh cases,
tests only its own function (the functions it calls are replaced by correct ones), and explains
what is probably wrong when it fails.

Part (nbgrader grade_id)     student code              check
test_nn_forward_pass         nn_forward_pass           check_nn_forward_pass
test_nn_forward_backward     nn_forward_backward       check_nn_forward_backward
test_nn_train                nn_train                  check_nn_train
test_nn_predict              nn_predict                check_nn_predict
test_two_layer_net           TwoLayerNet               check_two_layer_net
test_find_best_net           get_param_set, find_best_net   check_find_best_net
test_best_model              the saved best model      check_best_model
"""
import inspect
import math
from pathlib import Path

import torch
import torch.nn.functional as F

from autograder.checks.core import (Report, StudentError, as_plain_tensor, call_student, compare, devices,
                                    namespace_of, new_rng, patched_names, torch_gen)
from helpers.data import load_dataset
from helpers.grad import rel_error
from helpers.utils import load_checkpoint

PARAMS = ("W1", "b1", "W2", "b2")
TOL = {torch.float64: 1e-6, torch.float32: 1e-4}
#: Accuracy the saved best model must reach, per dataset and split (EECS 498 asks 50% on CIFAR-10).
BEST_MODEL_TARGETS = {"cifar10": {"val": 0.50, "test": 0.50}, "fashion_mnist": {"test": 0.88}}
#: Accuracy below the target by this much or more earns nothing; in between earns a share.
BEST_MODEL_MARGIN = 0.10


# ----------------------------------------------------------------------------------------------
# Reference (library-based) and case drawing
# ----------------------------------------------------------------------------------------------

def reference_forward(params, X):
    """(scores (N, C), hidden (N, H)) of FC -> ReLU -> FC."""
    hidden = torch.relu(F.linear(X, params["W1"].t(), params["b1"]))
    return F.linear(hidden, params["W2"].t(), params["b2"]), hidden


def reference_loss_and_grads(params, X, y, reg):
    """Softmax cross-entropy averaged over the batch + reg * (ΣW1² + ΣW2²), gradients by autograd."""
    leaves = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
    scores, _ = reference_forward(leaves, X)
    loss = F.cross_entropy(scores, y) + reg * ((leaves["W1"] ** 2).sum() + (leaves["W2"] ** 2).sum())
    grads = torch.autograd.grad(loss, [leaves[k] for k in PARAMS])
    return loss.detach(), dict(zip(PARAMS, grads))


def reference_forward_backward(params, X, y=None, reg=0.0):
    """The contract of nn_forward_backward, used where other parts call it."""
    if y is None:
        return reference_forward(params, X)[0]
    return reference_loss_and_grads(params, X, y, reg)


def reference_predict(params, loss_func, X):
    return loss_func(params, X).argmax(dim=1)


def draw_params(gen, D, H, C, scale=0.5, dtype=torch.float64):
    return {"W1": scale * torch.randn(D, H, generator=gen, dtype=dtype),
            "b1": scale * torch.randn(H, generator=gen, dtype=dtype),
            "W2": scale * torch.randn(H, C, generator=gen, dtype=dtype),
            "b2": scale * torch.randn(C, generator=gen, dtype=dtype)}


def draw_net_cases(rng, large=True):
    """Cases for the forward/backward checks: odd shapes, float64 and float32, every device, and a
    large-magnitude case whose scores overflow exp() unless the softmax is stabilised."""
    gen = torch_gen(rng)
    cases = []
    for device in devices():
        for dtype in (torch.float64, torch.float64, torch.float32):
            N, D, H, C = rng.randint(3, 30), rng.randint(2, 20), rng.randint(2, 16), rng.randint(2, 9)
            params = draw_params(gen, D, H, C)
            X = rng.uniform(0.5, 4.0) * torch.randn(N, D, generator=gen, dtype=torch.float64)
            y = torch.randint(C, (N,), generator=gen)
            cases.append(_place(dict(name=f"N={N} D={D} H={H} C={C} {str(dtype)[6:]} {device}", X=X, y=y,
                                     params=params, reg=rng.uniform(0.05, 0.5), large=False), dtype, device))
        if large:
            N, D, H, C = rng.randint(4, 12), rng.randint(2, 8), rng.randint(2, 8), rng.randint(3, 6)
            params = draw_params(gen, D, H, C)
            params["b2"] += 1000.0
            X = torch.randn(N, D, generator=gen, dtype=torch.float64)
            y = torch.randint(C, (N,), generator=gen)
            cases.append(_place(dict(name=f"scores near 1e3, {device}", X=X, y=y, params=params,
                                     reg=rng.uniform(0.05, 0.5), large=True), torch.float64, device))
    return cases


def _place(case, dtype, device):
    case["params"] = {k: v.to(device=device, dtype=dtype) for k, v in case["params"].items()}
    case["X"], case["y"], case["dtype"] = case["X"].to(device=device, dtype=dtype), case["y"].to(device), dtype
    return case


def _student_params(case):
    """A fresh copy of the case's parameters, so student code cannot alter the case itself."""
    return {k: v.clone() for k, v in case["params"].items()}


# ----------------------------------------------------------------------------------------------
# nn_forward_pass
# ----------------------------------------------------------------------------------------------

def check_nn_forward_pass(nn_forward_pass, seed=None):
    rng, seed = new_rng(seed)
    report = Report("test_nn_forward_pass", seed)
    cases = draw_net_cases(rng, large=False)
    scores_ok, hidden_ok = [], []
    for case in cases:
        try:
            out = call_student(nn_forward_pass, _student_params(case), case["X"].clone())
            if not isinstance(out, tuple) or len(out) != 2:
                raise StudentError("should return the pair (scores, hidden)")
            scores, hidden = (as_plain_tensor(v, n) for v, n in zip(out, ("scores", "hidden")))
        except StudentError as error:
            scores_ok.append((False, f"nn_forward_pass {error.text} [{case['name']}]"))
            hidden_ok.append((False, scores_ok[-1][1]))
            continue
        ref_scores, ref_hidden = (t.cpu() for t in reference_forward(case["params"], case["X"]))
        variants = _forward_variants(case)
        scores_ok.append(compare(scores, ref_scores, "scores", TOL[case["dtype"]], variants))
        hidden_ok.append(compare(hidden, ref_hidden, "hidden", TOL[case["dtype"]], variants))
    _add_all(report, "scores = relu(X W1 + b1) W2 + b2", 0.6, scores_ok)
    _add_all(report, "hidden = relu(X W1 + b1)", 0.4, hidden_ok)
    return report


def _forward_variants(case):
    p, X = {k: v.cpu() for k, v in case["params"].items()}, case["X"].cpu()
    pre = X @ p["W1"] + p["b1"]
    hidden = pre.clamp(min=0)
    return {
        "scores have a ReLU applied: the output layer has no activation, scores = hidden W2 + b2":
            (hidden @ p["W2"] + p["b2"]).clamp(min=0),
        "the ReLU is missing: hidden must be max(0, X W1 + b1)": pre,
        "scores are computed without the ReLU on the hidden layer": pre @ p["W2"] + p["b2"],
        "b1 is not added in the first layer": (X @ p["W1"]).clamp(min=0),
        "scores are computed without b1 in the first layer": (X @ p["W1"]).clamp(min=0) @ p["W2"] + p["b2"],
        "b2 is not added to the scores": hidden @ p["W2"],
        "the hidden layer uses a sigmoid: this network uses ReLU": torch.sigmoid(pre),
    }


def _add_all(report, name, weight, results):
    """One sub-check that passes only when every case passed; its detail is the first failure."""
    failures = [detail for ok, detail in results if not ok]
    report.add(name, weight, not failures and bool(results), failures[0] if failures else "")


# ----------------------------------------------------------------------------------------------
# nn_forward_backward
# ----------------------------------------------------------------------------------------------

UNSTABLE = (": exp() overflowed on scores near 1e3; subtract each row's maximum score before "
            "exponentiating (or use logsumexp)")


def check_nn_forward_backward(nn_forward_backward, seed=None, forward=reference_forward):
    """`forward` replaces the notebook's nn_forward_pass while the student's function runs."""
    rng, seed = new_rng(seed)
    report = Report("test_nn_forward_backward", seed)
    results = {key: [] for key in ("loss", "stable") + PARAMS}
    with patched_names(namespace_of(nn_forward_backward), nn_forward_pass=forward):
        for case in draw_net_cases(rng):
            _judge_forward_backward(nn_forward_backward, case, results)
    _add_all(report, "loss: mean softmax cross-entropy + reg * (ΣW1² + ΣW2²); scores when y=None", 0.4,
             results["loss"])
    _add_all(report, "loss and gradients stay finite for large scores", 0.1, results["stable"])
    for key in PARAMS:
        _add_all(report, f"gradient of {key}", 0.125, results[key])
    return report


def _judge_forward_backward(fn, case, results):
    tol, tag = TOL[case["dtype"]], f" [{case['name']}]"
    ref_loss, ref_grads = (t.cpu() if torch.is_tensor(t) else {k: g.cpu() for k, g in t.items()}
                           for t in reference_loss_and_grads(case["params"], case["X"], case["y"], case["reg"]))
    if not case["large"]:
        try:
            scores = as_plain_tensor(call_student(fn, _student_params(case), case["X"].clone()), "scores")
            results["loss"].append(compare(scores, reference_forward(case["params"], case["X"])[0].cpu(),
                                           "scores (y=None)", tol))
        except StudentError as error:
            results["loss"].append((False, f"nn_forward_backward(params, X) {error.text}{tag}"))
    try:
        out = call_student(fn, _student_params(case), case["X"].clone(), case["y"].clone(), case["reg"])
        if not isinstance(out, tuple) or len(out) != 2:
            raise StudentError("should return the pair (loss, grads) when y is given")
        loss, grads = out
        loss = as_plain_tensor(loss if torch.is_tensor(loss) else torch.tensor(float(loss)), "loss").reshape(())
        if not isinstance(grads, dict):
            raise StudentError(f"grads should be a dict, got {type(grads).__name__}")
    except (StudentError, TypeError, ValueError) as error:
        text = error.text if isinstance(error, StudentError) else f"returned a loss that is not a number ({error})"
        for key in ("loss",) + PARAMS + (("stable",) if case["large"] else ()):
            results[key].append((False, f"nn_forward_backward {text}{tag}"))
        return
    variants = _loss_variants(case)
    loss_result = compare(loss.to(torch.float64), ref_loss.to(torch.float64), "loss", tol, variants, UNSTABLE)
    grad_results = {}
    for key in PARAMS:
        if key not in grads or grads[key] is None:
            grad_results[key] = (False, f"grads['{key}'] is missing")
            continue
        try:
            grad = as_plain_tensor(grads[key], f"grads['{key}']")
        except StudentError as error:
            grad_results[key] = (False, error.text)
            continue
        grad_results[key] = compare(grad, ref_grads[key], f"grads['{key}']", tol, _grad_variants(case, key),
                                    UNSTABLE)
    if case["large"]:
        failures = [r for r in [loss_result, *grad_results.values()] if not r[0]]
        results["stable"].append(failures[0] if failures else (True, ""))
    else:
        results["loss"].append(_tagged(loss_result, tag))
        for key in PARAMS:
            results[key].append(_tagged(grad_results[key], tag))


def _tagged(result, tag):
    return result if result[0] else (False, result[1] + tag)


def _loss_pieces(case):
    p = {k: v.cpu().to(torch.float64) for k, v in case["params"].items()}
    X, y, reg = case["X"].cpu().to(torch.float64), case["y"].cpu(), case["reg"]
    scores, hidden = reference_forward(p, X)
    return p, X, y, reg, scores, hidden


def _loss_variants(case):
    p, X, y, reg, scores, _ = _loss_pieces(case)
    N = len(y)
    data = F.cross_entropy(scores, y)
    weights, biases = (p["W1"] ** 2).sum() + (p["W2"] ** 2).sum(), (p["b1"] ** 2).sum() + (p["b2"] ** 2).sum()
    return {
        "loss is off by exactly reg * (ΣW1² + ΣW2²): the regularisation term is missing": data,
        "loss is off by exactly reg * (ΣW1² + ΣW2²) / 2: this homework's regularisation has no factor ½":
            data + 0.5 * reg * weights,
        "the data loss is summed over the batch: average it (divide by N)": N * data + reg * weights,
        "the data loss and regularisation are both multiplied by N: average only the data loss over the batch":
            N * (data + reg * weights),
        "the biases are regularised: only W1 and W2 are": data + reg * (weights + biases),
        "only W1 is regularised: add reg * ΣW2²": data + reg * (p["W1"] ** 2).sum(),
        "only W2 is regularised: add reg * ΣW1²": data + reg * (p["W2"] ** 2).sum(),
        "softmax is taken over the wrong axis: normalise over classes (dim=1), not over the batch":
            -F.log_softmax(scores, dim=0)[torch.arange(N), y].mean() + reg * weights,
        "the regularisation uses |W| (L1): this homework uses squared weights (L2)":
            data + reg * (p["W1"].abs().sum() + p["W2"].abs().sum()),
    }


def _grad_variants(case, key):
    """What common backward-pass mistakes give for grads[key] on this case."""
    p, X, y, reg, scores, hidden = _loss_pieces(case)
    N = len(y)
    dscores = (torch.softmax(scores, dim=1) - F.one_hot(y, scores.shape[1]).to(scores.dtype)) / N
    dhidden_nomask = dscores @ p["W2"].t()
    dhidden = dhidden_nomask * (hidden > 0)
    data = {"W2": hidden.t() @ dscores, "b2": dscores.sum(0), "W1": X.t() @ dhidden, "b1": dhidden.sum(0)}
    reg_grad = {"W1": 2 * reg * p["W1"], "W2": 2 * reg * p["W2"], "b1": 0, "b2": 0}
    variants = {}
    if key.startswith("W"):
        variants[f"grads['{key}'] lacks the regularisation gradient 2 * reg * {key}"] = data[key]
        variants[f"grads['{key}'] uses reg * {key}; the derivative of reg * Σ{key}² is 2 * reg * {key}"] = \
            data[key] + 0.5 * reg_grad[key]
    else:
        variants[f"grads['{key}'] is regularised; biases are not"] = data[key] + 2 * reg * p[key]
        variants[f"grads['{key}'] is zero: the bias gradient is the sum of the upstream gradient over the batch"] = \
            torch.zeros_like(data[key])
    variants[f"grads['{key}'] is not divided by N: the loss is a batch mean"] = N * data[key] + reg_grad[key]
    if key in ("W1", "b1"):
        nomask = {"W1": X.t() @ dhidden_nomask, "b1": dhidden_nomask.sum(0)}[key]
        variants[f"grads['{key}'] ignores the ReLU: zero the upstream gradient where hidden <= 0"] = \
            nomask + reg_grad[key]
    wrong_axis = (torch.softmax(scores, dim=0) - F.one_hot(y, scores.shape[1]).to(scores.dtype)) / N
    if key == "W2":
        variants["the softmax in the backward pass is taken over the batch (dim=0), not over classes (dim=1)"] = \
            hidden.t() @ wrong_axis + reg_grad[key]
    if key == "b2":
        variants["the softmax in the backward pass is taken over the batch (dim=0), not over classes (dim=1)"] = \
            wrong_axis.sum(0)
    return variants


# ----------------------------------------------------------------------------------------------
# nn_train, through spies
# ----------------------------------------------------------------------------------------------

class _LossSpy:
    """A fake loss_func: records every call and returns known losses and gradients."""

    def __init__(self, case):
        self.case, self.calls = case, []

    def __call__(self, params, X, y=None, reg=0.0):
        k = len(self.calls)
        if y is None:
            raise AssertionError("nn_train should call loss_func with y (and reg) to get the loss and gradients")
        if k >= len(self.case["grads"]):
            raise _Overrun(f"loss_func was called more than num_iters={self.case['num_iters']} times")
        self.calls.append({"params": {n: params[n].detach().clone() for n in PARAMS},
                           "rows": X[:, 0].detach().round().long().clone(), "y": torch.as_tensor(y).clone(),
                           "reg": reg})
        return torch.tensor(k + 0.25, dtype=torch.float64), {n: g.clone() for n, g in self.case["grads"][k].items()}


class _Overrun(Exception):
    pass


class _PredictSpy:
    """A fake pred_func: labels are a fixed function of each row's index; records which rows it saw."""

    def __init__(self, num_classes):
        self.num_classes, self.calls = num_classes, []

    def __call__(self, params, loss_func, X):
        rows = X[:, 0].detach().round().long()
        labels = (rows.abs() * 7 + 3) % self.num_classes
        self.calls.append((rows.clone(), labels.clone()))
        return labels


def draw_train_case(rng):
    gen = torch_gen(rng)
    batch_size = rng.randint(5, 16)
    per_epoch = rng.randint(2, 5)
    N = batch_size * per_epoch + rng.randint(0, batch_size - 1)
    num_iters = per_epoch * rng.randint(2, 3) + rng.randint(1, per_epoch)
    D, H, C, M = 3, rng.randint(2, 6), rng.randint(3, 5), rng.randint(10, 30)
    X = torch.randn(N, D, generator=gen, dtype=torch.float64)
    X[:, 0] = torch.arange(N)  # column 0 names each row, so the spy can see which rows a batch holds
    X_val = torch.randn(M, D, generator=gen, dtype=torch.float64)
    X_val[:, 0] = -1 - torch.arange(M)
    grads = [{n: v for n, v in draw_params(gen, D, H, C, scale=1.0).items()} for _ in range(num_iters)]
    return dict(X=X, y=torch.randint(C, (N,), generator=gen), X_val=X_val, y_val=torch.randint(C, (M,), generator=gen),
                params=draw_params(gen, D, H, C), grads=grads, C=C, batch_size=batch_size, num_iters=num_iters,
                lr=rng.uniform(0.05, 0.5), decay=rng.uniform(0.5, 0.9), reg=rng.uniform(0.01, 0.2),
                per_epoch=max(N // batch_size, 1))


def expected_learning_rates(case):
    """lr used at each iteration: decayed once after every iteration `it` with it % per_epoch == 0."""
    return [case["lr"] * case["decay"] ** math.ceil(it / case["per_epoch"]) for it in range(case["num_iters"])]


def check_nn_train(nn_train, seed=None):
    rng, seed = new_rng(seed)
    report = Report("test_nn_train", seed)
    case = draw_train_case(rng)
    loss_spy, pred_spy = _LossSpy(case), _PredictSpy(case["C"])
    params = {k: v.clone() for k, v in case["params"].items()}
    try:
        stats = call_student(nn_train, params, loss_spy, pred_spy, case["X"].clone(), case["y"].clone(),
                             case["X_val"].clone(), case["y_val"].clone(), learning_rate=case["lr"],
                             learning_rate_decay=case["decay"], reg=case["reg"], num_iters=case["num_iters"],
                             batch_size=case["batch_size"], verbose=False)
        if not isinstance(stats, dict):
            raise StudentError(f"should return a dict of histories, got {type(stats).__name__}")
    except StudentError as error:
        for name, weight in (("minibatches", 0.2), ("SGD steps", 0.3), ("learning-rate decay", 0.2),
                             ("loss history", 0.1), ("accuracy histories", 0.2)):
            report.add(name, weight, False, f"nn_train {error.text}")
        return report
    _judge_batches(report, case, loss_spy)
    _judge_steps(report, case, loss_spy, params)
    _judge_histories(report, case, stats, pred_spy)
    return report


def _judge_batches(report, case, spy):
    calls, n = spy.calls, case["num_iters"]
    problems = []
    if len(calls) != n:
        problems.append(f"loss_func was called {len(calls)} times; expected once per iteration, num_iters={n}")
    sizes = {len(c["rows"]) for c in calls}
    if sizes and sizes != {case["batch_size"]}:
        whole = sizes == {len(case["y"])}
        problems.append("every iteration used the whole training set: sample batch_size rows" if whole else
                        f"batches had sizes {sorted(sizes)}; expected batch_size={case['batch_size']}")
    valid = all(((c["rows"] >= 0) & (c["rows"] < len(case["y"]))).all() for c in calls)
    if not valid:
        problems.append("a batch holds rows that are not training rows")
    elif any(not torch.equal(c["y"].cpu().long(), case["y"][c["rows"]]) for c in calls):
        problems.append("the labels of a batch do not belong to its rows: index X and y with the same indices")
    if any(c["reg"] != case["reg"] for c in calls):
        problems.append("reg is not passed on to loss_func")
    report.add("minibatches of batch_size rows, with their labels and reg", 0.2, not problems,
               problems[0] if problems else "")


def _judge_steps(report, case, spy, params):
    """Every update must be p <- p - lr_it * g_it; the lr actually used is read back from the params."""
    snapshots = [c["params"] for c in spy.calls]
    try:
        snapshots.append({k: as_plain_tensor(params[k], f"params['{k}']") for k in PARAMS})
    except (StudentError, KeyError) as error:
        report.add("SGD steps p -= lr * grad", 0.3, False, f"params dict after training is broken: {error}")
        report.add("learning rate decays once per epoch", 0.2, False, "no parameters to read the steps from")
        return
    used, direction_ok = [], True
    for it in range(len(snapshots) - 1):
        step = {k: snapshots[it + 1][k] - snapshots[it][k] for k in PARAMS}
        g = case["grads"][it]
        rates = [-(step[k] * g[k]).sum().item() / (g[k] * g[k]).sum().item() for k in PARAMS]
        exact = all(rel_error(step[k], -rates[0] * g[k]) < 1e-6 for k in PARAMS)
        direction_ok &= exact and rates[0] > 0 and max(rates) - min(rates) <= 1e-9 * max(1.0, abs(rates[0]))
        used.append(rates[0])
    if not used:
        detail = "the parameters were never updated"
    elif direction_ok:
        detail = ""
    elif used[0] < 0:
        detail = "parameters moved uphill: the update is p -= learning_rate * grad"
    else:
        detail = "updates are not p -= learning_rate * grads[p] for every parameter (or params are not updated in place)"
    report.add("SGD steps p -= lr * grad, written back into params", 0.3, bool(used) and direction_ok, detail)
    expected = expected_learning_rates(case)[:len(used)]
    schedule_ok = bool(used) and len(used) == case["num_iters"] and all(
        abs(u - e) <= 1e-6 * e for u, e in zip(used, expected))
    report.add("learning rate decays once per epoch", 0.2, schedule_ok,
               "" if schedule_ok else _diagnose_schedule(case, used, expected))


def _diagnose_schedule(case, used, expected):
    if not used:
        return "no update to read the learning rate from"
    lr, decay, n = case["lr"], case["decay"], len(used)

    def matches(rates):
        return all(abs(u - r) <= 1e-6 * abs(r) for u, r in zip(used, rates))
    if matches([lr] * n):
        return "the learning rate never decays: multiply it by learning_rate_decay once per epoch"
    if matches([lr * decay ** it for it in range(n)]):
        return "the learning rate decays every iteration; decay it once per epoch (when it % iterations_per_epoch == 0)"
    if matches([lr * decay ** (it // case["per_epoch"] + 1) for it in range(n)]):
        return "the learning rate is decayed before the update of the first iteration; decay after updating"
    if abs(used[0] - lr) > 1e-6 * lr:
        return f"the first step used learning rate {used[0]:.4g}, expected learning_rate={lr:.4g}"
    return f"the learning rates used were {[round(u, 4) for u in used[:6]]}..., expected {[round(e, 4) for e in expected[:6]]}..."


def _judge_histories(report, case, stats, pred_spy):
    n, per_epoch = case["num_iters"], case["per_epoch"]
    losses = stats.get("loss_history")
    try:
        ok = losses is not None and [float(v) for v in losses] == [k + 0.25 for k in range(n)]
    except (TypeError, ValueError):
        ok = False
    report.add("loss_history has every iteration's loss", 0.1, ok,
               "" if ok else "loss_history should hold the loss of every iteration, in order (use loss.item())")
    epochs = len([it for it in range(n) if it % per_epoch == 0])
    train_expected, val_expected = [], []
    for rows, labels in pred_spy.calls:
        if (rows < 0).all():
            val_expected.append((labels == case["y_val"][-1 - rows]).double().mean().item())
        elif (rows >= 0).all():
            train_expected.append((labels == case["y"][rows]).double().mean().item())
    problems = []
    for key, expected in (("train_acc_history", train_expected), ("val_acc_history", val_expected)):
        history = stats.get(key)
        try:
            values = [float(v) for v in history]
        except (TypeError, ValueError):
            problems.append(f"{key} is missing or not a list of numbers")
            continue
        if len(values) != epochs:
            problems.append(f"{key} has {len(values)} entries; expected one per epoch ({epochs}), recorded when "
                            "it % iterations_per_epoch == 0")
        elif len(expected) != epochs or any(abs(v - e) > 1e-6 for v, e in zip(values, expected)):
            problems.append(f"{key} does not match the accuracy of pred_func's predictions")
    report.add("accuracy recorded once per epoch", 0.2, not problems, problems[0] if problems else "")


# ----------------------------------------------------------------------------------------------
# nn_predict
# ----------------------------------------------------------------------------------------------

def check_nn_predict(nn_predict, seed=None):
    rng, seed = new_rng(seed)
    report = Report("test_nn_predict", seed)
    gen = torch_gen(rng)
    labels_ok, calls_ok = [], []
    for device in devices():
        for N, C in ((rng.randint(3, 9),) * 2, (rng.randint(10, 40), rng.randint(2, 12))):
            scores = torch.randn(N, C, generator=gen, dtype=torch.float64).to(device)
            X = torch.randn(N, 4, generator=gen, dtype=torch.float64).to(device)
            seen = []

            def fake_loss(params, X_in, y=None, reg=0.0):
                seen.append(y)
                return scores.clone() if y is None else (torch.tensor(0.0), {})
            try:
                labels = as_plain_tensor(call_student(nn_predict, {}, fake_loss, X), "labels")
            except StudentError as error:
                labels_ok.append((False, f"nn_predict {error.text}"))
                continue
            calls_ok.append((seen == [None], "get the scores with loss_func(params, X), without y"))
            expected = scores.argmax(dim=1).cpu()
            if labels.shape == expected.shape and torch.equal(labels.long(), expected):
                labels_ok.append((True, ""))
            elif labels.shape == scores.shape:
                labels_ok.append((False, "nn_predict returned the scores; return argmax over classes (dim=1)"))
            elif labels.shape == (C,) or (labels.shape == expected.shape and torch.equal(labels.long(), scores.argmax(0).cpu())):
                labels_ok.append((False, "argmax is taken over the wrong axis: over classes, dim=1"))
            elif labels.shape == expected.shape and torch.equal(labels.long(), scores.argmin(dim=1).cpu()):
                labels_ok.append((False, "nn_predict returns the lowest-scoring class; use argmax"))
            else:
                labels_ok.append((False, f"labels are wrong: expected the argmax of the scores over classes (shape {tuple(expected.shape)})"))
    _add_all(report, "labels = argmax of scores over classes", 0.8, labels_ok)
    _add_all(report, "scores come from loss_func(params, X)", 0.2, calls_ok)
    return report


# ----------------------------------------------------------------------------------------------
# TwoLayerNet, through spies for the functions it delegates to
# ----------------------------------------------------------------------------------------------

class _Spy:
    """Records the arguments of each call, bound to a reference signature, and returns a sentinel."""

    def __init__(self, signature_of):
        self.signature, self.calls, self.result = inspect.signature(signature_of), [], object()

    def __call__(self, *args, **kwargs):
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        self.calls.append(dict(bound.arguments))
        return self.result


def _nn_train_signature(params, loss_func, pred_func, X, y, X_val, y_val, learning_rate=1e-3,
                        learning_rate_decay=0.95, reg=5e-6, num_iters=100, batch_size=200, verbose=False):
    """The contract's nn_train signature (for binding spy calls)."""


def check_two_layer_net(TwoLayerNet, seed=None):
    rng, seed = new_rng(seed)
    report = Report("test_two_layer_net", seed)
    D, H, C, std = rng.randint(40, 60), rng.randint(30, 50), rng.randint(3, 9), rng.choice([1e-3, 1e-2, 1e-1])
    try:
        net = call_student(TwoLayerNet, D, H, C, dtype=torch.float64, device="cpu", std=std)
        params = {k: as_plain_tensor(net.params[k], k) for k in PARAMS}
        shapes = {k: tuple(v.shape) for k, v in params.items()}
        problems = []
        if shapes != {"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,)}:
            problems.append(f"parameter shapes {shapes}; expected W1 ({D}, {H}), b1 ({H},), W2 ({H}, {C}), b2 ({C},)")
        elif any(v.dtype != torch.float64 for v in params.values()):
            problems.append("parameters ignore the dtype argument")
        elif any(torch.count_nonzero(params[b]) for b in ("b1", "b2")):
            problems.append("biases should start at zero")
        else:
            for key in ("W1", "W2"):
                measured = params[key].std().item()
                if not 0.7 * std < measured < 1.3 * std:
                    problems.append(f"{key} has standard deviation {measured:.3g}; expected std * randn, std={std}")
        report.add("__init__: W ~ std * randn, zero biases, shapes, dtype", 0.4, not problems,
                   problems[0] if problems else "")
    except (StudentError, AttributeError, KeyError, TypeError) as error:
        report.add("__init__: W ~ std * randn, zero biases, shapes, dtype", 0.4, False,
                   f"TwoLayerNet(...) failed: {getattr(error, 'text', error)}")
        net = None
    fb, tr, pr = _Spy(reference_forward_backward), _Spy(_nn_train_signature), _Spy(reference_predict)
    X, y, X_val, y_val = torch.randn(6, D), torch.randint(C, (6,)), torch.randn(4, D), torch.randint(C, (4,))
    delegations = {
        "loss delegates to nn_forward_backward(self.params, X, y, reg)": (
            lambda: net.loss(X, y, reg=0.25), fb,
            lambda call: call["params"] is net.params and call["X"] is X and call["y"] is y and call["reg"] == 0.25),
        "train delegates to nn_train with nn_forward_backward and nn_predict": (
            lambda: net.train(X, y, X_val, y_val, learning_rate=0.3, learning_rate_decay=0.7, reg=0.1,
                              num_iters=11, batch_size=3, verbose=False), tr,
            lambda call: (call["params"] is net.params and call["loss_func"] is fb and call["pred_func"] is pr
                          and call["X"] is X and call["y_val"] is y_val and call["learning_rate"] == 0.3
                          and call["learning_rate_decay"] == 0.7 and call["reg"] == 0.1
                          and call["num_iters"] == 11 and call["batch_size"] == 3)),
        "predict delegates to nn_predict(self.params, nn_forward_backward, X)": (
            lambda: net.predict(X_val), pr,
            lambda call: call["params"] is net.params and call["loss_func"] is fb and call["X"] is X_val),
    }
    with patched_names(namespace_of(TwoLayerNet), nn_forward_backward=fb, nn_train=tr, nn_predict=pr):
        for name, (action, spy, args_ok) in delegations.items():
            if net is None:
                report.add(name, 0.2, False, "no network to test: __init__ failed")
                continue
            try:
                result = call_student(action)
                ok = len(spy.calls) == 1 and args_ok(spy.calls[0]) and result is spy.result
                report.add(name, 0.2, ok, "" if ok else f"{name.split(' delegates')[0]} should call and return "
                           f"{name.split('delegates to ')[1]}, passing its arguments on")
            except (StudentError, TypeError) as error:
                report.add(name, 0.2, False, f"net.{name.split()[0]}(...) {getattr(error, 'text', error)}")
    return report


# ----------------------------------------------------------------------------------------------
# get_param_set and find_best_net, through a fake TwoLayerNet
# ----------------------------------------------------------------------------------------------

def check_find_best_net(find_best_net, get_param_set, seed=None):
    rng, seed = new_rng(seed)
    report = Report("test_find_best_net", seed)
    try:
        values = call_student(get_param_set)
        lists = [list(v) for v in values]
        ok = (len(lists) == 4 and all(lists) and all(float(x) > 0 for v in lists[:3] for x in v)
              and all(0 < float(x) <= 1 for x in lists[3]))
        detail = "" if ok else ("get_param_set() should return four non-empty lists: learning rates, hidden sizes, "
                                "regularization strengths (all > 0) and learning-rate decays in (0, 1]")
    except (StudentError, TypeError, ValueError) as error:
        ok, detail = False, f"get_param_set {getattr(error, 'text', error)}"
    report.add("get_param_set returns four valid lists", 0.1, ok, detail)

    grid = ([rng.choice([1e-3, 3e-3]), rng.choice([1e-1, 3e-1])], [rng.randint(5, 9), rng.randint(10, 20)],
            [rng.choice([1e-4, 1e-3]), rng.choice([1e-2, 0.1])], [rng.choice([0.9, 0.95])])
    combos = [(lr, hs, reg, dec) for lr in grid[0] for hs in grid[1] for reg in grid[2] for dec in grid[3]]
    accs = dict(zip(combos, rng.sample(range(10, 60), len(combos))))
    D, C, M = rng.randint(5, 12), rng.randint(3, 6), 100
    gen = torch_gen(rng)
    data = {"X_train": torch.randn(30, D, generator=gen), "y_train": torch.arange(30) % C,
            "X_val": torch.randn(M, D, generator=gen), "y_val": torch.arange(M) % C,
            "X_test": torch.randn(10, D, generator=gen), "y_test": torch.arange(10) % C}
    nets = []

    class FakeNet:
        """Stands in for TwoLayerNet: its validation accuracy is fixed by its hyper-parameters."""

        def __init__(self, input_size, hidden_size, output_size, dtype=torch.float32, device="cpu", std=1e-4):
            self.sizes, self.trained, self.stats = (input_size, hidden_size, output_size), None, None
            self.params = {}
            nets.append(self)

        def train(self, X, y, X_val, y_val, learning_rate=1e-3, learning_rate_decay=0.95, reg=5e-6,
                  num_iters=100, batch_size=200, verbose=False):
            self.trained = (learning_rate, self.sizes[1], reg, learning_rate_decay)
            acc = accs.get(self.trained, 0) / 100
            self.stats = {"loss_history": [1.0], "train_acc_history": [acc], "val_acc_history": [acc]}
            return self.stats

        def predict(self, X):
            acc = accs.get(self.trained, 0) if self.trained else 0
            labels = data["y_val"].clone()
            labels[acc:] = (labels[acc:] + 1) % C
            return labels if len(X) == M else torch.zeros(len(X), dtype=torch.long)

        def loss(self, X, y=None, reg=0.0):
            return torch.zeros(len(X), C)

    with patched_names(namespace_of(find_best_net), TwoLayerNet=FakeNet):
        try:
            best_net, best_stat, best_val_acc = call_student(find_best_net, data, lambda: tuple(list(g) for g in grid))
        except (StudentError, TypeError, ValueError) as error:
            for name, weight in (("tries every combination", 0.3), ("returns the best", 0.4),
                                 ("returns its stats", 0.1), ("sizes from the data", 0.1)):
                report.add(name, weight, False, f"find_best_net {getattr(error, 'text', error)}")
            return report
    tried = {n.trained for n in nets if n.trained}
    ok = tried >= set(combos)
    report.add("tries every combination from get_param_set_fn()", 0.3, ok,
               "" if ok else f"tried {len(tried & set(combos))} of the {len(combos)} combinations of "
                             "(learning rate, hidden size, reg, decay) from get_param_set_fn()")
    best = max(combos, key=accs.get)
    best_acc = accs[best] / 100
    try:
        acc_ok = abs(float(best_val_acc) - best_acc) < 1e-6 or abs(float(best_val_acc) - 100 * best_acc) < 1e-4
    except (TypeError, ValueError):
        acc_ok = False
    ok = isinstance(best_net, FakeNet) and best_net.trained == best and acc_ok
    report.add("returns the net with the best validation accuracy, and that accuracy", 0.4, ok,
               "" if ok else "the returned net or accuracy is not the one with the highest validation accuracy")
    ok = isinstance(best_net, FakeNet) and best_stat is best_net.stats
    report.add("returns the best net's training stats", 0.1, ok,
               "" if ok else "best_stat should be the dict that best_net.train(...) returned")
    ok = bool(nets) and all(n.sizes[0] == D and n.sizes[2] == C for n in nets)
    report.add("network sizes come from the data", 0.1, ok,
               "" if ok else f"build TwoLayerNet(input_size=X_train.shape[1] ({D}), ..., output_size=number of classes ({C}))")
    return report


# ----------------------------------------------------------------------------------------------
# The saved best model, scored by evaluating it
# ----------------------------------------------------------------------------------------------

def _first_line(error):
    text = getattr(error, "text", None) or str(error) or type(error).__name__
    return text.strip().splitlines()[0][:200]


def check_best_model(path, data=None, seed=None):
    """Evaluate a checkpoint saved by TwoLayerNet.save on the dataset it names.

    `data` (a load_dataset dict) may be passed to avoid reloading; it must match the checkpoint's dataset.
    """
    _, seed = new_rng(seed)
    report = Report("test_best_model", seed)
    name = "accuracy of the saved best model"
    try:
        checkpoint = load_checkpoint(path)
        dataset, params = checkpoint["dataset"], checkpoint["params"]
        if dataset not in BEST_MODEL_TARGETS:
            raise ValueError(f"the checkpoint names dataset {dataset!r}; expected one of {sorted(BEST_MODEL_TARGETS)}")
        params = {k: as_plain_tensor(params[k], k).to(torch.float64) for k in PARAMS}
    except Exception as error:  # noqa: BLE001 - an untrusted file may fail to load in any way
        report.add(name, 1.0, False, f"{Path(path).name} could not be read as a TwoLayerNet checkpoint "
                                     f"({_first_line(error)}); run the cell that saves best_net")
        return report
    if data is None or data.get("dataset") != dataset:
        data = load_dataset(dataset, dtype=torch.float64)
    shares = []
    for split, target in BEST_MODEL_TARGETS[dataset].items():
        X, y = data[f"X_{split}"].to(torch.float64), data[f"y_{split}"]
        if params["W1"].shape[0] != X.shape[1] or params["W2"].shape[1] != int(y.max()) + 1:
            report.add(name, 1.0, False, f"the checkpoint's shapes do not fit {dataset} "
                                         f"(W1 {tuple(params['W1'].shape)}, W2 {tuple(params['W2'].shape)})")
            return report
        acc = (reference_forward(params, X)[0].argmax(1) == y).double().mean().item()
        shares.append((split, acc, target, min(max((acc - target + BEST_MODEL_MARGIN) / BEST_MODEL_MARGIN, 0), 1)))
    text = ", ".join(f"{split} accuracy {100 * acc:.2f}% (target {100 * target:.0f}%)" for split, acc, target, _ in shares)
    share = min(s for *_, s in shares)
    if share == 1:
        report.add(f"{name} on {dataset}: {text}", 1.0, True)
    else:
        report.add(f"{name} on {dataset}", 1.0 - share, False,
                   f"{text}: tune further (hidden size, learning rate, regularisation, decay, iterations)")
        if share > 0:
            report.add(f"{name} is within {100 * BEST_MODEL_MARGIN:.0f} points of the target", share, True)
    return report
