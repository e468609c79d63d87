"""Each graded part's time budget (the manifest's [budgets.parts]) beside the time the reference solution takes in the sandbox: the margin a correct but slower solution has before it is stopped."""

import nbformat

from autograder.course import manifest
from autograder.demo import demo_submissions
from autograder.grade import assignment_spec, intake, plan_job
from autograder.grade.task import grade_submission
from benchmarks.grader_process import released_course

ASSIGNMENT = "two_layer_net"
RUNS = 5


def run():
    with released_course("bench-budgets-") as (tmp, course):
        folder = tmp / "submissions"
        folder.mkdir()
        nbformat.write(demo_submissions(course, mutants=())["reference"][0], folder / "reference.ipynb")
        spec = assignment_spec(ASSIGNMENT, course)
        job = plan_job(spec, intake.collect(folder, ASSIGNMENT, spec["notebook_file"])[0])
        runs = [grade_submission(job) for _ in range(RUNS)]
    budgets = manifest(ASSIGNMENT)["budgets"]["parts"]
    figures = {"runs": RUNS, "statuses": sorted({r["status"] for r in runs}), "parts": {}}
    for part, budget in budgets.items():
        slowest = max(r["part_seconds"][part] for r in runs)
        figures["parts"][part] = {"budget_seconds": budget, "reference_slowest_seconds": round(slowest, 4),
                                  "margin": round(budget / max(slowest, 1e-4))}
    figures["submission_seconds"] = round(max(r["seconds"] for r in runs), 2)
    return figures


def summary(f):
    margins = [p["margin"] for p in f["parts"].values()]
    return (f"budgets are {min(margins)}x to {max(margins)}x the reference's slowest of {f['runs']} sandboxed runs; "
            f"a whole reference submission takes {f['submission_seconds']} s")
