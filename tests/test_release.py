"""The ungraded notebooks (`graded = false`): released like an assignment, never graded. (What every assignment's
release must be: tests/test_conformance.py.) And the points release writes from the manifest."""
import nbformat
import pytest

from autograder import registry
from autograder.__main__ import main
from autograder.course_dir import COURSE_ROOT
from autograder.notebooks import read_notebook


@pytest.mark.parametrize("name", registry.names(graded=False))
def test_ungraded_notebook_has_no_graded_cells_and_cannot_be_graded(tmp_path, name, capsys):
    for notebook in registry.assignment(name).notebooks:
        released = read_notebook(COURSE_ROOT / "release" / name / notebook)
        assert not [c for c in released.cells if "nbgrader" in c.metadata]
        assert [c for c in released.cells if c.cell_type == "code"] and not any(
            c.outputs for c in released.cells if c.cell_type == "code")
    assert main(["grade", name, str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert f"{name} is not graded" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_points_are_the_manifests_in_the_release_the_students_get(tmp_path):
    """Points are declared once, in the manifest: release writes them into the hidden-test cell's nbgrader metadata
    and into the comment students read above it."""
    from autograder.course_dir import generate_release, scratch_course
    from autograder.notebooks import cells_by_grade_id
    course = scratch_course(tmp_path / "course", ["transfer_learning"])
    manifest = course / "assignments" / "transfer_learning" / "manifest.toml"
    manifest.write_text(manifest.read_text().replace("[parts.test_fit]\nnames = [\"fit\"]\npoints = 5",
                                                     "[parts.test_fit]\nnames = [\"fit\"]\npoints = 6"))
    release = generate_release("transfer_learning", course)
    cell = cells_by_grade_id(nbformat.read(release / "transfer_learning.ipynb", as_version=4))["test_fit"]
    assert cell.metadata["nbgrader"]["points"] == 6 and "(6 points)" in cell.source.splitlines()[0]
