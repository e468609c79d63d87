"""release/ is exactly what nbgrader generates from source/, and leaks nothing."""
import json
import re

import nbformat

from autograder.course import generate_release, scratch_course
from autograder.notebooks import cells_by_grade_id, grade_id
from conftest import RELEASE

STUDENT_FUNCTIONS = ("nn_forward_pass", "nn_forward_backward", "nn_train", "nn_predict", "TwoLayerNet",
                     "get_param_set", "find_best_net")


def test_release_is_regenerated_without_difference(tmp_path):
    course = scratch_course(tmp_path / "course")
    fresh = generate_release("two_layer_net", course) / "two_layer_net.ipynb"
    assert json.loads(fresh.read_text()) == json.loads(RELEASE.read_text()), \
        "release/ is stale: run `make release` and commit the result"
    assert sorted(p.name for p in fresh.parent.iterdir()) == ["two_layer_net.ipynb"]


def test_release_has_no_solution_hidden_test_or_reference(release_nb, source_nb, answers):
    text = nbformat.writes(release_nb)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "autograder", "check_nn_",
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


def test_each_student_function_sits_alone_in_its_answer_cell(release_nb):
    cells = cells_by_grade_id(release_nb)
    for name in STUDENT_FUNCTIONS:
        cell = cells[name]
        assert cell.metadata["nbgrader"]["solution"] and not cell.metadata["nbgrader"]["grade"]
        keyword = "class" if name == "TwoLayerNet" else "def"
        assert re.match(rf"{keyword} {name}\b", cell.source), cell.source[:40]
        defined = re.findall(r"^(?:def|class) (\w+)", cell.source, re.M)
        assert defined == [name], defined
        assert "raise NotImplementedError()" in cell.source


def test_every_graded_part_has_a_locked_test_cell_with_points(source_nb):
    tests = {grade_id(c): c for c in source_nb.cells
             if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"}
    assert set(tests) == {"test_nn_forward_pass", "test_nn_forward_backward", "test_nn_train", "test_nn_predict",
                          "test_two_layer_net", "test_find_best_net", "test_best_model"}
    for gid, cell in tests.items():
        meta = cell.metadata["nbgrader"]
        assert meta["locked"] and meta["points"] > 0
        assert "### BEGIN HIDDEN TESTS" in cell.source and f"points={meta['points']})" in cell.source
