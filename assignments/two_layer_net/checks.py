"""Hidden checks for the two_layer_net assignment, one per graded part.

The reference is written with library parts (`F.cross_entropy`, `torch.autograd`), independently of
the hand-written solution in source/, so the two check each other. Every code part has three steps
(`CHECKS[grade_id]`, a Check): `case(s)_*` draws fresh hidden cases, `harness.run_*` (this folder's harness.py) runs
the student's code on them (the functions it calls are replaced by correct ones, spies or fakes, so one mistake
costs one part), and `judge_*` compares with the reference and explains what is probably wrong. The registry chains
them in one process for nbgrader's hidden-test cells; the batch grader runs the middle step in a sandbox.

Part (nbgrader grade_id)     student code                   draw, run, judge
test_nn_forward_pass         nn_forward_pass                cases_forward_pass, run_forward_pass, judge_forward_pass
test_nn_forward_backward     nn_forward_backward            cases_/run_/judge_forward_backward
test_nn_train                nn_train                       cases_train, run_train, judge_train
test_nn_predict              nn_predict                     cases_predict, run_predict, judge_predict
test_two_layer_net           TwoLayerNet                    case_two_layer_net, run_two_layer_net, judge_two_layer_net
test_find_best_net           get_param_set, find_best_net   case_find_best_net, run_find_best_net, judge_find_best_net
test_best_model              the saved best model           check_best_model (FILE_CHECKS: a file part)
"""
import functools
import math
from pathlib import Path

import torch
import torch.nn.functional as F

from autograder.judging import Check, Report, SubChecks, add_all, compare, devices, new_rng, torch_gen
from assignments.two_layer_net import harness
from assignments.two_layer_net.reference_model import reference_checkpoint
from autograder.harness.core import as_plain_tensor
from autograder.harness.i18n import _, ngettext
from helpers.data import course_dataset, load_dataset
from helpers.grad import rel_error
from helpers.spies import param_set_problems
from helpers.utils import MAX_CHECKPOINT_BYTES, load_checkpoint

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
    scores = reference_forward(leaves, X)[0]
    loss = F.cross_entropy(scores, y) + reg * ((leaves["W1"] ** 2).sum() + (leaves["W2"] ** 2).sum())
    grads = torch.autograd.grad(loss, [leaves[k] for k in PARAMS])
    return loss.detach(), dict(zip(PARAMS, grads))


def draw_params(gen, D, H, C, scale=0.5, dtype=torch.float64):
    return {"W1": scale * torch.randn(D, H, generator=gen, dtype=dtype),
            "b1": scale * torch.randn(H, generator=gen, dtype=dtype),
            "W2": scale * torch.randn(H, C, generator=gen, dtype=dtype),
            "b2": scale * torch.randn(C, generator=gen, dtype=dtype)}


def draw_net_cases(rng, large=True):
    """Cases for the forward/backward checks: odd shapes, float64 and float32, every device, a batch in which the
    last class has no example (as in many small batches), and a large-magnitude case whose scores overflow exp()
    unless the softmax is stabilised. Tensors stay on the CPU; `device` says where the harness runs the case."""
    gen = torch_gen(rng)
    cases = []
    for device in devices():
        for dtype, labels_lack_last_class in ((torch.float64, False), (torch.float64, False), (torch.float32, True)):
            N, D, H = rng.randint(3, 30), rng.randint(2, 20), rng.randint(2, 16)
            C = rng.randint(3 if labels_lack_last_class else 2, 9)
            params = draw_params(gen, D, H, C)
            X = rng.uniform(0.5, 4.0) * torch.randn(N, D, generator=gen, dtype=torch.float64)
            y = torch.randint(C - 1 if labels_lack_last_class else C, (N,), generator=gen)
            if labels_lack_last_class:
                # labels 0 .. C-2, so one_hot(y) without num_classes has C-1 columns (not 1: that broadcasts)
                y[0] = C - 2
            cases.append(_typed(dict(name=f"N={N} D={D} H={H} C={C} {str(dtype)[6:]} {device}", X=X, y=y, params=params,
                                     reg=rng.uniform(0.05, 0.5), large=False, device=device), dtype))
        if large:
            N, D, H, C = rng.randint(4, 12), rng.randint(2, 8), rng.randint(2, 8), rng.randint(3, 6)
            params = draw_params(gen, D, H, C)
            params["b2"] += 1000.0
            X = torch.randn(N, D, generator=gen, dtype=torch.float64)
            cases.append(dict(name=_("scores near 1e3, {device}").format(device=device), X=X,
                              y=torch.randint(C, (N,), generator=gen),
                              params=params, reg=rng.uniform(0.05, 0.5), large=True, device=device))
    return cases


def _typed(case, dtype):
    case["params"] = {k: v.to(dtype) for k, v in case["params"].items()}
    case["X"] = case["X"].to(dtype)
    return case


def _tol(case):
    return TOL[case["X"].dtype]


# ----------------------------------------------------------------------------------------------
# nn_forward_pass
# ----------------------------------------------------------------------------------------------

def cases_forward_pass(rng):
    return {"cases": draw_net_cases(rng, large=False)}


