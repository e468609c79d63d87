"""Part checks, by assignment.

`PARTS[assignment]` lists every code part (autograder.checks.core.Part): draw hidden cases, run the
student's code on them (autograder.harness), judge. The nbgrader hidden-test cells call `part.check`
in one process; the batch grader draws and judges outside the sandbox and runs the harness inside it.
The best-model part takes a file, not code (`BEST_MODEL`).
"""
from autograder.checks import transfer_learning, two_layer_net
from autograder.checks.core import Report

PARTS = {"two_layer_net": two_layer_net.PARTS, "transfer_learning": transfer_learning.PARTS}
BEST_MODEL = {"two_layer_net": ("test_best_model", two_layer_net.check_best_model)}


def not_defined(part, missing, seed=0, why=None):
    """Zero for a part whose student objects do not exist; `why` replaces the generic reason."""
    report = Report(part.grade_id, seed)
    report.add("defined", 1.0, False,
               why or f"{', '.join(missing)} is not defined: its answer cell is missing or did not run")
    return report


def run_code_checks(assignment, namespace, seed=None):
    """{grade_id: Report} for every code part, running the student objects in `namespace` in this process."""
    reports = {}
    for part in PARTS[assignment]:
        missing = [name for name in part.names if name not in namespace]
        reports[part.grade_id] = (not_defined(part, missing) if missing else
                                  part.check(*(namespace[n] for n in part.names), seed=seed))
    return reports
