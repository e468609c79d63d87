"""two_layer_net's visible checks are fair and sharp: every correct style passes them whichever minibatches it
draws, every catalogued mistake of the function fails them, and the loss can be checked before the gradients exist."""
import re

import pytest

from assignments.two_layer_net.mistakes import MUTANTS
from autograder import registry
from autograder.checks import part_report
from autograder.notebooks import cells_by_grade_id, exec_definitions
from assignments.two_layer_net.styles import STYLES
from helpers.spies import param_set_problems

SAMPLING_ORDERS = range(40)
TOY_LOSS = "Final training loss on the toy problem"


def run_check(source_nb, namespace, cell, seed=0):
    """Run the notebook's check cell `cell` in `namespace` with its seed replaced: {label: (passed, value)}."""
    reported = {}

    def report_check(label, value, tolerance):
        reported[label] = (value <= tolerance, value)

    def report_match(label, value, expected):
        reported[label] = (value == expected, value)
    namespace.update(report_check=report_check, report_match=report_match, plot_stats=lambda *args, **kwargs: None)
    code = cells_by_grade_id(source_nb)[cell].source
    exec(code.replace("reset_seed(0)", f"reset_seed({seed})"), namespace)
    return reported


def correct_answers(answers, cell):
    """The reference answers, then those of every correct style of `cell`: (name, answers) pairs."""
    return [("reference", answers)] + [(s.name, {**answers, **s.answers}) for s in STYLES
                                       if cell in s.answers and not s.added_cells]


def mistakes_of(cell):
    return [m for m in MUTANTS if m.cell == cell]


CHECK_OF = {"nn_train": "check_train", "nn_predict": "check_predict", "TwoLayerNet": "check_two_layer_net",
            "get_param_set": "check_param_set", "find_best_net": "check_find_best_net"}


@pytest.mark.slow  # 40 sampling orders
@pytest.mark.parametrize("function, cell", CHECK_OF.items())
def test_every_correct_style_passes_for_every_sampling_order(source_nb, answers, function, cell):
    toy_losses = []
    for name, style_answers in correct_answers(answers, function):
        namespace = exec_definitions(source_nb, style_answers)
        for seed in SAMPLING_ORDERS:
            reported = run_check(source_nb, namespace, cell, seed)
            failed = {label: value for label, (passed, value) in reported.items() if not passed}
            assert not failed, (name, seed, failed)
            toy_losses += [reported[TOY_LOSS][1]] if TOY_LOSS in reported else []
    if cell == "check_train":
        print(f"final toy training loss over {len(toy_losses)} runs: {min(toy_losses):.3f} to {max(toy_losses):.3f}")
        assert max(toy_losses) > 0.3  # the orders do differ: the toy loss alone could not judge the schedule


@pytest.mark.parametrize("mistake", [m.name for function in CHECK_OF for m in mistakes_of(function)])
def test_every_catalogued_mistake_fails_its_check_for_every_sampling_order(source_nb, answers, mistake):
    mutant = next(m for m in MUTANTS if m.name == mistake)
    namespace = exec_definitions(source_nb, {**answers, mutant.cell: mutant.apply(answers[mutant.cell])})
    cell = CHECK_OF[mutant.cell]
    for seed in range(10):
        reported = run_check(source_nb, namespace, cell, seed)
        assert not all(passed for passed, _ in reported.values()), (mistake, seed, reported)


def test_the_loss_is_checked_while_the_gradient_block_is_still_the_stub(source_nb, answers):
    """The student writes the loss first (section 2): the release's gradient stub must not hide it."""
    solution = cells_by_grade_id(source_nb)["nn_forward_backward"].source
    regions = list(re.finditer(r" *### BEGIN SOLUTION\n(.*?) *### END SOLUTION\n", solution, re.S))
    assert len(regions) == 2
    loss_region, gradient_region = regions
    loss_only = (solution[:loss_region.start()] + loss_region.group(1)
                 + solution[loss_region.end():gradient_region.start()]
                 + "    # YOUR CODE HERE\n    raise NotImplementedError()\n" + solution[gradient_region.end():])
    namespace = exec_definitions(source_nb, {**answers, "nn_forward_backward": loss_only})
    run_check(source_nb, namespace, "check_forward_pass")  # defines the toy X, y, params the loss check uses
    assert all(passed for passed, _ in run_check(source_nb, namespace, "check_loss").values())

    wrong_loss = loss_only.replace("].mean()", "].sum()")  # a wrong loss still fails, before the gradients exist
    namespace = exec_definitions(source_nb, {**answers, "nn_forward_backward": wrong_loss})
    run_check(source_nb, namespace, "check_forward_pass")
    assert not any(passed for passed, _ in run_check(source_nb, namespace, "check_loss").values())


@pytest.mark.parametrize("param_set, problem", [
    (([0.1], [64], [0.0], [0.95]), None),  # no regularisation is a valid choice (the homework found it best)
    (([0.1, 1], (64, 128.0), [1e-4, 0], [1]), None),
    (([0.1], [64], [-1e-4], [0.95]), "regularization_strengths: each value should be a number >= 0"),
    (([0], [64], [0.0], [0.95]), "learning_rates: each value should be a number > 0"),
    (([0.1], [64.5], [0.0], [0.95]), "hidden_sizes: each value should be a whole number > 0"),
    (([0.1], [64], [0.0], [1.5]), "learning_rate_decays: each value should be a number in (0, 1]"),
    (([0.1], [], [0.0], [0.95]), "hidden_sizes should be a non-empty list"),
    (([0.1], [64], [0.0]), "get_param_set() should return four lists"),
    (([0.1], ["64"], [0.0], [0.95]), "hidden_sizes: each value should be a whole number > 0, not '64'"),
])
def test_the_param_set_rules_are_the_ones_the_notebook_states(param_set, problem):
    problems = param_set_problems(param_set)
    assert problems == [] if problem is None else problems[0].startswith(problem), problems


@pytest.mark.parametrize("reg, earned", [(0.0, True), (-1e-4, False)])
def test_the_hidden_test_holds_the_same_rules(source_nb, answers, reg, earned):
    """A search with reg = 0 (as in the notebook's own sweep) earns get_param_set's share; a negative one does not."""
    namespace = exec_definitions(source_nb, {**answers, "get_param_set": f"def get_param_set():\n"
                                                                      f"    return [0.1], [64], [{reg}], [0.95]\n"})
    report = part_report(registry.assignment("two_layer_net"), "test_find_best_net", namespace["find_best_net"],
                         namespace["get_param_set"])
    [subcheck] = [s for s in report.subchecks if s.name == "get_param_set returns four valid lists"]
    assert subcheck.passed is earned, subcheck
