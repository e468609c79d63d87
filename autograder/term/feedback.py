"""`python -m autograder release-feedback ASSIGNMENT`: give students their feedback through nbgrader's exchange
(`generate_feedback`, then `release_feedback`, one student at a time), when the course calendar says:

* `feedback = "immediately"`: every graded submission's, at once;
* `feedback = "after-due"` (the default): only the students whose own due date, with any extension, has passed, so
  the feedback (and what it says of the hidden cases) reaches no one while a classmate can still hand in. Run it
  again later for the rest.

A course without a calendar, or an assignment it does not date, releases every graded submission's.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from nbgrader.api import MissingEntry

from autograder.course_dir import COURSE_ROOT, api
from autograder.term import calendar


class FeedbackError(RuntimeError):
    """nbgrader could not generate or release a student's feedback; the message holds its log."""


@dataclass
class Released:
    """What one run did: the students whose feedback was released, and those held back until their due date."""
    released: list[str] = field(default_factory=list)
    held: dict[str, dt.datetime] = field(default_factory=dict)


def plan(assignment: str, students: list[str], term: calendar.Term | None, now: dt.datetime) -> Released:
    """Which of `students` (graded) get their feedback at `now` (aware), by the calendar's feedback setting."""
    out = Released()
    for student in students:
        found = term.due_for(student, assignment) if term and term.calendar.feedback == "after-due" else None
        if found is not None and found[0] > now:
            out.held[student] = found[0]
        else:
            out.released.append(student)
    return out


def release(assignment: str, course_dir=COURSE_ROOT, now: dt.datetime | None = None) -> Released:
    """Generate and release the feedback of every graded student of `assignment` whose time has come (see `plan`)."""
    term = calendar.load(course_dir)
    nbgrader = api(course_dir)
    with nbgrader.gradebook as gb:
        try:
            students = sorted(s.student.id for s in gb.find_assignment(assignment).submissions)
        except MissingEntry:
            raise FeedbackError(f"the gradebook has no assignment {assignment!r}: grade it first "
                                f"(python -m autograder grade {assignment} ...)") from None
    decided = plan(assignment, students, term, now or dt.datetime.now(dt.timezone.utc))
    for student in decided.released:
        for step in (nbgrader.generate_feedback, nbgrader.release_feedback):
            outcome = step(assignment, student)
            if not outcome["success"]:
                raise FeedbackError(f"nbgrader {step.__name__} failed for {student}: "
                                    f"{outcome.get('error') or outcome.get('log', '')[-2000:]}")
    return decided
