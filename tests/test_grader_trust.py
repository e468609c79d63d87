"""The grader's failures are the grader's: it grades the reference in full wherever the kit lives (under /tmp, in a
path with spaces, with a .venv that is a symbolic link), checks itself on the reference before every batch (the
canary), and turns a failure that is not the student's (a sandbox that cannot start, outputs that cannot be recorded,
a data set that is not there) into a `grader-error` row, never a zero."""
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import MissingEntry

from autograder import registry
from autograder.__main__ import main as cli
from autograder.course_dir import COURSE_ROOT, generate_release, scratch_course
from autograder.grade import grade_batch, sandbox
from autograder.grade.canary import CanaryFailed, reference_submission
from autograder.gradebook import part_grades

pytestmark = [pytest.mark.xdist_group("reference_model"), pytest.mark.slow]  # sandboxes and notebooks: `make test` only
GRADED = registry.names(graded=True)


def kit_copy(folder):
    """The kit's files as a clone would hold them (tracked and new files, nothing git ignores) in `folder`, and its
    .venv as a symbolic link to this interpreter's virtualenv (on another disk, as far as the copy knows)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=COURSE_ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = COURSE_ROOT / name
        if source.is_file():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, folder / name)
    (folder / ".venv").symlink_to(Path(sys.prefix))
    return folder


def write_reference(folder, assignment, student="alice", course_dir=COURSE_ROOT):
    """The reference solution as `student`'s submission in `folder` (notebook and side files)."""
    folder.mkdir(parents=True, exist_ok=True)
    notebook, side_files = reference_submission(course_dir, assignment)
    nbformat.write(notebook, folder / f"{student}.ipynb")
    for name, path in side_files.items():
        (folder / student).mkdir(exist_ok=True)
        shutil.copy(path, folder / student / name)
    return folder


@pytest.fixture(scope="module")
def kit_under_tmp():
    """A copy of the kit under /tmp, in a folder whose name has spaces, with a symbolic-link .venv."""
    with tempfile.TemporaryDirectory(prefix="course kit ", dir="/tmp") as folder:
        yield kit_copy(Path(folder) / "my kit")


@pytest.mark.parametrize("assignment, kind", [(name, "warm") for name in GRADED] + [(GRADED[0], "cold")])
def test_a_kit_under_tmp_grades_the_reference_in_full(kit_under_tmp, reference_model, tmp_path, assignment, kind):
    if kind == "warm" and not sandbox.warm_sandboxes():
        pytest.skip("warm sandboxes need bubblewrap with user namespaces")
    submissions = write_reference(tmp_path / "submissions", assignment)
    out = tmp_path / "out"
    command = [str(kit_under_tmp / ".venv" / "bin" / "python"), "-m", "autograder", "grade", assignment,
               str(submissions), "--out", str(out), "--workers", "1"] + (["--cold-sandboxes"] if kind == "cold" else [])
    done = subprocess.run(command, cwd=kit_under_tmp, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(kit_under_tmp)})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Canary: the reference solution got every autograded point" in done.stdout
    result = json.loads((out / "results" / "alice.json").read_text())
    assert result["sandbox"]["kind"] == kind, result["sandbox"]
    autograded = sum(registry.assignment(assignment).points.values())
    assert (result["status"], result["total"]) == ("ok", autograded), {
        part: value["diagnoses"] for part, value in result["parts"].items() if value["diagnoses"]}
    canary, = json.loads((out / "canary.json").read_text())["results"].values()
    assert canary["total"] == autograded, canary["message"]


# --- a grader broken on purpose ------------------------------------------------------------------------------------

HIDDEN_MODULE = "course_kit_module_the_sandbox_cannot_see"


def broken_harness(folder, where):
    """A copy of the sandbox's harness whose transport needs a module the sandbox cannot see: when it records each
    part's outputs (`where="recording"`), or as soon as the harness starts (`where="start"`)."""
    harness = shutil.copytree(sandbox.HARNESS_DIR, folder / "harness", ignore=shutil.ignore_patterns("__pycache__"))
    transport = harness / "transport.py"
    text = transport.read_text()
    if where == "recording":
        text = text.replace("    tensors, skeleton = encode(obj)\n    save_file(",
                            f"    tensors, skeleton = encode(obj)\n    import {HIDDEN_MODULE}  # noqa\n"
                            "    save_file(", 1)
    else:
        text = text.replace("def self_test():\n", f"def self_test():\n    import {HIDDEN_MODULE}  # noqa\n", 1)
    assert HIDDEN_MODULE in text
    transport.write_text(text)
    return harness


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = scratch_course(tmp_path_factory.mktemp("course"), ["two_layer_net"])
    generate_release("two_layer_net", course)
    return course


