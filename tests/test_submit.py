"""The student's self-check (`python -m helpers.submit`, the notebooks' last cell) and the submission package it
writes, round-tripped through `python -m autograder grade`."""
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
import torch

from autograder.course_dir import COURSE_ROOT
from autograder.grade import grade_batch, intake
from autograder.notebooks import cells_by_grade_id, grade_id, read_notebook, reference_answers, submission
from helpers import submit
from helpers.submit import MANIFEST_NAME, SELF_CHECK_ENV, self_check

pytestmark = pytest.mark.slow  # runs notebooks: `make test` only

NOTEBOOK = "two_layer_net.ipynb"
MODEL = "best_two_layer_net.pth"
CHECKS = ("nn_forward_pass", "nn_forward_backward", "nn_train", "TwoLayerNet")
#: A sitecustomize that makes a process act as on an Apple-silicon Mac: an "mps" device without float64.
FAKE_MPS = Path(__file__).with_name("fake_mps")


def run_submit(folder, *args, env=None):
    """`python -m helpers.submit ARGS` in `folder`, as a student runs it (with `env`'s additions to the environment):
    (exit code, stdout + stderr)."""
    env = {**{k: v for k, v in os.environ.items() if k not in ("NBGRADER_EXECUTION", SELF_CHECK_ENV)}, **(env or {})}
    done = subprocess.run([sys.executable, "-m", "helpers.submit", *args], cwd=folder, env=env, text=True,
                          capture_output=True, timeout=600)
    return done.returncode, done.stdout + done.stderr


@pytest.fixture
def solved(tmp_path, release_nb, source_nb, answers, reference_model):
    """A student's folder: the solved notebook and the best-model file it saved."""
    nbformat.write(submission(release_nb, source_nb, answers), tmp_path / NOTEBOOK)
    shutil.copy(reference_model, tmp_path / MODEL)
    return tmp_path


def warnings_besides_speed(warnings):
    """The self-check's warnings, but for a slow run's, which says how busy this machine is, not what the notebook
    is."""
    return [warning for warning in warnings if "longer than the usual" not in warning]


def read_package(path):
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read(MANIFEST_NAME)), {n: archive.read(n) for n in archive.namelist()}


@pytest.mark.xdist_group("reference_model")
def test_a_solved_notebook_passes_and_its_package_grades_in_full(solved, tmp_path_factory):
    code, out = run_submit(solved, NOTEBOOK, "--student", "alice")
    assert code == 0, out
    assert "The notebook ran top to bottom in" in out
    for check in CHECKS:
        assert f"  pass             {check}\n" in out
    assert warnings_besides_speed(re.findall(r"^  ! (.*)$", out, re.M)) == [], out
    package = solved / "alice_two_layer_net.zip"
    manifest, files = read_package(package)
    assert sorted(files) == sorted([MANIFEST_NAME, NOTEBOOK, MODEL])
    assert files[NOTEBOOK] == (solved / NOTEBOOK).read_bytes() and files[MODEL] == (solved / MODEL).read_bytes()
    assert manifest["student_id"] == "alice" and manifest["assignment"] == "two_layer_net"
    assert {name: entry["sha256"] for name, entry in manifest["files"].items()} == {
        name: submit.sha256(files[name]) for name in (NOTEBOOK, MODEL)}
    assert set(manifest["self_check"]["checks"].values()) == {"pass"}

    # The grader takes the package as it is, alone or in a folder of packages; a file changed after packaging is noted.
    out_dir = tmp_path_factory.mktemp("grading")
    [alone] = grade_batch("two_layer_net", package, out_dir / "alone", show_progress=False, canary=False, record=False)
    assert (alone.student_id, alone.status, alone.total) == ("alice", "ok", 34)
    assert any(note.startswith("submission package alice_two_layer_net.zip") for note in alone.notes)
    assert not any("changed afterwards" in note for note in alone.notes)

    folder = out_dir / "inbox"
    folder.mkdir()
    shutil.copy(package, folder)
    with zipfile.ZipFile(package) as original, zipfile.ZipFile(folder / "bob_two_layer_net.zip", "w") as edited:
        for name in original.namelist():
            data = original.read(name)
            edited.writestr(name, data.replace(b'"alice"', b'"bob"') if name == MANIFEST_NAME
                            else data + b" " if name == NOTEBOOK else data)
    results = grade_batch("two_layer_net", folder, out_dir / "folder", show_progress=False, canary=False, record=False)
    assert [(r.student_id, r.status, r.total) for r in results] == [("alice", "ok", 34), ("bob", "ok", 34)]
    assert any(f"{NOTEBOOK} is not the file the self-check packaged" in note for note in results[1].notes)


