"""helpers.transfer: which experiment runs where, the input adaptation, the cached source network, clear errors.

The ImageNet path is exercised with a generated stand-in for torchvision's weights file (in a temporary torch hub
folder) and the generated CIFAR-10 fixture: nothing is downloaded.
"""
import nbformat
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


#: The ImageNet input size the tests' course settings choose: small, to keep them fast, and unlike CIFAR-10's 32.
TEST_IMAGENET_SIZE = 48


def imagenet_settings(tmp_path, monkeypatch, size=TEST_IMAGENET_SIZE, experiment="imagenet_cifar10"):
    """A course settings file (COURSE_SETTINGS) choosing `experiment` and the ImageNet input size `size` (a TOML
    value as written; None leaves the key out)."""
    settings = tmp_path / "course.toml"
    size_line = "" if size is None else f"imagenet_image_size = {size}\n"
    settings.write_text(f'[transfer_learning]\nexperiment = "{experiment}"\n{size_line}')
    monkeypatch.setenv("COURSE_SETTINGS", str(settings))
    return settings


@pytest.fixture
def tiny_budget(monkeypatch, tmp_path):
    """The grading budget (a few images, a quickly trained source network) and a private cache folder."""
    monkeypatch.setenv("COURSE_GRADING_BUDGET", "1")
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path / "cache"))


def test_imagenet_weights_and_cifar10_run_the_homeworks_experiment(stand_in_weights, cifar_root, tmp_path,  # noqa: F811
                                                                    monkeypatch):
    monkeypatch.setenv("COURSE_GRADING_BUDGET", "0")
    imagenet_settings(tmp_path, monkeypatch)
    size = TEST_IMAGENET_SIZE
    experiment = transfer.prepare_experiment("imagenet_cifar10", labels_per_class=2, root=cifar_root,
                                             verify_checksums=False)
    assert experiment.name == "imagenet_cifar10" and len(experiment.class_names) == 10
    images, labels = experiment.train
    assert images.shape == (20, 3, 32, 32) and images.dtype == torch.uint8  # as stored; adapted batch by batch
    assert sorted(labels.tolist()) == sorted(list(range(10)) * 2)
    assert experiment.val[0].shape[0] == 20 and experiment.test[0].shape[0] == 10
    assert experiment.image_size == size and f"at {size}x{size} pixels" in experiment.task
    # Resized to the course's size, then normalised with ImageNet's statistics: white becomes (1 - mean_c) / std_c.
    white = experiment.transform(torch.full((1, 3, 32, 32), 255, dtype=torch.uint8))
    stats = torchvision.models.ResNet18_Weights.IMAGENET1K_V1.transforms()
    expected = (1 - torch.tensor(stats.mean)) / torch.tensor(stats.std)
    assert white.shape == (1, 3, size, size)
    assert torch.allclose(white, expected.view(1, 3, 1, 1).expand_as(white), atol=1e-5)
    backbone = experiment.pretrained()
    assert all(torch.equal(backbone.state_dict()[k], v) for k, v in stand_in_weights.items())
    assert backbone.fc.out_features == 1000 and experiment.scratch().fc.out_features == 1000
    train, val, test = experiment.loaders(batch_size=8)
    batch_images, batch_labels = next(iter(train))
    assert batch_images.shape == (8, 3, size, size) and batch_images.dtype == torch.float32
    assert batch_labels.shape == (8,)
    first_val, _ = next(iter(val))
    assert torch.equal(first_val, experiment.transform(experiment.val[0][:len(first_val)]))
    assert sum(len(y) for _, y in test) == 10


@pytest.mark.slow  # trains networks or runs the notebook
def test_fashion_halves_transfers_clothes_to_shoes_and_bags(hub, tiny_budget):
    experiment = transfer.prepare_experiment("fashion_halves")
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


