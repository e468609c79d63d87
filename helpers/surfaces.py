"""2-D loss surfaces for the learning-rate lab, and gradient descent on them with torch.optim.

``descend(surface, learning_rate, steps, momentum, decay)`` runs ``torch.optim.SGD`` (momentum as torch
defines it) from the surface's start point, the rate multiplied by ``decay`` after every step
(``ExponentialLR``), and returns the path, the losses and a verdict naming what the run did: crawling,
converging, bouncing, settled in a local minimum, or diverged.
"""
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch

from helpers.curves import DIVERGENCE_FACTOR, divergence_message
from helpers.i18n import _, lazy

#: A run is called diverged when its loss is not finite, its point leaves this box, or its gap to the minimum
#: grows above DIVERGENCE_FACTOR (helpers.curves) times the starting gap.
ESCAPE_RADIUS = 1e6
#: Fraction of the starting gap to the minimum still left at the end for a run to be called crawling.
CRAWLING_LEFT = 0.1
#: Fraction of successive steps that reverse direction for a run to be called bouncing.
BOUNCING_REVERSALS = 0.3
#: A run whose last gradient is this small (relative to its first) has stopped at a stationary point.
STATIONARY_GRADIENT = 1e-3


@dataclass(frozen=True)
class Surface:
    """A loss f(point) over the plane. func maps (..., 2) float64 tensors to (...) losses."""
    name: str
    func: object
    start: tuple
    extent: tuple  # (x_min, x_max, y_min, y_max) of the plot
    note: str

    def __call__(self, points):
        return self.func(points)

    @cached_property
    def grid(self):
        """(X (n, n), Y (n, n), Z (n, n)) numpy arrays of the loss over the plot's extent, for contours."""
        x_min, x_max, y_min, y_max = self.extent
        xs = torch.linspace(x_min, x_max, 160, dtype=torch.float64)
        ys = torch.linspace(y_min, y_max, 160, dtype=torch.float64)
        X, Y = torch.meshgrid(xs, ys, indexing="xy")
        Z = self.func(torch.stack([X, Y], dim=-1))
        return X.numpy(), Y.numpy(), Z.numpy()

    @cached_property
    def minimum(self):
        """The lowest loss (float), found by L-BFGS from the lowest grid point."""
        X, Y, Z = self.grid
        row, col = np.unravel_index(np.argmin(Z), Z.shape)
        point = torch.tensor([X[row, col], Y[row, col]], dtype=torch.float64, requires_grad=True)
        optimizer = torch.optim.LBFGS([point], max_iter=100, tolerance_grad=1e-12, tolerance_change=1e-15,
                                      line_search_fn="strong_wolfe")

        def closure():
            optimizer.zero_grad()
            loss = self.func(point)
            loss.backward()
            return loss

        optimizer.step(closure)
        lowest = min(float(self.func(point.detach())), float(Z.min()))
        return 0.0 if abs(lowest) < 1e-12 else lowest


def _quadratic(p):
    x, y = p[..., 0], p[..., 1]
    return 0.5 * (x ** 2 + 20.0 * y ** 2)


def _two_valleys(p):
    x, y = p[..., 0], p[..., 1]
    return 0.25 * x ** 4 - x ** 2 + 0.3 * x + y ** 2


def _banana(p):
    x, y = p[..., 0], p[..., 1]
    return (1 - x) ** 2 + 10.0 * (y - x ** 2) ** 2


SURFACES = {surface.name: surface for surface in (
    Surface("ill-conditioned quadratic", _quadratic, start=(-4.5, 1.2), extent=(-5.0, 5.0, -2.0, 2.0),
            note=lazy.gettext("0.5 (x² + 20 y²): 20 times steeper across the valley than along it; "
                              "plain gradient descent is stable only for learning rates below 2/20 = 0.1")),
    Surface("two valleys", _two_valleys, start=(2.3, 1.5), extent=(-2.5, 2.8, -2.0, 2.0),
            note=lazy.gettext("x⁴/4 − x² + 0.3 x + y²: a shallow valley on the right, a deeper one on the left; "
                              "momentum can carry a run over the ridge")),
    Surface("banana valley", _banana, start=(-1.5, 2.0), extent=(-2.0, 2.0, -1.0, 3.0),
            note=lazy.gettext("(1 − x)² + 10 (y − x²)²: a curved valley (Rosenbrock's, flattened); "
                              "the minimum is at (1, 1)")),
)}


