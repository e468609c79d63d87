"""How many labels transfer saves: frozen vs fine-tuned vs from scratch at 5 to 100 labelled images per class on the
offline experiment (Fashion-MNIST clothes -> shoes, bags and shirts), five seeds each (a seed draws other labelled
images and other random numbers), with the notebook's reference functions and settings; and the same at two budgets
on a split whose source is closer to its target (both halves hold tops and footwear)."""
import statistics
import time

import torch

from benchmarks.notebook import THREADS, solution_namespace
from helpers import transfer

SEEDS = (0, 1, 2, 3, 4)
#: The notebook's settings (section 5): up to 40 epochs, batches of 50, early stopping after 3 epochs.
EPOCHS, BATCH, PATIENCE = 40, 50, 3
#: Test images per class (of 1,000): enough for half a point of resolution, at half the cost of all of them.
TEST_PER_CLASS = 500
#: Budgets of the closer-source comparison (the full curve is run on the course's default split).
SOURCE_BUDGETS = (10, 50)
#: The issue's target: fine-tuned beats from scratch by at least this many points (mean) at 10 labels per class.
TARGET_GAIN_AT_10 = 10.0


def curve(name, budgets, ns):
    start = time.perf_counter()
    experiment = transfer.prepare_experiment(name, test_per_class=TEST_PER_CLASS)
    runs = transfer.label_budget_curve(experiment, ns["make_model"], ns["trainable_parameters"], ns["fit"],
                                       ns["evaluate"], budgets=budgets, seeds=SEEDS, epochs=EPOCHS,
                                       patience=PATIENCE, batch_size=BATCH)
    return experiment, runs, time.perf_counter() - start


def points(summary, k, mode):
    return round(100 * summary[k][mode]["mean"], 2)


def run():
    torch.set_num_threads(THREADS)
    ns = solution_namespace("transfer_learning")
    experiment, runs, seconds = curve("fashion_halves", transfer.LABEL_BUDGETS, ns)
    summary = transfer.budget_summary(runs)
    by_budget = {k: {mode: {"mean": points(summary, k, mode), "low": round(100 * s["low"], 2),
                            "high": round(100 * s["high"], 2)} for mode, s in modes.items()}
                 for k, modes in summary.items()}
    gap = {k: round(points(summary, k, "fine-tuned") - points(summary, k, "from scratch"), 2) for k in summary}
    early = {mode: {"runs_stopped_early": sum(r["epochs_run"] < EPOCHS for r in runs if r["mode"] == mode),
                    "runs": sum(r["mode"] == mode for r in runs),
                    "epochs_run_mean": round(statistics.mean(r["epochs_run"] for r in runs if r["mode"] == mode), 1)}
             for mode in transfer.MODES}
    sources = {}
    for name, task, source_runs in [(experiment.name, experiment.task,
                                     [r for r in runs if r["labels_per_class"] in SOURCE_BUDGETS]),
                                    ("fashion_mixed", *_mixed(ns))]:
        s = transfer.budget_summary(source_runs)
        sources[name] = {"task": task, "test_acc_mean": {k: {m: points(s, k, m) for m in s[k]} for k in s},
                         "gain_over_scratch_points": {k: {m: round(points(s, k, m) - points(s, k, "from scratch"), 2)
                                                          for m in ("frozen", "fine-tuned")} for k in s}}
    return {"experiment": experiment.task, "seeds": list(SEEDS),
            "settings": {"epochs": EPOCHS, "batch_size": BATCH, "patience": PATIENCE, "modes": transfer.MODES,
                         "test_images_per_class": TEST_PER_CLASS, "validation_images_per_class": "as many as labelled"},
            "budgets": [{k: r[k] for k in ("labels_per_class", "mode", "seed", "test_acc")} for r in runs],
            "test_acc_by_budget": by_budget, "fine_tuned_minus_scratch_points": gap,
            "target_gain_at_10_points": TARGET_GAIN_AT_10,
            "target_met": gap[10] >= TARGET_GAIN_AT_10 and gap[max(gap)] < gap[10],
            "early_stopping": early, "sources": sources, "curve_seconds": round(seconds),
            "torch_threads": THREADS}


def _mixed(ns):
    experiment, runs, _ = curve("fashion_mixed", SOURCE_BUDGETS, ns)
    return experiment.task, runs


def summary(f):
    gap, acc = f["fine_tuned_minus_scratch_points"], f["test_acc_by_budget"]
    curve_ = "; ".join(f"{k}: frozen {m['frozen']['mean']}%, fine-tuned {m['fine-tuned']['mean']}%, scratch "
                       f"{m['from scratch']['mean']}%" for k, m in acc.items())
    gains = "; ".join(f"{name} at {k}: frozen {g['frozen']:+}, fine-tuned {g['fine-tuned']:+}"
                      for name, s in f["sources"].items() for k, g in s["gain_over_scratch_points"].items())
    return (f"mean of {len(f['seeds'])} seeds by labels per class: {curve_}. Fine-tuned minus scratch: "
            + ", ".join(f"{k}: {v:+}" for k, v in gap.items())
            + f" (target at 10: +{f['target_gain_at_10_points']:g}, met: {f['target_met']}). Gains over scratch by "
            f"source: {gains}")
