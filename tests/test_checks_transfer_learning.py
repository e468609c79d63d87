"""The transfer_learning hidden checks: full marks for any correct implementation, zero for the blank release, and
each catalogued mistake loses points in its own part only, with the feedback the student should read.

Every part builds ResNet-18s (0.3 to 1 s a part on one CPU thread), so the sweeps are short: SEEDS holds 5 seeds
for the styles and the mutants, and a style or a mutant runs the parts that read the cells it changes (READS).
`test_parts_read_only_the_cells_listed` proves that the other parts do not depend on those cells: they run the
reference's code and earn what the reference earns (test_reference_solution_gets_full_marks).
"""
from pathlib import Path

import pytest
import torch
from torch import nn

from autograder.checks import PARTS as ALL_PARTS, run_code_checks
from autograder.checks.transfer_learning import check
from autograder.mistakes.transfer_learning import MUTANTS
from autograder.notebooks import cells_by_grade_id, exec_definitions, read_notebook, reference_answers
from autograder.styles.transfer_learning import STYLES

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = "transfer_learning"
PARTS = {part.grade_id for part in ALL_PARTS[ASSIGNMENT]}
BY_ID = {part.grade_id: part for part in ALL_PARTS[ASSIGNMENT]}
#: Answer cells (named by the function they define) each part reads: its own student objects and, for
#: train_one_epoch, make_model, which the harness looks up in the notebook's namespace (BatchNorm kept still by
#: make_model's network). fit's part replaces train_one_epoch and evaluate by scripted ones: it reads neither.
READS = {part.grade_id: set(part.names) for part in ALL_PARTS[ASSIGNMENT]}
READS["test_train_one_epoch"].add("make_model")
SEEDS = range(5)


