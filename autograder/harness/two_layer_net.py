"""Running the two_layer_net student code on hidden cases. Each `run_*` takes the student's objects and
the cases (plain data drawn by autograder.checks.two_layer_net) and returns plain data for judging."""
import inspect

import torch

from .core import StudentError, as_plain_tensor, call_student, device_for, namespace_of, patched_names, plain_float

PARAMS = ("W1", "b1", "W2", "b2")
_equal = torch.equal  # bound before student code runs, which may rebind torch.equal


def _on_device(case):
    device = device_for(case.get("device", "cpu"))
    params = {k: v.to(device, copy=True) for k, v in case["params"].items()}  # the student may edit them
    return params, case["X"].to(device, copy=True), device


def _error(error):
    return {"error": error.text}


# nn_forward_pass ------------------------------------------------------------------------------------

def run_forward_pass(nn_forward_pass, cases):
    results = []
    for case in cases["cases"]:
        params, X, _ = _on_device(case)
        try:
            out = call_student(nn_forward_pass, params, X)
            if not isinstance(out, tuple) or len(out) != 2:
                raise StudentError("should return the pair (scores, hidden)")
            results.append({"scores": as_plain_tensor(out[0], "scores"), "hidden": as_plain_tensor(out[1], "hidden")})
        except StudentError as error:
            results.append(_error(error))
    return {"results": results}


# nn_forward_backward --------------------------------------------------------------------------------

class ForwardOracle:
    """Stands in for nn_forward_pass: returns the correct (scores, hidden) of the hidden cases, looked up
    by input, so nn_forward_backward is tested on its own without any reference code in this process."""

    def __init__(self, cases):
        self.table = [(c["X"], c["params"], c["forward_scores"], c["forward_hidden"]) for c in cases]

    def __call__(self, params, X):
        for case_X, case_params, scores, hidden in self.table:
            if X.shape == case_X.shape and _equal(X.cpu(), case_X) and all(
                    params[k].shape == case_params[k].shape and _equal(params[k].cpu(), case_params[k])
                    for k in PARAMS):
                return scores.to(X.device).clone(), hidden.to(X.device).clone()
        raise RuntimeError("nn_forward_pass is replaced by a correct version during this test, and it was called "
                           "with inputs other than nn_forward_backward's own params and X")


def run_forward_backward(nn_forward_backward, cases):
    results = []
    with patched_names(namespace_of(nn_forward_backward), nn_forward_pass=ForwardOracle(cases["cases"])):
        for case in cases["cases"]:
            params, X, device = _on_device(case)
            result = {}
            if not case["large"]:
                try:
                    result["scores"] = as_plain_tensor(call_student(nn_forward_backward, params, X), "scores")
                except StudentError as error:
                    result["scores_error"] = error.text
            try:
                params, X, device = _on_device(case)
                out = call_student(nn_forward_backward, params, X, case["y"].to(device, copy=True), case["reg"])
                if not isinstance(out, tuple) or len(out) != 2:
                    raise StudentError("should return the pair (loss, grads) when y is given")
                loss, grads = out
                result["loss"] = plain_float(loss, "loss")
                if not isinstance(grads, dict):
                    raise StudentError(f"grads should be a dict, got {type(grads).__name__}")
                result["grads"], result["grad_errors"] = {}, {}
                for key in PARAMS:
                    try:
                        if grads.get(key) is None:
                            raise StudentError(f"grads['{key}'] is missing")
                        result["grads"][key] = as_plain_tensor(grads[key], f"grads['{key}']")
                    except StudentError as error:
                        result["grad_errors"][key] = error.text
            except StudentError as error:
                result["error"] = error.text
            results.append(result)
    return {"results": results}


# nn_train -------------------------------------------------------------------------------------------

class _Overrun(Exception):
    pass


class LossSpy:
    """A fake loss_func: records every call and returns the case's known losses and gradients."""

    def __init__(self, case):
        self.case, self.calls = case, []

    def __call__(self, params, X, y=None, reg=0.0):
        k = len(self.calls)
        if y is None:
            raise RuntimeError("nn_train should call loss_func with y (and reg) to get the loss and gradients")
        if k >= len(self.case["grads"]):
            raise _Overrun(f"loss_func was called more than num_iters={self.case['num_iters']} times")
        self.calls.append({"params": {n: as_plain_tensor(params[n], n) for n in PARAMS},
                           "rows": X[:, 0].detach().round().long().cpu(), "y": torch.as_tensor(y).detach().cpu().long(),
                           "reg": float(reg)})
        return torch.tensor(k + 0.25, dtype=torch.float64), {n: g.clone() for n, g in self.case["grads"][k].items()}


