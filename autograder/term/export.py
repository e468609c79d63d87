"""`python -m autograder export ASSIGNMENT --grades DIR --to canvas|moodle|blackboard|csv`: the grades of a batch as
the import file of an LMS gradebook (autograder.term.lms writes each format).

A student's grade is everything they earned: the autograded points (DIR/results, as the batch grader wrote them)
plus the written answers graded in formgrader (nbgrader's gradebook), less the late penalty of the course calendar,
charged on the whole (autograder.term.calendar). The penalty is written back to the gradebook, so formgrader and
`nbgrader export` show the same total. A student of the roster who submitted nothing gets 0.

It refuses, naming each student, when a row is `grader-error` (not graded) or has written answers nobody has graded
yet, unless told `allow_incomplete` (then those rows are sent without a grade, or with the ungraded answers at 0,
and the feedback says so).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nbgrader.api import MissingEntry

from autograder.course_dir import COURSE_ROOT, api
from autograder.grade.reports import number
from autograder.grade.results import Result
from autograder.harness.i18n import _
from autograder.term import calendar, lms
from autograder.term.calendar import describe_late_by
from autograder.term.roster import Student


class IncompleteGrades(lms.ExportError):
    """Rows that cannot be sent yet: the message names each student and why."""


@dataclass(frozen=True)
class Grade:
    """One student's grade for the LMS: autograded and written points, the late penalty (points) and what is
    missing (a reason per gap; empty when complete)."""
    student_id: str
    autograded: float | None
    written: float
    penalty: float
    gaps: tuple[str, ...]
    feedback: str

    @property
    def score(self) -> float | None:
        return None if self.autograded is None else round(self.autograded + self.written - self.penalty, 4)


def export(assignment, grades_dir, to, out=None, course_dir=COURSE_ROOT, allow_incomplete=False,
           moodle_identifier="email"):
    """Write the LMS import file of `assignment`'s grades (graded into `grades_dir`) in format `to`; return its path
    and the Grades. IncompleteGrades (unless `allow_incomplete`), lms.ExportError, CalendarError or RosterError when
    it cannot."""
    from autograder.grade import class_results, job_template
    template = job_template(assignment, course_dir)
    term = calendar.load(course_dir)
    roster = (term.students if term else None) or {}
    if not (Path(grades_dir) / "results").is_dir():
        raise lms.ExportError(f"{grades_dir} holds no graded batch (no results/ folder): give the --out folder of "
                              f"`python -m autograder grade {assignment}`")
    results = class_results(template, grades_dir, term)
    grades = [_grade(result, written) for result, written in zip(results, _written(course_dir, template, results))]
    gaps = [f"{grade.student_id}: {'; '.join(grade.gaps)}" for grade in grades if grade.gaps]
    if gaps and not allow_incomplete:
        raise IncompleteGrades("not exported: these grades are not complete (grade them, or regrade with "
                               "--student, or export with --allow-incomplete):\n  " + "\n  ".join(gaps))
    max_points = sum(template.points.values()) + sum(template.manual_parts.values())
    column = lms.Column(template.title, max_points, term.lms_id(assignment) if term else None)
    rows = [lms.GradeRow(roster.get(grade.student_id) or Student(grade.student_id), grade.score, grade.feedback)
            for grade in grades]
    path = lms.write(to, rows, column, Path(out or f"{assignment}-{to}.csv"), moodle_identifier=moodle_identifier)
    _record_penalties(course_dir, template, grades)  # once the file is written: a refused export changes nothing
    return path, grades


def _written(course_dir, template, results):
    """For each result, {written grade_id: score or None (not graded yet)} from the gradebook; {} where the
    gradebook has no submission of that student (missing, or not recorded: grader-error)."""
    notebook = Path(template.notebook_file).stem
    found = []
    with api(course_dir).gradebook as gb:
        for result in results:
            scores = {}
            try:
                for part in template.manual_parts:
                    grade = gb.find_grade(part, notebook, template.assignment, result.student_id)
                    pending = grade.needs_manual_grade and grade.manual_score is None
                    scores[part] = None if pending else grade.score
            except MissingEntry:
                scores = {}
            found.append(scores)
    return found


def _grade(result: Result, written: dict[str, float | None]) -> Grade:
    """The Grade of one row, its penalty charged on autograded and written points together."""
    written_max = sum(result.manual_parts.values())
    if result.status == "missing":
        return Grade(result.student_id, 0.0, 0.0, 0.0, (), _("No submission."))
    gaps = []
    if result.status == "grader-error":
        gaps.append("grader-error: not graded (regrade it with --student)")
    ungraded = [part for part in result.manual_parts if written.get(part) is None]
    if ungraded and result.status != "grader-error":
        gaps.append(f"written answers not graded yet: {', '.join(ungraded)}")
    earned = sum(score for score in written.values() if score is not None)
    auto, auto_max = result.raw_total, sum(part.max for part in result.parts.values())
    penalty = result.late.penalty((auto or 0) + earned) if result.late and auto is not None else 0.0
    lines = [_("Autograded {score}/{max}").format(score=number(auto) if auto is not None else _("not graded"),
                                                  max=number(auto_max)),
             _("written answers {score}/{max}").format(score=number(earned), max=number(written_max))
             + (_(" (some not graded yet)") if ungraded else "")]
    late = result.late
    if late is not None and late.late_by is not None and late.late_by.total_seconds() > 0:
        lines.append(_("late by {duration}: {reason}").format(duration=describe_late_by(late.late_by),
                                                              reason=late.reason)
                     + (_(" ({points} points)").format(points=f"{-penalty:g}") if penalty else ""))
    # Translators: joins the parts of a student's LMS feedback ("Autograded 3/5; written answers 2/4").
    separator = _("; ")
    return Grade(result.student_id, auto, earned, penalty, tuple(gaps),
                 _("{summary}.").format(summary=separator.join(lines)))


def _record_penalties(course_dir, template, grades):
    """Write each graded student's penalty (points, on the whole grade) to the gradebook, where nbgrader keeps it."""
    notebook = Path(template.notebook_file).stem
    with api(course_dir).gradebook as gb:
        for grade in grades:
            try:
                submitted = gb.find_submission_notebook(notebook, template.assignment, grade.student_id)
            except MissingEntry:
                continue
            submitted.late_submission_penalty = grade.penalty
        gb.db.commit()