def verdict_name(verdict):
    """A run's verdict (Descent.verdict: 'diverged', 'stuck', ...) in the course's language, for display."""
    names = {"diverged": _("diverged"), "stuck": _("stuck"), "crawling": _("crawling"), "bouncing": _("bouncing"),
             "converging": _("converging")}
    return names.get(verdict, verdict)


@dataclass
class Descent:
    """One run: path (k+1, 2), losses (k+1,) and gradient norms (k+1,) numpy arrays, k <= steps (a diverged
    run stops early)."""
    path: np.ndarray
    losses: np.ndarray
    gradient_norms: np.ndarray
    minimum: float
    steps: int
    diverged_at: int | None

    @property
    def verdict(self):
        """One of 'diverged', 'stuck' (in a local minimum), 'crawling', 'bouncing', 'converging'."""
        if self.diverged_at is not None:
            return "diverged"
        stopped = self.gradient_norms[-1] <= STATIONARY_GRADIENT * self.gradient_norms[0]
        if self.gap_left > CRAWLING_LEFT and stopped:
            return "stuck"
        if self.reversals > BOUNCING_REVERSALS:
            return "bouncing"
        return "crawling" if self.gap_left > CRAWLING_LEFT else "converging"

    @property
    def gap_left(self):
        """Fraction of the starting gap to the minimum still left at the end (0 = at the minimum)."""
        gaps = self.losses - self.minimum
        return float(gaps[-1] / gaps[0]) if gaps[0] > 0 else 0.0

    @property
    def reversals(self):
        """Fraction of successive steps that point backwards (negative dot product): zigzags and overshoots."""
        moves = np.diff(self.path, axis=0)
        moves = moves[np.linalg.norm(moves, axis=1) > 1e-12]
        if len(moves) < 2:
            return 0.0
        return float(np.mean(np.sum(moves[1:] * moves[:-1], axis=1) < 0))

    def describe(self):
        """A sentence naming what the run did, with its numbers."""
        if self.diverged_at is not None:
            return divergence_message(self.losses, self.diverged_at, "step")
        final = _("loss {loss} after {steps} steps (lowest possible {minimum})").format(
            loss=f"{self.losses[-1]:.4g}", steps=self.steps, minimum=f"{self.minimum:.4g}")
        progress, reversals = f"{1 - self.gap_left:.0%}", f"{self.reversals:.0%}"
        if self.verdict == "stuck":
            return _("stuck in a local minimum: the gradient is ~0 but the lowest point is elsewhere; {final}").format(
                final=final)
        if self.verdict == "crawling":
            return _("crawling: {progress} of the way down; {final}").format(progress=progress, final=final)
        if self.verdict == "bouncing":
            return _("bouncing: {reversals} of the steps turn back, {progress} of the way down; {final}").format(
                reversals=reversals, progress=progress, final=final)
        return _("converging: {final}").format(final=final)


def descend(surface, learning_rate, steps=100, momentum=0.0, decay=1.0, start=None):
    """Run torch.optim.SGD on ``surface`` (a Surface or a name in SURFACES) and return a Descent."""
    if isinstance(surface, str):
        if surface not in SURFACES:
            raise ValueError(_("unknown surface {surface}: choose one of {names}").format(
                surface=repr(surface), names=", ".join(SURFACES)))
        surface = SURFACES[surface]
    if steps < 1:
        raise ValueError(_("steps must be at least 1, got {steps}").format(steps=steps))
    point = torch.tensor(start or surface.start, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([point], lr=learning_rate, momentum=momentum)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=decay)
    minimum = surface.minimum
    path, losses, gradient_norms = [point.detach().numpy().copy()], [], []
    diverged_at = None
    for step in range(steps + 1):
        optimizer.zero_grad()
        loss = surface(point)
        loss.backward()
        losses.append(loss.item())
        gradient_norms.append(point.grad.norm().item())
        if not np.isfinite(losses[-1]) or np.abs(path[-1]).max() > ESCAPE_RADIUS or \
                losses[-1] - minimum > DIVERGENCE_FACTOR * (losses[0] - minimum):
            diverged_at = step
            break
        if step == steps:
            break
        optimizer.step()
        scheduler.step()
        path.append(point.detach().numpy().copy())
    return Descent(np.array(path), np.array(losses), np.array(gradient_norms), minimum, steps, diverged_at)
