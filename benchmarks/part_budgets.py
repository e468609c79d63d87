"""Each graded part's time budget (the manifest's [budgets.parts]) beside the time the reference solution takes in the sandbox, for every assignment: the margin a correct but slower solution has before it is stopped, and what one sandboxed submission costs."""

import nbformat

from autograder.checks import ASSIGNMENTS
from autograder.course import manifest
from autograder.demo import demo_submissions
from autograder.grade import assignment_spec, intake, plan_job
from autograder.grade.task import grade_submission
from benchmarks.grader_process import released_course

RUNS = 5


def run():
    return {assignment: _measure(assignment) for assignment in ASSIGNMENTS}


def _measure(assignment):
    with released_course("bench-budgets-", assignment) as (tmp, course):
        folder = tmp / "submissions"
        folder.mkdir()
        nbformat.write(demo_submissions(course, mutants=(), assignment=assignment)["reference"][0],
                       folder / "reference.ipynb")
        spec = assignment_spec(assignment, course)
        job = plan_job(spec, intake.collect(folder, assignment, spec["notebook_file"])[0])
        runs = [grade_submission(job) for _ in range(RUNS)]
    budgets = manifest(assignment)["budgets"]["parts"]
    figures = {"runs": RUNS, "statuses": sorted({r["status"] for r in runs}),
               "scores": sorted({r["total"] for r in runs}), "parts": {}}
    for part, budget in budgets.items():
        slowest = max(r["part_seconds"][part] for r in runs)
        figures["parts"][part] = {"budget_seconds": budget, "reference_slowest_seconds": round(slowest, 4),
                                  "margin": round(budget / max(slowest, 1e-4))}
    figures["submission_seconds"] = {"median": round(sorted(r["seconds"] for r in runs)[RUNS // 2], 2),
                                     "slowest": round(max(r["seconds"] for r in runs), 2)}
    return figures


def summary(f):
    digests = []
    for assignment, figures in f.items():
        margins = [p["margin"] for p in figures["parts"].values()]
        digests.append(f"{assignment}: budgets {min(margins)}x to {max(margins)}x the reference's slowest of "
                       f"{figures['runs']} sandboxed runs, one submission {figures['submission_seconds']['median']} s "
                       f"(slowest {figures['submission_seconds']['slowest']} s)")
    return "; ".join(digests)
