"""helpers.transfer: which experiment runs where, the input adaptation, the cached source network, clear errors.

The ImageNet path is exercised with a generated stand-in for torchvision's weights file (in a temporary torch hub
folder) and the generated CIFAR-10 fixture: nothing is downloaded.
"""
import pytest
import torch
import torchvision

from helpers import transfer
from helpers.data import DatasetNotFoundError
from test_data import cifar_root  # noqa: F401 - the generated CIFAR-10 fixture



@pytest.fixture
def hub(tmp_path, monkeypatch):
    """An empty torch hub folder (TORCH_HOME), so the machine's own cache is never read."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "torch" / "hub"


@pytest.fixture
def stand_in_weights(hub):
    """A ResNet-18 state dict saved where torchvision keeps the ImageNet weights."""
    path = transfer.imagenet_weights_file()
    assert path.parent == hub / "checkpoints" and path.name.startswith("resnet18-")
    path.parent.mkdir(parents=True)
    torch.manual_seed(7)
    weights = transfer.resnet18(1000).state_dict()
    torch.save(weights, path)
    return weights


@pytest.fixture
def tiny_budget(monkeypatch, tmp_path):
    """The grading budget (a few images, a quickly trained source network) and a private cache folder."""
    monkeypatch.setenv("COURSE_GRADING_BUDGET", "1")
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path / "cache"))


def test_imagenet_weights_and_cifar10_run_the_homeworks_experiment(stand_in_weights, cifar_root, monkeypatch):  # noqa: F811
    monkeypatch.setenv("COURSE_GRADING_BUDGET", "0")
    experiment = transfer.prepare_experiment("auto", labels_per_class=2, root=cifar_root, verify_checksums=False)
    assert experiment.name == "imagenet_cifar10" and len(experiment.class_names) == 10
    images, labels = experiment.train
    assert images.shape == (20, 3, 32, 32) and images.dtype == torch.uint8  # as stored; adapted batch by batch
    assert sorted(labels.tolist()) == sorted(list(range(10)) * 2)
    assert experiment.val[0].shape[0] == 20 and experiment.test[0].shape[0] == 10
    # Resized to 64 pixels, then normalised with ImageNet's statistics: white becomes (1 - mean_c) / std_c.
    white = experiment.transform(torch.full((1, 3, 32, 32), 255, dtype=torch.uint8))
    stats = torchvision.models.ResNet18_Weights.IMAGENET1K_V1.transforms()
    expected = (1 - torch.tensor(stats.mean)) / torch.tensor(stats.std)
    assert white.shape == (1, 3, 64, 64)
    assert torch.allclose(white, expected.view(1, 3, 1, 1).expand_as(white), atol=1e-5)
    backbone = experiment.pretrained()
    assert all(torch.equal(backbone.state_dict()[k], v) for k, v in stand_in_weights.items())
    assert backbone.fc.out_features == 1000 and experiment.scratch().fc.out_features == 1000
    train, val, test = experiment.loaders(batch_size=8)
    batch_images, batch_labels = next(iter(train))
    assert batch_images.shape == (8, 3, 64, 64) and batch_images.dtype == torch.float32 and batch_labels.shape == (8,)
    first_val, _ = next(iter(val))
    assert torch.equal(first_val, experiment.transform(experiment.val[0][:len(first_val)]))
    assert sum(len(y) for _, y in test) == 10


def test_without_weights_auto_falls_back_to_fashion_halves_and_says_why(hub, tiny_budget, capsys):
    experiment = transfer.prepare_experiment("auto")
    said = capsys.readouterr().out
    assert "ImageNet -> CIFAR-10 experiment cannot run here" in said and "IMAGENET1K_V1" in said
    assert experiment.name == "fashion_halves"
    assert experiment.class_names == ["Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    images, labels = experiment.train
    assert images.shape == (20, 1, 28, 28) and labels.tolist() == sorted(labels.tolist())
    assert set(labels.tolist()) == set(range(5))
    batch, _ = next(iter(experiment.loaders(batch_size=4)[0]))
    assert batch.shape == (4, 3, 32, 32) and batch.dtype == torch.float32
    # The source network saw classes A: its head has 5 outputs, and the backbone is trained (not a fresh draw).
    assert experiment.pretrained().fc.out_features == 5
    assert not torch.equal(experiment.pretrained().conv1.weight, experiment.scratch().conv1.weight)


def test_source_network_is_trained_once_then_loaded(tiny_budget, monkeypatch):
    first = transfer.source_model()
    monkeypatch.setattr(transfer, "train_source_model", lambda *a: pytest.fail("trained twice"))
    again = transfer.source_model()
    assert all(torch.equal(first["state_dict"][k], again["state_dict"][k]) for k in first["state_dict"])
    assert 0 < first["std"] and 0 <= first["val_accuracy"] <= 1


def test_explicit_imagenet_experiment_names_what_is_missing(hub, cifar_root):  # noqa: F811
    with pytest.raises(transfer.WeightsNotFoundError, match=r"not in .*checkpoints.*weights='IMAGENET1K_V1'"):
        transfer.prepare_experiment("imagenet_cifar10", root=cifar_root)


def test_missing_cifar10_is_named_not_downloaded(stand_in_weights, tmp_path):
    with pytest.raises(DatasetNotFoundError, match="CIFAR-10 was not found.*download=False"):
        transfer.prepare_experiment("imagenet_cifar10", root=tmp_path / "empty")


def test_missing_fashion_mnist_is_named(hub, tiny_budget, tmp_path):
    with pytest.raises(DatasetNotFoundError, match="apt-get install dataset-fashion-mnist"):
        transfer.prepare_experiment("fashion_halves", root=tmp_path / "empty")


def test_unknown_experiment():
    with pytest.raises(ValueError, match="unknown experiment"):
        transfer.prepare_experiment("mnist_to_svhn")


def test_fashion_transform_adapts_grey_images_for_the_backbone():
    grey = torch.full((2, 1, 28, 28), 255, dtype=torch.uint8)
    out = transfer.fashion_transform(mean=0.5, std=0.25)(grey)
    assert out.shape == (2, 3, 32, 32) and out.dtype == torch.float32
    assert torch.allclose(out, torch.full_like(out, (1.0 - 0.5) / 0.25))


def test_summary_counts_trainable_and_frozen_parameters_like_keras():
    model = transfer.resnet18(5)
    model.requires_grad_(False)
    model.fc = torch.nn.Linear(512, 3)
    table = str(transfer.summary(model, 32))
    assert "Trainable params: 1,539" in table and "Non-trainable params: 11,176,512" in table
    assert "layer4" in table and "[1, 3]" in table
    assert transfer.count_parameters(model) == (1539, 11_176_512)


def test_results_table_lists_every_mode():
    row = {"test_loss": 0.5, "test_acc": 0.8123, "trainable": 1539, "frozen": 11_176_512, "seconds": 3.2,
           "epochs_run": 7, "best_epoch": 3, "best_val_acc": 0.8}
    table = transfer.results_table({"frozen": row, "from scratch": dict(row, test_acc=0.7)})
    assert "frozen" in table and "from scratch" in table and "81.2%" in table and "70.0%" in table
