"""The batch grader's jobs and results, typed.

A `JobTemplate` is what every job of an assignment shares; a `Job` is one submission's (it travels to a Dask worker,
pickled). A `Result` is one submission's row, whatever became of it (graded, refused at intake, failed by the grader);
its `to_json` is the file DIR/results/<student>.json that the reports and the gradebook are written from.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from autograder.harness.i18n import _
from autograder.judging import Report
from autograder.grade.sandbox import Limits
from autograder.term.calendar import Lateness


@dataclass(frozen=True)
class JobTemplate:
    """What every job of an assignment needs: from its manifest (the autograded parts, their points, the side files,
    the budgets) and its source notebook (the set-up cell, the answer cells, the written questions' points).
    `allow_unsandboxed` lets a worker without a sandbox grade anyway; `fingerprint` is the client's kit and course
    settings (autograder.grade.fingerprint), which every worker must share to grade a job."""
    assignment: str
    title: str
    notebook_file: str
    setup: str
    answer_cells: dict[str, list[str]]
    points: dict[str, float]
    manual_parts: dict[str, float]
    side_file_names: list[str]
    limits: Limits
    course_root: str
    warm: bool = True
    allow_unsandboxed: bool = False
    fingerprint: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Job:
    """One submission to grade: the template, the student's notebook and side files (read at planning; a side file
    refused there is {"refused": why}) and the problem that keeps it from being graded ((status, message), if any)."""
    template: JobTemplate
    student_id: str
    notebook: bytes | None
    notebook_name: str | None
    side_files: dict[str, bytes | dict[str, str]]
    problem: tuple[str, str] | None
    notes: list[str]
    seed: int | None = None


@dataclass
class PartResult:
    """One autograded part of a result: its score out of `max` (None where the grader failed, with the cause in
    `grader_error`), the seed of its hidden cases, its diagnoses and its sub-checks."""
    score: float | None
    max: float
    seed: int
    diagnoses: list[str]
    subchecks: list[dict[str, Any]]
    grader_error: str | None = None

    @classmethod
    def from_report(cls, report: Report, points: float) -> PartResult:
        """The part as judged in `report`, scored out of `points`."""
        return cls(round(points * report.fraction, 4), points, report.seed, report.diagnoses,
                   [{"name": s.name, "weight": s.weight, "passed": s.passed, "detail": s.detail}
                    for s in report.subchecks])

    @classmethod
    def grader_failed(cls, points: float, cause: str) -> PartResult:
        """A part the grader failed to grade: no score, and the cause, kept for the instructor."""
        return cls(None, points, 0, [], [], grader_error=cause)

    def to_json(self) -> dict[str, Any]:
        """The part as a result file holds it."""
        failed = {} if self.grader_error is None else {"grader_error": self.grader_error}
        return {"score": self.score, "max": self.max, "seed": self.seed, **failed, "diagnoses": self.diagnoses,
                "subchecks": self.subchecks}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PartResult:
        """The part read back from `to_json`'s dict."""
        return cls(data["score"], data["max"], data["seed"], data["diagnoses"], data["subchecks"],
                   data.get("grader_error"))


