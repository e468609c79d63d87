"""Typed jobs and results (autograder.grade.results): every row is a Result, its total and max_total computed in one
place, and its result file is the JSON the reports and the gradebook have always been written from."""
import json
import pickle

import nbformat
import pytest

from autograder.judging import Report
from autograder.grade import grade_submission, intake, job_template, plan_job
from autograder.grade.results import Job, JobTemplate, PartResult, Result
from autograder.grade.sandbox import Limits
from autograder.registry import COURSE_ROOT

POINTS = {"test_forward": 4, "test_best_model": 6}
MANUAL = {"q_why": 3}
TEMPLATE = JobTemplate(assignment="two_layer_net", title="Two-layer net", notebook_file="two_layer_net.ipynb",
                       setup="import torch", answer_cells={"forward": ["forward"]}, points=POINTS,
                       manual_parts=MANUAL, side_file_names=["best.pth"], limits=Limits(),
                       course_root=str(COURSE_ROOT))


def judged(part, passed):
    """A Report of two weighted sub-checks, the second passing only when `passed`."""
    report = Report(part, seed=1234)
    report.add("shape", 0.4, True)
    report.add("values", 0.6, passed, "" if passed else "scores have a ReLU applied [N=3 cpu]")
    return report


def graded(**changes):
    """A row graded in a sandbox: the forward pass lost its values sub-check, the best model got every point."""
    fields = dict(student_id="alice", status="ok", message="",
                  parts={"test_forward": PartResult.from_report(judged("test_forward", False), 4),
                         "test_best_model": PartResult.from_report(judged("test_best_model", True), 6)},
                  manual_parts=dict(MANUAL), notes=["notebook was named hw.ipynb"], isolation="bubblewrap",
                  seconds=2.5, worker="host:42", part_seconds={"test_forward": 0.12}, step_seconds={"start": 0.3},
                  sandbox={"kind": "warm", "job": 1})
    return Result(**{**fields, **changes})


def test_a_graded_row_is_the_result_file_it_always_was_and_reads_back_the_same():
    result = graded()
    row = result.to_json()
    assert json.dumps(row, indent=1) == json.dumps({
        "student_id": "alice", "status": "ok", "message": "",
        "parts": {"test_forward": {"score": 1.6, "max": 4, "seed": 1234,
                                   "diagnoses": ["scores have a ReLU applied [N=3 cpu]"],
                                   "subchecks": [{"name": "shape", "weight": 0.4, "passed": True, "detail": ""},
                                                 {"name": "values", "weight": 0.6, "passed": False,
                                                  "detail": "scores have a ReLU applied [N=3 cpu]"}]},
                  "test_best_model": {"score": 6.0, "max": 6, "seed": 1234, "diagnoses": [],
                                      "subchecks": [{"name": "shape", "weight": 0.4, "passed": True, "detail": ""},
                                                    {"name": "values", "weight": 0.6, "passed": True,
                                                     "detail": ""}]}},
        "manual_parts": {"q_why": 3}, "notes": ["notebook was named hw.ipynb"], "isolation": "bubblewrap",
        "part_seconds": {"test_forward": 0.12}, "step_seconds": {"start": 0.3}, "sandbox": {"kind": "warm", "job": 1},
        "arrived": None, "arrived_from": None, "raw_total": 7.6,
        "total": 7.6, "max_total": 13, "seconds": 2.5, "worker": "host:42"}, indent=1)
    assert Result.from_json(json.loads(json.dumps(row))) == result


def test_a_submission_never_graded_gets_a_row_through_the_same_grading_path(tmp_path):
    job = Job(TEMPLATE, "mallory", None, "two_layer_net.ipynb", {}, ("too-large", "two_layer_net.ipynb is 30 MB"),
              ["a note"])
    assert pickle.loads(pickle.dumps(job)) == job  # as Dask sends it to a worker
    result = grade_submission(job)
    assert (result.status, result.message, result.total, result.max_total) == (
        "too-large", "two_layer_net.ipynb is 30 MB", 0, 13)
    assert result.parts["test_forward"].diagnoses == ["not graded: two_layer_net.ipynb is 30 MB"]
    assert result.notes == ["a note"] and result.sandbox is None and result.worker
    row = json.loads(json.dumps(result.to_json()))
    assert "sandbox" not in row and "part_seconds" not in row and row["total"] == 0
    assert Result.from_json(row) == result


def test_the_grader_error_row_keeps_the_student_and_grades_nothing():
    result = Result.grader_error(TEMPLATE, "bob", ["a note"], RuntimeError("worker lost"))
    message = "not graded because the grader failed on this submission (RuntimeError: worker lost)"
    failed = {"score": None, "max": 4, "seed": 0, "grader_error": message, "diagnoses": [], "subchecks": []}
    assert json.dumps(result.to_json()) == json.dumps({
        "student_id": "bob", "status": "grader-error", "message": message,
        "parts": {"test_forward": failed, "test_best_model": {**failed, "max": 6}}, "manual_parts": MANUAL,
        "notes": ["a note"], "isolation": "", "arrived": None, "arrived_from": None, "raw_total": None, "total": None,
        "max_total": 13, "seconds": 0.0})
    assert Result.from_json(result.to_json()) == result


def test_one_part_the_grader_failed_leaves_the_total_ungraded_and_the_maximum_whole():
    result = graded(status="grader-error", parts={
        "test_forward": PartResult.from_report(judged("test_forward", True), 4),
        "test_best_model": PartResult.grader_failed(6, "could not be evaluated (FileNotFoundError: no data)")})
    assert result.total is None and result.max_total == 13
    assert result.to_json()["parts"]["test_best_model"]["grader_error"].startswith("could not be evaluated")
    assert "grader_error" not in result.to_json()["parts"]["test_forward"]


def test_max_total_counts_the_written_answers_and_total_only_the_autograded_points():
    result = graded(manual_parts={"q_why": 3, "q_how": 2.5})
    assert (result.total, result.max_total) == (7.6, 4 + 6 + 3 + 2.5)
    assert graded(manual_parts={}).max_total == 10


@pytest.mark.slow
def test_a_blank_release_graded_in_a_sandbox_round_trips(release_nb, tmp_path):
    (tmp_path / "blank.ipynb").write_text(nbformat.writes(release_nb))
    template = job_template("two_layer_net")
    sub, = intake.collect(tmp_path, "two_layer_net", template.notebook_file)
    result = grade_submission(plan_job(template, sub))
    assert result.status == "ok" and result.total == 0 and result.sandbox and result.part_seconds
    assert result.max_total == sum(template.points.values()) + sum(template.manual_parts.values())
    assert Result.from_json(json.loads(json.dumps(result.to_json()))) == result
