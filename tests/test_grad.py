"""Tests for helpers.grad: numeric gradients, relative errors, sparse gradient checks."""

import re

import pytest
import torch

from helpers.grad import compute_numeric_gradient, grad_check_sparse, rel_error

LINE = re.compile(r"^numerical: -?\d+\.\d{6} analytic: -?\d+\.\d{6}, relative error: \d\.\d{6}e[+-]\d\d$")


def randn(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


# compute_numeric_gradient, scalar f

def test_numeric_gradient_of_sum_of_cubes():
    x = randn(3, 4)
    grad = compute_numeric_gradient(lambda t: (t ** 3).sum(), x)
    assert grad.shape == x.shape and grad.dtype == torch.float64
    assert rel_error(grad, 3 * x ** 2) < 1e-7


def test_numeric_gradient_of_linear_form():
    A, x = randn(5, 4, seed=1), randn(4, seed=2)
    grad = compute_numeric_gradient(lambda t: (A @ t).sum(), x)
    assert rel_error(grad, A.sum(dim=0)) < 1e-7


def test_numeric_gradient_custom_step():
    x = randn(6, seed=3)
    grad = compute_numeric_gradient(lambda t: (t.sin() * t).sum(), x, h=1e-5)
    assert rel_error(grad, x.sin() + x * x.cos()) < 1e-8


def test_numeric_gradient_detects_a_wrong_formula():
    x = randn(3, 4)
    grad = compute_numeric_gradient(lambda t: (t ** 3).sum(), x)
    assert rel_error(grad, 2 * x ** 2) > 0.1


# compute_numeric_gradient, non-scalar f with an upstream gradient

def test_numeric_gradient_elementwise_square_with_upstream():
    x, dLdf = randn(3, 5, seed=4), randn(3, 5, seed=5)
    grad = compute_numeric_gradient(lambda t: t * t, x, dLdf)
    assert rel_error(grad, 2 * x * dLdf) < 1e-7


def test_numeric_gradient_matrix_vector_with_upstream():
    W, x, dLdf = randn(3, 4, seed=6), randn(4, seed=7), randn(3, seed=8)
    grad = compute_numeric_gradient(lambda t: W @ t, x, dLdf)
    assert grad.shape == (4,)
    assert rel_error(grad, W.t() @ dLdf) < 1e-7


def test_numeric_gradient_matrix_matrix_with_upstream():
    W, X, dLdf = randn(3, 4, seed=9), randn(4, 5, seed=10), randn(3, 5, seed=11)
    grad = compute_numeric_gradient(lambda t: W @ t, X, dLdf)
    assert rel_error(grad, W.t() @ dLdf) < 1e-7


def test_numeric_gradient_default_upstream_is_ones():
    x = randn(2, 3, seed=12)
    plain = compute_numeric_gradient(lambda t: t * t, x)
    assert rel_error(plain, 2 * x) < 1e-7


def test_numeric_gradient_restores_x():
    x = randn(3, 4, seed=13)
    before = x.clone()
    seen = []

    def f(t):
        seen.append(t.clone())
        return (t ** 2).sum()

    compute_numeric_gradient(f, x)
    assert torch.equal(x, before)
    # f really saw perturbed copies of x, one entry at a time, in both directions.
    assert len(seen) == 2 * x.numel()
    assert all((s != before).sum() == 1 for s in seen)


def test_numeric_gradient_non_contiguous_x():
    x = randn(4, 3, seed=14).t()
    grad = compute_numeric_gradient(lambda t: (t ** 3).sum(), x)
    assert rel_error(grad, 3 * x ** 2) < 1e-7


# rel_error

def test_rel_error_identical_is_zero():
    x = randn(4, 5, seed=15)
    assert rel_error(x, x.clone()) == 0.0


def test_rel_error_returns_python_float():
    value = rel_error(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.5]))
    assert type(value) is float


def test_rel_error_opposite_inputs_follow_the_documented_formula():
    # max|x - y| / max(|x| + |y|) = 2 max|x| / 2 max|x| = 1 for y = -x.
    x = randn(3, 3, seed=16)
    assert rel_error(x, -x) == 1.0


def test_rel_error_both_zero_is_zero():
    assert rel_error(torch.zeros(3), torch.zeros(3)) == 0.0


def test_rel_error_eps_floors_the_denominator():
    # top = 1e-12, bottom = max(1e-12, eps=1e-10) -> 1e-2
    assert rel_error(torch.tensor([1e-12], dtype=torch.float64), torch.zeros(1)) == pytest.approx(1e-2)
    assert rel_error(torch.tensor([1e-12], dtype=torch.float64), torch.zeros(1), eps=1e-12) == pytest.approx(1.0)


