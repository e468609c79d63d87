"""One SGD step of the hand-written two-layer net against the same net under torch.autograd (CPU, float32)."""
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils import benchmark

from benchmarks.notebook import solution_namespace
from helpers.grad import rel_error

N, D, H, C = 200, 784, 512, 10
REG, LR, STD = 1e-4, 1e-3, 1e-2
TOLERANCE = 1e-5


def run():
    forward_backward = solution_namespace()["nn_forward_backward"]
    torch.manual_seed(0)
    X, y = torch.randn(N, D), torch.randint(C, (N,))
    model = nn.Sequential(nn.Linear(D, H), nn.ReLU(), nn.Linear(H, C))
    for layer in (model[0], model[2]):
        nn.init.normal_(layer.weight, std=STD)
        nn.init.zeros_(layer.bias)
    params = notebook_params(model)
    errors = compare(forward_backward, params, model, X, y)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)

    def hand_step():
        _, grads = forward_backward(params, X, y, REG)
        for name in params:
            params[name] -= LR * grads[name]

    def autograd_step():
        optimizer.zero_grad()
        autograd_loss(model, X, y).backward()
        optimizer.step()

    threads = torch.get_num_threads()
    hand, auto = median_seconds(hand_step, threads), median_seconds(autograd_step, threads)
    return {"shape": {"N": N, "D": D, "H": H, "C": C}, "threads": threads,
            "hand_ms": round(1e3 * hand, 3), "autograd_ms": round(1e3 * auto, 3),
            "hand_over_autograd": round(hand / auto, 3),
            "max_rel_error": max(errors.values()), "rel_errors": errors,
            "same_within_tolerance": max(errors.values()) < TOLERANCE, "tolerance": TOLERANCE}


def notebook_params(model):
    """The model's parameters in the notebook's layout: W1 (D, H), b1, W2 (H, C), b2, as separate copies."""
    first, second = model[0], model[2]
    return {"W1": first.weight.detach().t().clone(), "b1": first.bias.detach().clone(),
            "W2": second.weight.detach().t().clone(), "b2": second.bias.detach().clone()}


def autograd_loss(model, X, y):
    return F.cross_entropy(model(X), y) + REG * (model[0].weight.pow(2).sum() + model[2].weight.pow(2).sum())


def compare(forward_backward, params, model, X, y):
    """Relative error of the hand-written loss and gradients against autograd's, at the same parameters."""
    loss, grads = forward_backward(params, X, y, REG)
    model.zero_grad()
    reference = autograd_loss(model, X, y)
    reference.backward()
    first, second = model[0], model[2]
    expected = {"W1": first.weight.grad.t(), "b1": first.bias.grad,
                "W2": second.weight.grad.t(), "b2": second.bias.grad}
    errors = {"loss": rel_error(loss, reference.detach())}
    errors.update({name: rel_error(grads[name], expected[name]) for name in expected})
    return {name: float(f"{error:.3g}") for name, error in errors.items()}


def median_seconds(step, threads):
    timer = benchmark.Timer(stmt="step()", globals={"step": step}, num_threads=threads)
    timer.timeit(20)  # warm-up
    return timer.blocked_autorange(min_run_time=3).median


def summary(f):
    return (f"hand {f['hand_ms']:.2f} ms vs autograd {f['autograd_ms']:.2f} ms per step "
            f"(x{f['hand_over_autograd']:.2f}), max rel error {f['max_rel_error']:.1e}")
