"""Part checks, by assignment.

`PARTS[assignment]` lists every code part: its nbgrader grade_id, the student objects it takes, how its
hidden cases are drawn, the harness function that runs the student's code on them, and its judge. The
nbgrader hidden-test cells call the `check_*` functions that chain these in one process; the batch
grader draws and judges outside the sandbox and runs the harness inside it. The best-model part takes a
file, not code (`two_layer_net.check_best_model`).
"""
from dataclasses import dataclass
from typing import Callable

from autograder.checks import two_layer_net
from autograder.checks.core import Report, new_rng
from autograder.harness import two_layer_net as two_layer_net_harness


@dataclass(frozen=True)
class Part:
    grade_id: str
    names: tuple            # student objects passed to the harness, in order
    draw: Callable          # rng -> cases (plain data)
    run: str                # name of the harness function: run(*student_objects, cases) -> outputs
    judge: Callable         # (cases, outputs, seed) -> Report


PARTS = {
    "two_layer_net": (
        Part("test_nn_forward_pass", ("nn_forward_pass",), two_layer_net.cases_forward_pass, "run_forward_pass",
             two_layer_net.judge_forward_pass),
        Part("test_nn_forward_backward", ("nn_forward_backward",), two_layer_net.cases_forward_backward,
             "run_forward_backward", two_layer_net.judge_forward_backward),
        Part("test_nn_train", ("nn_train",), two_layer_net.draw_train_case, "run_train", two_layer_net.judge_train),
        Part("test_nn_predict", ("nn_predict",), two_layer_net.cases_predict, "run_predict",
             two_layer_net.judge_predict),
        Part("test_two_layer_net", ("TwoLayerNet",), two_layer_net.case_two_layer_net, "run_two_layer_net",
             two_layer_net.judge_two_layer_net),
        Part("test_find_best_net", ("find_best_net", "get_param_set"), two_layer_net.case_find_best_net,
             "run_find_best_net", two_layer_net.judge_find_best_net),
    ),
}
HARNESSES = {"two_layer_net": two_layer_net_harness}
BEST_MODEL = {"two_layer_net": ("test_best_model", two_layer_net.check_best_model)}


def not_defined(part, missing, seed=0):
    report = Report(part.grade_id, seed)
    report.add("defined", 1.0, False, f"{', '.join(missing)} is not defined: its answer cell is missing or did not run")
    return report


def run_code_checks(assignment, namespace, seed=None):
    """{grade_id: Report} for every code part, running the student objects in `namespace` in this process."""
    reports = {}
    for part in PARTS[assignment]:
        missing = [name for name in part.names if name not in namespace]
        rng, part_seed = new_rng(seed)
        if missing:
            reports[part.grade_id] = not_defined(part, missing, part_seed)
            continue
        cases = part.draw(rng)
        outputs = getattr(HARNESSES[assignment], part.run)(*(namespace[n] for n in part.names), cases)
        reports[part.grade_id] = part.judge(cases, outputs, part_seed)
    return reports
