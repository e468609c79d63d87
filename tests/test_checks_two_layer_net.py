"""two_layer_net's hidden checks on hostile and broken answers, and the diagnoses they give. (Full marks for every
correct style, zero for the blank release and each catalogued mistake in its own part: tests/test_conformance.py.)"""
import pytest
import torch

from assignments.two_layer_net.checks import draw_train_case, expected_learning_rates
from autograder import registry
from autograder.hidden import part_report
from autograder.judging import Report

TWO_LAYER_NET = registry.assignment("two_layer_net")


def check(grade_id, *student_objects, seed=None):
    return part_report(TWO_LAYER_NET, grade_id, *student_objects, seed=seed)


# --- Diagnoses and hostile answers ------------------------------------------------------------------

def test_nn_train_schedule_matches_the_contract():
    case = draw_train_case(__import__("random").Random(4))
    rates = expected_learning_rates(case)
    per_epoch, lr, decay = case["per_epoch"], case["lr"], case["decay"]
    assert rates[0] == lr and rates[1] == pytest.approx(lr * decay)
    assert rates[per_epoch] == pytest.approx(lr * decay)  # decays after it=0, then after it=per_epoch only
    assert rates[per_epoch + 1] == pytest.approx(lr * decay ** 2)


def test_tensor_subclass_claiming_equality_is_refused():
    class Agreeable(torch.Tensor):
        def __eq__(self, other):
            return True

    def cheat(params, X):
        fake = torch.zeros(X.shape[0], params["W2"].shape[1]).as_subclass(Agreeable)
        return fake, fake

    report = check("test_nn_forward_pass", cheat, seed=0)
    assert report.fraction == 0 and "should be a torch.Tensor, got Agreeable" in report.diagnoses[0]


def test_non_tensor_answers_are_refused():
    class Liar:
        shape = None

        def __eq__(self, other):
            return True

    report = check("test_nn_predict", lambda params, loss_func, X: Liar(), seed=0)
    assert report.fraction == 0 and "got Liar" in report.diagnoses[0]


def test_exception_in_student_code_is_reported_with_its_line():
    def broken(params, X, y=None, reg=0.0):
        scores = X @ params["W1"]
        return scores @ params["missing"]

    report = check("test_nn_forward_backward", broken, seed=0)
    assert report.fraction == 0
    assert "raised KeyError" in report.diagnoses[0] and "params[\"missing\"]" in report.diagnoses[0]


def test_student_output_on_stderr_does_not_reach_the_cell(capsys):
    import sys

    def noisy(params, X):
        print("debug", file=sys.stderr)
        hidden = (X @ params["W1"] + params["b1"]).clamp(min=0)
        return hidden @ params["W2"] + params["b2"], hidden

    assert check("test_nn_forward_pass", noisy, seed=0).fraction == 1
    assert capsys.readouterr().err == ""


def test_train_that_ignores_its_arguments_is_diagnosed():
    def lazy(params, loss_func, pred_func, X, y, X_val, y_val, learning_rate=1e-3, learning_rate_decay=0.95,
             reg=5e-6, num_iters=100, batch_size=200, verbose=False):
        return {"loss_history": [], "train_acc_history": [], "val_acc_history": []}

    report = check("test_nn_train", lazy, seed=0)
    assert report.fraction == 0
    assert any("called 0 times" in d for d in report.diagnoses)


def test_award_returns_partial_points_and_prints_summary(capsys):
    report = Report("test_x", seed=1)
    report.add("a", 0.75, True)
    report.add("b", 0.25, False, "b is wrong")
    assert report.award(points=4) == 3.0
    out = capsys.readouterr().out
    assert "test_x: 75%" in out and "[FAIL] b: b is wrong" in out
