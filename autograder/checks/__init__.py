"""Part checks, by assignment.

`PARTS[assignment]` lists every code part (autograder.checks.core.Part): draw hidden cases, run the
student's code on them (autograder.harness), judge. The nbgrader hidden-test cells call `part.check`
in one process; the batch grader draws and judges outside the sandbox and runs the harness inside it.
The best-model part takes a file, not code (`BEST_MODEL[assignment]`: its grade_id and check).
Each assignment's checks are imported when first asked for, so grading one assignment does not import the others'
libraries (transfer_learning's bring torchvision, about a second).
"""
import importlib
from collections.abc import Mapping

from autograder.checks.core import Report

ASSIGNMENTS = ("two_layer_net", "transfer_learning")


class _ByAssignment(Mapping):
    """assignment -> the module-level `attribute` of autograder.checks.<assignment>, imported on first use."""

    def __init__(self, attribute):
        self.attribute = attribute

    def __getitem__(self, assignment):
        if assignment not in ASSIGNMENTS:
            raise KeyError(assignment)
        try:
            return getattr(importlib.import_module(f"{__name__}.{assignment}"), self.attribute)
        except AttributeError:
            raise KeyError(assignment) from None

    def __iter__(self):
        return (assignment for assignment in ASSIGNMENTS if assignment in self)

    def __len__(self):
        return sum(1 for _ in self)


PARTS = _ByAssignment("PARTS")
BEST_MODEL = _ByAssignment("BEST_MODEL")


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
