"""two_layer_net's visible checks are fair and sharp: every correct style passes them whichever minibatches it
draws, every catalogued mistake of the function fails them, and the loss can be checked before the gradients exist."""
import re

import pytest

from autograder.mistakes import catalogue
from autograder.notebooks import cells_by_grade_id, exec_definitions
from autograder.styles.two_layer_net import STYLES

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
    return [m for m in catalogue("two_layer_net") if m.cell == cell]


CHECK_OF = {"nn_train": "check_train", "nn_predict": "check_predict", "TwoLayerNet": "check_two_layer_net"}


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
    mutant = next(m for m in catalogue("two_layer_net") if m.name == mistake)
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
    loss_only = (solution[:loss_region.start()] + loss_region.group(1) + solution[loss_region.end():gradient_region.start()]
                 + "    # YOUR CODE HERE\n    raise NotImplementedError()\n" + solution[gradient_region.end():])
    namespace = exec_definitions(source_nb, {**answers, "nn_forward_backward": loss_only})
    run_check(source_nb, namespace, "check_forward_pass")  # defines the toy X, y, params the loss check uses
    assert all(passed for passed, _ in run_check(source_nb, namespace, "check_loss").values())

    wrong_loss = loss_only.replace("].mean()", "].sum()")  # a wrong loss still fails, before the gradients exist
    namespace = exec_definitions(source_nb, {**answers, "nn_forward_backward": wrong_loss})
    run_check(source_nb, namespace, "check_forward_pass")
    assert not any(passed for passed, _ in run_check(source_nb, namespace, "check_loss").values())