@pytest.mark.slow  # trains networks or runs the notebook
def test_the_mixed_split_has_tops_and_footwear_on_both_sides_and_its_own_source(hub, tiny_budget):
    halves, mixed = transfer.prepare_experiment("fashion_halves"), transfer.prepare_experiment("fashion_mixed")
    assert mixed.class_names == ["Dress", "Coat", "Shirt", "Bag", "Ankle boot"]
    assert "A (T-shirt/top, Trouser, Pullover, Sandal, Sneaker)" in mixed.task
    assert not torch.equal(halves.pretrained().conv1.weight, mixed.pretrained().conv1.weight)


@pytest.mark.slow  # trains networks or runs the notebook
def test_with_labels_draws_that_many_per_class_and_another_seed_draws_other_images(tiny_budget, monkeypatch):
    # The draws are what this test is about, so the source network trained under the grading budget (seconds)
    # stands in for the full one (minutes) while the data are drawn at full size.
    quick_source = transfer.source_model(transfer.FASHION_SPLITS["fashion_halves"][0])
    monkeypatch.setattr(transfer, "source_model", lambda classes, root=None, download=True: quick_source)
    monkeypatch.setenv("COURSE_GRADING_BUDGET", "0")
    experiment = transfer.prepare_experiment("fashion_halves", labels_per_class=5, test_per_class=30)
    (train, y_train), (val, y_val) = experiment.train, experiment.val
    assert torch.bincount(y_train).tolist() == [5] * 5 and torch.bincount(y_val).tolist() == [5] * 5
    assert torch.bincount(experiment.test[1]).tolist() == [30] * 5
    # Validation images are not training images; the same seed draws the same images, another seed others.
    flat = {bytes(image.numpy()) for image in train}
    assert not flat & {bytes(image.numpy()) for image in val}
    assert torch.equal(experiment.with_labels(5, seed=0).train[0], train)
    other = experiment.with_labels(5, seed=1)
    assert not torch.equal(other.train[0], train) and torch.equal(other.test[0], experiment.test[0])
    assert experiment.with_labels(20, seed=0).train[0].shape[0] == 100
    assert "20 labelled training images per class (draw 3)" in experiment.with_labels(20, seed=3).description


@pytest.mark.slow  # trains networks or runs the notebook
def test_the_course_setting_chooses_the_experiment(hub, tiny_budget, tmp_path, monkeypatch):
    assert transfer.course_experiment() == "fashion_halves_layer3"  # helpers/course.toml as shipped
    settings = tmp_path / "course.toml"
    settings.write_text('[transfer_learning]\nexperiment = "fashion_mixed"\n')
    monkeypatch.setenv("COURSE_SETTINGS", str(settings))
    assert transfer.prepare_experiment().name == "fashion_mixed"
    settings.write_text('[transfer_learning]\nexperiment = "auto"\n')
    with pytest.raises(ValueError, match="unknown transfer experiment 'auto'"):
        transfer.prepare_experiment()
    settings.write_text('[two_layer_net]\n')
    with pytest.raises(KeyError, match=r"no `experiment` in its \[transfer_learning\] table"):
        transfer.prepare_experiment()
    settings.write_text('[transfer_learning\n')
    with pytest.raises(ValueError, match="not valid TOML"):
        transfer.prepare_experiment()


def test_availability_check_names_what_the_course_setting_needs(hub, cifar_root, tmp_path):  # noqa: F811
    with pytest.raises(transfer.WeightsNotFoundError, match="IMAGENET1K_V1"):
        transfer.check_experiment_available("imagenet_cifar10", root=cifar_root)
    with pytest.raises(DatasetNotFoundError, match="apt-get install dataset-fashion-mnist"):
        transfer.check_experiment_available("fashion_halves", root=tmp_path / "empty")


@pytest.mark.slow  # trains networks or runs the notebook
def test_source_network_is_trained_once_then_loaded(tiny_budget, monkeypatch):
    first = transfer.source_model(transfer.FASHION_SPLITS["fashion_halves"][0])
    monkeypatch.setattr(transfer, "train_source_model", lambda *a: pytest.fail("trained twice"))
    again = transfer.source_model(transfer.FASHION_SPLITS["fashion_halves"][0])
    assert all(torch.equal(first["state_dict"][k], again["state_dict"][k]) for k in first["state_dict"])
    assert 0 < first["std"] and 0 <= first["val_accuracy"] <= 1


