"""A term, end to end: a course with a calendar, an extension and a roster grades an nbgrader submitted/ tree whose
timestamp.txt files say when each submission arrived; grades.csv, the feedback, the gradebook and `nbgrader export`
agree on each late penalty; a regrade charges the same; `export` refuses written answers nobody graded, then writes
each LMS's file with the written points and the penalty on the whole grade."""
import csv
import datetime as dt
import shutil
import subprocess
import sys

import nbformat
import pytest

from autograder.__main__ import main as cli
from autograder.course_dir import api, generate_release, scratch_course
from autograder.demo import write_timestamp
from autograder.notebooks import read_notebook, submission
from autograder.term import lms

pytestmark = [pytest.mark.xdist_group("reference_model"), pytest.mark.slow]  # sandboxes: `make test` only
ASSIGNMENT = NOTEBOOK = "two_layer_net"
DUE = dt.datetime(2027, 2, 12, 23, 59, tzinfo=dt.timezone.utc)
#: When each student's submission reached the course (None: no timestamp.txt).
ARRIVED = {"early": DUE - dt.timedelta(days=2), "grace": DUE + dt.timedelta(minutes=14),
           "late": DUE + dt.timedelta(days=1, hours=2), "ext": DUE + dt.timedelta(days=2), "nostamp": None}
CALENDAR = """time_zone = "Europe/London"
[late]
grace_minutes = 15
percent = 10
cap_percent = 50
closed_after_days = 7
[assignments.two_layer_net]
due = 2027-02-12T23:59:00
lms_id = "4411"
"""
ROSTER = """student_id,first_name,last_name,email,section,lms_id,sis_id,login
early,Ada,Early,ada@example.edu,A,101,S101,early
grace,Ben,Grace,ben@example.edu,A,102,S102,grace
late,Cy,Late,cy@example.edu,B,103,S103,late
ext,Dee,Extended,dee@example.edu,B,104,S104,ext
nostamp,Eve,Nostamp,eve@example.edu,B,105,S105,nostamp
absent,Fay,Absent,fay@example.edu,B,106,S106,absent
"""


@pytest.fixture(scope="module")
def course(tmp_path_factory, source_nb, answers, reference_model):
    course = scratch_course(tmp_path_factory.mktemp("term"), [ASSIGNMENT])
    (course / "term.toml").write_text(CALENDAR)
    (course / "extensions.csv").write_text("student_id,assignment,due,extra_days\next,two_layer_net,,3\n")
    (course / "roster.csv").write_text(ROSTER)
    generate_release(ASSIGNMENT, course)
    written = {"q_loss_as_scorer": "It ranks the classes.", "q_fitting": "Regularise more.",
               "q_nn_vs_svm": "Many templates per class."}  # answered: they wait for a person in formgrader
    solved = submission(read_notebook(course / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"), source_nb,
                        {**answers, **written})
    for student, arrived in ARRIVED.items():
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(solved, folder / f"{NOTEBOOK}.ipynb")
        shutil.copy(reference_model, folder / "best_two_layer_net.pth")
        if arrived is not None:
            write_timestamp(folder, arrived)
    assert cli(["grade", ASSIGNMENT, str(course / "submitted"), "--out", str(course / "grading"),
                "--course", str(course), "--workers", "2", "--no-canary"]) == 0
    return course


def grades_csv(course):
    return {row["student_id"]: row for row in csv.DictReader((course / "grading" / "grades.csv").open())}


def test_grades_csv_charges_each_late_submission(course):
    rows = grades_csv(course)
    columns = {s: (r["status"], r["raw_total"], r["late_by"], r["late_penalty"], r["total"]) for s, r in rows.items()}
    assert columns == {"absent": ("missing", "0", "", "0", "0"),
                       "early": ("ok", "34", "0:00:00", "0", "34"),
                       "grace": ("ok", "34", "0:14:00", "0", "34"),
                       "late": ("ok", "34", "26:00:00", "6.8", "27.2"),  # 2 started days: 20%
                       "ext": ("ok", "34", "0:00:00", "0", "34"),
                       "nostamp": ("ok", "34", "", "0", "34")}
    page = (course / "grading" / "feedback" / "late.html").read_text()
    assert "34, less the late penalty of 6.8 = <b>27.2</b>" in page and "1 day 2 h late" in page
    assert "no arrival time" in (course / "grading" / "feedback" / "nostamp.html").read_text().lower()
    assert not (course / "grading" / "feedback" / "absent.html").exists()


def test_the_gradebook_and_nbgrader_export_show_the_same_totals(course):
    with api(course).gradebook as gb:
        late = gb.find_submission(ASSIGNMENT, "late")
        assert late.late_submission_penalty == pytest.approx(6.8) and late.total_seconds_late > 0
        ext = gb.find_submission(ASSIGNMENT, "ext")
        assert ext.extension == dt.timedelta(days=3) and ext.total_seconds_late == 0
    exported = course / "nbgrader-export.csv"
    subprocess.run([sys.executable, "-m", "nbgrader", "export", "--to", str(exported)], cwd=course, check=True,
                   capture_output=True)
    scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(exported.open())}
    assert scores["late"] == pytest.approx(27.2) and scores["early"] == 34


def test_a_regrade_charges_the_same_penalty(course):
    assert cli(["grade", ASSIGNMENT, str(course / "submitted"), "--out", str(course / "grading"), "--course",
                str(course), "--student", "late", "--workers", "1", "--no-canary"]) == 0
    assert grades_csv(course)["late"]["late_penalty"] == "6.8"


def enter_written_scores(course, student, scores):
    with api(course).gradebook as gb:
        for part, score in scores.items():
            grade = gb.find_grade(part, NOTEBOOK, ASSIGNMENT, student)
            grade.manual_score, grade.needs_manual_grade = score, False
        gb.db.commit()


def test_export_refuses_ungraded_written_answers_then_sends_whole_grades(course, tmp_path, capsys):
    out = tmp_path / "canvas.csv"
    args = ["export", ASSIGNMENT, "--grades", str(course / "grading"), "--to", "canvas", "--out", str(out),
            "--course", str(course)]
    assert cli(args) == 2
    refusal = capsys.readouterr().err
    assert "written answers not graded yet: q_loss_as_scorer" in refusal
    assert all(f"  {student}: " in refusal for student in ARRIVED) and not out.exists()
    # Grade the written answers as formgrader does.
    for student in ARRIVED:
        enter_written_scores(course, student, {"q_loss_as_scorer": 2, "q_fitting": 4, "q_nn_vs_svm": 3})
    assert cli(args) == 0
    grades = {g.identifier: (g.score, g.feedback) for g in lms.read("canvas", out)}
    assert grades["103"][0] == pytest.approx((34 + 9) * 0.8)  # the penalty on the whole grade
    assert grades["101"][0] == 43 and grades["106"][0] == 0  # absent: no submission
    with api(course).gradebook as gb:  # written back, so formgrader shows the same
        assert gb.find_submission(ASSIGNMENT, "late").late_submission_penalty == pytest.approx(8.6)
    for fmt in ("moodle", "blackboard", "csv"):
        path = tmp_path / f"{fmt}.csv"
        assert cli([*args[:5], fmt, "--out", str(path), "--course", str(course)]) == 0
        scores = [g.score for g in lms.read(fmt, path)]
        assert sorted(scores) == sorted([43, 43, 34.4, 43, 43, 0]), fmt
    feedback = {g.identifier: g.feedback for g in lms.read("moodle", tmp_path / "moodle.csv")}
    assert "late by 1 day 2 h" in feedback["cy@example.edu"] and "-20%" in feedback["cy@example.edu"]