def judge_forward_pass(cases, outputs, seed):
    results = SubChecks({"scores": ("scores = relu(X W1 + b1) W2 + b2", 0.6),
                         "hidden": ("hidden = relu(X W1 + b1)", 0.4)})
    for case, out in zip(cases["cases"], outputs["results"]):
        if "error" in out:
            results.fail(f"nn_forward_pass {out['error']} [{case['name']}]")
            continue
        ref_scores, ref_hidden = reference_forward(case["params"], case["X"])
        variants = functools.cache(functools.partial(_forward_variants, case))  # for wrong outputs only
        results.add("scores", compare(out["scores"], ref_scores, "scores", _tol(case), variants))
        results.add("hidden", compare(out["hidden"], ref_hidden, "hidden", _tol(case), variants))
    return results.into(Report("test_nn_forward_pass", seed))


def _forward_variants(case):
    p, X = case["params"], case["X"]
    pre = X @ p["W1"] + p["b1"]
    hidden = pre.clamp(min=0)
    return {
        _("scores have a ReLU applied: the output layer has no activation, scores = hidden W2 + b2"):
            (hidden @ p["W2"] + p["b2"]).clamp(min=0),
        _("the ReLU is missing: hidden must be max(0, X W1 + b1)"): pre,
        _("scores are computed without the ReLU on the hidden layer"): pre @ p["W2"] + p["b2"],
        _("b1 is not added in the first layer"): (X @ p["W1"]).clamp(min=0),
        _("b1 is added after the ReLU: add it before the ReLU, hidden = max(0, X W1 + b1)"):
            (X @ p["W1"]).clamp(min=0) + p["b1"],
        _("scores use b1 added after the ReLU: add it before the ReLU, hidden = max(0, X W1 + b1)"):
            ((X @ p["W1"]).clamp(min=0) + p["b1"]) @ p["W2"] + p["b2"],
        _("scores are computed without b1 in the first layer"): (X @ p["W1"]).clamp(min=0) @ p["W2"] + p["b2"],
        _("b2 is not added to the scores"): hidden @ p["W2"],
        _("the hidden layer uses a sigmoid: this network uses ReLU"): torch.sigmoid(pre),
    }


# ----------------------------------------------------------------------------------------------
# nn_forward_backward
# ----------------------------------------------------------------------------------------------

def unstable():
    """The hint for a loss or gradient that is not finite on large scores."""
    return _(": exp() overflowed on scores near 1e3; subtract each row's maximum score before exponentiating (or use "
             "logsumexp)")


def cases_forward_backward(rng):
    """Net cases plus the correct forward outputs, which stand in for nn_forward_pass during the run."""
    cases = draw_net_cases(rng)
    for case in cases:
        case["forward_scores"], case["forward_hidden"] = reference_forward(case["params"], case["X"])
    return {"cases": cases}


def judge_forward_backward(cases, outputs, seed):
    results = SubChecks({"loss": (_("loss: mean softmax cross-entropy + reg * (ΣW1² + ΣW2²); scores when "
                                    "y=None"), 0.4),
                         "stable": (_("loss and gradients stay finite for large scores"), 0.1),
                         **{key: (_("gradient of {key}").format(key=key), 0.125) for key in PARAMS}})
    for case, out in zip(cases["cases"], outputs["results"]):
        _judge_forward_backward_case(case, out, results)
    return results.into(Report("test_nn_forward_backward", seed))


def _judge_forward_backward_case(case, out, results):
    tol, tag = _tol(case), f" [{case['name']}]"
    if not case["large"]:
        if "scores_error" in out:
            results.add("loss", (False, f"nn_forward_backward(params, X) {out['scores_error']}{tag}"))
        else:
            results.add("loss", compare(out["scores"], case["forward_scores"], "scores (y=None)", tol))
    if "error" in out:
        results.fail(f"nn_forward_backward {out['error']}{tag}",
                     ("loss",) + PARAMS + (("stable",) if case["large"] else ()))
        return
    ref_loss, ref_grads = reference_loss_and_grads(case["params"], case["X"], case["y"], case["reg"])
    loss_result = compare(torch.tensor(out["loss"], dtype=torch.float64), ref_loss.to(torch.float64), "loss", tol,
                          functools.partial(_loss_variants, case), unstable())
    grad_results = {}
    for key in PARAMS:
        if key in out["grad_errors"]:
            grad_results[key] = (False, out["grad_errors"][key])
        else:
            grad_results[key] = compare(out["grads"][key], ref_grads[key], f"grads['{key}']", tol,
                                        functools.partial(_grad_variants, case, key), unstable())
    if case["large"]:
        failures = [r for r in [loss_result, *grad_results.values()] if not r[0]]
        results.add("stable", failures[0] if failures else (True, ""))
    else:
        results.add("loss", _tagged(loss_result, tag))
        for key in PARAMS:
            results.add(key, _tagged(grad_results[key], tag))


def _tagged(result, tag):
    return result if result[0] else (False, result[1] + tag)


def _loss_pieces(case):
    p = {k: v.cpu().to(torch.float64) for k, v in case["params"].items()}
    X, y, reg = case["X"].cpu().to(torch.float64), case["y"].cpu(), case["reg"]
    scores, hidden = reference_forward(p, X)
    return p, X, y, reg, scores, hidden