def test_explicit_imagenet_experiment_names_what_is_missing(hub, cifar_root):  # noqa: F811
    with pytest.raises(transfer.WeightsNotFoundError, match=r"not in .*checkpoints.*weights='IMAGENET1K_V1'"):
        transfer.prepare_experiment("imagenet_cifar10", root=cifar_root)


def test_the_imagenet_input_size_is_the_courses_on_every_device(stand_in_weights, cifar_root, tmp_path,  # noqa: F811
                                                                  monkeypatch):
    assert transfer.imagenet_image_size() == 224  # helpers/course.toml as shipped: the homework's Xception inputs
    imagenet_settings(tmp_path, monkeypatch, size=40)
    for device in (None, "cpu", "cuda"):  # the device is not asked for, only passed on
        experiment = transfer.prepare_experiment("imagenet_cifar10", labels_per_class=1, test_per_class=1,
                                                 device=device, root=cifar_root, verify_checksums=False)
        assert experiment.image_size == 40 and experiment.transform(experiment.train[0]).shape[-2:] == (40, 40)


@pytest.mark.parametrize("size", ["16", "0", "-224", "224.0", '"224"', "true"])
def test_an_imagenet_input_size_that_is_no_whole_number_of_at_least_32_pixels_is_refused(
        size, stand_in_weights, cifar_root, tmp_path, monkeypatch):  # noqa: F811
    settings = imagenet_settings(tmp_path, monkeypatch, size=size)
    message = rf"{settings} sets imagenet_image_size = .*; it must be a whole number of pixels, at least 32"
    with pytest.raises(ValueError, match=message):
        transfer.prepare_experiment("imagenet_cifar10", root=cifar_root, verify_checksums=False)
    with pytest.raises(ValueError, match=message):  # the grader's pre-flight check refuses it too
        transfer.check_experiment_available(root=cifar_root)


def test_a_course_without_an_imagenet_input_size_is_told_which_key_is_missing(stand_in_weights, cifar_root,  # noqa: F811
                                                                               tmp_path, monkeypatch):
    imagenet_settings(tmp_path, monkeypatch, size=None)
    with pytest.raises(KeyError, match=r"no `imagenet_image_size` in its \[transfer_learning\] table"):
        transfer.prepare_experiment("imagenet_cifar10", root=cifar_root, verify_checksums=False)
    imagenet_settings(tmp_path, monkeypatch, size=None, experiment="fashion_halves")  # its images are 32 pixels
    with pytest.raises(DatasetNotFoundError):  # the size is not asked for: only what the experiment needs
        transfer.check_experiment_available(root=tmp_path / "empty")


def test_missing_cifar10_is_named_not_downloaded(stand_in_weights, tmp_path):
    with pytest.raises(DatasetNotFoundError, match="CIFAR-10 was not found.*download=False"):
        transfer.prepare_experiment("imagenet_cifar10", root=tmp_path / "empty")


def test_missing_fashion_mnist_is_named(hub, tiny_budget, tmp_path):
    with pytest.raises(DatasetNotFoundError, match="apt-get install dataset-fashion-mnist"):
        transfer.prepare_experiment("fashion_halves", root=tmp_path / "empty", download=False)


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


def budget_runs():
    accs = {(5, "fine-tuned"): (0.70, 0.80), (5, "from scratch"): (0.50, 0.60), (50, "fine-tuned"): (0.90, 0.92),
            (50, "from scratch"): (0.89, 0.93)}
    return [{"labels_per_class": k, "mode": mode, "seed": seed, "test_acc": acc}
            for (k, mode), pair in accs.items() for seed, acc in enumerate(pair)]


