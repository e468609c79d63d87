"""Learning-rate explorer: time from moving the slider to the redrawn figure, for new and already-seen rates."""
import contextlib
import io
import statistics
import time

import matplotlib

matplotlib.use("Agg")

from benchmarks.notebook import solution_namespace  # noqa: E402
from helpers import load_dataset, reset_seed  # noqa: E402
from helpers.widgets import learning_rate_explorer  # noqa: E402

INITIAL_LR = 1e-1
NEW_LRS = [10 ** e for e in (-3.5, -3, -2.5, -2, -1.5, -0.5, 0)]


def run():
    TwoLayerNet = solution_namespace()["TwoLayerNet"]
    data = load_dataset("fashion_mnist", num_train=2000)
    input_size, num_classes = data["X_train"].shape[1], len(data["class_names"])

    def loss_curve(learning_rate):
        # The notebook's lr_explorer cell, with its full (not grading) iteration count.
        reset_seed(0)
        small = TwoLayerNet(input_size, 64, num_classes, std=1e-2)
        return small.train(data["X_train"][:2000], data["y_train"][:2000], data["X_val"], data["y_val"],
                           num_iters=100, batch_size=200, learning_rate=learning_rate, reg=1e-4)["loss_history"]

    # Outside a kernel, display() prints the figure's repr: keep it off the table.
    with contextlib.redirect_stdout(io.StringIO()):
        explorer = learning_rate_explorer(loss_curve, lr_min=1e-4, lr_max=10.0, value=INITIAL_LR)
        uncached = [seconds_to_redraw(explorer, lr) for lr in NEW_LRS]
        cached = [seconds_to_redraw(explorer, lr) for lr in [INITIAL_LR, *NEW_LRS]]
    render = [seconds_to_png(explorer.figure) for _ in range(5)]
    return {"uncached_ms": _median_ms(uncached), "cached_ms": _median_ms(cached),
            "uncached_over_cached": round(statistics.median(uncached) / statistics.median(cached), 1),
            "png_render_ms": _median_ms(render), "moves": {"uncached": len(uncached), "cached": len(cached)},
            "training": {"images": 2000, "hidden": 64, "iterations": 100, "batch": 200}}


def seconds_to_redraw(explorer, lr):
    """Move the slider to `lr`; seconds until the explorer holds a new figure (its observer runs synchronously)."""
    before = explorer.figure
    start = time.perf_counter()
    explorer.slider.value = lr
    elapsed = time.perf_counter() - start
    if explorer.figure is before:
        raise RuntimeError(f"moving the slider to {lr:g} did not redraw the figure")
    return elapsed


def seconds_to_png(figure):
    """What displaying the figure inline in a notebook adds: rendering it to PNG."""
    start = time.perf_counter()
    figure.savefig(io.BytesIO(), format="png")
    return time.perf_counter() - start


def _median_ms(seconds):
    return round(1e3 * statistics.median(seconds), 1)


def summary(f):
    return (f"slider to redrawn figure: {f['uncached_ms']:.0f} ms for a new rate, {f['cached_ms']:.1f} ms for a "
            f"seen one (+{f['png_render_ms']:.0f} ms PNG render when shown inline)")