class PredictSpy:
    """A fake pred_func: labels are a fixed function of each row's index; records which rows it saw."""

    def __init__(self, num_classes):
        self.num_classes, self.calls = num_classes, []

    def __call__(self, params, loss_func, X):
        rows = X[:, 0].detach().round().long()
        labels = (rows.abs() * 7 + 3) % self.num_classes
        self.calls.append({"rows": rows.cpu(), "labels": labels.cpu()})
        return labels


def run_train(nn_train, case):
    loss_spy, pred_spy = LossSpy(case), PredictSpy(case["C"])
    params = {k: v.clone() for k, v in case["params"].items()}
    out = {}
    try:
        stats = call_student(nn_train, params, loss_spy, pred_spy, case["X"].clone(), case["y"].clone(),
                             case["X_val"].clone(), case["y_val"].clone(), learning_rate=case["lr"],
                             learning_rate_decay=case["decay"], reg=case["reg"], num_iters=case["num_iters"],
                             batch_size=case["batch_size"], verbose=False)
        if not isinstance(stats, dict):
            raise StudentError(f"should return a dict of histories, got {type(stats).__name__}")
        out["stats"] = {}
        for key in ("loss_history", "train_acc_history", "val_acc_history"):
            try:
                out["stats"][key] = [plain_float(v, key) for v in stats[key]]
            except (StudentError, KeyError, TypeError):
                out["stats"][key] = None
    except StudentError as error:
        out["error"] = error.text
    out["calls"], out["pred_calls"] = loss_spy.calls, pred_spy.calls
    try:
        out["final_params"] = {k: as_plain_tensor(params[k], f"params['{k}']") for k in PARAMS}
    except (StudentError, KeyError) as error:
        out["params_error"] = getattr(error, "text", f"params['{error}'] is missing")
    return out


# nn_predict -----------------------------------------------------------------------------------------

def run_predict(nn_predict, cases):
    results = []
    for case in cases["cases"]:
        device = device_for(case["device"])
        scores, seen = case["scores"].to(device), []

        def fake_loss(params, X, y=None, reg=0.0):
            seen.append(y is None)
            return scores.clone() if y is None else (torch.tensor(0.0), {})
        try:
            labels = as_plain_tensor(call_student(nn_predict, {}, fake_loss, case["X"].to(device, copy=True)), "labels")
            results.append({"labels": labels, "y_none": seen})
        except StudentError as error:
            results.append(_error(error))
    return {"results": results}


# TwoLayerNet ----------------------------------------------------------------------------------------

class _Spy:
    """Records the arguments of each call, bound to the contract's signature, and returns a sentinel."""

    def __init__(self, signature_of):
        self.signature, self.calls, self.result = inspect.signature(signature_of), [], object()

    def __call__(self, *args, **kwargs):
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        self.calls.append(dict(bound.arguments))
        return self.result


def _nn_forward_backward(params, X, y=None, reg=0.0):
    """Contract signature."""


def _nn_train(params, loss_func, pred_func, X, y, X_val, y_val, learning_rate=1e-3, learning_rate_decay=0.95,
              reg=5e-6, num_iters=100, batch_size=200, verbose=False):
    """Contract signature."""


def _nn_predict(params, loss_func, X):
    """Contract signature."""


