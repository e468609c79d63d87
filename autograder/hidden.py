"""Hidden tests in process: one part graded in this process (nbgrader's hidden-test cells, tests), by the
assignment's registered parts.

Each assignment's checks live in assignments/<name>/checks.py and its parts in its manifest (autograder.registry).
Every hidden-test cell of every assignment calls them the same way:

    from autograder.hidden import hidden_test
    hidden_test("<assignment>", "<grade_id>", <student objects, or the submitted file's path>)

The batch grader draws and judges outside the sandbox and runs the harness inside it (autograder.grade.task).
"""
from pathlib import Path

from autograder import registry
from autograder.harness.i18n import _
from autograder.judging import Report


def hidden_test(assignment, grade_id, *student_objects, seed=None, root=None):
    """Grade one part in this process, print what passed and failed, and return the points earned (nbgrader reads
    the cell's value as partial credit; AssertionError with the diagnoses when nothing is earned). The points and
    checks are those of the course the notebook belongs to (`root`, default: the course folder holding the working
    directory, as nbgrader runs it in `autograded/<student>/<assignment>/`); `student_objects` are the part's
    `names` for a code part, the file's path for a file part."""
    found = registry.assignment(assignment, root or course_of(Path.cwd(), assignment))
    return part_report(found, grade_id, *student_objects, seed=seed).award(found.points[grade_id])


def course_of(folder, assignment):
    """The course folder that `folder` lies in (the nearest one holding assignments/<assignment>/manifest.toml), or
    the kit's own when there is none."""
    for candidate in (folder, *folder.parents):
        if (candidate / "assignments" / assignment / "manifest.toml").is_file():
            return candidate
    return registry.COURSE_ROOT


def part_report(assignment, grade_id, *student_objects, seed=None):
    """The Report of one part of `assignment` (a registry.Assignment) on these student objects (or file path)."""
    return assignment.part(grade_id).check(*student_objects, seed=seed)


def not_defined(part, missing, seed=0, why=None):
    """Zero for a part whose student objects do not exist; `why` replaces the generic reason."""
    report = Report(part.grade_id, seed)
    report.add(_("defined"), 1.0, False,
               why or _("{names} is not defined: its answer cell is missing or did not run").format(
                   names=", ".join(missing)))
    return report


def run_code_checks(assignment, namespace, seed=None):
    """{grade_id: Report} for every code part of `assignment` (a registry.Assignment), running the student objects
    in `namespace` in this process."""
    reports = {}
    for part in assignment.code_parts:
        missing = [name for name in part.names if name not in namespace]
        reports[part.grade_id] = (not_defined(part, missing) if missing else
                                  part.check(*(namespace[n] for n in part.names), seed=seed))
    return reports
