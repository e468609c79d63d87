"""When a loss curve has diverged, and how to say so: plotting-free (numpy only), so that code graded in the
sandbox, where helpers.vis is a do-nothing stand-in, judges runs the way the notebooks do.

``losses`` is a curve (n,): a sequence of numbers or 0-d tensors, a numpy array, or a torch tensor on any device.
"""
import math

import numpy as np

from helpers.i18n import _

#: A loss curve that grows above this many times its first value is called diverged.
DIVERGENCE_FACTOR = 10.0


def _as_array(losses):
    """losses (n,) as a 1-D float numpy array (a tensor as float32 on the CPU, without importing torch)."""
    if hasattr(losses, "detach"):
        return losses.detach().cpu().float().reshape(-1).numpy()
    return np.array([float(v) for v in losses], dtype=float)


def divergence_point(losses, factor=DIVERGENCE_FACTOR):
    """Index of the first loss in losses (n,) that is nan/inf or above ``factor`` times the first loss; else None."""
    losses = _as_array(losses)
    bad = ~np.isfinite(losses)
    if len(losses) and np.isfinite(losses[0]) and losses[0] > 0:
        bad |= losses > factor * losses[0]
    return int(np.argmax(bad)) if bad.any() else None


def divergence_message(losses, at, unit="iteration"):
    """How a loss curve (n,) diverged at index ``at``, e.g. 'diverged: the loss blew up to 268 at step 8', in the
    course's language (``unit``: "iteration" or "step"; another word is put in as it is)."""
    loss = float(losses[at])
    if not math.isfinite(loss):
        message = {"iteration": _("diverged: the loss became inf/nan at iteration {at}"),
                   "step": _("diverged: the loss became inf/nan at step {at}")}.get(
            unit, _("diverged: the loss became inf/nan at {unit} {at}"))
    else:
        message = {"iteration": _("diverged: the loss blew up to {loss} at iteration {at}"),
                   "step": _("diverged: the loss blew up to {loss} at step {at}")}.get(
            unit, _("diverged: the loss blew up to {loss} at {unit} {at}"))
    return message.format(loss=f"{loss:.3g}", unit=unit, at=at)


def is_diverged(losses, factor=DIVERGENCE_FACTOR):
    """True if losses (n,) contain nan/inf or grow above ``factor`` times the first loss."""
    return divergence_point(losses, factor) is not None
