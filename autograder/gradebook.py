"""nbgrader's gradebook: reading per-part grades back, and recording the batch grader's scores."""
import datetime as dt
from pathlib import Path

from nbgrader.api import Comment, Grade
from sqlalchemy.orm import joinedload

from autograder.course_dir import api


def part_grades(course_dir, assignment, students):
    """{student: {grade_id: (score, max_score)}} for every graded cell of the assignment's notebooks.

    The score is nbgrader's (manual score where a grader set one, else the autograder's); written
    answers that still need a person are (None, max_score).
    """
    gradebook = api(course_dir).gradebook
    with gradebook as gb:
        notebooks = gb.find_assignment(assignment).notebooks
        out = {}
        for student in students:
            grades = {}
            for nb in notebooks:
                for cell in nb.grade_cells:
                    grade = gb.find_grade(cell.name, nb.name, assignment, student)
                    pending = grade.needs_manual_grade and grade.manual_score is None
                    grades[cell.name] = (None if pending else grade.score, grade.max_score)
            out[student] = grades
    return out


def ensure_assignment(course_dir, assignment, notebook_file):
    """Make sure the gradebook knows the assignment and its grade cells and the course has its release notebook
    (nbgrader generate_assignment otherwise); return the release notebook's path."""
    from nbgrader.api import MissingEntry

    from autograder.course_dir import generate_release
    release = Path(course_dir) / "release" / assignment / notebook_file
    with api(course_dir).gradebook as gb:
        try:
            known = bool(gb.find_assignment(assignment))
        except MissingEntry:
            known = False
    if not known or not release.is_file():
        generate_release(assignment, course_dir)  # registers the assignment and its grade cells
    return release


def record_results(course_dir, assignment, notebook_file, results, submitted=None, term=None):
    """Write the batch grader's Results into nbgrader's gradebook (students and submissions created as needed),
    leaving it as `nbgrader autograde` would, so formgrader, `nbgrader export` and feedback see them.

    `submitted` ({student: {"written": {grade_id: 0 | None}}}, from
    autograder.autograded.write_one, by student) says which written answers are blank (0, "No response.") or answered
    (None: pending, formgrader lists them to grade); a written answer it does not name was deleted, or the
    notebook could not be read, and scores 0. Without it, written answers are left as they are. Manual scores a
    grader entered are kept; as in nbgrader, a part regraded after one was entered is flagged for review.
    Where nbgrader keeps them: the time each submission arrived, the assignment's due date and each student's
    extension under the course calendar `term` (a calendar.Term), and the late penalty in points (the notebook's
    `late_submission_penalty`), so formgrader and `nbgrader export` show the total grades.csv does.
    The gradebook must know the assignment already (`ensure_assignment`).
    """
    notebook = Path(notebook_file).stem
    due = term.due(assignment) if term else None
    with api(course_dir).gradebook as gb:
        if due is not None:
            gb.update_or_create_assignment(assignment, duedate=_utc(due))
        for result in results:
            student = result.student_id
            gb.update_or_create_student(student)
            info = (submitted or {}).get(student)
            dates = {"timestamp": _utc(dt.datetime.fromisoformat(result.arrived))} if result.arrived else {}
            if due is not None and term is not None:
                extended = term.due_for(student, assignment)[0] - due
                dates["extension"] = extended if extended else None
            gb.update_or_create_submission(assignment, student, **dates)
            submitted_notebook = gb.find_submission_notebook(notebook, assignment, student)
            submitted_notebook.late_submission_penalty = result.late_penalty
            scores = {part: outcome.score for part, outcome in result.parts.items()}
            if info is not None:
                scores.update({part: info["written"].get(part, 0) for part in result.manual_parts})
            grades, comments = _grades_and_comments(gb, submitted_notebook)
            for part, score in scores.items():
                grade = grades[part]
                grade.auto_score = score
                grade.needs_manual_grade = grade.manual_score is not None or score is None  # nbgrader's rule
                if part in result.manual_parts:
                    comments[part].auto_comment = "No response." if score == 0 else None
            gb.db.commit()


def _grades_and_comments(gb, submitted_notebook):
    """({grade_id: Grade}, {grade_id: Comment}) of one submitted notebook, in two queries (nbgrader's find_grade and
    find_comment make several each)."""
    grades = gb.db.query(Grade).options(joinedload(Grade.cell)).filter(Grade.notebook_id == submitted_notebook.id)
    comments = gb.db.query(Comment).options(joinedload(Comment.cell)).filter(
        Comment.notebook_id == submitted_notebook.id)
    return {grade.name: grade for grade in grades}, {comment.name: comment for comment in comments}


def _utc(moment):
    """An aware datetime as nbgrader stores times: naive, in UTC."""
    return moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
