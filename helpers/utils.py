"""Small utilities every notebook needs: seeding, device choice, the grading budget, progress bars, and what a
hyper-parameter search will cost on this machine."""
import os
import random
import time
import unicodedata
import zipfile

import numpy as np
import torch
from tqdm.auto import tqdm

from helpers.i18n import _, ngettext

#: Environment variable that forces the grading budget on ("1") or off ("0") outside nbgrader.
BUDGET_ENV = "COURSE_GRADING_BUDGET"
#: Largest checkpoint load_checkpoint unpacks: far above any two-layer net of the course (a few MB).
MAX_CHECKPOINT_BYTES = 256 * 2**20


def display_width(text):
    """Columns `text` takes in a terminal or a monospaced output cell: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in str(text))


def pad(text, width, align="<"):
    """`text` padded with spaces to `width` display columns (align "<" left, ">" right), as f"{text:<{width}}"
    pads English; a text already as wide or wider is returned as it is."""
    text = str(text)
    fill = " " * max(width - display_width(text), 0)
    return text + fill if align == "<" else fill + text


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
            raise RuntimeError(_("CUDA was asked for but torch.cuda.is_available() is False"))
        if device.type == "mps" and not _mps_available():
            raise RuntimeError(_("MPS was asked for but this machine has no Apple GPU backend"))
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
        raise ValueError(_("{name} is not a checkpoint written by save_checkpoint (not in torch.save's format)").format(
            name=os.path.basename(path))) from None
    if declared > max_bytes:
        raise ValueError(_("the checkpoint declares {size} of tensors; the limit is {limit}").format(
            size=human_size(declared), limit=human_size(max_bytes)))
    checkpoint = torch.load(path, map_location=device, weights_only=True)
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("params"), dict):
        raise ValueError(_("{path} is not a checkpoint written by save_checkpoint").format(path=path))
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
    return _("{count} bytes").format(count=nbytes)


#: Iteration counts per configuration at which describe_search_cost states a search's total time.
SEARCH_ITERATIONS = (1000, 5000, 20000)


def estimate_search_cost(net_class, data, param_set, num_iters=300, batch_size=200, warmup_iters=1,
                         iterations=SEARCH_ITERATIONS):
    """Time a short training run of `net_class` per hidden size of `param_set` and extrapolate to the whole grid.

    Inputs:
    - net_class: your TwoLayerNet (built as net_class(D, H, C, dtype=..., device=..., std=1e-2), trained with its
      own train(X, y, X_val, y_val, learning_rate=, learning_rate_decay=, reg=, num_iters=, batch_size=))
    - data: dict with X_train (N, D), y_train (N,), X_val (N_val, D), y_val (N_val,); the networks are built on
      X_train's device and dtype, so the timing is that of the device the search will run on; the classes are
      counted by its class_names where it has them, else from the labels
    - param_set: get_param_set()'s (learning_rates, hidden_sizes, regularization_strengths, learning_rate_decays)
    - num_iters: iterations timed per hidden size (after one warm-up run of warmup_iters, not counted)
    - batch_size: the minibatch size of the search's training runs
    - iterations: iterations per configuration at which to state the grid's total

    Returns a dict:
    - combinations: the number of configurations, the product of the four lists' lengths
    - counts: {hidden size: configurations with that hidden size}
    - seconds_per_1000: {hidden size: seconds per 1,000 iterations}, measured with time.perf_counter()
    - total_seconds: {iterations: estimated seconds for the whole grid, one configuration after another}
    - num_iters, batch_size, device: what was timed, and where
    Timing uses the first learning rate, regularisation strength and decay of the lists and leaves the random
    number generators as it found them.
    """
    learning_rates, hidden_sizes, regs, decays = (list(values) for values in param_set)
    combinations = len(learning_rates) * len(hidden_sizes) * len(regs) * len(decays)
    if combinations == 0:
        raise ValueError(_("get_param_set() gives no combinations to search: each of its four lists needs at least "
                           "one value"))
    if num_iters < 1 or warmup_iters < 0 or batch_size < 1:
        raise ValueError(_("num_iters and batch_size should be positive and warmup_iters >= 0; got {num_iters}, "
                           "{batch_size} and {warmup_iters}").format(num_iters=num_iters, batch_size=batch_size,
                                                                     warmup_iters=warmup_iters))
    X, y, X_val, y_val = data["X_train"], data["y_train"], data["X_val"], data["y_val"]
    num_classes = (len(data["class_names"]) if "class_names" in data
                   else int(torch.cat([y, y_val]).max()) + 1)
    per_hidden = len(learning_rates) * len(regs) * len(decays)
    counts = {}  # configurations per distinct hidden size, in the order of first appearance
    for size in hidden_sizes:
        counts[int(size)] = counts.get(int(size), 0) + per_hidden
    settings = dict(learning_rate=learning_rates[0], reg=regs[0], learning_rate_decay=decays[0],
                    batch_size=batch_size)

    def timed_run(hidden_size, iters):
        net = net_class(X.shape[1], hidden_size, num_classes, dtype=X.dtype, device=X.device, std=1e-2)
        _synchronize(X.device)
        start = time.perf_counter()
        net.train(X, y, X_val, y_val, num_iters=iters, **settings)
        _synchronize(X.device)
        return time.perf_counter() - start

    seconds_per_1000 = {}
    cuda = [X.device] if X.device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        for hidden_size in counts:
            if warmup_iters:
                timed_run(hidden_size, warmup_iters)
            seconds_per_1000[hidden_size] = 1000 * timed_run(hidden_size, num_iters) / num_iters
    seconds_per_iteration = sum(counts[h] * seconds_per_1000[h] for h in counts) / 1000
    return {"combinations": combinations, "counts": counts, "seconds_per_1000": seconds_per_1000,
            "total_seconds": {n: n * seconds_per_iteration for n in iterations},
            "num_iters": num_iters, "batch_size": batch_size, "device": str(X.device)}


def describe_search_cost(cost, long_seconds=1800):
    """The report of estimate_search_cost's dict `cost`, as lines of text to print; a grid whose estimate at the
    most iterations passes `long_seconds` gets advice on making it smaller."""
    counts = cost["counts"]
    lines = [_("Timed {num_iters} iterations of batch {batch_size} of your TwoLayerNet on {device}, per hidden "
               "size:").format(num_iters=cost["num_iters"], batch_size=cost["batch_size"], device=cost["device"])]
    lines += ["  " + _("hidden {hidden_size}: {seconds} s per 1,000 iterations ({combinations})").format(
        hidden_size=h, seconds=f"{cost['seconds_per_1000'][h]:.1f}", combinations=_combinations(counts[h]))
        for h in counts]
    lines.append(_("Your grid: {combinations}. Estimated time for the search, one network after another:").format(
        combinations=_combinations(cost["combinations"])))
    width = max(len(f"{n:,}") for n in cost["total_seconds"])
    lines += ["  " + _("{iterations} iterations each: about {duration}").format(iterations=f"{n:>{width},}",
                                                                                duration=human_duration(seconds))
              for n, seconds in cost["total_seconds"].items()]
    lines.append(_("The cost driver is iterations x hidden size x combinations: fewer iterations or combinations cut "
                   "it in proportion, a smaller hidden size cuts the time of each iteration."))
    if max(cost["total_seconds"].values()) > long_seconds:
        lines.append(_("That is long for a laptop: search a few values at fewer iterations, then train the best "
                       "settings longer (helpers.batched.train_together trains many settings at once)."))
    return "\n".join(lines)


def human_duration(seconds):
    """A duration for people: ``human_duration(42)`` is '42 s', 300 is '5.0 min', 11000 is '3.1 h'."""
    if seconds < 0.995:
        return _("{value} s").format(value=f"{seconds:.2g}")
    if seconds < 9.95:
        return _("{value} s").format(value=f"{seconds:.1f}")
    if seconds < 90:
        return _("{value} s").format(value=f"{seconds:.0f}")
    if seconds < 90 * 60:
        return _("{value} min").format(value=f"{seconds / 60:.1f}")
    return _("{value} h").format(value=f"{seconds / 3600:.1f}")


def _combinations(count):
    """'1 combination', '1,200 combinations'."""
    return ngettext("{count} combination", "{count} combinations", count).format(count=f"{count:,}")


def _synchronize(device):
    """Wait for the work queued on a GPU, so a clock read after it counts that work."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()
