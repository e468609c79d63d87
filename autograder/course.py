"""The nbgrader course directory: its API, scratch copies for demos and tests, and releasing an assignment."""
import os
import shutil
import sys
from pathlib import Path

import nbformat
from nbgrader.apps import NbGraderAPI
from traitlets.config.loader import PyFileConfigLoader

from autograder import registry
from autograder.notebooks import grade_id, read_notebook, setup_cell
from autograder.registry import COURSE_ROOT


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


def scratch_course(target, assignments):
    """Copy the course's config, the named assignments' folders and their source notebooks into `target` (a fresh
    nbgrader course)."""
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(COURSE_ROOT / "nbgrader_config.py", target)
    for name in assignments:
        ignore = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
        shutil.copytree(COURSE_ROOT / "assignments" / name, target / "assignments" / name, dirs_exist_ok=True,
                        ignore=ignore)
        shutil.copytree(COURSE_ROOT / "source" / name, target / "source" / name, dirs_exist_ok=True, ignore=ignore)
    return target


class ReleaseError(ValueError):
    """A source notebook that disagrees with its manifest: the message says where and how to fix it."""


def check_source(assignment, course_dir=COURSE_ROOT):
    """Refuse (ReleaseError) a source notebook that does not match its manifest: a set-up cell, and one hidden-test
    cell per autograded part, with the manifest's points in its nbgrader metadata."""
    found = registry.assignment(assignment, course_dir)
    for notebook in found.notebooks:
        path = Path(course_dir) / "source" / assignment / notebook
        nb = read_notebook(path)
        if not found.graded:
            continue
        setup_cell(nb, str(path))
        tests = {grade_id(c): c.metadata["nbgrader"].get("points") for c in nb.cells
                 if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")}
        problems = [f"{gid}: no hidden-test cell (a locked, graded code cell with this grade_id)"
                    for gid in found.points if gid not in tests]
        problems += [f"{gid}: {points} points in the manifest, {tests[gid]} in the notebook's metadata"
                     for gid, points in found.points.items() if gid in tests and tests[gid] != points]
        problems += [f"{gid}: a graded code cell the manifest does not declare ([parts.{gid}])"
                     for gid in tests if gid not in found.points]
        if problems:
            raise ReleaseError(f"{path} does not match assignments/{assignment}/manifest.toml:\n  "
                               + "\n  ".join(problems))


def generate_release(assignment, course_dir=COURSE_ROOT):
    """Run nbgrader generate_assignment; return the release folder. Raises ReleaseError when the source notebook
    disagrees with the manifest (check_source), RuntimeError with nbgrader's log when nbgrader fails."""
    check_source(assignment, course_dir)
    result = api(course_dir).generate_assignment(assignment, force=True, create=True)
    if not result["success"]:
        raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n"
                           f"{result.get('error') or result.get('log')}")
    release = Path(course_dir) / "release" / assignment
    for notebook in sorted(release.glob("*.ipynb")):
        describe_for_self_check(notebook, registry.assignment(assignment, course_dir))
    return release


def describe_for_self_check(path, assignment):
    """Write what the student's self-check (helpers.submit) needs into the release notebook's metadata
    (`course_kit`): the assignment (a registry.Assignment), the side files to hand in, the grading budgets and the
    read-only cells."""
    nb = nbformat.read(path, as_version=4)
    budgets = assignment.manifest.budgets.model_dump(exclude_unset=True)
    nb.metadata["course_kit"] = {
        "assignment": assignment.name, "notebook": path.name, "graded": assignment.graded,
        "side_files": assignment.side_files,
        "budgets": {k: budgets[k] for k in ("grading_seconds", "wall_seconds") if k in budgets},
        "read_only_cells": [c.metadata["nbgrader"]["grade_id"] for c in nb.cells
                            if c.metadata.get("nbgrader", {}).get("locked")],
    }
    nbformat.write(nb, path)
