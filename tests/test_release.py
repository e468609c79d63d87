"""release/ is exactly what nbgrader generates from source/, and leaks nothing, for every assignment."""
import json
import re

import nbformat
import pytest

from autograder.course import COURSE_ROOT, generate_release, scratch_course
from autograder.notebooks import cells_by_grade_id, grade_id, read_notebook

ASSIGNMENTS = {
    "two_layer_net": {
        "functions": ("nn_forward_pass", "nn_forward_backward", "nn_train", "nn_predict", "TwoLayerNet",
                      "get_param_set", "find_best_net"),
        "parts": {"test_nn_forward_pass", "test_nn_forward_backward", "test_nn_train", "test_nn_predict",
                  "test_two_layer_net", "test_find_best_net", "test_best_model"}},
    "transfer_learning": {
        "functions": ("make_model", "trainable_parameters", "train_one_epoch", "evaluate", "fit"),
        "parts": {"test_make_model", "test_trainable_parameters", "test_train_one_epoch", "test_evaluate", "test_fit"}},
}


def notebook(kind, assignment):
    return read_notebook(COURSE_ROOT / kind / assignment / f"{assignment}.ipynb")


UNGRADED = ("learning_rate_lab",)


@pytest.mark.parametrize("assignment", [*ASSIGNMENTS, *UNGRADED])
def test_release_is_regenerated_without_difference(tmp_path, assignment):
    course = scratch_course(tmp_path / "course", [assignment])
    fresh = generate_release(assignment, course) / f"{assignment}.ipynb"
    committed = COURSE_ROOT / "release" / assignment / f"{assignment}.ipynb"
    assert json.loads(fresh.read_text()) == json.loads(committed.read_text()), \
        "release/ is stale: run `make release` and commit the result"
    assert sorted(p.name for p in fresh.parent.iterdir()) == [f"{assignment}.ipynb"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_has_no_solution_hidden_test_or_reference(assignment):
    source_nb, release_nb = notebook("source", assignment), notebook("release", assignment)
    text = nbformat.writes(release_nb)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "autograder", "check_nn_", "checks.transfer_learning",
                   "Mark scheme", "MARK SCHEME"):
        assert marker not in text, marker
    # No line of solution code reaches the release's code cells (prose may quote a hint).
    code = "\n".join(c.source for c in release_nb.cells if c.cell_type == "code")
    solution_only = set()
    for cell in source_nb.cells:
        for block in re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", cell.source, re.S):
            solution_only |= {line.strip() for line in block.splitlines() if len(line.strip()) > 12}
    assert solution_only, "the source notebook should hold solutions"
    leaked = [line for line in solution_only if line in code]
    assert not leaked, leaked


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_student_function_sits_alone_in_its_answer_cell(assignment):
    cells = cells_by_grade_id(notebook("release", assignment))
    for name in ASSIGNMENTS[assignment]["functions"]:
        cell = cells[name]
        assert cell.metadata["nbgrader"]["solution"] and not cell.metadata["nbgrader"]["grade"]
        keyword = "class" if name == "TwoLayerNet" else "def"
        assert re.match(rf"{keyword} {name}\b", cell.source), cell.source[:40]
        defined = re.findall(r"^(?:def|class) (\w+)", cell.source, re.M)
        assert defined == [name], defined
        assert "raise NotImplementedError()" in cell.source


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_graded_part_has_a_locked_test_cell_with_points(assignment):
    source_nb = notebook("source", assignment)
    tests = {grade_id(c): c for c in source_nb.cells
             if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"}
    assert set(tests) == ASSIGNMENTS[assignment]["parts"]
    for gid, cell in tests.items():
        meta = cell.metadata["nbgrader"]
        assert meta["locked"] and meta["points"] > 0
        assert "### BEGIN HIDDEN TESTS" in cell.source and f"points={meta['points']})" in cell.source


@pytest.mark.parametrize("notebook", UNGRADED)
def test_ungraded_notebook_has_no_graded_cells_and_cannot_be_graded(tmp_path, notebook, capsys):
    from autograder.__main__ import main
    released = read_notebook(COURSE_ROOT / "release" / notebook / f"{notebook}.ipynb")
    assert not [c for c in released.cells if "nbgrader" in c.metadata]
    assert [c for c in released.cells if c.cell_type == "code"] and not any(
        c.outputs for c in released.cells if c.cell_type == "code")
    assert main(["grade", notebook, str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert f"{notebook} is not graded" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
