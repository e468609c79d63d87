"""The solution notebook executed as nbgrader grades it (grading budget on, hidden tests included), against the grading
budget."""
from autograder import registry
from benchmarks.notebook import ASSIGNMENT, cell_seconds, execute, kernel_env, slowest


def run():
    # The hidden test of the best model evaluates a submitted checkpoint: the instructor's reference.
    side_files = registry.assignment(ASSIGNMENT).reference_files()
    nb, wall = execute(kernel_env(NBGRADER_EXECUTION="autograde"), cell_timeout=600, side_files=side_files)
    seconds = cell_seconds(nb)
    earned, possible = hidden_test_points(nb)
    return {"wall_seconds": round(wall, 1),
            "cells_total_seconds": round(sum(seconds.values()), 1),
            "target_seconds": registry.assignment(ASSIGNMENT).manifest.budgets.grading_seconds,
            "slowest_cells_seconds": slowest(seconds),
            "hidden_test_points": earned, "hidden_test_max_points": possible}


def hidden_test_points(nb):
    """Points the graded cells returned (nbgrader reads a cell's value as its partial credit), and their maximum."""
    earned = possible = 0
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade") and cell.cell_type == "code":
            possible += cell.metadata.nbgrader.points
            results = [o for o in cell.outputs if o.output_type == "execute_result"]
            earned += float(results[0].data["text/plain"]) if results else 0
    return earned, possible


def summary(f):
    cell, s = next(iter(f["slowest_cells_seconds"].items()))
    return (f"{f['wall_seconds']:.1f} s (target {f['target_seconds']} s), slowest cell {cell} {s:.1f} s, "
            f"hidden tests {f['hidden_test_points']:g}/{f['hidden_test_max_points']:g} points")
