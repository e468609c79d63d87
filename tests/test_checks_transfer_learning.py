"""transfer_learning's hidden checks on hostile and broken answers, and the diagnoses they give. (Full marks for
every correct style, zero for the blank release and each catalogued mistake in its own part:
tests/test_conformance.py.)"""
import pytest
import torch
from torch import nn

from autograder import registry
from autograder.hidden import part_report

TRANSFER_LEARNING = registry.assignment("transfer_learning")


def check(grade_id, *student_objects, seed=None):
    return part_report(TRANSFER_LEARNING, grade_id, *student_objects, seed=seed)


# --- Diagnoses and hostile answers ------------------------------------------------------------------

def test_make_model_returning_no_module_is_refused():
    report = check("test_make_model", lambda backbone, num_classes, freeze: {"fc": backbone.fc}, seed=0)
    assert report.fraction == 0
    assert "should return an nn.Module (the network), got dict" in report.diagnoses[0]


def test_a_new_resnet_hidden_in_a_wrapper_is_still_caught():
    """The backbone's weights are found under other names too, but a fresh network does not hold them."""
    from torchvision.models import resnet18

    class Wrapper(nn.Module):
        def __init__(self, num_classes, freeze):
            super().__init__()
            self.backbone = resnet18()
            self.backbone.fc = nn.Identity()
            self.backbone.requires_grad_(not freeze)
            self.fc = nn.Linear(512, num_classes)

        def forward(self, x):
            return self.fc(self.backbone(x))

    report = check("test_make_model", lambda backbone, num_classes, freeze: Wrapper(num_classes, freeze), seed=0)

    assert 0 < report.fraction < 1
    assert any("do not create a new ResNet" in d for d in report.diagnoses), report.summary()


def test_trainable_parameters_returning_a_non_iterable_is_refused():
    report = check("test_trainable_parameters", lambda model: sum(p.numel() for p in model.parameters()), seed=0)
    assert report.fraction == 0
    assert "should return a list of parameters, got int" in report.diagnoses[0]


def test_evaluate_returning_one_number_is_refused():
    def evaluate(model, loader, loss_fn, device):
        model.eval()
        with torch.no_grad():
            return sum(loss_fn(model(x), y).item() for x, y in loader) / len(loader)

    report = check("test_evaluate", evaluate, seed=0)
    assert report.fraction == 0
    assert "should return the pair (mean_loss, accuracy)" in report.diagnoses[0]


def test_fit_returning_no_dict_is_refused():
    def fit(model, train_loader, val_loader, optimizer, loss_fn, device, epochs, patience=3, lr_factor=0.1,
            lr_patience=1):
        return [1.0, 0.5]

    report = check("test_fit", fit, seed=0)
    assert report.fraction == 0
    assert "should return the history dict, got list" in report.diagnoses[0]


def test_exception_in_student_code_is_reported_with_its_line():
    def train_one_epoch(model, loader, optimizer, loss_fn, device):
        model.train()
        for images, labels in loader:
            loss = loss_fn(model(images), labels)
            loss.backward()
            optimizer.param_groups[0]["learning_rate"]
            optimizer.step()
        return 0.0

    report = check("test_train_one_epoch", train_one_epoch, seed=0)
    assert report.fraction == 0
    assert "raised KeyError" in report.diagnoses[0] and "param_groups[0][\"learning_rate\"]" in report.diagnoses[0]


def test_numpy_numbers_are_numbers():
    """np.mean returns numpy's float64 and np.argmin numpy's int64: correct answers, read as plain numbers."""
    import numpy as np

    from autograder.harness.core import StudentError, plain_float
    from assignments.transfer_learning.harness import _plain_history

    assert plain_float(np.float64(0.25), "x") == 0.25 and type(plain_float(np.float32(0.5), "x")) is float
    assert _plain_history({"train_loss": [], "val_loss": [], "val_acc": [], "lr": [],
                           "best_epoch": np.int64(2)})["best_epoch"] == 2
    for bad in (np.bool_(True), True, "0.5", [0.5]):
        with pytest.raises(StudentError):
            plain_float(bad, "x")
    with pytest.raises(StudentError, match="should be an int"):
        _plain_history({"train_loss": [], "val_loss": [], "val_acc": [], "lr": [], "best_epoch": 2.0})


# --- The scripted fit cases ---------------------------------------------------------------------------------------

def scheduled_rates(case, monitor):
    """The learning rate of each epoch of the case when ReduceLROnPlateau is stepped with `case[monitor]`."""
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([parameter], lr=case["lr"])
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=case["lr_factor"],
                                                           patience=case["lr_patience"])
    rates = []
    for value in case[monitor]:
        rates.append(optimizer.param_groups[0]["lr"])
        scheduler.step(value)
    return rates


@pytest.mark.parametrize("seed", range(300))
def test_every_draw_of_fit_cases_tells_the_validation_loss_from_the_training_loss(seed):
    """Training losses fall every epoch, as in real training: on every draw, a scheduler stepped with them schedules
    other learning rates than one stepped with the validation loss, within the epochs fit must run; and a run that
    stalls stops at least two epochs before the cap, so one epoch too many is not read as no stopping at all."""
    import random

    from assignments.transfer_learning.checks import cases_fit, reference_fit
    cases = cases_fit(random.Random(seed))["cases"]
    assert all(b < a for case in cases for a, b in zip(case["train_loss"], case["train_loss"][1:]))
    differs = []
    for case in cases:
        lrs, best_epoch = reference_fit(case)
        differs.append(scheduled_rates(case, "val_loss")[:len(lrs)] != scheduled_rates(case, "train_loss")[:len(lrs)])
        if case["shape"] == "stalls":
            assert len(lrs) + 2 <= case["epochs"], case
    assert any(differs), cases


FIT_DRAWS = range(300)


@pytest.mark.slow  # 300 draws for each fit mistake and style (about 25 s)
def test_every_fit_mistake_loses_points_with_its_diagnosis_and_every_fit_style_gets_full_marks_on_300_draws():
    """The scripted fit cases are cheap, so they are swept far beyond the conformance suite's seeds: no draw lets a
    catalogued fit mistake through or costs a correct style a point."""
    from autograder.course_dir import COURSE_ROOT
    from autograder.notebooks import exec_definitions, read_notebook, reference_answers
    source = read_notebook(COURSE_ROOT / "source" / "transfer_learning" / TRANSFER_LEARNING.notebook)
    answers = reference_answers(source)
    missed = {}
    for mutant in (m for m in TRANSFER_LEARNING.mutants if m.part == "test_fit"):
        fit = exec_definitions(source, mutant.applied_to(answers))["fit"]
        reports = [check("test_fit", fit, seed=seed) for seed in FIT_DRAWS]
        missed[mutant.name] = [seed for seed, report in zip(FIT_DRAWS, reports)
                               if report.fraction == 1 or not any(mutant.feedback in d for d in report.diagnoses)]
    assert missed == {name: [] for name in missed} and len(missed) >= 13, missed
    lost = {}
    for style in (s for s in TRANSFER_LEARNING.styles if "fit" in s.answers):
        fit = exec_definitions(source, style.applied_to(answers))["fit"]
        lost[style.name] = [seed for seed in FIT_DRAWS if check("test_fit", fit, seed=seed).fraction < 1]
    assert lost and lost == {name: [] for name in lost}, lost