@pytest.mark.xdist_group("reference_model")
@pytest.mark.parametrize("device", ["mps without float64", "cuda"])
def test_every_visible_check_and_the_self_check_pass_on_a_students_gpu(solved, tmp_path, device):
    """pick_device() gives the laptop's GPU. Apple's MPS has no float64 (simulated here: tests/fake_mps); there the
    float64 checks must run on the CPU, and the rest still on "mps"."""
    env = {}
    if device == "cuda":
        if not torch.cuda.is_available():
            pytest.skip("no CUDA device on this machine")
    else:
        log = tmp_path / "fake_mps.log"
        env = {"PYTHONPATH": str(FAKE_MPS), "FAKE_MPS_LOG": str(log)}
    code, out = run_submit(solved, NOTEBOOK, "--student", "alice", env=env)
    assert code == 0, out
    assert "The notebook ran top to bottom in" in out
    for check in CHECKS:
        assert f"  pass             {check}\n" in out, out
    if device != "cuda":
        events = log.read_text().splitlines()
        assert "served" in events  # the kernel's tensors were asked for on "mps"
        # Only float64_device's probe asked "mps" for float64: every float64 check ran on the CPU.
        assert [e for e in events if e.startswith("refused")] == ["refused zeros"], events


def test_the_transfer_notebooks_visible_checks_and_self_check_pass_on_a_students_gpu(tmp_path):
    """transfer_learning's check cells hand the student's functions networks on the notebook's device ("mps" here,
    tests/fake_mps): the solved notebook's self-check passes there, every visible check included."""
    name = "transfer_learning"
    source, release = (read_notebook(COURSE_ROOT / kind / name / f"{name}.ipynb") for kind in ("source", "release"))
    nbformat.write(submission(release, source, reference_answers(source)), tmp_path / f"{name}.ipynb")
    log = tmp_path / "fake_mps.log"
    code, out = run_submit(tmp_path, f"{name}.ipynb", "--student", "alice",
                           env={"PYTHONPATH": str(FAKE_MPS), "FAKE_MPS_LOG": str(log)})
    assert code == 0, out
    for check in ("make_model and trainable_parameters", "train_one_epoch", "evaluate", "fit"):
        assert f"  pass             {check}\n" in out, out
    assert "served" in log.read_text().splitlines()


@pytest.mark.xdist_group("reference_model")
def test_the_notebooks_last_cell_warns_about_edited_and_deleted_read_only_cells_and_a_missing_model(solved, capsys,
                                                                                                    monkeypatch):
    nb = nbformat.read(solved / NOTEBOOK, as_version=4)
    cells = cells_by_grade_id(nb)
    cells["check_loss"].source += "\nprint('my own note')"
    nb.cells.remove(cells["default_net_weights"])
    nbformat.write(nb, solved / NOTEBOOK)
    (solved / MODEL).unlink()
    last_cell = nb.cells[-1].source
    assert 'self_check("two_layer_net.ipynb", student_id="")' in last_cell
    monkeypatch.chdir(solved)  # a kernel runs the cell in the notebook's folder
    monkeypatch.setenv("JPY_SESSION_NAME", str(solved / "two_layer_net-Copy1.ipynb"))  # a copy is open in Jupyter
    namespace = {}
    exec(last_cell.replace('student_id=""', 'student_id="carol"'), namespace)  # the notebook's cell
    out = capsys.readouterr().out
    assert "The notebook ran top to bottom" in out, out
    assert "read-only cell check_loss was edited: grading uses the original" in out
    assert "read-only cell default_net_weights was deleted" in out
    assert f"{MODEL} is missing next to the notebook" in out
    assert "this kernel belongs to two_layer_net-Copy1.ipynb, but the check read two_layer_net.ipynb" in out
    manifest, files = read_package(solved / "carol_two_layer_net.zip")
    assert sorted(files) == sorted([MANIFEST_NAME, NOTEBOOK])
    assert len(warnings_besides_speed(manifest["self_check"]["warnings"])) == 4


def test_a_blank_notebook_is_refused_with_the_cell_that_stopped_it(tmp_path):
    shutil.copy(COURSE_ROOT / "release" / "two_layer_net" / NOTEBOOK, tmp_path)
    code, out = run_submit(tmp_path, NOTEBOOK, "--student", "dave")
    assert code == 1, out
    # Every check cell reports an unwritten function and goes on; the first cell that uses one stops the run.
    cells = nbformat.read(tmp_path / NOTEBOOK, as_version=4).cells
    number = next(i for i, c in enumerate(cells, 1) if grade_id(c) == "default_net")
    assert (f"NOT READY: the notebook does not run through. cell {number} (default_net) stopped with "
            "NotImplementedError: TwoLayerNet.__init__ is not implemented yet") in out
    assert "  not implemented  nn_forward_pass\n" in out
    assert not list(tmp_path.glob("*.zip"))


def test_a_notebook_that_hangs_is_stopped_at_its_time_limit(tmp_path):
    nb = nbformat.read(COURSE_ROOT / "release" / "two_layer_net" / NOTEBOOK, as_version=4)
    nb.metadata["course_kit"]["budgets"]["wall_seconds"] = 10
    nb.cells.insert(2, nbformat.v4.new_code_cell("import time\ntime.sleep(600)"))
    nbformat.write(nb, tmp_path / NOTEBOOK)
    code, out = run_submit(tmp_path, NOTEBOOK, "--student", "erin")
    assert code == 1, out
    assert "cell 3 ('import time') was still running when the 10 s limit for the whole notebook ran out" in out
    assert not list(tmp_path.glob("*.zip"))


