"""The notebook's "Going further" search (24 two-layer nets) trained one after another, as find_best_net does, and
together by helpers.batched.train_together, in one run on Fashion-MNIST: seconds, ratio, and how closely the results
agree.

In float32 the two ways add up matrix products in different orders, so their losses agree to rounding (about 1e-7)
over the first iterations, then drift apart as SGD amplifies those differences (within tens of iterations at the
largest learning rates, where training is least stable); tests/test_batched.py checks agreement to 1e-10 in float64.
"""
import time

import torch

from benchmarks.notebook import solution_namespace
from helpers.batched import grid, train_together
from helpers.data import load_dataset
from helpers.utils import reset_seed

# The notebook's batched_search cell: 4 learning rates x 2 hidden sizes x 3 regs, 2000 iterations of 200 images.
CONFIGS = grid([0.03, 0.1, 0.3, 1.0], [64, 256], [1e-5, 1e-4, 1e-3], [0.95])
NUM_ITERS, BATCH_SIZE, STD, SEED = 2000, 200, 1e-2, 0
ROUNDS = 2  # loop and batched alternate, so that both meet the same machine load; the faster round counts
EARLY = 100  # iterations over which the losses are compared before rounding differences grow
TARGETS = {"cpu": 1.3, "cuda": 15.0}


def run():
    solution = solution_namespace()
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    figures = {"configs": len(CONFIGS), "hidden_sizes": sorted({c["hidden_size"] for c in CONFIGS}),
               "num_iters": NUM_ITERS, "batch_size": BATCH_SIZE, "threads": torch.get_num_threads(),
               "gpu": "CUDA measured" if "cuda" in devices else "none lent for this run: CUDA not measured"}
    for device in devices:
        data = load_dataset("fashion_mnist", device=device)
        figures["shapes"] = {"N_train": data["X_train"].shape[0], "N_val": data["X_val"].shape[0],
                             "D": data["X_train"].shape[1], "C": len(data["class_names"])}
        figures[device] = compare(solution, data, device)
    return figures


def compare(solution, data, device):
    """Seconds of both ways per hidden size (fastest of ROUNDS) and the largest difference in their losses."""
    by_size = {}
    for size in sorted({c["hidden_size"] for c in CONFIGS}):
        configs = [c for c in CONFIGS if c["hidden_size"] == size]
        seconds = {"loop": [], "together": []}
        for _ in range(ROUNDS):
            alone, seconds_loop = timed(lambda: one_at_a_time(solution, configs, data, device), device)
            runs, seconds_together = timed(lambda: together(solution, configs, data, device), device)
            seconds["loop"].append(seconds_loop)
            seconds["together"].append(seconds_together)
        early, final = (max(abs(a - b) for (stats, _), run in zip(alone, runs)
                            for a, b in zip(stats["loss_history"][:n], run.stats["loss_history"][:n]))
                        for n in (EARLY, NUM_ITERS))
        same_val_acc = sum(val_acc == run.val_acc for (_, val_acc), run in zip(alone, runs))
        loop, both = min(seconds["loop"]), min(seconds["together"])
        by_size[size] = {"K": len(configs), "loop_seconds": round(loop, 2), "together_seconds": round(both, 2),
                         "loop_over_together": round(loop / both, 2),
                         f"max_loss_difference_first_{EARLY}_iterations": float(f"{early:.2g}"),
                         "max_loss_difference": float(f"{final:.2g}"),
                         "same_final_val_acc": f"{same_val_acc} of {len(runs)}",
                         "best_val_acc": round(max(run.val_acc for run in runs), 4)}
    loop, both = (sum(s[key] for s in by_size.values()) for key in ("loop_seconds", "together_seconds"))
    return {"loop_seconds": round(loop, 1), "together_seconds": round(both, 1),
            "loop_over_together": round(loop / both, 2), "target_ratio": TARGETS[device], "by_hidden_size": by_size}


def one_at_a_time(solution, configs, data, device):
    """(stats, final validation accuracy) of each configuration trained alone by the solution's TwoLayerNet.train."""
    results = []
    for c in configs:
        reset_seed(SEED)
        net = solution["TwoLayerNet"](data["X_train"].shape[1], c["hidden_size"], len(data["class_names"]),
                                      device=device, std=STD)
        stats = net.train(data["X_train"], data["y_train"], data["X_val"], data["y_val"], c["learning_rate"],
                          c["learning_rate_decay"], c["reg"], NUM_ITERS, BATCH_SIZE)
        results.append((stats, (net.predict(data["X_val"]) == data["y_val"]).float().mean().item()))
    return results


def together(solution, configs, data, device):
    D, C = data["X_train"].shape[1], len(data["class_names"])
    return train_together(solution["nn_forward_backward"],
                          lambda size: solution["TwoLayerNet"](D, size, C, device=device, std=STD).params,
                          configs, data, NUM_ITERS, BATCH_SIZE, seed=SEED)


def timed(work, device):
    start = time.perf_counter()
    result = work()
    if device == "cuda":
        torch.cuda.synchronize()
    return result, time.perf_counter() - start


def summary(f):
    parts = []
    for device in ("cpu", "cuda"):
        if device in f:
            d = f[device]
            sizes = ", ".join(f"hidden {size}: x{s['loop_over_together']:.2f}"
                              for size, s in d["by_hidden_size"].items())
            parts.append(f"{device}: {f['configs']} nets one after another {d['loop_seconds']:.0f} s, together "
                         f"{d['together_seconds']:.0f} s, x{d['loop_over_together']:.2f} "
                         f"(target x{d['target_ratio']:g}; {sizes})")
    if "cuda" not in f:
        parts.append("no GPU lent: CUDA not measured")
    return "; ".join(parts)
