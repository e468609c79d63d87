"""Numeric gradients and relative errors for checking hand-written backward passes."""
import itertools
import random

import torch

from helpers.i18n import _


def compute_numeric_gradient(f, x, dLdf=None, h=1e-7):
    """Centred-difference gradient of `f` at `x`, over every element of `x`.

    Args:
        f: function taking the tensor `x` (modified in place, restored after) and returning a
            tensor of any shape, or a Python number.
        x: tensor of shape (*); use float64 for meaningful results with the default `h`.
        dLdf: upstream gradient, same shape as f(x); defaults to ones (i.e. the gradient of
            f(x).sum(), which is the plain gradient when f is scalar).
        h: step size.

    Returns:
        grad: tensor shaped like `x`, grad[i] = sum(dLdf * (f(x + h e_i) - f(x - h e_i)) / (2h)).
    """
    grad = torch.zeros_like(x)
    for i in itertools.product(*(range(n) for n in x.shape)):  # indexes x itself, whatever its strides
        old = x[i].item()
        x[i] = old + h
        f_plus = torch.as_tensor(f(x), dtype=x.dtype, device=x.device).clone()
        x[i] = old - h
        f_minus = torch.as_tensor(f(x), dtype=x.dtype, device=x.device).clone()
        x[i] = old
        upstream = torch.ones_like(f_plus) if dLdf is None else dLdf
        grad[i] = (upstream * (f_plus - f_minus)).sum() / (2 * h)
    return grad


def rel_error(x, y, eps=1e-10):
    """Relative error between two tensors, a single float:

        max_i |x_i - y_i| / max(max_i (|x_i| + |y_i|), eps)

    0 for identical inputs, about 1e-7 or lower for a correct float64 gradient, 1 for x = -y.
    Python numbers and lists are read as float64.
    Raises ValueError when the shapes differ (a silent broadcast would hide a bug).
    """
    x = x if torch.is_tensor(x) else torch.as_tensor(x, dtype=torch.float64)
    y = y if torch.is_tensor(y) else torch.as_tensor(y, dtype=torch.float64)
    if x.shape != y.shape:
        raise ValueError(_("rel_error: shapes differ, {x} vs {y}").format(x=tuple(x.shape), y=tuple(y.shape)))
    # To the CPU first, then float64: some devices (Apple's MPS) have no float64.
    x, y = x.detach().cpu().to(torch.float64), y.detach().cpu().to(torch.float64)
    if x.numel() == 0:
        return 0.0
    top = (x - y).abs().max().item()
    bottom = (x.abs() + y.abs()).max().item()
    return top / max(bottom, eps)


def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-7, seed=None):
    """Compare `analytic_grad` with centred differences at `num_checks` random entries of `x`.

    `f(x)` must return a scalar. Prints numeric, analytic and relative error for each entry and
    returns the list of relative errors.
    """
    rng = random.Random(seed)
    errors = []
    for _check in range(num_checks):
        i = tuple(rng.randrange(n) for n in x.shape)
        old = x[i].item()
        x[i] = old + h
        f_plus = float(f(x))
        x[i] = old - h
        f_minus = float(f(x))
        x[i] = old
        numeric = (f_plus - f_minus) / (2 * h)
        analytic = analytic_grad[i].item()
        error = abs(numeric - analytic) / max(abs(numeric) + abs(analytic), 1e-10)
        errors.append(error)
        print(_("numerical: {numeric} analytic: {analytic}, relative error: {error}").format(
            numeric=f"{numeric:f}", analytic=f"{analytic:f}", error=f"{error:e}"))
    return errors
