"""`python -m autograder new NAME`: a working minimal assignment, made in place, for a course author to grow.

It writes assignments/NAME/ (manifest, checks, harness, mistakes, styles: autograder/templates/assignment/) and
source/NAME/NAME.ipynb: an introduction, the set-up cell, one graded function (a row-wise softmax) with its visible
check and its hidden test. Nothing outside those two folders changes: the registry finds the new folder. Check it
against the authoring rules with `python -m autograder check NAME` (autograder.authoring), release it with
`python -m autograder release NAME`; tests/test_conformance.py then holds it to what every assignment must do.
"""
import keyword
import re
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.authoring import HIDDEN_TEST_IMPORT, hidden_test_line
from autograder.registry import COURSE_ROOT, MODULES
from autograder.render import render

#: The one graded function of a new assignment.
FUNCTION = "softmax"


class ScaffoldError(ValueError):
    """A name that cannot be an assignment's, or one that is taken."""


def _nbgrader(grade_id, solution=False, grade=False, points=None):
    metadata = {"grade": grade, "grade_id": grade_id, "locked": not solution, "schema_version": 3,
                "solution": solution, "task": False}
    if points is not None:
        metadata["points"] = points
    return {"nbgrader": metadata}


def source_notebook(name, title):
    """The new assignment's source notebook: nbgrader metadata on the set-up, answer, check and hidden-test cells."""
    cells = [
        new_markdown_cell(f"# {title}\n\nThis assignment has one section:\n\n| section | what you write |\n"
                          f"| --- | --- |\n| 1. Softmax | `{FUNCTION}(scores)` |\n"),
        new_code_cell("import torch\n\nfrom helpers import report_check, reset_seed, visible_check",
                      metadata=_nbgrader("setup")),
        new_markdown_cell("## 1. Softmax\n\n`softmax(scores)` turns the scores of N examples over C classes, shape "
                          "(N, C), into probabilities: `exp(scores)` normalised so that each row sums to 1. Subtract "
                          "each row's largest score first: the result is the same, and `exp()` no longer overflows "
                          "on large scores."),
        new_code_cell(f'def {FUNCTION}(scores):\n    """Row-wise softmax of scores (N, C): probabilities (N, C) whose '
                      'rows sum to 1."""\n    ### BEGIN SOLUTION\n'
                      '    shifted = scores - scores.max(dim=1, keepdim=True).values\n'
                      '    return shifted.exp() / shifted.exp().sum(dim=1, keepdim=True)\n    ### END SOLUTION',
                      metadata=_nbgrader(FUNCTION, solution=True)),
        new_code_cell(f'with visible_check("{FUNCTION}"):\n    reset_seed(0)\n    scores = 1e3 * torch.randn(4, 3, '
                      'dtype=torch.float64)\n'
                      f'    report_check("Largest difference from torch.softmax", float(({FUNCTION}(scores) - '
                      'torch.softmax(scores, dim=1)).abs().max()), 1e-9)',
                      metadata=_nbgrader(f"check_{FUNCTION}")),
        new_code_cell(f"# Graded: {FUNCTION} (2 points). Hidden tests run here when your notebook is graded.\n"
                      f"### BEGIN HIDDEN TESTS\n{HIDDEN_TEST_IMPORT}\n"
                      f"{hidden_test_line(name, f'test_{FUNCTION}', FUNCTION)}\n### END HIDDEN TESTS",
                      metadata=_nbgrader(f"test_{FUNCTION}", grade=True, points=2)),
    ]
    return new_notebook(cells=cells, metadata={"kernelspec": {"display_name": "Python 3", "language": "python",
                                                              "name": "python3"},
                                               "language_info": {"name": "python"}})


def new_assignment(name, root=COURSE_ROOT, title=None):
    """Write assignments/<name>/ and source/<name>/<name>.ipynb under `root`; returns the paths written."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name) or keyword.iskeyword(name):
        raise ScaffoldError(f"{name!r} cannot name an assignment: use lower-case letters, digits and underscores, "
                            "starting with a letter (it becomes a Python package, assignments.<name>)")
    folder, source = Path(root) / "assignments" / name, Path(root) / "source" / name
    for taken in (folder, source):
        if taken.exists():
            raise ScaffoldError(f"{taken} already exists: choose another name, or remove it first")
    title = title or f"{name.replace('_', ' ').capitalize()}: a row-wise softmax"
    folder.mkdir(parents=True)
    written = [folder / "__init__.py"]
    written[0].write_text(f'"""{name}: {title}."""\n')
    context = {"name": name, "title": title, "function": FUNCTION}
    for file in ("manifest.toml", *(f"{module}.py" for module in MODULES)):
        (folder / file).write_text(render(f"assignment/{file}.j2", **context))
        written.append(folder / file)
    source.mkdir(parents=True)
    nbformat.write(source_notebook(name, title), source / f"{name}.ipynb")
    return written + [source / f"{name}.ipynb"]
