"""two_layer_net's visible checks beyond the catalogue (tests/test_conformance.py holds every assignment's visible
checks to its mistakes and styles): the loss can be checked before the gradients exist, a search's networks follow
the data's device, and get_param_set's rules are the ones the notebook states."""
import re

import pytest

from autograder import registry
from autograder.agreement import visible_status
from autograder.hidden import part_report
from autograder.notebooks import cells_by_grade_id, exec_definitions
from helpers.spies import param_set_problems


def test_the_loss_is_checked_while_the_gradient_block_is_still_the_stub(source_nb, answers):
    """The student writes the loss first (section 2): the release's gradient stub must not hide it."""
    solution = cells_by_grade_id(source_nb)["nn_forward_backward"].source
    regions = list(re.finditer(r" *### BEGIN SOLUTION\n(.*?) *### END SOLUTION\n", solution, re.S))
    assert len(regions) == 2
    loss_region, gradient_region = regions
    loss_only = (solution[:loss_region.start()] + loss_region.group(1)
                 + solution[loss_region.end():gradient_region.start()]
                 + "    # YOUR CODE HERE\n    raise NotImplementedError()\n" + solution[gradient_region.end():])
    _, cells = visible_status(source_nb, {**answers, "nn_forward_backward": loss_only}, "nn_forward_backward")
    assert cells == {"check_loss": "pass", "check_gradients": "not implemented"}

    wrong_loss = loss_only.replace("].mean()", "].sum()")  # a wrong loss still fails, before the gradients exist
    _, cells = visible_status(source_nb, {**answers, "nn_forward_backward": wrong_loss}, "nn_forward_backward")
    assert cells["check_loss"] == "fail"


def test_a_search_that_builds_its_networks_off_the_data_s_device_fails_its_check(source_nb, answers):
    """On a GPU, networks left on the CPU by find_best_net fail the search cell; the visible check says so first."""
    elsewhere = answers["find_best_net"].replace("device=X_train.device", 'device="meta"')
    assert elsewhere != answers["find_best_net"]
    assert visible_status(source_nb, answers, "find_best_net")[0] == "pass"
    assert visible_status(source_nb, {**answers, "find_best_net": elsewhere}, "find_best_net")[0] == "fail"


@pytest.mark.parametrize("param_set, problem", [
    (([0.1], [64], [0.0], [0.95]), None),  # no regularisation is valid (the homework's debugged network used none)
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
