"""The solution notebook for the benchmarks: run end to end in a scratch copy, or just its definitions."""
import contextlib
import datetime
import io
import os
import shutil
import tempfile
import time
from pathlib import Path

from nbclient import NotebookClient

from autograder.course_dir import COURSE_ROOT
from autograder.notebooks import exec_definitions, grade_id, read_notebook, reference_answers
from helpers.submit import SELF_CHECK_ENV
from helpers.utils import BUDGET_ENV

ASSIGNMENT = "two_layer_net"
THREADS = 2


def notebook_path(assignment=ASSIGNMENT):
    """The assignment's source (solution) notebook."""
    return COURSE_ROOT / "source" / assignment / f"{assignment}.ipynb"


def kernel_env(**overrides):
    """This process's environment without the grading-budget switches, torch on THREADS threads, plus overrides.

    The notebook's self-check cell is skipped (it needs the release's metadata, and reruns the notebook under the
    grading budget, which the benchmarks time on its own)."""
    env = {k: v for k, v in os.environ.items() if k not in (BUDGET_ENV, "NBGRADER_EXECUTION")}
    env.update(OMP_NUM_THREADS=str(THREADS), MKL_NUM_THREADS=str(THREADS), **{SELF_CHECK_ENV: "1"}, **overrides)
    return env


def execute(env, cell_timeout, side_files=None, assignment=ASSIGNMENT, first_cells=(), allow_errors=False):
    """Run the assignment's solution notebook with a python3 kernel in a temporary copy of its folder (source/ is left
    alone).

    side_files maps file name -> path to copy beside the notebook first; first_cells run before the notebook's own
    (a test's changes to the environment); allow_errors runs on past a failing cell. Returns (executed notebook,
    wall seconds including kernel start-up); cells carry nbclient's timing metadata.
    """
    notebook = notebook_path(assignment)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / notebook.parent.name
        shutil.copytree(notebook.parent, folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "*.pth"))
        for name, path in (side_files or {}).items():
            shutil.copy(path, folder / name)
        nb = read_notebook(folder / notebook.name)
        nb.cells[:0] = list(first_cells)
        client = NotebookClient(nb, timeout=cell_timeout, kernel_name="python3", record_timing=True,
                                allow_errors=allow_errors,
                                resources={"metadata": {"path": str(folder)}})
        start = time.perf_counter()
        client.execute(env=env)
        return nb, time.perf_counter() - start


def cell_seconds(nb):
    """{grade_id (or 'cell <index>'): seconds} of every executed code cell, from its timing metadata."""
    seconds = {}
    for index, cell in enumerate(nb.cells):
        timing = cell.metadata.get("execution", {})
        if cell.cell_type == "code" and "shell.execute_reply" in timing:
            started, ended = (datetime.datetime.fromisoformat(timing[k])
                              for k in ("iopub.execute_input", "shell.execute_reply"))
            seconds[grade_id(cell) or f"cell {index}"] = round((ended - started).total_seconds(), 2)
    return seconds


def slowest(seconds, n=5):
    return dict(sorted(seconds.items(), key=lambda item: item[1], reverse=True)[:n])


def printed(nb, gids):
    """{grade_id: the lines the cell printed} for each of gids: what the notebook's prose may quote."""
    return {gid: stdout_of(nb, gid).strip().splitlines() for gid in gids}


def stdout_of(nb, gid):
    """Everything the cell with grade_id `gid` printed."""
    cell = next(c for c in nb.cells if grade_id(c) == gid)
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stdout")


def solution_namespace(assignment=ASSIGNMENT):
    """The set-up cell and every solution cell run in a fresh namespace (definitions only, quietly)."""
    nb = read_notebook(notebook_path(assignment))
    with contextlib.redirect_stdout(io.StringIO()):
        return exec_definitions(nb, reference_answers(nb))
