"""Reading per-part grades back from nbgrader's gradebook."""
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
