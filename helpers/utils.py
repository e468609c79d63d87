"""Small utilities every notebook needs: seeding, device choice, the grading budget, progress bars."""
import os
import random
import zipfile

import numpy as np
import torch
from tqdm.auto import tqdm

#: Environment variable that forces the grading budget on ("1") or off ("0") outside nbgrader.
BUDGET_ENV = "COURSE_GRADING_BUDGET"
#: Largest checkpoint load_checkpoint unpacks: far above any two-layer net of the course (a few MB).
MAX_CHECKPOINT_BYTES = 256 * 2**20


def reset_seed(seed=0):
    """Seed Python's, NumPy's and PyTorch's (CPU and CUDA) random generators so a run can be repeated."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def pick_device(prefer=None):
    """Return the best available torch.device: CUDA, then Apple MPS, then CPU.

    `prefer` ('cpu', 'cuda', 'mps' or a torch.device) overrides the choice when that device exists.
    """
    if prefer is not None:
        device = torch.device(prefer)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("CUDA was asked for but torch.cuda.is_available() is False")
        if device.type == "mps" and not _mps_available():
            raise RuntimeError("MPS was asked for but this machine has no Apple GPU backend")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def supports_float64(device):
    """True when `device` can hold float64 tensors (CPU and CUDA can; Apple's MPS cannot)."""
    try:
        torch.zeros((), dtype=torch.float64, device=device)
    except (TypeError, RuntimeError):
        return False
    return True


def float64_device(device):
    """Where float64 work for `device` runs: `device` itself when it supports float64, else the CPU.

    Exact checks (numeric gradients, the toy problem) need float64; on an Apple GPU they run on the CPU instead,
    while everything else stays on the GPU.
    """
    device = torch.device(device)
    return device if supports_float64(device) else torch.device("cpu")


def _mps_available():
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def grading_budget():
    """True when heavy cells must shrink: under nbgrader (NBGRADER_EXECUTION set) or when forced.

    Set COURSE_GRADING_BUDGET=1 to rehearse grading conditions, or =0 to force full runs.
    """
    forced = os.environ.get(BUDGET_ENV, "").strip().lower()
    if forced in ("1", "true", "yes", "on"):
        return True
    if forced in ("0", "false", "no", "off"):
        return False
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def budget(full, grading):
    """Pick `full` normally and `grading` under the grading budget, e.g. ``num_iters = budget(3000, 30)``."""
    return grading if grading_budget() else full


def progress(iterable=None, total=None, desc=None, disable=None, **kwargs):
    """A tqdm.auto progress bar (a widget in Jupyter, text in a terminal), silent under grading."""
    if disable is None:
        disable = grading_budget()
    return tqdm(iterable, total=total, desc=desc, disable=disable, leave=False, **kwargs)


def save_checkpoint(path, params, dataset, **meta):
    """Save a dict of parameter tensors with the dataset they were trained on (and any plain metadata)."""
    torch.save({"params": {k: v.detach().cpu() for k, v in params.items()}, "dataset": dataset, "meta": meta}, path)


def load_checkpoint(path, device="cpu", max_bytes=MAX_CHECKPOINT_BYTES):
    """Load a checkpoint written by save_checkpoint; returns {'params': {name: tensor}, 'dataset': str, 'meta': dict}.

    Safe on files from anyone: weights_only loading, so a hostile file cannot run code; and before anything is
    inflated, the sizes the file's entries declare (torch.save's zip format) must add up to at most `max_bytes`,
    so a small file that would unpack to gigabytes is refused with its declared size.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            declared = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise ValueError(f"{os.path.basename(path)} is not a checkpoint written by save_checkpoint "
                         "(not in torch.save's format)") from None
    if declared > max_bytes:
        raise ValueError(f"the checkpoint declares {human_size(declared)} of tensors; the limit is "
                         f"{human_size(max_bytes)}")
    checkpoint = torch.load(path, map_location=device, weights_only=True)
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("params"), dict):
        raise ValueError(f"{path} is not a checkpoint written by save_checkpoint")
    return checkpoint


def confusion_matrix(predicted, labels, num_classes):
    """(num_classes, num_classes) counts: row = true class, column = predicted class; predicted, labels: (N,) ints."""
    predicted, labels = predicted.cpu(), labels.cpu()
    return torch.bincount(labels * num_classes + predicted, minlength=num_classes ** 2).view(num_classes, num_classes)


def human_size(nbytes):
    """A byte count for people, in binary units: ``human_size(5 * 2**30)`` is '5.0 GB', 256 * 2**20 is '256 MB'."""
    for unit, scale in (("GB", 2**30), ("MB", 2**20), ("kB", 2**10)):
        if nbytes >= scale:
            value = nbytes / scale
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{nbytes} bytes"
