"""Reading nbgrader notebooks and building submissions from them (reference, blank, mutants).

Cells are found by their nbgrader grade_id. The source notebook is the single copy of the solution:
the reference submission is the release notebook with the source's solution code filled in, and the
mistake catalogue's mutants are small edits of that code.
"""
import json
import re
from pathlib import Path

import nbformat
import nbformat.reader
from nbgrader.utils import is_solution

from autograder.harness.core import compile_cell
from autograder.harness.i18n import _

SOLUTION_MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")
MAGIC = re.compile(r"^\s*[%!].*$", re.M)


class NotebookError(ValueError):
    """A notebook file that cannot be used, with the reason."""


def source_text(source):
    """A cell's source (or an output's text) as one string: notebooks may store it as a list of lines, and a damaged
    one may store anything else, which reads as empty."""
    if isinstance(source, list):
        return "".join(str(line) for line in source)
    return source if isinstance(source, str) else ""


def read_notebook(path):
    """Read and validate a notebook; raise NotebookError saying what is wrong with the file."""
    path = Path(path)
    if not path.is_file():
        raise NotebookError(f"{path} does not exist")
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise NotebookError(f"{path.name} is not valid notebook JSON ({error})") from None
    except (nbformat.ValidationError, AttributeError, KeyError, TypeError) as error:
        raise NotebookError(f"{path.name} does not follow the notebook format ({str(error).splitlines()[0]})") from None
    return nb


def notebook_from_bytes(content, name="notebook.ipynb"):
    """Parse a submitted notebook; NotebookError says what is wrong (empty, not JSON, not a notebook)."""
    if not content.strip():
        raise NotebookError(_("{notebook} is empty").format(notebook=name))
    try:
        nb = nbformat.reads(content.decode("utf-8"), as_version=4)
    except (json.JSONDecodeError, UnicodeDecodeError, nbformat.reader.NotJSONError):
        raise NotebookError(_("{notebook} is not valid notebook JSON (damaged or not a notebook)").format(
            notebook=name)) from None
    except Exception as error:  # noqa: BLE001 - nbformat raises many types for odd files
        raise NotebookError(_("{notebook} is not a Jupyter notebook ({error})").format(
            notebook=name, error=str(error).splitlines()[0][:200])) from None
    if not isinstance(nb.get("cells"), list):
        raise NotebookError(_("{notebook} has no list of cells").format(notebook=name))
    return nb


def answer_cells(source_nb):
    """{grade_id: [names it defines]} for every autograded answer cell of the source notebook."""
    return {grade_id(c): re.findall(r"^(?:def|class) (\w+)", c.source, re.M) for c in source_nb.cells
            if c.cell_type == "code" and is_solution(c)}


def grade_id(cell):
    """The cell's nbgrader grade_id, or None (also when a submitted cell's metadata is malformed).

    nbgrader has no accessor for it (its own code reads `cell.metadata.nbgrader["grade_id"]`), and its predicates
    (nbgrader.utils.is_grade, is_solution, is_locked) assume well-formed metadata: a submitted notebook's may not be.
    """
    metadata = cell.get("metadata")
    nbgrader = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return nbgrader.get("grade_id") if isinstance(nbgrader, dict) else None


def cells_by_grade_id(nb):
    return {grade_id(c): c for c in nb.cells if grade_id(c)}


#: The grade_id of every notebook's set-up cell: the trusted imports and settings the grader runs before the
#: student's cells (a read-only cell, so students cannot change what it defines).
SETUP = "setup"


def setup_cell(nb, name="the notebook"):
    """The notebook's set-up cell; NotebookError when it has none."""
    cell = cells_by_grade_id(nb).get(SETUP)
    if cell is None or cell.cell_type != "code":
        raise NotebookError(f"{name} has no set-up cell: its first code cell (the imports) needs nbgrader grade_id "
                            f"{SETUP!r}, as a read-only cell, so the grader can run it before the student's cells")
    return cell


def solution_code(source_cell):
    """A solution cell's code without the BEGIN/END SOLUTION marker lines."""
    return "\n".join(line for line in source_cell.source.splitlines() if not SOLUTION_MARKER.match(line))


def submission(release_nb, source_nb, answers=None, added_cells=()):
    """A student notebook: the release with answer cells replaced.

    `answers` maps grade_id -> code (or text, for written answers); cells not named keep the release stub.
    `added_cells` holds (grade_id, code) pairs: a code cell of the student's own, without nbgrader metadata,
    inserted just above the cell with that grade_id.
    """
    nb = nbformat.from_dict(json.loads(json.dumps(release_nb)))
    for cell in nb.cells:
        if answers and grade_id(cell) in answers:
            cell.source = answers[grade_id(cell)]
    for before, code in added_cells:
        index = next(i for i, cell in enumerate(nb.cells) if grade_id(cell) == before)
        nb.cells.insert(index, nbformat.v4.new_code_cell(code))
    return nb


def reference_answers(source_nb):
    """grade_id -> solution code for every autograded answer cell of the source notebook."""
    return {grade_id(c): solution_code(c) for c in source_nb.cells
            if c.cell_type == "code" and is_solution(c)}


def written_answers(source_nb):
    """grade_id -> text of every written (markdown) answer cell of the source: the mark scheme, which
    reads as a model answer."""
    return {grade_id(c): c.source for c in source_nb.cells
            if c.cell_type == "markdown" and is_solution(c)}


def exec_definitions(nb, answers):
    """Run a notebook's set-up cell and the given answers in a fresh namespace; return the namespace.

    For checking answers without a kernel: only definitions run (no data loading, no training).
    """
    namespace = {"__name__": "__submission__"}
    setup = setup_cell(nb).source
    exec(compile(MAGIC.sub("", setup), "<setup>", "exec"), namespace)
    for gid, code in answers.items():
        exec(compile_cell(code, f"<{gid}>"), namespace)
    return namespace
