"""The solution notebook executed as a student runs it on a laptop CPU (grading budget off), with the accuracies it
prints, against the student budget."""
import re

from autograder import registry
from benchmarks.notebook import ASSIGNMENT, cell_seconds, execute, kernel_env, printed, slowest, stdout_of

# grade_id of the cell -> what it prints, with the accuracy in percent as the group.
ACCURACIES = {
    "default_net": r"Validation accuracy: ([\d.]+)%",
    "debugged_net": r"debugged ([\d.]+)%",
    "run_search": r"Best validation accuracy: ([\d.]+)%",
    "test_accuracy": r"Test accuracy .*: ([\d.]+)%",
    "linear_baseline": r"Linear SVM validation accuracy: ([\d.]+)%",
}

# The cells whose printed numbers the notebook's prose quotes ("in the kit's run"; tests/test_notebook_prose.py).
PRINTED = ("default_net", "init_scale", "sweep_hidden", "sweep_reg", "debugged_net", "run_search", "test_accuracy",
           "linear_baseline", "data_size", "together", "batched_search")


def run():
    nb, wall = execute(kernel_env(COURSE_GRADING_BUDGET="0"), cell_timeout=900)
    seconds = cell_seconds(nb)
    dataset = re.search(r"Test accuracy of the best network on (\w+)", stdout_of(nb, "test_accuracy"))
    return {"wall_seconds": round(wall, 1),
            "cells_total_seconds": round(sum(seconds.values()), 1),
            "target_seconds": registry.assignment(ASSIGNMENT).manifest.budgets.student_seconds,
            "slowest_cells_seconds": slowest(seconds),
            "dataset": dataset.group(1) if dataset else None,
            "accuracy_percent": {gid: _percent(pattern, stdout_of(nb, gid)) for gid, pattern in ACCURACIES.items()},
            "printed": printed(nb, PRINTED)}


def _percent(pattern, text):
    found = re.search(pattern, text)
    return float(found.group(1)) if found else None


def summary(f):
    acc = f["accuracy_percent"]
    return (f"{f['wall_seconds']:.0f} s (target {f['target_seconds']} s) on {f['dataset']}: "
            f"default net {acc['default_net']}%, debugged {acc['debugged_net']}%, best val {acc['run_search']}%, "
            f"test {acc['test_accuracy']}%, "
            f"linear SVM {acc['linear_baseline']}%")
