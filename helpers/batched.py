"""Many two-layer nets trained at once: `torch.func.vmap` over your own `nn_forward_backward`.

K configurations (learning rate, reg, decay) that share a hidden size H are stacked along a new first
dimension, W1 (K, D, H), b1 (K, H), W2 (K, H, C), b2 (K, C), with their learning rates and regs as (K,)
tensors. Every iteration draws one minibatch X (B, D), y (B,) for all K and takes one vmapped SGD step:
the K forward and backward passes run as a few large tensor operations instead of K rounds of small ones.

Each configuration gets what `reset_seed(seed)`, `init(hidden_size)` and an `nn_train` sampling minibatches
with `torch.randint` would give it on its own (same initial weights, same minibatches, learning rate decayed and
accuracies recorded once per epoch), so the results equal K separate runs up to rounding, only sooner. Code
that vmap cannot batch (`.item()` or `float()` on a tensor, a Python `if` on a tensor's value, boolean-mask
indexing) is run one configuration at a time instead, with a message saying why.
"""
import itertools
from dataclasses import dataclass

import torch

from helpers.i18n import _
from helpers.utils import progress, reset_seed

CONFIG_KEYS = ("learning_rate", "hidden_size", "reg", "learning_rate_decay")
#: Elements of the hidden layer computed at once when scoring the validation set: K * rows * H at most.
SCORE_CHUNK = 2**24


@dataclass
class Run:
    """One trained configuration: its settings, trained params (W1 (D, H), b1 (H,), W2 (H, C), b2 (C,)),
    nn_train's stats dict (loss_history, train_acc_history, val_acc_history) and the final validation accuracy."""
    config: dict
    params: dict
    stats: dict
    val_acc: float


def grid(learning_rates, hidden_sizes, regularization_strengths, learning_rate_decays):
    """Every combination of get_param_set()'s four lists, as a list of configuration dicts."""
    return [dict(zip(CONFIG_KEYS, values)) for values in
            itertools.product(learning_rates, hidden_sizes, regularization_strengths, learning_rate_decays)]


def train_together(loss_func, init, configs, data, num_iters, batch_size=200, seed=0):
    """Train every configuration, those of one hidden size together; return one Run per configuration, in order.

    Inputs:
    - loss_func: loss_func(params, X, y=None, reg=0.0) -> scores | (loss, grads), i.e. your nn_forward_backward
    - init: init(hidden_size) -> a fresh params dict, e.g. ``lambda h: TwoLayerNet(D, h, C, std=1e-2).params``
    - configs: list of dicts with learning_rate, hidden_size, reg, learning_rate_decay (see grid)
    - data: dict with X_train (N, D), y_train (N,), X_val (N_val, D), y_val (N_val,)
    - num_iters, batch_size: as in nn_train; seed: set before each hidden size's initial weights are drawn
    """
    _check_inputs(configs, data, num_iters, batch_size)
    groups = {}
    for index, config in enumerate(configs):
        groups.setdefault(config["hidden_size"], []).append(index)
    runs, engine = [None] * len(configs), None
    for hidden_size, indices in groups.items():
        reset_seed(seed)
        params = _stacked(init(hidden_size), hidden_size, len(indices), data)
        trained, engine = _train_group(loss_func, engine, params, [configs[i] for i in indices], data, num_iters,
                                       batch_size)
        for i, run in zip(indices, trained):
            runs[i] = run
    return runs


def _check_inputs(configs, data, num_iters, batch_size):
    if num_iters < 1 or batch_size < 1:
        raise ValueError(_("num_iters and batch_size should be positive; got {num_iters} and {batch_size}").format(
            num_iters=num_iters, batch_size=batch_size))
    if not configs:
        raise ValueError(_("configs is empty: give at least one configuration, e.g. grid(*get_param_set())"))
    for config in configs:
        missing = [key for key in CONFIG_KEYS if key not in config]
        if missing:
            raise ValueError(_("configuration {config} lacks {keys}").format(config=config, keys=", ".join(missing)))
    for split in ("train", "val"):
        X, y = data[f"X_{split}"], data[f"y_{split}"]
        if X.dim() != 2 or y.shape != (X.shape[0],):
            raise ValueError(_("{X} should be (N, D) and {y} (N,); got {X_shape} and {y_shape}").format(
                X=f"X_{split}", y=f"y_{split}", X_shape=tuple(X.shape), y_shape=tuple(y.shape)))
    if data["X_val"].shape[1] != data["X_train"].shape[1]:
        raise ValueError(_("X_val has {val} features, X_train {train}").format(val=data["X_val"].shape[1],
                                                                             train=data["X_train"].shape[1]))


def _stacked(params, hidden_size, K, data):
    """K copies of one net's params, stacked along a new first dimension."""
    D = data["X_train"].shape[1]
    if params["W1"].shape != (D, hidden_size) or params["W2"].shape[0] != hidden_size:
        raise ValueError(_("init({hidden_size}) gave W1 {W1} and W2 {W2}; expected W1 ({D}, {hidden_size}) and W2 "
                           "({hidden_size}, C)").format(hidden_size=hidden_size, W1=tuple(params["W1"].shape),
                                                        W2=tuple(params["W2"].shape), D=D))
    return {name: value.expand(K, *value.shape).clone() for name, value in params.items()}