@pytest.mark.parametrize("content, message", [
    (b"{not json", "is not a readable notebook"),
    (json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode(),
     "is not one of the course's notebooks"),
])
def test_unusable_notebooks_are_refused_clearly(tmp_path, capsys, content, message):
    (tmp_path / NOTEBOOK).write_bytes(content)
    assert submit.main([str(tmp_path / NOTEBOOK), "--student", "frank"]) == 2
    assert message in capsys.readouterr().err


def test_usage_errors_are_refused_clearly(tmp_path, capsys):
    assert submit.main([str(tmp_path / "missing.ipynb")]) == 2
    assert "missing.ipynb does not exist" in capsys.readouterr().err
    assert submit.main([str(COURSE_ROOT / "release" / "two_layer_net" / NOTEBOOK), "--student", "a b/c"]) == 2
    assert "student id 'a b/c' has characters other than" in capsys.readouterr().err
    lab = COURSE_ROOT / "release" / "learning_rate_lab" / "learning_rate_lab.ipynb"
    assert submit.main([str(lab)]) == 2
    assert "is not graded: there is nothing to hand in" in capsys.readouterr().err


@pytest.mark.parametrize("variable", [SELF_CHECK_ENV, "NBGRADER_EXECUTION"])
def test_the_last_cell_does_nothing_inside_a_check_or_a_grading_run(monkeypatch, capsys, variable):
    monkeypatch.setenv(variable, "autograde")
    assert self_check("does-not-matter.ipynb", student_id="x") is None
    assert "Self-check skipped" in capsys.readouterr().out


def test_intake_reads_damaged_packages_without_losing_them(tmp_path):
    with zipfile.ZipFile(tmp_path / "gina_two_layer_net.zip", "w") as archive:
        archive.writestr(MANIFEST_NAME, "{not json")
        archive.writestr(NOTEBOOK, "{}")
        archive.writestr("nested/extra.py", "x = 1")
    with zipfile.ZipFile(tmp_path / "renamed.zip", "w") as archive:
        archive.writestr(MANIFEST_NAME, json.dumps({"student_id": "hank", "assignment": "transfer_learning",
                                                    "files": {NOTEBOOK: {"sha256": "0" * 64}, MODEL: {}}}))
        archive.writestr(NOTEBOOK, "{}")
    gina, hank = intake.collect(tmp_path, "two_layer_net", NOTEBOOK)
    assert gina.student_id == "gina" and gina.notebook.name == NOTEBOOK and gina.problem is None
    assert any("submission.json is not valid JSON" in note for note in gina.notes)
    assert any("nested/extra.py in the package was ignored" in note for note in gina.notes)
    assert hank.student_id == "hank"
    assert any("the package says it is for 'transfer_learning'" in note for note in hank.notes)
    assert any(f"listed in submission.json but not in the package: {MODEL}" in note for note in hank.notes)
    assert hank.notebook.changed_note(b"{}").startswith(f"{NOTEBOOK} is not the file the self-check packaged")


def test_an_lms_download_of_packages_is_read_from_each_students_latest_package(tmp_path):
    """Students hand the package in to the LMS; its bulk download holds each attempt's zip under an LMS name."""
    def package(student, notebook_text):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(MANIFEST_NAME, json.dumps({
                "student_id": student, "assignment": "two_layer_net", "notebook": NOTEBOOK,
                "files": {NOTEBOOK: {"sha256": submit.sha256(b"checked")}, MODEL: {"sha256": submit.sha256(b"w")}}}))
            archive.writestr(NOTEBOOK, notebook_text)
            archive.writestr(MODEL, b"w")
        return buffer.getvalue()

    lms = tmp_path / "gradebook_download.zip"
    with zipfile.ZipFile(lms, "w") as archive:
        archive.writestr("HW2_ivan_attempt_2027-02-10-09-00-00_ivan_two_layer_net.zip", package("ivan", b"old"))
        archive.writestr("HW2_ivan_attempt_2027-02-11-09-00-00_ivan_two_layer_net.zip", package("ivan", b"checked"))
        archive.writestr("HW2_judy_attempt_2027-02-11-10-00-00_my_upload.zip", package("someone", b"edited"))
    ivan, judy = intake.collect(lms, "two_layer_net", NOTEBOOK)
    assert (ivan.student_id, judy.student_id) == ("ivan", "judy")
    assert ivan.notebook.read(100) == b"checked" and ivan.notebook.changed_note(b"checked") is None
    assert ivan.side_files[MODEL].read(100) == b"w"
    assert "latest attempt 2027-02-11-09-00-00" in ivan.notes
    assert judy.notebook.changed_note(judy.notebook.read(100)).startswith(f"{NOTEBOOK} is not the file")
    assert any("manifest names student 'someone'; graded as 'judy'" in note for note in judy.notes)
