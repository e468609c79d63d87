"""Shared helpers for the course notebooks: one short module per concern.

    grad     numeric gradients and relative errors
    data     CIFAR-10 / Fashion-MNIST loading, the toy problem, 2-D spirals and moons
    vis      plots: training curves, weight templates, sweeps, decision boundaries
    widgets  interactive learning-rate demos (explorer, descent on a surface, a toy net)
    surfaces 2-D loss surfaces and gradient descent on them (torch.optim.SGD), each run named
    library_net  the assignment's two-layer net from torch.nn/autograd/torch.optim, for the lab
    batched  many two-layer nets trained at once (torch.func.vmap over the student's own functions)
    transfer the transfer-learning experiment: data, backbones, model summaries
    utils    seeding, device choice (and where float64 runs), the grading budget, progress bars
    visible  visible checks: printed verdicts, recorded for the self-check; unwritten functions named plainly
    spies    stand-ins that watch a student's function (a training loop's batches and learning rates; an epoch's
             zero_grad/backward/step, modes and BatchNorm; fit on a scripted run)
    python_version  the oldest Python the kit runs on, checked first
    i18n     the course's language (helpers/course.toml) and its messages (gettext catalogues in helpers/locale)
    fonts    a font that shows the course's language in plots
    submit   the student's self-check and submission package (`python -m helpers.submit`)
"""
from helpers.python_version import MINIMUM_PYTHON  # first: it refuses, by name, a Python the kit does not run on
from helpers.fonts import use_course_font
from helpers.data import DatasetNotFoundError, get_toy_data, load_dataset
from helpers.grad import compute_numeric_gradient, grad_check_sparse, rel_error
from helpers.visible import install_notebook_hooks, loss_before_gradients, report_check, report_match, visible_check
from helpers.utils import (budget, float64_device, grading_budget, load_checkpoint, pick_device, progress, reset_seed,
                           save_checkpoint)

use_course_font()  # Chinese plot labels need a CJK font (nothing to do for an English course)

__all__ = [
    "MINIMUM_PYTHON",
    "DatasetNotFoundError", "get_toy_data", "load_dataset",
    "compute_numeric_gradient", "grad_check_sparse", "rel_error",
    "budget", "float64_device", "grading_budget", "load_checkpoint", "pick_device", "progress", "reset_seed",
    "save_checkpoint",
    "loss_before_gradients", "report_check", "report_match", "visible_check",
]

install_notebook_hooks()