def run_two_layer_net(TwoLayerNet, case):
    out = {}
    D, H, C, std = case["D"], case["H"], case["C"], case["std"]
    try:
        net = call_student(TwoLayerNet, D, H, C, dtype=torch.float64, device="cpu", std=std)
        out["params"] = {k: as_plain_tensor(net.params[k], k) for k in PARAMS}
    except (StudentError, AttributeError, KeyError, TypeError) as error:
        out["init_error"] = getattr(error, "text", str(error))
        return out
    fb, tr, pr = _Spy(_nn_forward_backward), _Spy(_nn_train), _Spy(_nn_predict)
    X, y, X_val, y_val = case["X"], case["y"], case["X_val"], case["y_val"]
    actions = {
        "loss": (lambda: net.loss(X, y, reg=0.25), fb,
                 lambda c: c["params"] is net.params and c["X"] is X and c["y"] is y and c["reg"] == 0.25),
        "train": (lambda: net.train(X, y, X_val, y_val, learning_rate=0.3, learning_rate_decay=0.7, reg=0.1,
                                    num_iters=11, batch_size=3, verbose=False), tr,
                  lambda c: (c["params"] is net.params and c["loss_func"] is fb and c["pred_func"] is pr
                             and c["X"] is X and c["y"] is y and c["X_val"] is X_val and c["y_val"] is y_val
                             and c["learning_rate"] == 0.3 and c["learning_rate_decay"] == 0.7 and c["reg"] == 0.1
                             and c["num_iters"] == 11 and c["batch_size"] == 3)),
        "predict": (lambda: net.predict(X_val), pr,
                    lambda c: c["params"] is net.params and c["loss_func"] is fb and c["X"] is X_val),
    }
    out["delegation"] = {}
    with patched_names(namespace_of(TwoLayerNet), nn_forward_backward=fb, nn_train=tr, nn_predict=pr):
        for method, (action, spy, arguments_ok) in actions.items():
            try:
                result = call_student(action)
                out["delegation"][method] = {"calls": len(spy.calls), "returned": result is spy.result,
                                             "arguments": bool(spy.calls) and arguments_ok(spy.calls[0])}
            except (StudentError, TypeError) as error:
                out["delegation"][method] = {"error": getattr(error, "text", str(error))}
    return out


# get_param_set and find_best_net --------------------------------------------------------------------

def run_find_best_net(find_best_net, get_param_set, case):
    out = {}
    try:
        values = call_student(get_param_set)
        out["param_set"] = [[plain_float(x, "a hyper-parameter") for x in v] for v in values]
    except (StudentError, TypeError, ValueError) as error:
        out["param_set_error"] = getattr(error, "text", str(error))
    grid, accs, C, M = case["grid"], case["accs"], case["C"], len(case["data"]["y_val"])
    nets = []

    class FakeNet:
        """Stands in for TwoLayerNet: its validation accuracy is fixed by its hyper-parameters."""

        def __init__(self, input_size, hidden_size, output_size, dtype=torch.float32, device="cpu", std=1e-4):
            self.sizes, self.trained, self.stats, self.params = [input_size, hidden_size, output_size], None, None, {}
            nets.append(self)

        def train(self, X, y, X_val, y_val, learning_rate=1e-3, learning_rate_decay=0.95, reg=5e-6,
                  num_iters=100, batch_size=200, verbose=False):
            self.trained = [learning_rate, self.sizes[1], reg, learning_rate_decay]
            acc = self.accuracy() / 100
            self.stats = {"loss_history": [1.0], "train_acc_history": [acc], "val_acc_history": [acc]}
            return self.stats

        def accuracy(self):
            for combo, acc in accs:
                if self.trained == combo:
                    return acc
            return 0

        def predict(self, X):
            acc = self.accuracy()
            labels = case["data"]["y_val"].clone()
            labels[acc:] = (labels[acc:] + 1) % C
            return labels if len(X) == M else torch.zeros(len(X), dtype=torch.long)

        def loss(self, X, y=None, reg=0.0):
            return torch.zeros(len(X), C)

    with patched_names(namespace_of(find_best_net), TwoLayerNet=FakeNet):
        try:
            best_net, best_stat, best_val_acc = call_student(find_best_net, dict(case["data"]),
                                                             lambda: tuple(list(g) for g in grid))
            out["best_index"] = next((i for i, n in enumerate(nets) if n is best_net), -1)
            out["best_stat_is_its_stats"] = out["best_index"] >= 0 and best_stat is best_net.stats
            out["best_val_acc"] = plain_float(best_val_acc, "best_val_acc")
        except (StudentError, TypeError, ValueError) as error:
            out["error"] = getattr(error, "text", str(error))
    out["nets"] = [{"sizes": _numbers(n.sizes), "trained": _numbers(n.trained)} for n in nets]
    return out


def _numbers(values):
    """Plain floats, or None when the student passed something that is not a number."""
    try:
        return None if values is None else [plain_float(v, "a hyper-parameter") for v in values]
    except StudentError:
        return None