def _loss_variants(case):
    p, X, y, reg, scores = _loss_pieces(case)[:5]
    N = len(y)
    data = F.cross_entropy(scores, y)
    weights, biases = (p["W1"] ** 2).sum() + (p["W2"] ** 2).sum(), (p["b1"] ** 2).sum() + (p["b2"] ** 2).sum()
    return {
        _("loss is off by exactly reg * (ΣW1² + ΣW2²): the regularisation term is missing"): data,
        _("loss is off by exactly reg * (ΣW1² + ΣW2²) / 2: this homework's regularisation has no factor ½"):
            data + 0.5 * reg * weights,
        _("the data loss is summed over the batch: average it (divide by N)"): N * data + reg * weights,
        _("the data loss and regularisation are both multiplied by N: average only the data loss over the batch"):
            N * (data + reg * weights),
        _("the biases are regularised: only W1 and W2 are"): data + reg * (weights + biases),
        _("only W1 is regularised: add reg * ΣW2²"): data + reg * (p["W1"] ** 2).sum(),
        _("only W2 is regularised: add reg * ΣW1²"): data + reg * (p["W2"] ** 2).sum(),
        _("softmax is taken over the wrong axis: normalise over classes (dim=1), not over the batch"):
            -F.log_softmax(scores, dim=0)[torch.arange(N), y].mean() + reg * weights,
        _("the regularisation uses |W| (L1): this homework uses squared weights (L2)"):
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
        variants[_("grads['{key}'] lacks the regularisation gradient 2 * reg * {key}").format(key=key)] = data[key]
        variants[_("grads['{key}'] uses reg * {key}; the derivative of reg * Σ{key}² is 2 * reg * {key}").format(
            key=key)] = data[key] + 0.5 * reg_grad[key]
    else:
        variants[_("grads['{key}'] is regularised; biases are not").format(key=key)] = data[key] + 2 * reg * p[key]
        variants[_("grads['{key}'] is zero: the bias gradient is the sum of the upstream gradient over the "
                   "batch").format(key=key)] = torch.zeros_like(data[key])
    variants[_("grads['{key}'] is not divided by N: the loss is a batch mean").format(key=key)] = \
        N * data[key] + reg_grad[key]
    if key in ("W1", "b1"):
        nomask = {"W1": X.t() @ dhidden_nomask, "b1": dhidden_nomask.sum(0)}[key]
        variants[_("grads['{key}'] ignores the ReLU: zero the upstream gradient where hidden <= 0").format(key=key)] = \
            nomask + reg_grad[key]
    wrong_axis = (torch.softmax(scores, dim=0) - F.one_hot(y, scores.shape[1]).to(scores.dtype)) / N
    wrong_softmax = _("the softmax in the backward pass is taken over the batch (dim=0), not over classes (dim=1)")
    if key == "W2":
        variants[wrong_softmax] = hidden.t() @ wrong_axis + reg_grad[key]
    if key == "b2":
        variants[wrong_softmax] = wrong_axis.sum(0)
    return variants


# ----------------------------------------------------------------------------------------------
# nn_train, through spies
# ----------------------------------------------------------------------------------------------

#: In the coverage case, batches draw at least this many rows per training row: a correct sampler then misses a
#: given row with probability below e^-25 (1.4e-11), and any of its 60 rows with probability below 1e-9.
COVERAGE_DRAWS_PER_ROW = 25


def draw_train_case(rng, small=False, coverage=False):
    """One nn_train case. Normally N > batch_size, so a batch is a sample; with `small`, batch_size >= N, where
    sampling batch_size rows and using the whole training set as it is are both correct; with `coverage`, enough
    iterations that every row of the training set must have been drawn (a sampler that can never draw some rows,
    such as torch.randint(0, N - 1, ...), is caught)."""
    gen = torch_gen(rng)
    decay = rng.uniform(0.5, 0.9)
    if small:
        N = rng.randint(3, 8)
        batch_size, per_epoch, num_iters = N + rng.randint(0, 4), 1, rng.randint(3, 5)
    elif coverage:
        N, batch_size = rng.randint(40, 60), rng.randint(8, 12)
        per_epoch, num_iters = N // batch_size, math.ceil(COVERAGE_DRAWS_PER_ROW * N / batch_size)
        decay = rng.uniform(0.9, 0.99)  # about 25 epochs: the learning rate must not vanish
    else:
        batch_size = rng.randint(5, 16)
        per_epoch = rng.randint(2, 5)
        N = batch_size * per_epoch + rng.randint(0, batch_size - 1)
        num_iters = per_epoch * rng.randint(2, 3) + rng.randint(1, per_epoch)
    D, H, C, M = 3, rng.randint(2, 6), rng.randint(3, 5), rng.randint(10, 30)
    X = torch.randn(N, D, generator=gen, dtype=torch.float64)
    X[:, 0] = torch.arange(N)  # column 0 names each row, so the spy can see which rows a batch holds
    X_val = torch.randn(M, D, generator=gen, dtype=torch.float64)
    X_val[:, 0] = -1 - torch.arange(M)
    grads = [draw_params(gen, D, H, C, scale=1.0) for _ in range(num_iters)]
    return dict(name=f"N={N} batch_size={batch_size}", X=X, y=torch.randint(C, (N,), generator=gen), X_val=X_val,
                y_val=torch.randint(C, (M,), generator=gen), params=draw_params(gen, D, H, C), grads=grads, C=C,
                batch_size=batch_size, num_iters=num_iters, lr=rng.uniform(0.05, 0.5), decay=decay,
                reg=rng.uniform(0.01, 0.2), per_epoch=max(N // batch_size, 1), coverage=coverage)


def cases_train(rng):
    return {"cases": [draw_train_case(rng), draw_train_case(rng, small=True), draw_train_case(rng, coverage=True)]}


def expected_learning_rates(case):
    """lr used at each iteration: decayed once after every iteration `it` with it % per_epoch == 0."""
    return [case["lr"] * case["decay"] ** math.ceil(it / case["per_epoch"]) for it in range(case["num_iters"])]


#: nn_train's sub-checks, (key, weight) in report order; train_subcheck_names() names them.
TRAIN_SUBCHECKS = (("batches", 0.2), ("steps", 0.3), ("decay", 0.2), ("loss_history", 0.1), ("accuracy", 0.2))


def train_subcheck_names():
    """{key: name} of nn_train's sub-checks, in the course's language."""
    return {"batches": _("minibatches of batch_size rows, with their labels and reg"),
            "steps": _("SGD steps p -= lr * grad, written back into params"),
            "decay": _("learning rate decays once per epoch"),
            "loss_history": _("loss_history has every iteration's loss"),
            "accuracy": _("accuracy recorded once per epoch")}


def judge_train(cases, outputs, seed):
    names = train_subcheck_names()
    results = SubChecks({key: (names[key], weight) for key, weight in TRAIN_SUBCHECKS})
    for case, out in zip(cases["cases"], outputs["results"]):
        tag = f" [{case['name']}]"
        if "error" in out and not out["calls"]:
            results.fail(f"nn_train {out['error']}{tag}")
            continue
        for name, ok, detail in (*_judge_batches(case, out["calls"]), *_judge_steps(case, out),
                                 *_judge_histories(case, out)):
            results.add(name, _tagged((ok, detail), tag))
    return results.into(Report("test_nn_train", seed))


def _judge_batches(case, calls):
    n, N = case["num_iters"], len(case["y"])
    problems = []
    if len(calls) != n:
        problems.append(_("loss_func was called {calls} times; expected once per iteration, num_iters={n}").format(
            calls=len(calls), n=n))
    sizes = {len(c["rows"]) for c in calls}
    whole_set_allowed = case["batch_size"] >= N  # sampling is pointless then: the whole set is a correct batch
    whole = all(len(c["rows"]) == N and torch.equal(c["rows"].sort().values, torch.arange(N)) for c in calls)
    if sizes and sizes != {case["batch_size"]} and not (whole_set_allowed and whole):
        problems.append(_("every iteration used the whole training set: sample batch_size rows") if sizes == {N} else
                        _("batches had sizes {sizes}; expected batch_size={batch_size}").format(
                            sizes=sorted(sizes), batch_size=case["batch_size"]))
    valid = all(((c["rows"] >= 0) & (c["rows"] < N)).all() for c in calls)
    if not valid:
        problems.append(_("a batch holds rows that are not training rows"))
    elif case.get("coverage") and calls:
        never = sorted(set(range(N)) - set(torch.cat([c["rows"] for c in calls]).tolist()))
        if never:
            last = (_(": torch.randint(low, high, ...) never returns high, so torch.randint(N, ...) draws every row")
                    if never == [N - 1] else "")
            rows = ", ".join(map(str, never[:5])) + (", ..." if len(never) > 5 else "")
            problems.append(ngettext(
                "row {rows} of the {N} training rows never appeared in {calls} batches of {batch_size} (a sampler "
                "that can draw every row misses one here with probability below 1e-9): sample from all N rows{last}",
                "rows {rows} of the {N} training rows never appeared in {calls} batches of {batch_size} (a sampler "
                "that can draw every row misses one here with probability below 1e-9): sample from all N rows{last}",
                len(never)).format(rows=rows, N=N, calls=len(calls), batch_size=case["batch_size"], last=last))
    elif any(c["y"].shape != c["rows"].shape or not torch.equal(c["y"], case["y"][c["rows"]]) for c in calls):
        problems.append(_("the labels of a batch do not belong to its rows: index X and y with the same indices"))
    if any(c["reg"] != case["reg"] for c in calls):
        problems.append(_("reg is not passed on to loss_func"))
    return [("batches", not problems, problems[0] if problems else "")]


def _judge_steps(case, out):
    """Every update must be p <- p - lr_it * g_it; the lr actually used is read back from the params."""
    if "params_error" in out:
        return [("steps", False, _("params dict after training is broken: {error}").format(error=out["params_error"])),
                ("decay", False, _("no parameters to read the steps from"))]
    snapshots = [c["params"] for c in out["calls"]] + [out["final_params"]]
    used, direction_ok = [], True
    for it in range(len(snapshots) - 1):
        step = {k: snapshots[it + 1][k] - snapshots[it][k] for k in PARAMS}
        g = case["grads"][it]
        if any(step[k].shape != g[k].shape for k in PARAMS):
            direction_ok = False
            break
        rates = [-(step[k] * g[k]).sum().item() / (g[k] * g[k]).sum().item() for k in PARAMS]
        exact = all(rel_error(step[k], -rates[0] * g[k]) < 1e-6 for k in PARAMS)
        direction_ok &= exact and rates[0] > 0 and max(rates) - min(rates) <= 1e-9 * max(1.0, abs(rates[0]))
        used.append(rates[0])
    still = [k for k in PARAMS if all(torch.equal(snap[k], snapshots[0][k]) for snap in snapshots)]
    if not used or len(still) == len(PARAMS):
        detail = _("the parameters were never updated")
    elif still:
        detail = _("{names} never changed: update every parameter, p -= learning_rate * grads[p]").format(
            names=_(" and ").join(still))
    elif direction_ok:
        detail = ""
    elif used[0] < 0:
        detail = _("parameters moved uphill: the update is p -= learning_rate * grad")
    else:
        detail = _("updates are not p -= learning_rate * grads[p] for every parameter (or params are not updated in "
                   "place)")
    expected = expected_learning_rates(case)[:len(used)]
    schedule_ok = bool(used) and len(used) == case["num_iters"] and all(
        abs(u - e) <= 1e-6 * e for u, e in zip(used, expected))
    return [("steps", bool(used) and direction_ok, detail),
            ("decay", schedule_ok, "" if schedule_ok else _diagnose_schedule(case, used, expected))]


def _diagnose_schedule(case, used, expected):
    if not used:
        return _("no update to read the learning rate from")
    lr, decay, n = case["lr"], case["decay"], len(used)

    def matches(rates):
        return all(abs(u - r) <= 1e-6 * abs(r) for u, r in zip(used, rates))
    if matches([lr] * n):
        return _("the learning rate never decays: multiply it by learning_rate_decay once per epoch")
    if matches([lr * decay ** it for it in range(n)]):
        return _("the learning rate decays every iteration; decay it once per epoch (when it % iterations_per_epoch "
                 "== 0)")
    if matches([lr * decay ** (it // case["per_epoch"] + 1) for it in range(n)]):
        return _("the learning rate is decayed before the update of the first iteration; decay after updating")
    if abs(used[0] - lr) > 1e-6 * lr:
        return _("the first step used learning rate {used}, expected learning_rate={lr}").format(
            used=f"{used[0]:.4g}", lr=f"{lr:.4g}")
    return _("the learning rates used were {used}..., expected {expected}...").format(
        used=[round(u, 4) for u in used[:6]], expected=[round(e, 4) for e in expected[:6]])


def _judge_histories(case, out):
    n, per_epoch = case["num_iters"], case["per_epoch"]
    stats = out.get("stats", {})
    loss_ok = stats.get("loss_history") == [k + 0.25 for k in range(n)]
    loss_detail = "" if loss_ok else _("loss_history should hold the loss of every iteration, in order (use "
                                       "loss.item())")
    epochs = len([it for it in range(n) if it % per_epoch == 0])
    train_expected, val_expected = [], []
    for call in out["pred_calls"]:
        rows, labels = call["rows"], call["labels"]
        if len(rows) and (rows < 0).all() and (rows >= -len(case["y_val"])).all():
            val_expected.append((labels == case["y_val"][-1 - rows]).double().mean().item())
        elif len(rows) and (rows >= 0).all() and (rows < len(case["y"])).all():
            train_expected.append((labels == case["y"][rows]).double().mean().item())
    problems = []
    for key, expected in (("train_acc_history", train_expected), ("val_acc_history", val_expected)):
        values = stats.get(key)
        if values is None:
            problems.append(_("{key} is missing or not a list of numbers").format(key=key))
        elif len(values) != epochs:
            problems.append(_("{key} has {entries} entries; expected one per epoch ({epochs}), recorded when it % "
                              "iterations_per_epoch == 0").format(key=key, entries=len(values), epochs=epochs))
        elif len(expected) != epochs or any(abs(v - e) > 1e-6 for v, e in zip(values, expected)):
            problems.append(_("{key} does not match the accuracy of pred_func's predictions").format(key=key))
    return [("loss_history", loss_ok, loss_detail), ("accuracy", not problems, problems[0] if problems else "")]


# ----------------------------------------------------------------------------------------------
# nn_predict
# ----------------------------------------------------------------------------------------------

def cases_predict(rng):
    """Real parameters and inputs with their correct scores: whether nn_predict gets the scores from
    loss_func(params, X) or from nn_forward_pass(params, X), both give these (each is replaced by a lookup)."""
    gen = torch_gen(rng)
    cases = []
    for device in devices():
        for N, C in ((rng.randint(3, 9),) * 2, (rng.randint(10, 40), rng.randint(2, 12))):
            D, H = rng.randint(2, 8), rng.randint(2, 10)
            params = draw_params(gen, D, H, C, scale=1.0)
            X = torch.randn(N, D, generator=gen, dtype=torch.float64)
            scores, hidden = reference_forward(params, X)
            cases.append({"params": params, "X": X, "forward_scores": scores, "forward_hidden": hidden,
                          "device": device})
    return {"cases": cases}


def judge_predict(cases, outputs, seed):
    report = Report("test_nn_predict", seed)
    labels_ok = []
    for case, out in zip(cases["cases"], outputs["results"]):
        if "error" in out:
            labels_ok.append((False, f"nn_predict {out['error']}"))
            continue
        scores, labels = case["forward_scores"], out["labels"]
        expected = scores.argmax(dim=1)
        same_shape = labels.shape == expected.shape
        if same_shape and torch.equal(labels.long(), expected):
            labels_ok.append((True, ""))
        elif labels.shape == scores.shape:
            labels_ok.append((False, _("nn_predict returned the scores; return argmax over classes (dim=1)")))
        elif labels.shape == (scores.shape[1],) or (same_shape and torch.equal(labels.long(), scores.argmax(0))):
            labels_ok.append((False, _("argmax is taken over the wrong axis: over classes, dim=1")))
        elif same_shape and torch.equal(labels.long(), scores.argmin(dim=1)):
            labels_ok.append((False, _("nn_predict returns the lowest-scoring class; use argmax")))
        else:
            labels_ok.append((False, _("labels are wrong: expected the argmax of the scores over classes (shape "
                                       "{shape})").format(shape=tuple(expected.shape))))
    add_all(report, _("labels = argmax of the scores over classes"), 1.0, labels_ok)
    return report


# ----------------------------------------------------------------------------------------------
# TwoLayerNet, through spies and lookups for the functions it delegates to
# ----------------------------------------------------------------------------------------------

def case_two_layer_net(rng):
    """Sizes for __init__, then real parameters (put in net.params after __init__ is checked) with the correct
    outputs of each method, so a method passes by delegating or by any other route to the same values."""
    gen, D, H, C = torch_gen(rng), rng.randint(40, 60), rng.randint(40, 60), rng.randint(5, 9)
    params = draw_params(gen, D, H, C, scale=0.3)
    X = torch.randn(6, D, generator=gen, dtype=torch.float64)
    X_val = torch.randn(4, D, generator=gen, dtype=torch.float64)
    y = torch.randint(C, (6,), generator=gen)
    loss, grads = reference_loss_and_grads(params, X, y, reg=0.25)
    (scores, hidden), (val_scores, val_hidden) = reference_forward(params, X), reference_forward(params, X_val)
    return {"D": D, "H": H, "C": C, "std": rng.choice([1e-3, 1e-2, 1e-1]), "init_seed": rng.randrange(2**31),
            "params": params, "X": X, "y": y, "X_val": X_val, "y_val": torch.randint(C, (4,), generator=gen),
            "reg": 0.25, "loss": loss.item(), "grads": grads, "lookup": [
                {"X": X, "params": params, "forward_scores": scores, "forward_hidden": hidden},
                {"X": X_val, "params": params, "forward_scores": val_scores, "forward_hidden": val_hidden}]}


def method_names():
    """{method: the name of its sub-check} of TwoLayerNet's methods, in the course's language."""
    return {"loss": _("net.loss(X, y, reg) returns nn_forward_backward(self.params, X, y, reg)"),
            "train": _("net.train(...) returns nn_train(self.params, nn_forward_backward, nn_predict, ...) with its "
                       "arguments"),
            "predict": _("net.predict(X) returns nn_predict(self.params, nn_forward_backward, X)")}


def judge_two_layer_net(case, out, seed):
    report = Report("test_two_layer_net", seed)
    D, H, C, std = case["D"], case["H"], case["C"], case["std"]
    init_name = _("__init__: W ~ std * randn, zero biases, shapes, dtype")
    methods = method_names()
    if "init_error" in out:
        report.add(init_name, 0.4, False, _("TwoLayerNet(...) failed: {error}").format(error=out["init_error"]))
        for method in methods.values():
            report.add(method, 0.2, False, _("no network to test: __init__ failed"))
        return report
    params = out["params"]
    shapes = {k: tuple(v.shape) for k, v in params.items()}
    problems = []
    if shapes != {"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,)}:
        problems.append(_("parameter shapes {shapes}; expected W1 ({D}, {H}), b1 ({H},), W2 ({H}, {C}), "
                          "b2 ({C},)").format(shapes=shapes, D=D, H=H, C=C))
    elif any(v.dtype != torch.float64 for v in params.values()):
        problems.append(_("parameters ignore the dtype argument"))
    elif any(torch.count_nonzero(params[b]) for b in ("b1", "b2")):
        problems.append(_("biases should start at zero"))
    else:
        for key in ("W1", "W2"):
            measured = params[key].std().item()
            if not 0.7 * std < measured < 1.3 * std:
                problems.append(_("{key} has standard deviation {measured}; expected std * randn, std={std}").format(
                    key=key, measured=f"{measured:.3g}", std=std))
    report.add(init_name, 0.4, not problems, problems[0] if problems else "")
    ran = out["methods"]
    for method, (ok, detail) in (("loss", _judge_net_loss(case, ran["loss"])),
                                 ("train", _judge_net_train(ran["train"])),
                                 ("predict", _judge_net_predict(case, ran["predict"]))):
        report.add(methods[method], 0.2, ok, detail)
    return report


def _judge_net_loss(case, result):
    if "error" in result:
        return False, f"net.loss(...) {result['error']}"
    tol = TOL[torch.float64]
    checks = [compare(torch.tensor(result["loss"], dtype=torch.float64),
                      torch.tensor(case["loss"], dtype=torch.float64), _("net.loss(X, y, reg)'s loss"), tol),
              compare(result["scores"], case["lookup"][1]["forward_scores"], _("net.loss(X)'s scores"), tol)]
    checks += [compare(result["grads"][k], case["grads"][k], _("net.loss(X, y, reg)'s grads['{key}']").format(key=k),
                       tol)
               for k in PARAMS]
    failures = [detail for ok, detail in checks if not ok]
    return not failures, _("{problem}: return nn_forward_backward(self.params, X, y, reg)").format(
        problem=failures[0]) if failures else ""


def _judge_net_train(result):
    if "error" in result:
        return False, f"net.train(...) {result['error']}"
    ok = result["calls"] == 1 and result["arguments"] and result["returned"]
    return ok, "" if ok else _("train should call nn_train(self.params, nn_forward_backward, nn_predict, X, y, X_val, "
                               "y_val, ...) once, passing on every argument, and return what it returns")


def _judge_net_predict(case, result):
    if "error" in result:
        return False, f"net.predict(...) {result['error']}"
    expected = case["lookup"][1]["forward_scores"].argmax(dim=1)
    ok = result["labels"].shape == expected.shape and torch.equal(result["labels"].long(), expected)
    return ok, "" if ok else _("net.predict(X) should return the predicted labels: nn_predict(self.params, "
                               "nn_forward_backward, X)")


# ----------------------------------------------------------------------------------------------
# get_param_set and find_best_net, through a fake TwoLayerNet
# ----------------------------------------------------------------------------------------------

def case_find_best_net(rng):
    """A 2x2x2x1 grid with a fixed validation accuracy per combination. The best combination is never the first or
    the last one tried, whatever the order of the loops (those combine every list's first, or every list's last,
    value), so keeping the first or the last network is always caught."""
    grid = [[rng.choice([1e-3, 3e-3]), rng.choice([1e-1, 3e-1])], [rng.randint(5, 9), rng.randint(10, 20)],
            [rng.choice([1e-4, 1e-3]), rng.choice([1e-2, 0.1])], [rng.choice([0.9, 0.95])]]
    combos = [[lr, hs, reg, dec] for lr in grid[0] for hs in grid[1] for reg in grid[2] for dec in grid[3]]
    values = rng.sample(range(10, 60), len(combos))
    best = rng.randrange(1, len(combos) - 1)
    top = values.index(max(values))
    values[best], values[top] = values[top], values[best]
    accs = [[combo, acc] for combo, acc in zip(combos, values)]
    D, C, M = rng.randint(5, 12), rng.randint(3, 6), 100
    gen = torch_gen(rng)
    data = {"X_train": torch.randn(30, D, generator=gen), "y_train": torch.arange(30) % C,
            "X_val": torch.randn(M, D, generator=gen), "y_val": torch.arange(M) % C,
            "X_test": torch.randn(10, D, generator=gen), "y_test": torch.arange(10) % C}
    return {"grid": grid, "accs": accs, "D": D, "C": C, "data": data}


def find_subchecks():
    """find_best_net's sub-checks, (name, weight) in report order, named in the course's language."""
    return ((_("tries every combination from get_param_set_fn()"), 0.3),
            (_("returns the net with the best validation accuracy, and that accuracy"), 0.4),
            (_("returns the best net's training stats"), 0.1),
            (_("network sizes come from the data"), 0.1))


def judge_find_best_net(case, out, seed):
    report = Report("test_find_best_net", seed)
    subchecks = find_subchecks()
    # The notebook's visible check states the same rules (helpers.spies.param_set_problems).
    problems = ([f"get_param_set {out['param_set_error']}"] if "param_set_error" in out else
                param_set_problems(out.get("param_set")))
    report.add(_("get_param_set returns four valid lists"), 0.1, not problems, _("; ").join(problems))
    if "error" in out:
        results = SubChecks({name: (name, weight) for name, weight in subchecks})
        results.fail(f"find_best_net {out['error']}")
        return results.into(report)
    combos = [tuple(combo) for combo, _acc in case["accs"]]
    tried = {tuple(n["trained"]) for n in out["nets"] if n["trained"]}
    ok = tried >= set(combos)
    report.add(*subchecks[0], ok, "" if ok else _("tried {tried} of the {combinations} combinations of (learning "
                                                  "rate, hidden size, reg, decay) from get_param_set_fn()").format(
        tried=len(tried & set(combos)), combinations=len(combos)))
    best_combo, best_acc = max(case["accs"], key=lambda pair: pair[1])
    best = out["nets"][out["best_index"]] if out["best_index"] >= 0 else None
    acc = out["best_val_acc"]
    ok = (best is not None and best["trained"] == best_combo
          and (abs(acc - best_acc / 100) < 1e-6 or abs(acc - best_acc) < 1e-4))
    report.add(*subchecks[1], ok, "" if ok else
               _("the returned net or accuracy is not the one with the highest validation accuracy"))
    report.add(*subchecks[2], out["best_stat_is_its_stats"],
               "" if out["best_stat_is_its_stats"]
               else _("best_stat should be the dict that best_net.train(...) returned"))
    ok = bool(out["nets"]) and all(n["sizes"][0] == case["D"] and n["sizes"][2] == case["C"] for n in out["nets"])
    report.add(*subchecks[3], ok, "" if ok else _("build TwoLayerNet(input_size=X_train.shape[1] ({D}), ..., "
                                                  "output_size=number of classes ({C}))").format(D=case["D"],
                                                                                                C=case["C"]))
    return report


# ----------------------------------------------------------------------------------------------
# The code parts' checks (the manifest declares the parts; autograder.hidden.hidden_test runs them in nbgrader)
# ----------------------------------------------------------------------------------------------

CHECKS = {
    "test_nn_forward_pass": Check(cases_forward_pass, harness.run_forward_pass, judge_forward_pass),
    "test_nn_forward_backward": Check(cases_forward_backward, harness.run_forward_backward, judge_forward_backward),
    "test_nn_train": Check(cases_train, harness.run_train, judge_train),
    "test_nn_predict": Check(cases_predict, harness.run_predict, judge_predict),
    "test_two_layer_net": Check(case_two_layer_net, harness.run_two_layer_net, judge_two_layer_net),
    "test_find_best_net": Check(case_find_best_net, harness.run_find_best_net, judge_find_best_net),
}


# ----------------------------------------------------------------------------------------------
# The saved best model, scored by evaluating it
# ----------------------------------------------------------------------------------------------

def _first_line(error):
    text = getattr(error, "text", None) or str(error) or type(error).__name__
    return text.strip().splitlines()[0][:200]


def _accuracy(params, X, y):
    """Accuracy of the net on (X, y), in row chunks small enough that a very wide hidden layer stays in memory."""
    rows = max(1, 2**22 // max(1, params["W1"].shape[1]))
    correct = sum(int((reference_forward(params, X[i:i + rows])[0].argmax(1) == y[i:i + rows]).sum())
                  for i in range(0, X.shape[0], rows))
    return correct / X.shape[0]


@functools.lru_cache(maxsize=2)
def evaluation_data(dataset):
    """The splits of `dataset` a best model is scored on (BEST_MODEL_TARGETS), in float64, loaded once per grading
    process and only read afterwards: {"dataset": name, "X_<split>": (N, D), "y_<split>": (N,)}."""
    data = load_dataset(dataset, dtype=torch.float64)
    return {"dataset": dataset, **{f"{xy}_{split}": data[f"{xy}_{split}"]
                                   for split in BEST_MODEL_TARGETS[dataset] for xy in "Xy"}}


def check_best_model(path, data=None, seed=None, max_bytes=MAX_CHECKPOINT_BYTES):
    """Evaluate a checkpoint saved by TwoLayerNet.save on the dataset it names, which must be the course's.

    `data` (a load_dataset dict) may be passed to avoid reloading; it must match the checkpoint's dataset.
    A checkpoint declaring more than `max_bytes` of tensors is refused before it is inflated.
    """
    seed = new_rng(seed)[1]
    report = Report("test_best_model", seed)
    name = _("accuracy of the saved best model")
    try:
        checkpoint = load_checkpoint(path, max_bytes=max_bytes)
        dataset, params = checkpoint["dataset"], checkpoint["params"]
        if dataset not in BEST_MODEL_TARGETS:
            raise ValueError(f"the checkpoint names dataset {dataset!r}; expected one of {sorted(BEST_MODEL_TARGETS)}")
        params = {k: as_plain_tensor(params[k], k).to(torch.float64) for k in PARAMS}
    except Exception as error:  # noqa: BLE001 - an untrusted file may fail to load in any way
        report.add(name, 1.0, False, _("{file} could not be read as a TwoLayerNet checkpoint ({error}); run the cell "
                                       "that saves best_net").format(file=Path(path).name, error=_first_line(error)))
        return report
    course = course_dataset()
    if dataset != course:
        report.add(name, 1.0, False, _("{file} was trained on {dataset}, but this course uses {course} (its "
                                       "helpers/course.toml): train best_net on {course} and save it again").format(
            file=Path(path).name, dataset=dataset, course=course))
        return report
    if data is None or data.get("dataset") != dataset:
        data = evaluation_data(dataset)
    shares = []
    for split, target in BEST_MODEL_TARGETS[dataset].items():
        X, y = data[f"X_{split}"].to(torch.float64), data[f"y_{split}"]
        W1, b1, W2, b2 = (params[k] for k in PARAMS)
        hidden = W1.shape[1] if W1.dim() == 2 else -1
        if (W1.dim() != 2 or W1.shape[0] != X.shape[1] or W2.shape != (hidden, int(y.max()) + 1)
                or b1.shape != (hidden,) or b2.shape != (W2.shape[1],)):
            report.add(name, 1.0, False, _("the checkpoint's shapes do not fit {dataset} (W1 {W1}, W2 {W2})").format(
                dataset=dataset, W1=tuple(params["W1"].shape), W2=tuple(params["W2"].shape)))
            return report
        acc = _accuracy(params, X, y)
        shares.append((split, acc, target, min(max((acc - target + BEST_MODEL_MARGIN) / BEST_MODEL_MARGIN, 0), 1)))
    text = ", ".join(_("{split} accuracy {accuracy}% (target {target}%)").format(
        split=split, accuracy=f"{100 * acc:.2f}", target=f"{100 * target:.0f}")
        for split, acc, target, _share in shares)
    share = min(s for *_rest, s in shares)
    if share == 1:
        report.add(_("{name} on {dataset}: {accuracies}").format(name=name, dataset=dataset, accuracies=text), 1.0,
                   True)
    else:
        report.add(_("{name} on {dataset}").format(name=name, dataset=dataset), 1.0 - share, False,
                   _("{accuracies}: tune further (hidden size, learning rate, regularisation, decay, "
                     "iterations)").format(accuracies=text))
        if share > 0:
            report.add(_("{name} is within {points} points of the target").format(
                name=name, points=f"{100 * BEST_MODEL_MARGIN:.0f}"), share, True)
    return report


#: The best-model part grades the checkpoint a student submits.
FILE_CHECKS = {"test_best_model": check_best_model}
#: The reference submission's checkpoint (the canary's and the demo's): trained once with library parts, then cached.
REFERENCE_FILES = {"best_two_layer_net.pth": lambda: reference_checkpoint("fashion_mnist")}
