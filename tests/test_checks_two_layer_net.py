"""The hidden checks: full marks for any correct implementation, zero for the blank release, and each
catalogued mistake loses points in its own part only, with the feedback the student should read."""
import pytest
import torch

from autograder.checks import PARTS as ALL_PARTS, run_code_checks
from autograder.checks.core import Report
from autograder.checks.two_layer_net import (check_nn_forward_backward, check_nn_forward_pass, check_nn_predict,
                                             check_nn_train, expected_learning_rates, draw_train_case)
from autograder.mistakes.two_layer_net import MUTANTS
from autograder.notebooks import cells_by_grade_id, exec_definitions
from autograder.styles.two_layer_net import STYLES

PARTS = {part.grade_id for part in ALL_PARTS["two_layer_net"]}


def scores(namespace, seed):
    return {part: report.fraction for part, report in run_code_checks("two_layer_net", namespace, seed).items()}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_solution_gets_full_marks(source_nb, answers, seed):
    assert scores(exec_definitions(source_nb, answers), seed) == {part: 1.0 for part in PARTS}


def test_blank_release_gets_zero_everywhere(release_nb):
    stubs = {gid: cell.source for gid, cell in cells_by_grade_id(release_nb).items()
             if cell.cell_type == "code" and cell.metadata["nbgrader"].get("solution")}
    reports = run_code_checks("two_layer_net", exec_definitions(release_nb, stubs), seed=5)
    for part, report in reports.items():
        assert report.fraction == 0, (part, report.summary())
        with pytest.raises(AssertionError, match="NotImplementedError"):
            report.award(points=3)


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_mutant_loses_points_in_its_part_only(source_nb, answers, mutant):
    namespace = exec_definitions(source_nb, {**answers, mutant.cell: mutant.apply(answers[mutant.cell])})
    reports = run_code_checks("two_layer_net", namespace, seed=11)
    lost = {part for part, report in reports.items() if report.fraction < 1}
    assert lost == {mutant.part}, {p: reports[p].summary() for p in lost}
    assert any(mutant.feedback in d for d in reports[mutant.part].diagnoses), reports[mutant.part].summary()


def test_catalogue_covers_every_part_but_the_model_with_twelve_or_more_mistakes():
    assert len(MUTANTS) >= 12
    assert {m.part for m in MUTANTS} == PARTS
    assert len({m.name for m in MUTANTS}) == len(MUTANTS)


# --- Verdicts that do not depend on the draw --------------------------------------------------------

SEEDS = range(200)


def style_namespace(source_nb, answers, style):
    """The notebook namespace of a submission written in `style` (reference answers elsewhere)."""
    added = {f"added-{i}": code for i, (_, code) in enumerate(style.added_cells)}
    return exec_definitions(source_nb, {**added, **answers, **style.answers})


@pytest.mark.parametrize("style", STYLES, ids=[s.name for s in STYLES])
def test_every_correct_style_passes_every_part_on_every_seed(source_nb, answers, style):
    namespace = style_namespace(source_nb, answers, style)
    for seed in SEEDS:
        failed = {p: r.summary() for p, r in run_code_checks("two_layer_net", namespace, seed).items() if r.fraction < 1}
        assert not failed, (style.name, seed, failed)


def test_the_style_corpus_is_broad():
    assert len(STYLES) >= 8 and len({s.name for s in STYLES}) == len(STYLES)
    touched = {cell for s in STYLES for cell in s.answers}
    assert touched >= {"nn_forward_pass", "nn_forward_backward", "nn_train", "nn_predict", "TwoLayerNet",
                       "find_best_net"}
    assert any(s.added_cells for s in STYLES)


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_every_mutant_is_caught_in_its_part_on_every_seed(source_nb, answers, mutant):
    namespace = exec_definitions(source_nb, {**answers, mutant.cell: mutant.apply(answers[mutant.cell])})
    part = next(p for p in ALL_PARTS["two_layer_net"] if p.grade_id == mutant.part)
    for seed in SEEDS:
        report = part.check(*(namespace[name] for name in part.names), seed=seed)
        assert report.fraction < 1 and any(mutant.feedback in d for d in report.diagnoses), (seed, report.summary())


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

    report = check_nn_forward_pass(cheat, seed=0)
    assert report.fraction == 0 and "should be a torch.Tensor, got Agreeable" in report.diagnoses[0]


def test_non_tensor_answers_are_refused():
    class Liar:
        shape = None

        def __eq__(self, other):
            return True

    report = check_nn_predict(lambda params, loss_func, X: Liar(), seed=0)
    assert report.fraction == 0 and "got Liar" in report.diagnoses[0]


def test_exception_in_student_code_is_reported_with_its_line():
    def broken(params, X, y=None, reg=0.0):
        scores = X @ params["W1"]
        return scores @ params["missing"]

    report = check_nn_forward_backward(broken, seed=0)
    assert report.fraction == 0
    assert "raised KeyError" in report.diagnoses[0] and "params[\"missing\"]" in report.diagnoses[0]


def test_student_output_on_stderr_does_not_reach_the_cell(capsys):
    import sys

    def noisy(params, X):
        print("debug", file=sys.stderr)
        hidden = (X @ params["W1"] + params["b1"]).clamp(min=0)
        return hidden @ params["W2"] + params["b2"], hidden

    assert check_nn_forward_pass(noisy, seed=0).fraction == 1
    assert capsys.readouterr().err == ""


def test_train_that_ignores_its_arguments_is_diagnosed():
    def lazy(params, loss_func, pred_func, X, y, X_val, y_val, learning_rate=1e-3, learning_rate_decay=0.95,
             reg=5e-6, num_iters=100, batch_size=200, verbose=False):
        return {"loss_history": [], "train_acc_history": [], "val_acc_history": []}

    report = check_nn_train(lazy, seed=0)
    assert report.fraction == 0
    assert any("called 0 times" in d for d in report.diagnoses)


def test_award_returns_partial_points_and_prints_summary(capsys):
    report = Report("test_x", seed=1)
    report.add("a", 0.75, True)
    report.add("b", 0.25, False, "b is wrong")
    assert report.award(points=4) == 3.0
    out = capsys.readouterr().out
    assert "test_x: 75%" in out and "[FAIL] b: b is wrong" in out
