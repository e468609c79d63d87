"""nbgrader's gradebook: reading per-part grades back, and recording the batch grader's scores."""
from pathlib import Path

from autograder.course import api


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


def record_results(course_dir, assignment, notebook_file, results):
    """Write autograded part scores into nbgrader's gradebook (students and submissions created as
    needed), so formgrader, `nbgrader export` and feedback see them. Written answers stay pending."""
    from nbgrader.api import MissingEntry

    from autograder.course import generate_release
    notebook = Path(notebook_file).stem
    with api(course_dir).gradebook as gb:
        try:
            gb.find_assignment(assignment)
        except MissingEntry:
            generate_release(assignment, course_dir)  # registers the assignment and its grade cells
    with api(course_dir).gradebook as gb:
        for result in results:
            student = result["student_id"]
            gb.update_or_create_student(student)
            try:
                gb.find_submission(assignment, student)
            except MissingEntry:
                gb.add_submission(assignment, student)
            for part, outcome in result["parts"].items():
                grade = gb.find_grade(part, notebook, assignment, student)
                grade.auto_score, grade.needs_manual_grade = outcome["score"], False
            gb.db.commit()
