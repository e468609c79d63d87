"""Running the two_layer_net student code on hidden cases. Each `run_*` takes the student's objects and
the cases (plain data drawn by checks.py) and returns plain data for judging."""
import inspect

import torch

from autograder.harness.core import StudentError, as_plain_tensor, call_student, device_for, namespace_of, plain_float
from autograder.harness.i18n import _
from helpers.spies import patched_names

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
        params, X = _on_device(case)[:2]
        try:
            out = call_student(nn_forward_pass, params, X)
            if not isinstance(out, tuple) or len(out) != 2:
                raise StudentError(_("should return the pair (scores, hidden)"))
            results.append({"scores": as_plain_tensor(out[0], "scores"), "hidden": as_plain_tensor(out[1], "hidden")})
        except StudentError as error:
            results.append(_error(error))
    return {"results": results}


# nn_forward_backward --------------------------------------------------------------------------------

class ForwardOracle:
    """Stands in for nn_forward_pass: returns the correct (scores, hidden) of the hidden cases, looked up
    by input, so the code that calls it is tested on its own without any reference code in this process."""

    def __init__(self, cases):
        self.table = [(c["X"], c["params"], c["forward_scores"], c["forward_hidden"]) for c in cases]

    def __call__(self, params, X):
        for case_X, case_params, scores, hidden in self.table:
            if X.shape == case_X.shape and _equal(X.cpu().to(case_X.dtype), case_X) and all(
                    params[k].shape == case_params[k].shape and _equal(params[k].cpu().to(case_X.dtype), case_params[k])
                    for k in PARAMS):
                return scores.to(X.device, X.dtype).clone(), hidden.to(X.device, X.dtype).clone()
        raise RuntimeError(_("nn_forward_pass is replaced by a correct version during this test, and it was called "
                             "with inputs other than the params and X that the test passed"))

    def scores(self, params, X, y=None, reg=0.0):
        """Stands in for nn_forward_backward (or a loss_func) asked for scores only."""
        if y is not None:
            raise RuntimeError(_("this test only asks for scores: call loss_func(params, X) without y"))
        return self(params, X)[0]


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
                    raise StudentError(_("should return the pair (loss, grads) when y is given"))
                loss, grads = out
                result["loss"] = plain_float(loss, "loss")
                if not isinstance(grads, dict):
                    raise StudentError(_("grads should be a dict, got {type}").format(type=type(grads).__name__))
                result["grads"], result["grad_errors"] = {}, {}
                for key in PARAMS:
                    try:
                        if grads.get(key) is None:
                            raise StudentError(_("grads['{key}'] is missing").format(key=key))
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
            raise RuntimeError(_("nn_train should call loss_func with y (and reg) to get the loss and gradients"))
        if k >= len(self.case["grads"]):
            raise _Overrun(_("loss_func was called more than num_iters={n} times").format(n=self.case["num_iters"]))
        self.calls.append({"params": {n: as_plain_tensor(params[n], n) for n in PARAMS},
                           "rows": X[:, 0].detach().round().long().cpu(),
                           "y": torch.as_tensor(y).detach().cpu().long().clone(),
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


def run_train(nn_train, cases):
    return {"results": [_run_train_case(nn_train, case) for case in cases["cases"]]}


def _run_train_case(nn_train, case):
    loss_spy, pred_spy = LossSpy(case), PredictSpy(case["C"])
    params = {k: v.clone() for k, v in case["params"].items()}
    out = {}
    try:
        stats = call_student(nn_train, params, loss_spy, pred_spy, case["X"].clone(), case["y"].clone(),
                             case["X_val"].clone(), case["y_val"].clone(), learning_rate=case["lr"],
                             learning_rate_decay=case["decay"], reg=case["reg"], num_iters=case["num_iters"],
                             batch_size=case["batch_size"], verbose=False)
        if not isinstance(stats, dict):
            raise StudentError(_("should return a dict of histories, got {type}").format(type=type(stats).__name__))
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
        out["params_error"] = error.text if hasattr(error, "text") else _("params['{key}'] is missing").format(
            key=error)
    return out


# nn_predict -----------------------------------------------------------------------------------------

def run_predict(nn_predict, cases):
    """nn_predict on real parameters; loss_func, nn_forward_backward and nn_forward_pass all give the correct scores."""
    oracle = ForwardOracle(cases["cases"])
    results = []
    with patched_names(namespace_of(nn_predict), nn_forward_pass=oracle, nn_forward_backward=oracle.scores):
        for case in cases["cases"]:
            params, X = _on_device(case)[:2]
            try:
                labels = as_plain_tensor(call_student(nn_predict, params, oracle.scores, X), "labels")
                results.append({"labels": labels})
            except StudentError as error:
                results.append(_error(error))
    return {"results": results}


# TwoLayerNet ----------------------------------------------------------------------------------------

class TrainSpy:
    """Stands in for nn_train: records the arguments of each call, bound to the contract's signature, and
    returns a sentinel."""

    def __init__(self):
        self.signature, self.calls, self.result = inspect.signature(_nn_train), [], object()

    def __call__(self, *args, **kwargs):
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError as error:
            raise StudentError(_("called nn_train with arguments that do not fit its signature ({error})").format(
                error=error)) from None
        bound.apply_defaults()
        self.calls.append(dict(bound.arguments))
        return self.result


def _nn_train(params, loss_func, pred_func, X, y, X_val, y_val, learning_rate=1e-3, learning_rate_decay=0.95,
              reg=5e-6, num_iters=100, batch_size=200, verbose=False):
    """The contract's signature of nn_train."""


def run_two_layer_net(TwoLayerNet, case):
    """__init__ on the case's sizes; then, on the case's parameters, each method with its collaborators replaced:
    nn_train by a spy, nn_forward_backward, nn_forward_pass and nn_predict by lookups of the correct outputs."""
    out = {}
    D, H, C, std = case["D"], case["H"], case["C"], case["std"]
    try:
        with torch.random.fork_rng(devices=[]):  # a repeatable draw that leaves the caller's generator as it was
            torch.manual_seed(case["init_seed"])
            net = call_student(TwoLayerNet, D, H, C, dtype=torch.float64, device="cpu", std=std)
        out["params"] = {k: as_plain_tensor(net.params[k], k) for k in PARAMS}
        net.params = {k: v.clone() for k, v in case["params"].items()}
    except (StudentError, AttributeError, KeyError, TypeError) as error:
        out["init_error"] = getattr(error, "text", str(error))
        return out
    oracle = ForwardOracle(case["lookup"])
    X, y, X_val, y_val = case["X"], case["y"], case["X_val"], case["y_val"]

    def loss_lookup(params, X, y=None, reg=0.0):
        if y is None:
            return oracle.scores(params, X)
        oracle(params, X)  # raises unless these are the net's params and the X that net.loss received
        if reg == case["reg"] and _same(y, case["y"]):
            return torch.tensor(case["loss"], dtype=torch.float64), {k: g.clone() for k, g in case["grads"].items()}
        raise RuntimeError(_("nn_forward_backward is replaced during this test, and it was called with another y "
                             "or reg than the ones net.loss received"))

    def predict_lookup(params, loss_func, X):
        return oracle.scores(params, X).argmax(dim=1)

    train_spy = TrainSpy()
    out["methods"] = {}
    with patched_names(namespace_of(TwoLayerNet), nn_forward_backward=loss_lookup, nn_forward_pass=oracle,
                       nn_predict=predict_lookup, nn_train=train_spy):
        out["methods"]["loss"] = _net_loss(net, case)
        try:
            result = call_student(net.train, X, y, X_val, y_val, learning_rate=0.3, learning_rate_decay=0.7, reg=0.1,
                                  num_iters=11, batch_size=3, verbose=False)
            calls = train_spy.calls
            out["methods"]["train"] = {"calls": len(calls), "returned": result is train_spy.result,
                                       "arguments": bool(calls) and _train_arguments_ok(calls[0], net, loss_lookup,
                                                                                        predict_lookup, case)}
        except StudentError as error:
            out["methods"]["train"] = _error(error)
        try:
            out["methods"]["predict"] = {"labels": as_plain_tensor(call_student(net.predict, X_val), "labels")}
        except StudentError as error:
            out["methods"]["predict"] = _error(error)
    return out


def _net_loss(net, case):
    try:
        value = call_student(net.loss, case["X"], case["y"], reg=case["reg"])
        if not isinstance(value, tuple) or len(value) != 2 or not isinstance(value[1], dict):
            raise StudentError(_("net.loss(X, y, reg) should return the pair (loss, grads)"))
        loss, grads = value
        return {"loss": plain_float(loss, "loss"),
                "grads": {k: as_plain_tensor(grads.get(k), f"grads['{k}']") for k in PARAMS},
                "scores": as_plain_tensor(call_student(net.loss, case["X_val"]), "scores")}
    except StudentError as error:
        return _error(error)


def _same(a, b):
    return torch.is_tensor(a) and a.shape == b.shape and _equal(a.cpu(), b)


def _train_arguments_ok(call, net, loss_func, pred_func, case):
    return (call["params"] is net.params and call["loss_func"] is loss_func and call["pred_func"] is pred_func
            and call["X"] is case["X"] and call["y"] is case["y"] and call["X_val"] is case["X_val"]
            and call["y_val"] is case["y_val"] and call["learning_rate"] == 0.3 and call["learning_rate_decay"] == 0.7
            and call["reg"] == 0.1 and call["num_iters"] == 11 and call["batch_size"] == 3 and call["verbose"] is False)


# get_param_set and find_best_net --------------------------------------------------------------------

def run_find_best_net(find_best_net, get_param_set, case):
    out = {}
    try:
        values = call_student(get_param_set)
        out["param_set"] = [[plain_float(x, _("a hyper-parameter")) for x in v] for v in values]
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
        return None if values is None else [plain_float(v, _("a hyper-parameter")) for v in values]
    except StudentError:
        return None
