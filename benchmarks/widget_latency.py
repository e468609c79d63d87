"""Learning-rate demos: time from a control's move to the new figure (rendered to PNG) and status line, for
settings never seen (uncached: the run is computed) and seen before (cached: only redrawn), and until the
kernel is free again (the demos hold Python's garbage collector off until the figure is out, so a collection
due may run after it). Targets on this CPU: descent demo <= 200 ms, toy net <= 500 ms a move."""
import gc
import statistics
import time

import matplotlib

matplotlib.use("Agg")

from benchmarks.notebook import solution_namespace
from helpers import load_dataset, reset_seed
from helpers.library_net import LibraryTwoLayerNet
from helpers.widgets import descent_demo, learning_rate_explorer, toy_net_demo

# (control, value) moves, in order: every control, the learning rate across its whole range.
DESCENT_MOVES = [("learning_rate", 10 ** e) for e in (-3, -2.5, -2, -1.5, -1.2, -1, -0.5)] + [
    ("momentum", 0.5), ("momentum", 0.9), ("decay", 0.95), ("steps", 150), ("steps", 300),
    ("surface", "two valleys"), ("learning_rate", 0.01), ("surface", "banana valley"), ("momentum", 0.0)]
TOY_MOVES = [("learning_rate", 10 ** e) for e in (-2, -1.5, -1, 0, 0.5, 1, 2)] + [
    ("learning_rate", 0.3), ("decay", 0.9), ("reg", 1e-5), ("reg", 1e-1), ("hidden_size", 8), ("hidden_size", 256),
    ("data_set", "moons")]
EXPLORER_LRS = [10 ** e for e in (-3.5, -3, -2.5, -2, -1.5, -0.5, 0)]


def run():
    TwoLayerNet = solution_namespace()["TwoLayerNet"]
    figures = {
        "descent": moves_timed(descent_demo(), DESCENT_MOVES),
        "toy_net_assignment_net": moves_timed(toy_net_demo(TwoLayerNet), TOY_MOVES),
        "toy_net_library_net": moves_timed(toy_net_demo(LibraryTwoLayerNet), TOY_MOVES),
        "two_layer_net_explorer": moves_timed(explorer(TwoLayerNet), [("slider", lr) for lr in EXPLORER_LRS]),
        "targets_ms": {"descent": 200, "toy_net": 500},
        "toy_net_training": {"points": 300, "iterations": 300, "batch": 50},
        "explorer_training": {"images": 2000, "hidden": 64, "iterations": 100, "batch": 200},
    }
    return figures


def explorer(TwoLayerNet):
    """two_layer_net's lr_explorer cell, with its full (not grading) iteration count."""
    data = load_dataset("fashion_mnist", num_train=2000)
    input_size, num_classes = data["X_train"].shape[1], len(data["class_names"])

    def loss_curve(learning_rate):
        reset_seed(0)
        small = TwoLayerNet(input_size, 64, num_classes, std=1e-2)
        return small.train(data["X_train"][:2000], data["y_train"][:2000], data["X_val"], data["y_val"],
                           num_iters=100, batch_size=200, learning_rate=learning_rate, reg=1e-4)["loss_history"]

    return learning_rate_explorer(loss_curve, lr_min=1e-4, lr_max=10.0, value=1e-1)


def moves_timed(demo, moves):
    """Make each move twice (the second time every setting is cached); milliseconds per move, median and worst."""
    start = dict((control, getattr(demo, control).value) for control, _ in moves)
    uncached = [seconds_to_redraw(demo, control, value) for control, value in moves]
    for control, value in start.items():  # back to the start, then the same moves again
        getattr(demo, control).value = value
    cached = [seconds_to_redraw(demo, control, value) for control, value in moves]
    return {"uncached_ms": _summary_ms([shown for shown, _ in uncached]),
            "cached_ms": _summary_ms([shown for shown, _ in cached]),
            "uncached_until_free_ms": _summary_ms([free for _, free in uncached]),
            "cached_until_free_ms": _summary_ms([free for _, free in cached]), "moves": len(moves),
            "each_move_ms": [[control, value, round(1e3 * new[0], 1), round(1e3 * seen[0], 1)]
                             for (control, value), new, seen in zip(moves, uncached, cached)]}


def seconds_to_redraw(demo, control, value):
    """Set the control (its observer redraws synchronously); (seconds until the new PNG and status are sent,
    seconds until the kernel is free again)."""
    before = demo.image.value
    begin = time.perf_counter()
    getattr(demo, control).value = value
    # A young-generation collection, as the allocator runs one; a full collection held off during the redraw
    # runs at whichever allocation next finds it due: usually within this call, else in the next move's time.
    gc.collect(0)
    free = time.perf_counter() - begin
    if demo.image.value == before:
        raise RuntimeError(f"moving {control} to {value!r} did not redraw the figure")
    return demo.redraw_seconds, free


def _summary_ms(seconds):
    return {"median": round(1e3 * statistics.median(seconds), 1), "max": round(1e3 * max(seconds), 1)}


def summary(f):
    def part(name):
        return f"{f[name]['uncached_ms']['median']:.0f}/{f[name]['cached_ms']['median']:.0f} ms"
    worst = {name: f[name]["uncached_ms"]["max"] for name in ("descent", "toy_net_assignment_net")}
    return (f"move to redraw, new/seen setting (median): descent {part('descent')} (target 200), toy net on the "
            f"assignment's net {part('toy_net_assignment_net')}, on the library net {part('toy_net_library_net')} "
            f"(target 500), two_layer_net explorer {part('two_layer_net_explorer')}; worst new move: descent "
            f"{worst['descent']:.0f} ms, toy net {worst['toy_net_assignment_net']:.0f} ms")
