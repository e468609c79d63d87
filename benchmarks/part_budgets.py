"""Each graded part's time budget (its `seconds` in the manifest) beside the time the reference solution takes in the
sandbox, for every assignment: the margin a correct but slower solution has before it is stopped, and what one sandboxed
submission costs."""
from autograder import registry
from autograder.grade.task import grade_submission
from benchmarks.grader_process import reference_job

RUNS = 5


def run():
    return {assignment: _measure(assignment) for assignment in registry.names(graded=True)}


def _measure(assignment):
    with reference_job("bench-budgets-", assignment) as job:
        runs = [grade_submission(job) for _ in range(RUNS)]
    budgets = {part.grade_id: part.seconds for part in registry.assignment(assignment).code_parts}
    figures = {"runs": RUNS, "statuses": sorted({r.status for r in runs}),
               "scores": sorted({r.total for r in runs}), "parts": {}}
    for part, budget in budgets.items():
        slowest = max(r.part_seconds[part] for r in runs)
        figures["parts"][part] = {"budget_seconds": budget, "reference_slowest_seconds": round(slowest, 4),
                                  "margin": round(budget / max(slowest, 1e-4))}
    figures["submission_seconds"] = {"median": round(sorted(r.seconds for r in runs)[RUNS // 2], 2),
                                     "slowest": round(max(r.seconds for r in runs), 2)}
    return figures


def summary(f):
    digests = []
    for assignment, figures in f.items():
        margins = [p["margin"] for p in figures["parts"].values()]
        digests.append(f"{assignment}: budgets {min(margins)}x to {max(margins)}x the reference's slowest of "
                       f"{figures['runs']} sandboxed runs, one submission {figures['submission_seconds']['median']} s "
                       f"(slowest {figures['submission_seconds']['slowest']} s)")
    return "; ".join(digests)
