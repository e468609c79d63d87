"""A JupyterHub course's round trip through nbgrader's filesystem exchange, graded by this kit's batch grader:
release_assignment -> fetch_assignment -> submit -> collect -> `python -m autograder grade` -> `python -m autograder
release-feedback` (nbgrader's generate_feedback and release_feedback, held back until the due date when the course
calendar says so) -> fetch_feedback. The instructor's steps run through nbgrader's API on a scratch course
whose nbgrader_config.py names the exchange; the student's run as `nbgrader` commands in a folder of their own,
as from a student's server."""
import datetime as dt
import os
import re
import shutil
import subprocess
import sys

import nbformat
import pytest
from nbgrader.utils import get_username

from autograder.__main__ import main as cli
from autograder.course_dir import api, scratch_course
from autograder.notebooks import read_notebook, submission

pytestmark = [pytest.mark.xdist_group("reference_model"), pytest.mark.slow]  # sandboxes and notebooks: `make test` only
ASSIGNMENT = "two_layer_net"
COURSE_ID = "deep-learning-course"  # c.CourseDirectory.course_id in nbgrader_config.py
WRITTEN = {"q_loss_as_scorer": "A lower loss means the true class scores higher.",
           "q_fitting": "Validation accuracy far below training accuracy: overfitting.",
           "q_nn_vs_svm": "The hidden layer learns many templates per class."}


def student_command(folder, exchange, *args):
    """Run `nbgrader ARGS` as the student, in their folder (nbgrader names the student after the OS user, or
    $JUPYTERHUB_USER in a `jovyan` container)."""
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(folder.parent / "student-config"),
           "JUPYTER_DATA_DIR": str(folder.parent / "student-data"), "JUPYTERHUB_USER": get_username()}
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args, "--course", COURSE_ID,
                           f"--Exchange.root={exchange}", f"--Exchange.cache={folder.parent / 'student-cache'}"],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def instructor(course, step, *args):
    result = getattr(api(course), step)(*args)
    assert result["success"], (step, result.get("error") or result.get("log"))
    return result


def test_release_fetch_submit_collect_grade_feedback_round_trip(tmp_path, source_nb, answers, reference_model):
    exchange, student_home = tmp_path / "exchange", tmp_path / "student"
    exchange.mkdir()
    student_home.mkdir()
    course = scratch_course(tmp_path / "course", [ASSIGNMENT])
    with open(course / "nbgrader_config.py", "a") as config:
        config.write(f"\nc.Exchange.root = {str(exchange)!r}\n")
    student = get_username()

    instructor(course, "generate_assignment", ASSIGNMENT)
    instructor(course, "release_assignment", ASSIGNMENT)
    student_command(student_home, exchange, "fetch_assignment", ASSIGNMENT)
    fetched = student_home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nbformat.write(submission(read_notebook(fetched), source_nb, {**answers, **WRITTEN}), fetched)  # the student's work
    shutil.copy(reference_model, student_home / ASSIGNMENT / "best_two_layer_net.pth")
    student_command(student_home, exchange, "submit", ASSIGNMENT)

    instructor(course, "collect", ASSIGNMENT)
    assert (course / "submitted" / student / ASSIGNMENT / "best_two_layer_net.pth").is_file()
    assert cli(["grade", ASSIGNMENT, str(course / "submitted"), "--out", str(tmp_path / "grading"),
                "--course", str(course), "--workers", "1", "--no-canary"]) == 0
    # Feedback after the due date: two days away, so it is held back, and nothing reaches the exchange.
    due = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=2)
    calendar = f'time_zone = "UTC"\nfeedback = "after-due"\n[assignments.{ASSIGNMENT}]\ndue = {due:%Y-%m-%dT%H:%M:%S}\n'
    (course / "term.toml").write_text(calendar)
    assert cli(["release-feedback", ASSIGNMENT, "--course", str(course)]) == 0
    assert not list((exchange / COURSE_ID).glob("feedback/*.html"))
    (course / "term.toml").write_text(calendar.replace("after-due", "immediately"))
    assert cli(["release-feedback", ASSIGNMENT, "--course", str(course)]) == 0
    assert len(list((exchange / COURSE_ID).glob("feedback/*.html"))) == 1
    student_command(student_home, exchange, "fetch_feedback", ASSIGNMENT)

    feedback, = (student_home / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html")
    page = feedback.read_text()
    assert "test_nn_train: 6 / 6 points" in page and "test_best_model: 6 / 6 points" in page
    assert re.search(r"Score:\s*34(\.0)?\s*/\s*43", re.sub(r"<[^>]+>", " ", page))
    assert "BEGIN HIDDEN" not in page and "check_nn_forward_pass" not in page
    with api(course).gradebook as gb:
        graded = gb.find_submission(ASSIGNMENT, student)
        assert (graded.score, graded.max_score) == (34.0, 43.0)
        assert graded.needs_manual_grade  # the three written answers wait for formgrader
