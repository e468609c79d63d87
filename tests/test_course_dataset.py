"""One dataset per course for two_layer_net: helpers/course.toml chooses it for every student and the grader, the
grader refuses a batch its machine cannot grade and a best model trained on another dataset, and the CIFAR-10
course runs the solution notebook end to end on a generated stand-in in torchvision's on-disk format."""
import nbformat
import pytest
import torch

from assignments.two_layer_net.checks import check_best_model
from autograder.grade import MissingRequirement, check_requirements
from helpers.data import DatasetNotFoundError, check_course_dataset_available, course_dataset, load_dataset
from helpers.utils import save_checkpoint
from test_data import cifar_root  # noqa: F401 - the generated CIFAR-10 fixture

pytestmark = pytest.mark.slow  # runs notebooks: `make test` only


def course_with(tmp_path, monkeypatch, text):
    settings = tmp_path / "course.toml"
    settings.write_text(text)
    monkeypatch.setenv("COURSE_SETTINGS", str(settings))
    return settings


def test_the_shipped_setting_is_the_offline_dataset():
    assert course_dataset() == "fashion_mnist"
    assert load_dataset(num_train=10)["dataset"] == "fashion_mnist"


def test_an_unknown_or_missing_dataset_setting_is_refused_clearly(tmp_path, monkeypatch):
    course_with(tmp_path, monkeypatch, '[two_layer_net]\ndataset = "imagenet"\n')
    with pytest.raises(ValueError, match="names the dataset 'imagenet' for two_layer_net; choose one of"):
        load_dataset()
    course_with(tmp_path, monkeypatch, '[transfer_learning]\nexperiment = "fashion_halves"\n')
    with pytest.raises(KeyError, match=r"has no `dataset` in its \[two_layer_net\] table"):
        course_dataset()


@pytest.fixture
def cifar_course(cifar_root, tmp_path, monkeypatch):  # noqa: F811
    course_with(tmp_path, monkeypatch, '[two_layer_net]\ndataset = "cifar10"\n')
    monkeypatch.setenv("COURSE_DATA", str(cifar_root))
    return cifar_root


def test_the_grader_refuses_a_batch_when_the_course_dataset_is_not_on_its_machine(cifar_course, tmp_path,
                                                                                   monkeypatch):
    assert check_course_dataset_available() == "cifar10"
    check_requirements("two_layer_net")
    monkeypatch.setenv("COURSE_DATA", str(tmp_path / "nothing-here"))
    with pytest.raises(MissingRequirement, match="CIFAR-10 was not found"):
        check_requirements("two_layer_net")
    with pytest.raises(DatasetNotFoundError):
        check_course_dataset_available()


@pytest.mark.xdist_group("reference_model")
def test_a_best_model_trained_on_another_dataset_earns_nothing_and_says_why(cifar_course, reference_model):
    report = check_best_model(reference_model)  # trained on Fashion-MNIST
    assert report.fraction == 0
    assert report.diagnoses == [f"{reference_model.name} was trained on fashion_mnist, but this course uses cifar10 "
                                "(its helpers/course.toml): train best_net on cifar10 and save it again"]


def test_the_cifar10_course_runs_the_solution_notebook_end_to_end_on_a_stand_in(cifar_course, tmp_path):
    from benchmarks.notebook import execute, kernel_env, stdout_of
    # The stand-in's files cannot have torchvision's MD5 sums: this run alone skips that check.
    skip_checksums = nbformat.v4.new_code_cell(
        "import functools, helpers, helpers.data\n"
        "helpers.data.load_dataset = helpers.load_dataset = functools.partial(helpers.data.load_dataset, "
        "verify_checksums=False, download=False)")
    # A best model of the right shapes for CIFAR-10, which the grader must evaluate on the stand-in's images.
    model = tmp_path / "best_two_layer_net.pth"
    save_checkpoint(model, {"W1": torch.zeros(3072, 8), "b1": torch.zeros(8), "W2": torch.zeros(8, 10),
                            "b2": torch.zeros(10)}, "cifar10")
    nb, _ = execute(kernel_env(COURSE_GRADING_BUDGET="1"), cell_timeout=300, assignment="two_layer_net",
                    side_files={"best_two_layer_net.pth": model}, first_cells=[skip_checksums], allow_errors=True)
    errors = {c.metadata.get("nbgrader", {}).get("grade_id"): o for c in nb.cells for o in c.get("outputs", [])
              if o.get("output_type") == "error"}
    # Only the all-zero best model falls short, and it is judged on CIFAR-10's images.
    assert list(errors) == ["test_best_model"], errors
    assert errors["test_best_model"]["evalue"].startswith("test_best_model: val accuracy 0.00% (target 50%), test "
                                                          "accuracy 10.00% (target 50%)")
    assert "Dataset: cifar10" in stdout_of(nb, "load_data") and "X (54, 3072)" in stdout_of(nb, "load_data")
    for check in ("check_forward_pass", "check_train", "check_find_best_net"):
        assert "look again" not in stdout_of(nb, check)