def _train_group(loss_func, engine, params, configs, data, num_iters, batch_size):
    """nn_train's loop for K configurations at once, on stacked params; returns (K Runs, engine).

    engine is the (step, scores) pair to use, or None to try vmap on the first step (see _batchable).
    """
    X, y, X_val, y_val = data["X_train"], data["y_train"], data["X_val"], data["y_val"]
    dtype, K = params["W1"].dtype, len(configs)
    # Decayed in float64 on the CPU, as nn_train's Python float; `rates` is their copy on the device.
    lrs = torch.tensor([c["learning_rate"] for c in configs], dtype=torch.float64)
    decays = torch.tensor([c["learning_rate_decay"] for c in configs], dtype=torch.float64)
    rates = lrs.to(X.device, dtype)
    regs = torch.tensor([c["reg"] for c in configs], dtype=dtype, device=X.device)
    iterations_per_epoch = max(X.shape[0] // batch_size, 1)
    losses, train_accs, val_accs = [], [], []
    desc = _("{count} nets of hidden size {hidden_size}").format(count=K, hidden_size=configs[0]["hidden_size"])
    for it in progress(range(num_iters), desc=desc):
        idx = torch.randint(X.shape[0], (batch_size,), device=X.device)
        X_batch, y_batch = X[idx], y[idx]
        if engine is None:
            engine = _batchable(loss_func, (params, X_batch, y_batch, regs, rates))
        step, scores = engine
        losses.append(step(params, X_batch, y_batch, regs, rates))
        if it % iterations_per_epoch == 0:
            train_accs.append(_accuracy(scores, params, X_batch, y_batch))
            val_accs.append(_accuracy(scores, params, X_val, y_val))
            lrs = lrs * decays
            rates = lrs.to(X.device, dtype)
    final = _accuracy(engine[1], params, X_val, y_val).tolist()
    losses, train_accs, val_accs = (torch.stack(h, dim=1).tolist() for h in (losses, train_accs, val_accs))
    return [Run(config, {name: value[k] for name, value in params.items()},
                {"loss_history": losses[k], "train_acc_history": train_accs[k], "val_acc_history": val_accs[k]},
                final[k]) for k, config in enumerate(configs)], engine


def _accuracy(scores, params, X, y):
    """(K,) accuracies of the K stacked nets on X (N, D), y (N,), scored a chunk of rows at a time."""
    K, _, H = params["W1"].shape
    rows = max(1, SCORE_CHUNK // (K * H))
    correct = sum((scores(params, X_part).argmax(dim=2) == y_part).sum(dim=1)
                  for X_part, y_part in zip(X.split(rows), y.split(rows)))
    return correct.float() / X.shape[0]  # float32, as nn_train's .float().mean()


def _vmapped(loss_func):
    """(step, scores) for stacked params, by torch.func.vmap over loss_func.

    step(params, X (B, D), y (B,), regs (K,), rates (K,)) -> losses (K,), stepping params in place;
    scores(params, X (N, D)) -> (K, N, C).
    """
    loss_and_grads = torch.func.vmap(lambda params, X, y, reg: loss_func(params, X, y=y, reg=reg),
                                     in_dims=(0, None, None, 0))

    def step(params, X, y, regs, rates):
        losses, grads = loss_and_grads(params, X, y, regs)
        for name, value in params.items():
            # value[k] -= rates[k] * grads[name][k] for every k, in one pass
            value.addcmul_(rates.view(-1, *[1] * (value.dim() - 1)), grads[name], value=-1)
        return losses

    return step, torch.func.vmap(lambda params, X: loss_func(params, X), in_dims=(0, None))


def _one_at_a_time(loss_func):
    """(step, scores) like _vmapped's, calling loss_func on one configuration after another."""
    def unstacked(params):
        return [{name: value[k] for name, value in params.items()} for k in range(params["W1"].shape[0])]

    def step(params, X, y, regs, rates):
        losses = []
        for k, one in enumerate(unstacked(params)):
            loss, grads = loss_func(one, X, y=y, reg=regs[k].item())
            for name in one:
                one[name] -= rates[k].item() * grads[name]  # a view: steps the stacked tensor in place
            losses.append(torch.as_tensor(loss, dtype=X.dtype, device=X.device))
        return torch.stack(losses)

    return step, lambda params, X: torch.stack([loss_func(one, X) for one in unstacked(params)])


def _batchable(loss_func, first_step):
    """_vmapped(loss_func) when it runs first_step (params, X, y, regs, rates); else _one_at_a_time, saying why."""
    batched = _vmapped(loss_func)
    params, X, y, regs, rates = first_step
    try:
        batched[0]({name: value.clone() for name, value in params.items()}, X, y, regs, rates)
        batched[1](params, X)
        return batched
    except Exception as error:  # noqa: BLE001 - any failure under vmap means: run it unbatched
        reason = (str(error).strip().splitlines() or [""])[0].split(". ")[0][:200]
        function = getattr(loss_func, "__name__", None)
        print(_("Training the {count} configurations one at a time (same results, only slower): torch.func.vmap "
                "cannot batch {function} ({error}). To train them together, use tensor operations only in it: no "
                ".item() or float() of a tensor, no Python if on a tensor's value, no boolean-mask indexing such as "
                "dhidden[hidden <= 0] = 0 (multiply by (hidden > 0) instead).").format(
            count=len(rates), function=_("the loss function") if function is None else function,
            error=f"{type(error).__name__}: {reason}"))
        return _one_at_a_time(loss_func)