@dataclass
class Result:
    """One submission's row: its status ("ok", a failure such as "timeout" or "invalid-notebook", or "grader-error":
    the grader failed, not the student's code) and message, its autograded parts (in the manifest's order), the points
    of its written answers (graded by hand), notes for the student, the sandbox's isolation and what grading took. A
    row graded in a sandbox also has the seconds of each part and of each kind of step inside the sandbox, of each
    stage of its grading on the worker (`stage_seconds`: read, draw, sandbox, judge, best_model), and which sandbox
    ran it.
    `arrived` (ISO 8601, with its offset) is when the submission reached the course, read at intake from
    `arrived_from`; `late` is its lateness under the course calendar, assessed when the reports are written."""
    student_id: str
    status: str
    message: str
    parts: dict[str, PartResult]
    manual_parts: dict[str, float]
    notes: list[str]
    isolation: str
    seconds: float
    worker: str | None = None
    part_seconds: dict[str, float] | None = None
    step_seconds: dict[str, float] | None = None
    sandbox: dict[str, Any] | None = None
    arrived: str | None = None
    arrived_from: str | None = None
    late: Lateness | None = None
    stage_seconds: dict[str, float] | None = None

    @classmethod
    def missing(cls, template: JobTemplate, student_id: str) -> Result:
        """The row of a student on the roster who submitted nothing: 0 points, no part graded."""
        parts = {grade_id: PartResult(None, points, 0, [], []) for grade_id, points in template.points.items()}
        return cls(student_id, "missing", _("no submission from this student of the roster"), parts,
                   dict(template.manual_parts), [], isolation="", seconds=0.0)

    @classmethod
    def grader_error(cls, template: JobTemplate, student_id: str, notes: list[str], error: BaseException) -> Result:
        """The row of a submission whose grading itself failed: kept, not graded, and explained."""
        message = _("not graded because the grader failed on this submission ({error})").format(
            error=f"{type(error).__name__}: {error}")
        parts = {grade_id: PartResult.grader_failed(points, message) for grade_id, points in template.points.items()}
        return cls(student_id, "grader-error", message, parts, dict(template.manual_parts), list(notes),
                   isolation="", seconds=0.0)

    @property
    def raw_total(self) -> float | None:
        """The autograded points earned before any late penalty (0 for a missing submission); None when the grader
        failed on a part (it has no score)."""
        if self.status == "missing":
            return 0.0
        scores = [part.score for part in self.parts.values() if part.score is not None]
        return None if len(scores) < len(self.parts) else round(sum(scores), 4)

    @property
    def late_penalty(self) -> float:
        """The points the late policy takes off `raw_total`."""
        return 0.0 if self.late is None else self.late.penalty(self.raw_total)

    @property
    def total(self) -> float | None:
        """The autograded points the student gets: `raw_total` less the late penalty."""
        raw = self.raw_total
        return None if raw is None else round(raw - self.late_penalty, 4)

    @property
    def max_total(self) -> float:
        """Every point of the assignment: the autograded parts' and the written answers'."""
        return sum(part.max for part in self.parts.values()) + sum(self.manual_parts.values())

    def to_json(self) -> dict[str, Any]:
        """The row as DIR/results/<student>.json holds it."""
        sandboxed = {key: value for key, value in (("part_seconds", self.part_seconds),
                                                   ("step_seconds", self.step_seconds), ("sandbox", self.sandbox),
                                                   ("stage_seconds", self.stage_seconds))
                     if value is not None}
        worker = {} if self.worker is None else {"worker": self.worker}
        late = {} if self.late is None else {"late": self.late.to_json(), "late_penalty": self.late_penalty}
        return {"student_id": self.student_id, "status": self.status, "message": self.message,
                "parts": {grade_id: part.to_json() for grade_id, part in self.parts.items()},
                "manual_parts": self.manual_parts, "notes": self.notes, "isolation": self.isolation, **sandboxed,
                "arrived": self.arrived, "arrived_from": self.arrived_from, "raw_total": self.raw_total, **late,
                "total": self.total, "max_total": self.max_total, "seconds": self.seconds, **worker}

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> Result:
        """The row read back from `to_json`'s dict (its totals are computed again)."""
        late = Lateness.from_json(row["late"]) if row.get("late") else None
        return cls(row["student_id"], row["status"], row["message"],
                   {grade_id: PartResult.from_json(part) for grade_id, part in row["parts"].items()},
                   row["manual_parts"], row["notes"], row["isolation"], row["seconds"], row.get("worker"),
                   row.get("part_seconds"), row.get("step_seconds"), row.get("sandbox"), row.get("arrived"),
                   row.get("arrived_from"), late, row.get("stage_seconds"))
