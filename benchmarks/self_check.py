"""The student's self-check (`python -m helpers.submit NOTEBOOK --student ID`) on each graded assignment's solution
notebook, as a student runs it on a 2-core CPU: wall time of the whole command (kernel start, the rerun under the
grading budget, writing the package), beside the time the rerun itself reports and the package's size."""
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from autograder import registry
from autograder.grade.canary import reference_submission
from autograder.registry import COURSE_ROOT
from helpers.submit import package_name

REPEATS = 3


def _student_folder(assignment, folder):
    """A student's folder: the solved notebook and the reference's side files."""
    notebook, side_files = reference_submission(COURSE_ROOT, assignment)
    nbformat.write(notebook, folder / registry.assignment(assignment).notebook)
    for name, path in side_files.items():
        shutil.copy(path, folder / name)


def _once(assignment, folder):
    start = time.perf_counter()
    notebook = registry.assignment(assignment).notebook
    done = subprocess.run([sys.executable, "-m", "helpers.submit", notebook, "--student", "bench"],
                          cwd=folder, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    reported = float(done.stdout.split("ran top to bottom in ")[1].split(" s")[0])
    return wall, reported


def run():
    figures = {}
    for assignment in registry.names(graded=True):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            _student_folder(assignment, folder)
            runs = [_once(assignment, folder) for _ in range(REPEATS)]
            package = folder / package_name("bench", assignment)
            figures[assignment] = {
                "command_seconds": [round(w, 1) for w, _ in runs],
                "command_median_seconds": round(statistics.median(w for w, _ in runs), 1),
                "rerun_reported_seconds": [r for _, r in runs],
                "grading_target_seconds": registry.assignment(assignment).manifest.budgets.grading_seconds,
                "package_bytes": package.stat().st_size,
            }
    return figures


def summary(f):
    return "; ".join(f"{name}: {v['command_median_seconds']:.0f} s median of {REPEATS} (rerun "
                     f"{statistics.median(v['rerun_reported_seconds']):.0f} s)" for name, v in f.items())