@pytest.fixture
def reference_batch(tmp_path, reference_model, course):
    write_reference(tmp_path / "submissions", "two_layer_net", "alice", course)
    write_reference(tmp_path / "submissions", "two_layer_net", "bob", course)
    return tmp_path / "submissions"


@pytest.mark.parametrize("where", ["recording", "start"])
def test_a_broken_sandbox_makes_the_canary_refuse_the_batch(monkeypatch, tmp_path, course, reference_batch, where,
                                                            capsys):
    monkeypatch.setattr(sandbox.commands, "HARNESS_DIR", broken_harness(tmp_path, where))
    out = tmp_path / "out"
    with pytest.raises(CanaryFailed) as refused:
        grade_batch("two_layer_net", reference_batch, out, course_dir=course, workers=1, show_progress=False)
    text = str(refused.value)
    assert "did not get every autograded point" in text and HIDDEN_MODULE in text, text
    assert "test_nn_forward_pass: not graded, the grader failed" in text, text
    assert not (out / "grades.csv").exists() and not list((out / "results").glob("*.json"))
    canary = json.loads((out / "canary.json").read_text())["results"]
    assert all(part.get("grader_error") for result in canary.values() for grade_id, part in result["parts"].items()
               if grade_id != "test_best_model"), canary
    # The command line prints the canary's per-part result and exits 2.
    assert cli(["grade", "two_layer_net", str(reference_batch), "--out", str(tmp_path / "cli"), "--course",
                str(course), "--workers", "1"]) == 2
    assert "test_nn_forward_backward: not graded, the grader failed" in capsys.readouterr().err


@pytest.mark.parametrize("where", ["recording", "start"])
def test_without_the_canary_a_broken_sandbox_gives_grader_error_rows_never_zeros(monkeypatch, tmp_path, course,
                                                                                  reference_batch, where, capsys):
    monkeypatch.setattr(sandbox.commands, "HARNESS_DIR", broken_harness(tmp_path, where))
    out = tmp_path / "out"
    assert cli(["grade", "two_layer_net", str(reference_batch), "--out", str(out), "--course", str(course),
                "--workers", "1", "--no-canary"]) == 1
    assert "the grader failed on 2 submissions (alice, bob)" in capsys.readouterr().err
    for student in ("alice", "bob"):
        result = json.loads((out / "results" / f"{student}.json").read_text())
        assert result["status"] == "grader-error" and result["total"] is None, result
        cause = "recording its outputs failed" if where == "recording" else "while starting"
        assert cause in result["message"] and HIDDEN_MODULE in result["message"], result["message"]
        for grade_id, part in result["parts"].items():
            if grade_id == "test_best_model":  # judged outside the sandbox: still graded
                assert part["score"] == 6 and "grader_error" not in part
            else:
                assert part["score"] is None and HIDDEN_MODULE in part["grader_error"] and not part["diagnoses"], part
    rows = {row["student_id"]: row for row in csv.DictReader(open(out / "grades.csv"))}
    assert rows["alice"]["status"] == "grader-error"
    assert (rows["alice"]["test_nn_forward_pass"], rows["alice"]["test_best_model"], rows["alice"]["total"]) == \
        ("", "6", "")
    summary = (out / "summary.html").read_text()
    assert summary.index("Not graded: the grader failed on 2 submissions") < summary.index("Autograded scores")
    feedback = (out / "feedback" / "alice.html").read_text()
    assert "That is not a mistake in your" in feedback and "0 / 4" not in feedback
    with pytest.raises(MissingEntry):  # never recorded in the gradebook, so formgrader shows no zero
        part_grades(course, "two_layer_net", ["alice"])


def test_a_missing_data_set_is_the_graders_failure_not_the_students(monkeypatch, tmp_path, course, reference_batch):
    two_layer_net = registry.assignment("two_layer_net", course).module("checks")  # the course's own, as grading

    def no_data(*args, **kwargs):
        raise FileNotFoundError("Fashion-MNIST is not in /usr/share/datasets/fashion-mnist")
    monkeypatch.setattr(two_layer_net, "load_dataset", no_data)
    two_layer_net.evaluation_data.cache_clear()  # as in a fresh grading process on a machine without the data
    results = grade_batch("two_layer_net", reference_batch, tmp_path / "out", course_dir=course, workers=1,
                          show_progress=False, canary=False, record=False)
    for result in results:
        assert result.status == "grader-error" and result.total is None
        model = result.parts["test_best_model"]
        assert model.score is None and "Fashion-MNIST is not in" in model.grader_error, model
        assert result.parts["test_nn_forward_pass"].score == 4