def test_budget_summary_and_table_give_mean_range_and_gap_over_seeds():
    summary = transfer.budget_summary(budget_runs())
    assert summary[5]["fine-tuned"] == pytest.approx({"mean": 0.75, "low": 0.70, "high": 0.80, "n": 2})
    table = transfer.budget_table(budget_runs()).splitlines()
    assert table[0] == "Test accuracy, mean of 2 seeds [lowest, highest]"
    assert "75.0% [70.0, 80.0]" in table[3] and table[3].rstrip().endswith("+20.0")
    assert table[4].rstrip().endswith("+0.0")


@pytest.mark.slow  # trains networks or runs the notebook
def test_label_budget_curve_runs_every_mode_budget_and_seed_with_the_given_functions(tiny_budget):
    experiment = transfer.prepare_experiment("fashion_halves")
    calls = []

    def make_model(backbone, num_classes, freeze):
        backbone.requires_grad_(not freeze)
        backbone.fc = torch.nn.Linear(512, num_classes)
        return backbone

    def fit(model, train_loader, val_loader, optimizer, loss_fn, device, epochs, patience=3):
        calls.append((len(train_loader.dataset), epochs, train_loader.batch_size))
        return {"train_loss": [1.0], "val_loss": [1.0], "val_acc": [0.5], "lr": [1e-3], "best_epoch": 0}

    runs = transfer.label_budget_curve(experiment, make_model, lambda m: [p for p in m.parameters() if p.requires_grad],
                                       fit, lambda model, loader, loss_fn, device: (0.5, 0.25), budgets=(1, 3),
                                       seeds=(0, 1), epochs=2, batch_size=7)
    assert [(r["labels_per_class"], r["mode"], r["seed"]) for r in runs] == [
        (k, mode, seed) for k in (1, 3) for seed in (0, 1) for mode in transfer.MODES]
    assert all(r["test_acc"] == 0.25 for r in runs)
    assert sorted({c[0] for c in calls}) == [5, 15] and {c[1:] for c in calls} == {(2, 7)}


def test_backbone_features_projection_and_nearest_mean_accuracy():
    torch.manual_seed(0)
    model = transfer.resnet18(4)
    head = model.fc
    images = torch.randint(0, 256, (6, 3, 32, 32), dtype=torch.uint8)
    features = transfer.backbone_features(model, images, lambda x: x.float() / 255, batch_size=4)
    assert features.shape == (6, 512) and model.fc is head and not model.training
    points = transfer.project_2d(torch.randn(50, 8) * torch.tensor([10.0, 5.0, 1, 1, 1, 1, 1, 1]))
    assert points.shape == (50, 2) and points.mean(dim=0).abs().max() < 1e-4
    assert points[:, 0].var() > points[:, 1].var() > 4  # the directions of most variance first
    train = torch.tensor([[0.0, 0.0], [0.2, 0.0], [5.0, 5.0], [5.2, 5.0]])
    test = torch.tensor([[0.1, 0.3], [4.0, 4.0], [2.4, 2.4]])
    assert transfer.nearest_mean_accuracy(train, torch.tensor([0, 0, 1, 1]), test, torch.tensor([0, 1, 1])) == \
        pytest.approx(2 / 3)


def test_predictions_and_confusion_matrix():
    model = torch.nn.Linear(2, 3)
    with torch.no_grad():
        model.weight.copy_(torch.eye(3, 2)), model.bias.zero_()
    loader = [(torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 2])),
              (torch.tensor([[2.0, 0.0]]), torch.tensor([0]))]
    predicted, truth = transfer.predictions(model, loader)
    assert predicted.tolist() == [0, 1, 0] and truth.tolist() == [0, 2, 0]
    assert transfer.confusion_matrix(predicted, truth, 3).tolist() == [[2, 0, 0], [0, 0, 0], [0, 1, 0]]