def test_rel_error_known_value():
    f64 = torch.float64
    assert rel_error(torch.tensor([1.0, 2.0], dtype=f64), torch.tensor([1.0, 2.2], dtype=f64)) == \
        pytest.approx(0.2 / 4.2, rel=1e-12)
    # Python lists go through torch's default dtype (float32), hence the looser tolerance; see below.
    assert rel_error([1.0, 2.0], [1.0, 2.2]) == pytest.approx(0.2 / 4.2, rel=1e-6)
    assert rel_error(torch.tensor([[1.0, -3.0]]), torch.tensor([[1.5, -3.0]])) == pytest.approx(0.5 / 6.0)


def test_rel_error_python_floats_keep_double_precision():
    assert rel_error(1.0, 1.0 + 1e-9) == pytest.approx(1e-9 / (2 + 1e-9), rel=1e-6)
    assert rel_error([1.0, 2.0], [1.0, 2.2]) == pytest.approx(0.2 / 4.2, rel=1e-12)


def test_rel_error_scalars():
    assert rel_error(2.0, 2.0) == 0.0
    assert rel_error(1.0, 3.0) == pytest.approx(0.5)
    assert rel_error(torch.tensor(1.0), torch.tensor(3.0)) == pytest.approx(0.5)


@pytest.mark.parametrize("x_shape, y_shape", [((3,), (4,)), ((3,), (1, 3)), ((2, 3), (3, 2)), ((), (1,))])
def test_rel_error_shape_mismatch_raises(x_shape, y_shape):
    with pytest.raises(ValueError, match="shapes differ"):
        rel_error(torch.zeros(x_shape), torch.zeros(y_shape))


def test_rel_error_mixed_dtypes():
    x32 = torch.tensor([1.0, 2.0], dtype=torch.float32)
    y64 = torch.tensor([1.0, 2.2], dtype=torch.float64)
    assert rel_error(x32, y64) == pytest.approx(0.2 / 4.2, rel=1e-12)
    assert rel_error(torch.tensor([1, 2, 3]), torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)) == 0.0


def test_rel_error_accepts_tensors_that_require_grad():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    assert rel_error(x, torch.tensor([1.0, 2.0])) == 0.0
    assert rel_error(x * 2, x) == pytest.approx(2.0 / 6.0)


def test_rel_error_empty_is_zero():
    assert rel_error(torch.zeros(0), torch.zeros(0)) == 0.0


# grad_check_sparse

def cubes(t):
    return (t ** 3).sum()


def positive(*shape, seed=0):
    """Entries in [1, 4): gradients of sum(x**3) stay well away from 0, where per-entry errors blow up."""
    return 1 + randn(*shape, seed=seed).abs().clamp(max=3)


def test_grad_check_sparse_correct_gradient(capsys):
    x = positive(4, 5, seed=17)
    before = x.clone()
    errors = grad_check_sparse(cubes, x, 3 * x ** 2, num_checks=7, seed=0)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 7 and len(errors) == 7
    assert all(LINE.match(line) for line in lines), lines
    assert max(errors) < 1e-6
    assert torch.equal(x, before)


def test_grad_check_sparse_wrong_gradient(capsys):
    x = positive(4, 5, seed=17)
    errors = grad_check_sparse(cubes, x, 2 * x ** 2, num_checks=5, seed=0)
    # |3 - 2| / (3 + 2) = 0.2 at every entry
    assert errors == pytest.approx([0.2] * 5, rel=1e-6)
    printed = [float(line.rsplit(" ", 1)[1]) for line in capsys.readouterr().out.splitlines()]
    assert printed == pytest.approx(errors, rel=1e-5)


def test_grad_check_sparse_seed_reproducible(capsys):
    x = randn(50, seed=18)
    analytic = 3 * x ** 2
    first = grad_check_sparse(cubes, x, analytic, num_checks=6, seed=123)
    out_first = capsys.readouterr().out
    second = grad_check_sparse(cubes, x, analytic, num_checks=6, seed=123)
    out_second = capsys.readouterr().out
    assert first == second and out_first == out_second
    grad_check_sparse(cubes, x, analytic, num_checks=6, seed=124)
    assert capsys.readouterr().out != out_first


def test_grad_check_sparse_non_contiguous_x(capsys):
    x = positive(5, 4, seed=19).t()
    errors = grad_check_sparse(cubes, x, 3 * x ** 2, num_checks=5, seed=0)
    assert max(errors) < 1e-6


def test_numeric_gradient_of_a_function_returning_a_python_float():
    x = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    grad = compute_numeric_gradient(lambda t: float((t ** 3).sum()), x)
    assert rel_error(grad, 3 * x ** 2) < 1e-6
