"""The student's self-check (`python -m helpers.submit NOTEBOOK --student ID`) on each graded assignment's solution notebook, as a student runs it on a 2-core CPU: wall time of the whole command (kernel start, the rerun under the grading budget, writing the package), beside the time the rerun itself reports and the package's size."""
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from autograder.course import COURSE_ROOT, manifest
from autograder.notebooks import read_notebook, reference_answers, submission
from autograder.reference_model import reference_checkpoint
from helpers.submit import package_name

ASSIGNMENTS = ("two_layer_net", "transfer_learning")
REPEATS = 3


def _student_folder(assignment, folder):
    """A student's folder: the solved notebook and the side files the manifest asks for."""
    source = read_notebook(COURSE_ROOT / "source" / assignment / f"{assignment}.ipynb")
    release = read_notebook(COURSE_ROOT / "release" / assignment / f"{assignment}.ipynb")
    nbformat.write(submission(release, source, reference_answers(source)), folder / f"{assignment}.ipynb")
    for name in manifest(assignment).get("side_files", []):
        shutil.copy(reference_checkpoint("fashion_mnist"), folder / name)


def _once(assignment, folder):
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "helpers.submit", f"{assignment}.ipynb", "--student", "bench"],
                          cwd=folder, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    reported = float(done.stdout.split("ran top to bottom in ")[1].split(" s")[0])
    return wall, reported


def run():
    figures = {}
    for assignment in ASSIGNMENTS:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            _student_folder(assignment, folder)
            runs = [_once(assignment, folder) for _ in range(REPEATS)]
            package = folder / package_name("bench", assignment)
            figures[assignment] = {
                "command_seconds": [round(w, 1) for w, _ in runs],
                "command_median_seconds": round(statistics.median(w for w, _ in runs), 1),
                "rerun_reported_seconds": [r for _, r in runs],
                "grading_target_seconds": manifest(assignment)["budgets"]["grading_seconds"],
                "package_bytes": package.stat().st_size,
            }
    return figures


def summary(f):
    return "; ".join(f"{name}: {v['command_median_seconds']:.0f} s median of {REPEATS} (rerun "
                     f"{statistics.median(v['rerun_reported_seconds']):.0f} s)" for name, v in f.items())