def test_augmentation_changes_each_training_image_on_its_own():
    seen = []

    def augment(image):
        seen.append(image.shape)
        return 255 - image

    collate = transfer.TransformBatch(lambda batch: batch.float(), augment)
    images, labels = collate([(torch.zeros(1, 2, 2, dtype=torch.uint8), torch.tensor(0)),
                              (torch.ones(1, 2, 2, dtype=torch.uint8), torch.tensor(1))])
    assert seen == [(1, 2, 2), (1, 2, 2)] and images[:, 0, 0, 0].tolist() == [255.0, 254.0]
    assert labels.tolist() == [0, 1]


@pytest.fixture
def imagenet_course(stand_in_weights, cifar_root, tmp_path, monkeypatch):  # noqa: F811
    """A course whose settings choose the homework's experiment, with stand-ins for ImageNet's weights (TORCH_HOME)
    and for CIFAR-10 (COURSE_DATA), in torchvision's on-disk formats."""
    settings = imagenet_settings(tmp_path, monkeypatch)
    monkeypatch.setenv("COURSE_DATA", str(cifar_root))
    return settings


@pytest.mark.slow  # trains networks or runs the notebook
def test_imagenet_course_runs_the_solution_notebook_end_to_end_on_stand_ins(imagenet_course, tmp_path):
    from benchmarks.notebook import execute, kernel_env, stdout_of
    # The stand-in CIFAR-10 files cannot have torchvision's MD5 sums: this run alone skips that check. The wrapper
    # also prints the shape of the images in the first batch each of the experiment's loaders hands out.
    skip_checksums = nbformat.v4.new_code_cell(
        "import helpers.transfer\n"
        "def prepare_experiment(*args, _prepare=helpers.transfer.prepare_experiment, **kwargs):\n"
        "    experiment = _prepare(*args, verify_checksums=False, **kwargs)\n"
        "    for name, loader in zip(('train', 'val', 'test'), experiment.loaders(batch_size=4)):\n"
        "        print(f'{name} loader: images of {tuple(next(iter(loader))[0].shape[1:])}')\n"
        "    return experiment\n"
        "helpers.transfer.prepare_experiment = prepare_experiment")
    nb, _ = execute(kernel_env(COURSE_GRADING_BUDGET="1", COURSE_CACHE=str(tmp_path / "cache")), cell_timeout=300,
                    assignment="transfer_learning", first_cells=[skip_checksums])
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors[0]
    loaded = stdout_of(nb, "load_experiment")
    assert "The course's experiment (course.toml): imagenet_cifar10" in loaded
    size = TEST_IMAGENET_SIZE  # the course's setting, whatever the device
    assert f"ImageNet ResNet-18 -> CIFAR-10 at {size}x{size} pixels" in loaded
    assert f"adapted to (3, {size}, {size})" in loaded
    for name in ("train", "val", "test"):
        assert f"{name} loader: images of (3, {size}, {size})" in loaded
    assert "test acc" in stdout_of(nb, "run_modes") and "labels/class" in stdout_of(nb, "run_budgets")
    # Sections 7 and 8 run in this course too: ImageNet's ResNet-18 block by block, then through layer4 and layer3.
    assert "layer3" in stdout_of(nb, "feature_depth") and "layer4" in stdout_of(nb, "feature_depth")
    depths = stdout_of(nb, "run_sources")
    assert "Through layer4 (the whole network):" in depths and "Through layer3:" in depths
    assert "head at 10x learning rate" in stdout_of(nb, "keras_tools")


def test_grading_refuses_a_batch_the_machine_cannot_run_as_the_course_set_it_up(imagenet_course, hub, tmp_path):
    from autograder.__main__ import main as cli
    from autograder.grade import MissingRequirement, check_requirements
    check_requirements("transfer_learning")  # the stand-ins are there
    (hub / "checkpoints" / transfer.imagenet_weights_file().name).unlink()
    with pytest.raises(MissingRequirement, match="cannot run transfer_learning as the course has set it up: the "
                                                 "ImageNet ResNet-18 weights are not in"):
        check_requirements("transfer_learning")
    (tmp_path / "submissions").mkdir()
    assert cli(["grade", "transfer_learning", str(tmp_path / "submissions"), "--out", str(tmp_path / "out"),
                "--no-canary"]) == 2
