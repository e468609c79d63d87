"""The best-model part is graded by evaluating the submitted checkpoint, safely."""
import os

import pytest
import torch

from assignments.two_layer_net import checks as two_layer_net
from assignments.two_layer_net.checks import check_best_model
from helpers import load_checkpoint, save_checkpoint

pytestmark = pytest.mark.xdist_group("reference_model")


@pytest.fixture(scope="module")
def reference_accuracy(reference_model):
    report = check_best_model(reference_model)
    return report, load_checkpoint(reference_model)


def test_reference_model_earns_full_marks(reference_accuracy):
    report, checkpoint = reference_accuracy
    assert report.fraction == 1, report.summary()
    assert checkpoint["dataset"] == "fashion_mnist"
    assert "test accuracy 8" in report.subchecks[0].name  # e.g. "test accuracy 88.6% (target 88%)"


def test_accuracy_short_of_target_earns_a_share(reference_model, monkeypatch):
    accuracy = float(check_best_model(reference_model).subchecks[0].name.split("test accuracy ")[1].split("%")[0]) / 100
    monkeypatch.setitem(two_layer_net.BEST_MODEL_TARGETS, "fashion_mnist", {"test": accuracy + 0.05})
    report = check_best_model(reference_model)
    assert report.fraction == pytest.approx(0.5, abs=0.01)
    assert "tune further" in report.diagnoses[0]


def test_untrained_model_earns_nothing(tmp_path):
    path = tmp_path / "untrained.pth"
    save_checkpoint(path, {"W1": 1e-4 * torch.randn(784, 16), "b1": torch.zeros(16),
                           "W2": 1e-4 * torch.randn(16, 10), "b2": torch.zeros(10)}, "fashion_mnist")
    report = check_best_model(path)
    assert report.fraction == 0 and "test accuracy" in report.diagnoses[0]


@pytest.mark.parametrize("content, expected", [
    (b"", "could not be read"),
    (b"not a checkpoint at all", "could not be read"),
])
def test_broken_files_are_reported(tmp_path, content, expected):
    path = tmp_path / "best_two_layer_net.pth"
    path.write_bytes(content)
    report = check_best_model(path)
    assert report.fraction == 0 and expected in report.diagnoses[0]


def test_missing_file_says_which_cell_to_run(tmp_path):
    report = check_best_model(tmp_path / "best_two_layer_net.pth")
    assert "run the cell that saves best_net" in report.diagnoses[0]


def test_checkpoint_that_runs_code_when_unpickled_is_refused(tmp_path):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    path = tmp_path / "evil.pth"
    torch.save({"params": Payload(), "dataset": "fashion_mnist"}, path)
    report = check_best_model(path)
    assert report.fraction == 0 and not marker.exists()


def test_wrong_shapes_and_unknown_dataset_are_explained(tmp_path):
    path = tmp_path / "small.pth"
    save_checkpoint(path, {"W1": torch.randn(10, 4), "b1": torch.zeros(4), "W2": torch.randn(4, 3),
                           "b2": torch.zeros(3)}, "fashion_mnist")
    assert "do not fit fashion_mnist" in check_best_model(path).diagnoses[0]
    save_checkpoint(path, {"W1": torch.randn(10, 4)}, "mnist")
    assert "names dataset 'mnist'" in check_best_model(path).diagnoses[0]
