"""The nbgrader course directory: its API, scratch copies for demos and tests, and releasing an assignment."""
import os
import re
import shutil
import sys
from pathlib import Path

import nbformat
from nbgrader.apps import NbGraderAPI
from nbgrader.utils import compute_checksum, is_grade
from traitlets.config.loader import ConfigFileNotFound, PyFileConfigLoader

from autograder import authoring, registry, translation
from helpers import i18n
from autograder.notebooks import grade_id, read_notebook
from autograder.registry import COURSE_ROOT


def api(course_dir=COURSE_ROOT):
    """nbgrader's API for the course at `course_dir`, configured by its nbgrader_config.py (FileNotFoundError, saying
    so, when it has none)."""
    _put_environment_on_path()
    try:
        config = PyFileConfigLoader("nbgrader_config.py", path=str(course_dir)).load_config()
    except ConfigFileNotFound:
        raise FileNotFoundError(f"{course_dir} is not an nbgrader course folder: it has no nbgrader_config.py") \
            from None
    return NbGraderAPI(config=config)


def _put_environment_on_path():
    """nbgrader runs `alembic` from PATH to create a gradebook: make this environment's tools findable
    even when the virtualenv is not activated (e.g. `.venv/bin/python -m autograder`)."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def scratch_course(target, assignments):
    """Copy the course's config, its `assignments` package with the named assignments' folders, and their source
    notebooks into `target` (a fresh nbgrader course)."""
    target = Path(target)
    (target / "assignments").mkdir(parents=True, exist_ok=True)
    shutil.copy(COURSE_ROOT / "nbgrader_config.py", target)
    shutil.copy(COURSE_ROOT / "assignments" / "__init__.py", target / "assignments")  # the course's own package
    for name in assignments:
        ignore = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
        shutil.copytree(COURSE_ROOT / "assignments" / name, target / "assignments" / name, dirs_exist_ok=True,
                        ignore=ignore)
        shutil.copytree(COURSE_ROOT / "source" / name, target / "source" / name, dirs_exist_ok=True, ignore=ignore)
    return target


class ReleaseError(ValueError):
    """A source notebook that disagrees with its manifest: the message says where and how to fix it."""


def generate_release(assignment, course_dir=COURSE_ROOT):
    """Write the manifest's points into the source notebook (write_points), run nbgrader generate_assignment, and
    return the release folder, in the course's language (translate_release). Raises ReleaseError when the source
    notebook disagrees with the manifest (autograder.authoring.check_source: the rules a release needs; `python -m
    autograder release` checks them all first) or a translation is missing or stale (the release folder then keeps
    what it held), RuntimeError with nbgrader's log when nbgrader fails."""
    problems = authoring.check_source(assignment, course_dir)
    if problems:
        raise ReleaseError(f"source/{assignment} does not follow assignments/{assignment}/manifest.toml:\n  "
                           + "\n  ".join(str(problem) for problem in problems))
    write_points(assignment, course_dir)
    release = Path(course_dir) / "release" / assignment
    released = {path: path.read_bytes() for path in release.glob("*.ipynb")}  # put back if the translation fails
    result = api(course_dir).generate_assignment(assignment, force=True, create=True)
    if not result["success"]:
        raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n"
                           f"{result.get('error') or result.get('log')}")
    language = i18n.language()
    try:
        for notebook in sorted(release.glob("*.ipynb")):
            if language != i18n.DEFAULT_LANGUAGE:
                translate_release(notebook, assignment, language, course_dir)
            describe_for_self_check(notebook, registry.assignment(assignment, course_dir), language)
    except ReleaseError:
        for path in release.glob("*.ipynb"):
            path.unlink()
        for path, content in released.items():
            path.write_bytes(content)
        raise
    return release


