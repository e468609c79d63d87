"""Frozen vs fine-tuned vs from scratch on the offline experiment (Fashion-MNIST classes A -> B, 100 labelled images per class), with the notebook's reference functions and settings, over three seeds; and what training the source network costs."""
import statistics
import time

import torch

from benchmarks.notebook import THREADS, solution_namespace
from helpers import transfer

SEEDS = (0, 1, 2)
#: The issue's target: frozen-from-A and fine-tuned-from-A each beat from-scratch by this many accuracy points.
TARGET_POINTS = 5.0


def run():
    torch.set_num_threads(THREADS)
    start = time.perf_counter()
    source = transfer.source_model()  # trained here when not cached yet
    source_seconds = time.perf_counter() - start
    experiment = transfer.prepare_experiment("fashion_halves")
    ns = solution_namespace("transfer_learning")
    per_seed = {mode: [] for mode in transfer.MODES}
    rows = {}
    for seed in SEEDS:
        _, results = transfer.compare_modes(experiment, ns["make_model"], ns["trainable_parameters"], ns["fit"],
                                            ns["evaluate"], epochs=20, seed=seed)
        for mode, r in results.items():
            per_seed[mode].append(r)
    for mode, runs in per_seed.items():
        accs = [100 * r["test_acc"] for r in runs]
        rows[mode] = {"test_acc_mean": round(statistics.mean(accs), 2), "test_acc_stdev": round(statistics.stdev(accs), 2),
                      "test_acc_per_seed": [round(a, 2) for a in accs],
                      "epochs_run": [r["epochs_run"] for r in runs], "best_epoch": [r["best_epoch"] for r in runs],
                      "seconds_mean": round(statistics.mean(r["seconds"] for r in runs), 1),
                      "trainable": runs[0]["trainable"]}
    scratch = rows["from scratch"]["test_acc_mean"]
    return {"experiment": experiment.description, "seeds": list(SEEDS), "modes": rows,
            "gain_over_scratch_points": {m: round(rows[m]["test_acc_mean"] - scratch, 2) for m in ("frozen", "fine-tuned")},
            "target_gain_points": TARGET_POINTS,
            "source_network": {"val_accuracy_on_A": round(100 * source["val_accuracy"], 2), "settings": source["settings"],
                               "seconds_this_run": round(source_seconds, 1)},
            "torch_threads": THREADS}


def summary(f):
    m, g = f["modes"], f["gain_over_scratch_points"]
    return (f"test accuracy (mean of {len(f['seeds'])} seeds): frozen {m['frozen']['test_acc_mean']}%, fine-tuned "
            f"{m['fine-tuned']['test_acc_mean']}%, from scratch {m['from scratch']['test_acc_mean']}%; gain over scratch "
            f"{g['frozen']:+} / {g['fine-tuned']:+} points (target +{f['target_gain_points']:g})")
