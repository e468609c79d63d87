"""Part checks, by assignment: each graded test cell's grade_id -> (check, names of the student code it takes).

The nbgrader hidden-test cells call these checks directly; tools that hold a notebook's namespace use
`run_code_checks`. The best-model part takes a file, not code, and is called on its own.
"""
from autograder.checks import two_layer_net
from autograder.checks.core import Report

CODE_PARTS = {
    "two_layer_net": {
        "test_nn_forward_pass": (two_layer_net.check_nn_forward_pass, ("nn_forward_pass",)),
        "test_nn_forward_backward": (two_layer_net.check_nn_forward_backward, ("nn_forward_backward",)),
        "test_nn_train": (two_layer_net.check_nn_train, ("nn_train",)),
        "test_nn_predict": (two_layer_net.check_nn_predict, ("nn_predict",)),
        "test_two_layer_net": (two_layer_net.check_two_layer_net, ("TwoLayerNet",)),
        "test_find_best_net": (two_layer_net.check_find_best_net, ("find_best_net", "get_param_set")),
    },
}


def run_code_checks(assignment, namespace, seed=None):
    """{part: Report} for every code part of `assignment`, on the student objects found in `namespace`."""
    reports = {}
    for part, (check, names) in CODE_PARTS[assignment].items():
        missing = [name for name in names if name not in namespace]
        if missing:
            report = Report(part, seed or 0)
            report.add("defined", 1.0, False, f"{', '.join(missing)} is not defined: run its cell")
            reports[part] = report
        else:
            reports[part] = check(*(namespace[name] for name in names), seed=seed)
    return reports
