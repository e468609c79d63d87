"""The ungraded notebooks (`graded = false`): released like an assignment, never graded. (What every assignment's
release must be: tests/test_conformance.py.)"""
import pytest

from autograder import registry
from autograder.__main__ import main
from autograder.course import COURSE_ROOT
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


def test_a_source_notebook_that_disagrees_with_its_manifest_is_not_released(tmp_path, capsys):
    from autograder.course import scratch_course
    course = scratch_course(tmp_path / "course", ["transfer_learning"])
    manifest = course / "assignments" / "transfer_learning" / "manifest.toml"
    manifest.write_text(manifest.read_text().replace("[parts.test_fit]\nnames = [\"fit\"]\npoints = 5",
                                                     "[parts.test_fit]\nnames = [\"fit\"]\npoints = 6"))
    from autograder.course import ReleaseError, generate_release
    with pytest.raises(ReleaseError, match="test_fit: 6 points in the manifest, 5 in the notebook's metadata"):
        generate_release("transfer_learning", course)
    assert not (course / "release").exists()
