"""The nbgrader course directory: its API, scratch copies for demos and tests, and assignment manifests."""
import os
import shutil
import sys
import tomllib
from pathlib import Path

import nbformat
from nbgrader.apps import NbGraderAPI
from traitlets.config.loader import PyFileConfigLoader

COURSE_ROOT = Path(__file__).resolve().parent.parent


def manifest(assignment, root=COURSE_ROOT):
    """The assignment's manifest (assignments/<name>.toml) as a dict."""
    path = Path(root) / "assignments" / f"{assignment}.toml"
    if not path.is_file():
        raise FileNotFoundError(f"no manifest for assignment {assignment!r}: {path} is missing")
    with open(path, "rb") as f:
        return tomllib.load(f)


def api(course_dir=COURSE_ROOT):
    """nbgrader's API for the course at `course_dir`, configured by its nbgrader_config.py."""
    _put_environment_on_path()
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course_dir)).load_config()
    return NbGraderAPI(config=config)


def _put_environment_on_path():
    """nbgrader runs `alembic` from PATH to create a gradebook: make this environment's tools findable
    even when the virtualenv is not activated (e.g. `.venv/bin/python -m autograder`)."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def scratch_course(target, assignments=("two_layer_net",)):
    """Copy the course's config, manifests and source notebooks into `target` (a fresh nbgrader course)."""
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(COURSE_ROOT / "nbgrader_config.py", target)
    for name in assignments:
        (target / "assignments").mkdir(exist_ok=True)
        shutil.copy(COURSE_ROOT / "assignments" / f"{name}.toml", target / "assignments")
        shutil.copytree(COURSE_ROOT / "source" / name, target / "source" / name, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return target


def generate_release(assignment, course_dir=COURSE_ROOT):
    """Run nbgrader generate_assignment; return the release folder. Raises RuntimeError with nbgrader's log."""
    result = api(course_dir).generate_assignment(assignment, force=True, create=True)
    if not result["success"]:
        raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n{result.get('error') or result.get('log')}")
    release = Path(course_dir) / "release" / assignment
    for notebook in sorted(release.glob("*.ipynb")):
        describe_for_self_check(notebook, assignment, manifest(assignment, course_dir))
    return release


def describe_for_self_check(path, assignment, info):
    """Write what the student's self-check (helpers.submit) needs into the release notebook's metadata
    (`course_kit`): the assignment, the side files to hand in, the grading budgets and the read-only cells."""
    nb = nbformat.read(path, as_version=4)
    budgets = info.get("budgets", {})
    nb.metadata["course_kit"] = {
        "assignment": assignment, "notebook": path.name, "graded": info.get("graded", True),
        "side_files": info.get("side_files", []),
        "budgets": {k: budgets[k] for k in ("grading_seconds", "wall_seconds") if k in budgets},
        "read_only_cells": [c.metadata["nbgrader"]["grade_id"] for c in nb.cells
                            if c.metadata.get("nbgrader", {}).get("locked")],
    }
    nbformat.write(nb, path)
