"""helpers.surfaces: gradient descent on the lab's 2-D loss surfaces, and the verdict it gives each run."""
import math

import numpy as np
import pytest
import torch

from helpers.surfaces import SURFACES, Surface, descend

QUADRATIC = "ill-conditioned quadratic"


def test_minima_are_the_known_ones():
    assert SURFACES[QUADRATIC].minimum == 0.0
    assert SURFACES["banana valley"].minimum == 0.0
    # x^4/4 - x^2 + 0.3x + y^2: the deeper minimum solves x^3 - 2x + 0.3 = 0 on the left.
    x = min(r.real for r in np.roots([1, 0, -2, 0.3]) if abs(r.imag) < 1e-12)
    assert SURFACES["two valleys"].minimum == pytest.approx(x ** 4 / 4 - x ** 2 + 0.3 * x, abs=1e-9)


def test_plain_steps_are_sgd_steps():
    run = descend(QUADRATIC, 0.05, steps=3)
    w = np.array(SURFACES[QUADRATIC].start)
    for k in range(3):
        w = w - 0.05 * np.array([w[0], 20 * w[1]])
        np.testing.assert_allclose(run.path[k + 1], w, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(run.losses, [0.5 * (p[0] ** 2 + 20 * p[1] ** 2) for p in run.path],
                               rtol=1e-12, atol=1e-12)


def test_momentum_and_decay_follow_torch_optim():
    """Heavy ball as torch defines it (v = mu v + g; w -= lr v), the rate times decay after every step."""
    lr, mu, decay = 0.02, 0.8, 0.9
    run = descend(QUADRATIC, lr, steps=4, momentum=mu, decay=decay)
    w, v = np.array(SURFACES[QUADRATIC].start), np.zeros(2)
    for k in range(4):
        g = np.array([w[0], 20 * w[1]])
        v = g if k == 0 else mu * v + g
        w = w - lr * decay ** k * v
        np.testing.assert_allclose(run.path[k + 1], w, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("lr, verdict", [(1e-3, "crawling"), (0.03, "converging"), (0.095, "bouncing"),
                                         (0.11, "diverged"), (0.5, "diverged")])
def test_quadratic_verdicts(lr, verdict):
    run = descend(QUADRATIC, lr, steps=100)
    assert run.verdict == verdict
    assert run.describe().startswith(verdict)


def test_stability_limit_is_two_over_the_largest_curvature():
    """Across the valley a step multiplies w2 by 1 - 20 lr: |.| < 1 exactly when lr < 2/20."""
    assert descend(QUADRATIC, 0.099, steps=300).verdict != "diverged"
    run = descend(QUADRATIC, 0.101, steps=300)
    assert run.verdict == "diverged" and run.diverged_at < 300
    assert len(run.path) == len(run.losses) == run.diverged_at + 1  # a diverged run stops where it diverged


def test_decay_rescues_a_run_that_starts_slightly_too_fast():
    assert descend(QUADRATIC, 0.105, steps=200).verdict == "diverged"
    assert descend(QUADRATIC, 0.105, steps=200, decay=0.9).verdict != "diverged"


def test_two_valleys_stuck_without_momentum_and_over_the_ridge_with_it():
    plain = descend("two valleys", 0.03, steps=100)
    assert plain.verdict == "stuck" and plain.path[-1][0] > 1  # the shallow valley, on the right
    assert "local minimum" in plain.describe()
    heavy = descend("two valleys", 0.03, steps=100, momentum=0.9)
    assert heavy.verdict == "converging" and heavy.path[-1][0] < -1


def test_non_finite_loss_is_named_diverged():
    cliff = Surface("cliff", lambda p: torch.where(p[..., 0] > 0, p[..., 0] ** 2, torch.log(p[..., 0] + 1)),
                    start=(0.5, 0.0), extent=(-1, 1, -1, 1), note="")
    # From x = 0.5, a step of lr 2 lands at -1.5 where log(x + 1) is nan.
    run = descend(cliff, 2.0, steps=10)
    assert run.verdict == "diverged" and not math.isfinite(run.losses[-1])
    assert "inf/nan" in run.describe()


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="steps"):
        descend(QUADRATIC, 0.1, steps=0)
    with pytest.raises(ValueError, match="unknown surface 'saddle'"):
        descend("saddle", 0.1)