def translate_release(path, assignment, language, course_dir=COURSE_ROOT):
    """Put the release notebook at `path` into `language` (autograder.translation; ReleaseError when a translation
    is missing or stale), and the gradebook's copies of its read-only cells with it, so that nbgrader's autograde
    finds them unchanged (the hidden tests of a graded cell stay as they are)."""
    english = nbformat.read(path, as_version=4)
    try:
        translated = translation.translated_notebook(english, translation.load(assignment, language, course_dir),
                                                     language)
    except translation.TranslationError as error:
        raise ReleaseError(f"release/{assignment}/{path.name}: {error}\nFix: translate those cells in "
                           f"assignments/{assignment}/{language}.toml (`python -m autograder translate {assignment} "
                           f"--language {language}` adds the missing ones and shows what changed)") from None
    with api(course_dir).gradebook as gb:
        for before, after in zip(english.cells, translated.cells):
            name = grade_id(after)
            if name is None or before.source == after.source or "checksum" not in after.metadata.nbgrader:
                continue
            stored = gb.find_source_cell(name, path.stem, assignment)
            stored.source = translation.retranslated_gradebook_source(before.source, after.source, stored.source)
            stored.checksum = compute_checksum(nbformat.from_dict({**after, "source": stored.source}))
        gb.db.commit()
    nbformat.write(translated, path)


#: The points in a hidden-test cell's visible comment: `# Graded: nn_forward_pass (4 points). Hidden tests ...`.
GRADED_COMMENT = re.compile(r"^# Graded: .*?(\(\d+(?:\.\d+)? points?\))")


def points_text(points):
    """`4 points`, `1 point`, `2.5 points`."""
    return f"{points:g} point{'' if points == 1 else 's'}"


def graded_comment(part, points):
    """The visible first line of a hidden-test cell, for a part of the manifest (an autograder.manifest.Part)."""
    what = " and ".join(part.names) if part.names else f"the submitted {part.file}"
    return f"# Graded: {what} ({points_text(points)}). Hidden tests run here when your notebook is graded."


def with_points(source, part):
    """A hidden-test cell's code with its visible comment saying the part's points (one is added where none is)."""
    first = source.split("\n", 1)[0]
    found = GRADED_COMMENT.match(first)
    if found:
        return first[:found.start(1)] + f"({points_text(part.points)})" + first[found.end(1):] + source[len(first):]
    if first.startswith("# Graded:"):
        return graded_comment(part, part.points) + source[len(first):]
    return graded_comment(part, part.points) + "\n" + source


def write_points(assignment, course_dir=COURSE_ROOT):
    """Make the graded source notebook say each part's points as the manifest does, the one place they are declared:
    in its hidden-test cell's nbgrader metadata (what nbgrader grades out of) and in the comment students see. The
    notebook is saved only when that changes it; returns whether it did."""
    found = registry.assignment(assignment, course_dir)
    if not found.graded:
        return False
    path = Path(course_dir) / "source" / assignment / found.notebook
    nb = read_notebook(path)
    changed = False
    for cell in nb.cells:
        part = found.manifest.parts.get(grade_id(cell)) if cell.cell_type == "code" else None
        if part is None or not is_grade(cell):
            continue
        source = with_points(cell.source, part)
        if source != cell.source or cell.metadata["nbgrader"].get("points") != part.points:
            cell.source, cell.metadata["nbgrader"]["points"] = source, part.points
            changed = True
    if changed:
        nbformat.write(nb, path)
    return changed


def describe_for_self_check(path, assignment, language=i18n.DEFAULT_LANGUAGE):
    """Write what the student's self-check (helpers.submit) needs into the release notebook's metadata
    (`course_kit`): the assignment (a registry.Assignment), the side files to hand in, the grading budgets, the
    read-only cells and the notebook's language."""
    nb = nbformat.read(path, as_version=4)
    budgets = assignment.manifest.budgets.model_dump(exclude_unset=True)
    nb.metadata["course_kit"] = {
        "assignment": assignment.name, "notebook": path.name, "graded": assignment.graded, "language": language,
        "side_files": assignment.side_files,
        "budgets": {k: budgets[k] for k in ("grading_seconds", "wall_seconds") if k in budgets},
        # The raw `locked` flag, not nbgrader's is_locked (which also counts every graded cell): the self-check
        # (helpers.submit) compares the student's notebook with exactly these cells.
        "read_only_cells": [c.metadata["nbgrader"]["grade_id"] for c in nb.cells
                            if c.metadata.get("nbgrader", {}).get("locked")],
    }
    nbformat.write(nb, path)