@pytest.fixture(scope="module")
def source_nb():
    return read_notebook(ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")


@pytest.fixture(scope="module")
def release_nb():
    return read_notebook(ROOT / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")


@pytest.fixture(scope="module")
def answers(source_nb):
    return reference_answers(source_nb)


def reading(cells):
    """The parts that read any of these answer cells."""
    return [part for part in ALL_PARTS[ASSIGNMENT] if READS[part.grade_id] & set(cells)]


def scores(namespace, seed):
    return {part: report.fraction for part, report in run_code_checks(ASSIGNMENT, namespace, seed).items()}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_solution_gets_full_marks(source_nb, answers, seed):
    assert scores(exec_definitions(source_nb, answers), seed) == {part: 1.0 for part in PARTS}


def stubs_of(release_nb):
    return {gid: cell.source for gid, cell in cells_by_grade_id(release_nb).items()
            if cell.cell_type == "code" and cell.metadata["nbgrader"].get("solution")}


def test_blank_release_gets_zero_everywhere(release_nb):
    reports = run_code_checks(ASSIGNMENT, exec_definitions(release_nb, stubs_of(release_nb)), seed=5)
    assert set(reports) == PARTS
    for part, report in reports.items():
        assert report.fraction == 0, (part, report.summary())
        with pytest.raises(AssertionError, match="NotImplementedError"):
            report.award(points=3)


@pytest.mark.parametrize("cell", sorted({name for names in READS.values() for name in names}))
def test_parts_read_only_the_cells_listed(source_nb, release_nb, answers, cell):
    """A stub in one answer cell costs points only in the parts READS says read it (which licenses running only
    those parts for a style or a mutant)."""
    namespace = exec_definitions(source_nb, {**answers, cell: stubs_of(release_nb)[cell]})
    lost = {part for part, fraction in scores(namespace, seed=3).items() if fraction < 1}
    assert lost and lost <= {part.grade_id for part in reading([cell])}, lost


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_mutant_loses_points_in_its_part_only(source_nb, answers, mutant):
    namespace = exec_definitions(source_nb, {**answers, mutant.cell: mutant.apply(answers[mutant.cell])})
    reports = {part.grade_id: part.check(*(namespace[n] for n in part.names), seed=11) for part in reading([mutant.cell])}
    lost = {part for part, report in reports.items() if report.fraction < 1}
    assert lost == {mutant.part}, {p: reports[p].summary() for p in lost}
    assert any(mutant.feedback in d for d in reports[mutant.part].diagnoses), reports[mutant.part].summary()


def test_catalogue_covers_every_part_with_ten_or_more_mistakes():
    assert len(MUTANTS) >= 10
    assert {m.part for m in MUTANTS} == PARTS
    assert len({m.name for m in MUTANTS}) == len(MUTANTS)


# --- Verdicts that do not depend on the draw --------------------------------------------------------

def style_namespace(source_nb, answers, style):
    """The notebook namespace of a submission written in `style` (reference answers elsewhere)."""
    added = {f"added-{i}": code for i, (_, code) in enumerate(style.added_cells)}
    return exec_definitions(source_nb, {**added, **answers, **style.answers})


@pytest.mark.parametrize("style", STYLES, ids=[s.name for s in STYLES])
def test_every_correct_style_passes_every_part_on_every_seed(source_nb, answers, style):
    namespace = style_namespace(source_nb, answers, style)
    parts = reading(style.answers)
    assert parts, style.name
    for seed in SEEDS:
        reports = {part.grade_id: part.check(*(namespace[n] for n in part.names), seed=seed) for part in parts}
        failed = {p: r.summary() for p, r in reports.items() if r.fraction < 1}
        assert not failed, (style.name, seed, failed)


def test_the_style_corpus_is_broad():
    names = [s.name for s in STYLES]
    assert len(STYLES) >= 14 and len(set(names)) == len(names)
    touched = [cell for s in STYLES for cell in s.answers]
    for cell in ("make_model", "trainable_parameters", "train_one_epoch", "evaluate", "fit"):
        assert touched.count(cell) >= 3, cell
    assert any(s.added_cells for s in STYLES)
    # BatchNorm kept still by make_model's network, with a train_one_epoch that only calls model.train()
    assert sum({"make_model", "train_one_epoch"} <= set(s.answers) for s in STYLES) >= 2


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_every_mutant_is_caught_in_its_part_on_every_seed(source_nb, answers, mutant):
    namespace = exec_definitions(source_nb, {**answers, mutant.cell: mutant.apply(answers[mutant.cell])})
    part = BY_ID[mutant.part]
    for seed in SEEDS:
        report = part.check(*(namespace[name] for name in part.names), seed=seed)
        assert report.fraction < 1 and any(mutant.feedback in d for d in report.diagnoses), (seed, report.summary())


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
            learning_rate = optimizer.param_groups[0]["learning_rate"]
            optimizer.step()
        return 0.0

    report = check("test_train_one_epoch", train_one_epoch, seed=0)
    assert report.fraction == 0
    assert "raised KeyError" in report.diagnoses[0] and "param_groups[0][\"learning_rate\"]" in report.diagnoses[0]


def test_numpy_numbers_are_numbers():
    """np.mean returns numpy's float64 and np.argmin numpy's int64: correct answers, read as plain numbers."""
    import numpy as np

    from autograder.harness.core import StudentError, plain_float
    from autograder.harness.transfer_learning import _plain_history

    assert plain_float(np.float64(0.25), "x") == 0.25 and type(plain_float(np.float32(0.5), "x")) is float
    assert _plain_history({"train_loss": [], "val_loss": [], "val_acc": [], "lr": [],
                           "best_epoch": np.int64(2)})["best_epoch"] == 2
    for bad in (np.bool_(True), True, "0.5", [0.5]):
        with pytest.raises(StudentError):
            plain_float(bad, "x")
    with pytest.raises(StudentError, match="should be an int"):
        _plain_history({"train_loss": [], "val_loss": [], "val_acc": [], "lr": [], "best_epoch": 2.0})
