"""Tests for helpers.data: CIFAR-10 / Fashion-MNIST loading and preprocessing, the toy problem."""

import gzip
import pickle
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers import data
from helpers.data import DatasetNotFoundError, get_toy_data, load_dataset, toy_2d_data

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
needs_fashion = pytest.mark.skipif(
    not FASHION_DIR.is_dir(),
    reason=f"{FASHION_DIR} is absent: install the Debian package dataset-fashion-mnist")
FASHION_FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]

# ---------------------------------------------------------------------------------------------
# A tiny CIFAR-10 in the real python-pickle layout: 5 training batches of 12 images, 10 test images.
# Image number g (0..59 training, 60..69 test) has pixel (channel c, position p) = (37 g + 85 c + 3 p) % 256,
# so pixel (0, 0) = 37 g % 256 identifies the image (37 is odd), and its label is g % 10.

CIFAR_PER_BATCH, CIFAR_TRAIN, CIFAR_TEST = 12, 60, 10
CIFAR_NAMES = [f"fixture-class-{i}" for i in range(10)]


def cifar_image(g):
    """Row of 3072 uint8: R(1024) G(1024) B(1024), each 32x32 row-major, as CIFAR-10 stores it."""
    c = np.arange(3).reshape(3, 1)
    p = np.arange(1024).reshape(1, 1024)
    return ((37 * g + 85 * c + 3 * p) % 256).astype(np.uint8).reshape(3072)


def cifar_label(g):
    return g % 10


def image_number(pixel0):
    """Inverse of pixel (0, 0) = 37 g % 256."""
    return (pixel0 * pow(37, -1, 256)) % 256


@pytest.fixture(scope="session")
def cifar_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("cifar_fixture")
    folder = root / "cifar-10-batches-py"
    folder.mkdir()

    def write(name, numbers, batch_label):
        entry = {"batch_label": batch_label,
                 "labels": [cifar_label(g) for g in numbers],
                 "data": np.stack([cifar_image(g) for g in numbers]),
                 "filenames": [f"image_{g}.png" for g in numbers]}
        with open(folder / name, "wb") as f:
            pickle.dump(entry, f)

    for b in range(5):
        numbers = range(b * CIFAR_PER_BATCH, (b + 1) * CIFAR_PER_BATCH)
        write(f"data_batch_{b + 1}", numbers, f"training batch {b + 1} of 5")
    write("test_batch", range(CIFAR_TRAIN, CIFAR_TRAIN + CIFAR_TEST), "testing batch 1 of 1")
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"num_cases_per_batch": CIFAR_PER_BATCH, "label_names": CIFAR_NAMES, "num_vis": 3072}, f)
    return root


def load_cifar(root, **kwargs):
    return load_dataset("cifar10", root=root, download=False, verify_checksums=False, **kwargs)


def numbers_of(X, mean_image):
    """Image numbers of the rows of a float64 (N, 3072) split, recovered from the un-centred pixels."""
    pixel0 = torch.round((X[:, 0] + mean_image[0]) * 255).to(torch.int64)
    return [image_number(int(v)) for v in pixel0]


def expected_pixels(numbers):
    return torch.from_numpy(np.stack([cifar_image(g) for g in numbers])).to(torch.float64) / 255


# CIFAR-10 fixture: shapes, splits, dtypes

def test_cifar_shapes_and_keys(cifar_root):
    d = load_cifar(cifar_root)
    assert d["dataset"] == "cifar10"
    assert d["X_train"].shape == (54, 3072) and d["y_train"].shape == (54,)
    assert d["X_val"].shape == (6, 3072) and d["y_val"].shape == (6,)
    assert d["X_test"].shape == (10, 3072) and d["y_test"].shape == (10,)
    assert d["mean_image"].shape == (3072,)
    assert d["image_shape"] == (3, 32, 32)
    assert d["class_names"] == CIFAR_NAMES


def test_cifar_unflattened(cifar_root):
    d = load_cifar(cifar_root, flatten=False, dtype=torch.float64)
    assert d["X_train"].shape == (54, 3, 32, 32)
    assert d["X_val"].shape == (6, 3, 32, 32)
    assert d["X_test"].shape == (10, 3, 32, 32)
    flat = load_cifar(cifar_root, dtype=torch.float64)
    assert torch.equal(d["X_train"].reshape(54, -1), flat["X_train"])
    # channel-first: X[i, c, h, w] is pixel (c, 32 h + w) of the image
    g = numbers_of(flat["X_test"], flat["mean_image"])[0]
    un_centred = d["X_test"][0] + flat["mean_image"].reshape(3, 32, 32)
    expected = torch.from_numpy(cifar_image(g).reshape(3, 32, 32)).to(torch.float64) / 255
    torch.testing.assert_close(un_centred, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_cifar_dtype_and_device(cifar_root, dtype):
    d = load_cifar(cifar_root, dtype=dtype, device="cpu")
    for split in ("train", "val", "test"):
        assert d[f"X_{split}"].dtype == dtype
        assert d[f"X_{split}"].device.type == "cpu"
        assert d[f"y_{split}"].dtype == torch.int64
        assert d[f"y_{split}"].device.type == "cpu"
    assert d["mean_image"].dtype == dtype


def test_cifar_float32_is_float64_cast(cifar_root):
    d32, d64 = load_cifar(cifar_root, dtype=torch.float32), load_cifar(cifar_root, dtype=torch.float64)
    assert torch.equal(d32["X_train"], d64["X_train"].to(torch.float32))
    assert torch.equal(d32["y_train"], d64["y_train"])


def test_cifar_labels_and_split_cover_the_training_set(cifar_root):
    d = load_cifar(cifar_root, dtype=torch.float64)
    train = numbers_of(d["X_train"], d["mean_image"])
    val = numbers_of(d["X_val"], d["mean_image"])
    assert sorted(train + val) == list(range(CIFAR_TRAIN))  # disjoint, nothing lost, no test image
    assert numbers_of(d["X_test"], d["mean_image"]) == list(range(CIFAR_TRAIN, CIFAR_TRAIN + CIFAR_TEST))
    assert d["y_train"].tolist() == [cifar_label(g) for g in train]
    assert d["y_val"].tolist() == [cifar_label(g) for g in val]
    assert d["y_test"].tolist() == [cifar_label(g) for g in range(CIFAR_TRAIN, CIFAR_TRAIN + CIFAR_TEST)]
    for split in ("train", "val", "test"):
        y = d[f"y_{split}"]
        assert y.min() >= 0 and y.max() < 10


def test_cifar_values_are_scaled_and_centred_with_the_training_mean(cifar_root):
    d = load_cifar(cifar_root, dtype=torch.float64)
    train = numbers_of(d["X_train"], d["mean_image"])
    mean = expected_pixels(train).mean(dim=0)
    torch.testing.assert_close(d["mean_image"], mean, rtol=0, atol=1e-12)
    for split in ("train", "val", "test"):
        numbers = numbers_of(d[f"X_{split}"], d["mean_image"])
        torch.testing.assert_close(d[f"X_{split}"], expected_pixels(numbers) - mean, rtol=0, atol=1e-12)
    assert d["X_train"].mean(dim=0).abs().max() < 1e-12
    # the validation and test images are not part of the mean
    all_mean = expected_pixels(range(CIFAR_TRAIN + CIFAR_TEST)).mean(dim=0)
    assert (all_mean - mean).abs().max() > 1e-3


@pytest.mark.parametrize("ratio, n_train, n_val", [(0.1, 54, 6), (0.25, 45, 15), (0.5, 30, 30)])
def test_cifar_validation_ratio(cifar_root, ratio, n_train, n_val):
    d = load_cifar(cifar_root, validation_ratio=ratio)
    assert len(d["X_train"]) == len(d["y_train"]) == n_train
    assert len(d["X_val"]) == len(d["y_val"]) == n_val
    assert len(d["X_test"]) == CIFAR_TEST


def test_cifar_validation_ratio_zero(cifar_root):
    d = load_cifar(cifar_root, validation_ratio=0.0)
    assert d["X_train"].shape == (60, 3072)
    assert d["X_val"].shape == (0, 3072) and d["y_val"].shape == (0,)


def test_cifar_validation_ratio_zero_unflattened(cifar_root):
    d = load_cifar(cifar_root, validation_ratio=0.0, flatten=False)
    assert d["X_train"].shape == (60, 3, 32, 32)
    assert d["X_val"].shape == (0, 3, 32, 32) and d["y_val"].shape == (0,)


def test_cifar_num_train(cifar_root):
    full = load_cifar(cifar_root, dtype=torch.float64)
    d = load_cifar(cifar_root, num_train=20, dtype=torch.float64)
    assert d["X_train"].shape == (20, 3072)
    assert d["X_val"].shape == (6, 3072)
    assert torch.equal(d["y_val"], full["y_val"])
    # the mean is taken over the 20 kept images only
    assert d["X_train"].mean(dim=0).abs().max() < 1e-12
    kept = numbers_of(d["X_train"], d["mean_image"])
    assert len(set(kept)) == 20
    torch.testing.assert_close(d["mean_image"], expected_pixels(kept).mean(dim=0), rtol=0, atol=1e-12)


def test_cifar_bias_trick(cifar_root):
    plain = load_cifar(cifar_root, dtype=torch.float64)
    d = load_cifar(cifar_root, bias_trick=True, dtype=torch.float64)
    for split in ("train", "val", "test"):
        X = d[f"X_{split}"]
        assert X.shape == (len(plain[f"X_{split}"]), 3073)
        assert torch.equal(X[:, -1], torch.ones(len(X), dtype=torch.float64))
        assert torch.equal(X[:, :-1], plain[f"X_{split}"])


def test_cifar_checksums_on_rejects_the_fixture(cifar_root):
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset("cifar10", root=cifar_root, download=False, verify_checksums=True)
    message = str(info.value)
    assert "CIFAR-10" in message and "corrupted" in message
    assert str(cifar_root / "cifar-10-batches-py") in message
    assert isinstance(info.value, FileNotFoundError)


def test_auto_picks_cifar_when_root_has_it(cifar_root, capsys):
    d = load_dataset("auto", root=cifar_root, download=False, verify_checksums=False)
    assert d["dataset"] == "cifar10" and d["X_train"].shape == (54, 3072)
    out = capsys.readouterr().out
    assert "CIFAR-10" in out and str(cifar_root) in out
    assert "Fashion" not in out


def test_bad_validation_ratio(cifar_root):
    for ratio in (1.0, 1.5, -0.1):
        with pytest.raises(ValueError, match="validation_ratio"):
            load_cifar(cifar_root, validation_ratio=ratio)


def test_unknown_dataset_name(tmp_path):
    with pytest.raises(ValueError, match="mnist_digits"):
        load_dataset("mnist_digits", root=tmp_path)


# Missing or broken data

def test_missing_cifar(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset("cifar10", root=tmp_path, download=False)
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert str(tmp_path) in message
    assert "download=False" in message
    assert "torchvision.datasets.CIFAR10(ROOT, download=True)" in message


def test_missing_fashion_mnist(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset("fashion_mnist", root=tmp_path, download=False)  # never the real mirrors in a test
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert str(tmp_path) in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "FashionMNIST(ROOT, download=True)" in message
    assert str(FASHION_DIR) not in message  # with a root, only the root is searched


def fashion_folder(path, content):
    path.mkdir(parents=True, exist_ok=True)
    for name in FASHION_FILES:
        (path / name).write_bytes(content)
    return path


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """Empty in-memory cache and an empty COURSE_CACHE folder for this test only."""
    monkeypatch.setattr(data, "_RAW_CACHE", {})
    cache = tmp_path / "course-cache"
    monkeypatch.setenv("COURSE_CACHE", str(cache))
    return cache


def test_corrupted_fashion_mnist_gzip_of_garbage(tmp_path, fresh_cache):
    folder = fashion_folder(tmp_path / "broken", gzip.compress(b"not an idx file" * 20))
    with pytest.raises(DatasetNotFoundError, match="corrupted"):
        load_dataset("fashion_mnist", root=folder)


def test_corrupted_fashion_mnist_not_gzip(tmp_path, fresh_cache):
    folder = fashion_folder(tmp_path / "broken", b"garbage, not gzip" * 20)
    with pytest.raises(DatasetNotFoundError):
        load_dataset("fashion_mnist", root=folder)


@needs_fashion
def test_corrupted_folder_does_not_poison_the_cache(tmp_path, fresh_cache):
    broken = fashion_folder(tmp_path / "broken", gzip.compress(b"not an idx file" * 20))
    with pytest.raises(DatasetNotFoundError):
        load_dataset("fashion_mnist", root=broken)
    d = load_dataset("fashion_mnist", root=FASHION_DIR)
    assert d["X_train"].shape == (54000, 784)


# Real Fashion-MNIST (Debian package), default cache

def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


@pytest.fixture(scope="module")
def fashion():
    if not FASHION_DIR.is_dir():
        pytest.skip(f"{FASHION_DIR} is absent: install the Debian package dataset-fashion-mnist")
    return load_dataset("fashion_mnist", root=FASHION_DIR)


@pytest.fixture(scope="module")
def fashion_raw():
    if not FASHION_DIR.is_dir():
        pytest.skip(f"{FASHION_DIR} is absent: install the Debian package dataset-fashion-mnist")
    return {name: read_idx(FASHION_DIR / name) for name in FASHION_FILES}


def test_fashion_shapes_and_dtypes(fashion):
    d = fashion
    assert d["dataset"] == "fashion_mnist"
    assert d["X_train"].shape == (54000, 784) and d["y_train"].shape == (54000,)
    assert d["X_val"].shape == (6000, 784) and d["y_val"].shape == (6000,)
    assert d["X_test"].shape == (10000, 784) and d["y_test"].shape == (10000,)
    assert d["image_shape"] == (1, 28, 28)
    assert d["mean_image"].shape == (784,)
    assert len(d["class_names"]) == 10 and d["class_names"][0] == "T-shirt/top"
    for split in ("train", "val", "test"):
        assert d[f"X_{split}"].dtype == torch.float32
        assert d[f"y_{split}"].dtype == torch.int64


def test_fashion_labels(fashion):
    for split in ("train", "val", "test"):
        y = fashion[f"y_{split}"]
        assert y.min() == 0 and y.max() == 9
        assert torch.bincount(y, minlength=10).min() > 0


def test_fashion_values_bounded_and_centred(fashion):
    for split in ("train", "val", "test"):
        X = fashion[f"X_{split}"]
        assert X.min() >= -1 and X.max() <= 1
        assert X.min() < -0.5 and X.max() > 0.5  # scaled by 1/255 and centred, not raw or uncentred
    assert fashion["X_train"].double().mean(dim=0).abs().max() < 1e-5
    assert fashion["mean_image"].min() >= 0 and fashion["mean_image"].max() <= 1


def test_fashion_matches_the_raw_files(fashion, fashion_raw):
    """Test images are pixel/255 minus the training mean, in file order; train + val is the training file."""
    test_pixels = torch.from_numpy(fashion_raw["t10k-images-idx3-ubyte.gz"].reshape(10000, 784).copy())
    torch.testing.assert_close(fashion["X_test"] + fashion["mean_image"], test_pixels.float() / 255, rtol=0, atol=1e-6)
    assert torch.equal(fashion["y_test"], torch.from_numpy(fashion_raw["t10k-labels-idx1-ubyte.gz"].copy()).long())

    train_pixels = fashion_raw["train-images-idx3-ubyte.gz"].reshape(60000, 784)
    sums = []
    for split in ("train", "val"):  # float32 keeps this light: 255 * float32 rounding << 0.5
        scaled = (fashion[f"X_{split}"] + fashion["mean_image"]) * 255
        recovered = torch.round(scaled)
        assert (scaled - recovered).abs().max() < 1e-2  # whole pixel values
        assert recovered.min() >= 0 and recovered.max() <= 255
        sums.append(recovered.sum(dim=1, dtype=torch.float64).long())
    # same multiset of images: compare per-image pixel sums and label counts
    assert torch.equal(torch.cat(sums).sort().values,
                       torch.from_numpy(train_pixels.sum(axis=1, dtype=np.int64)).sort().values)
    train_labels = torch.from_numpy(fashion_raw["train-labels-idx1-ubyte.gz"].copy()).long()
    assert torch.equal(torch.bincount(torch.cat([fashion["y_train"], fashion["y_val"]]), minlength=10),
                       torch.bincount(train_labels, minlength=10))


def test_fashion_mean_excludes_validation_and_test(fashion, fashion_raw):
    mean = fashion["mean_image"].double()
    # the mean of the 54000 training rows is mean_image (columns of X_train average to 0) ...
    assert fashion["X_train"].double().mean(dim=0).abs().max() < 1e-5
    # ... and differs from the mean over every image, test set included
    every = np.concatenate([fashion_raw["train-images-idx3-ubyte.gz"].reshape(60000, 784),
                            fashion_raw["t10k-images-idx3-ubyte.gz"].reshape(10000, 784)])
    every_mean = torch.from_numpy(every.mean(axis=0, dtype=np.float64)) / 255
    assert (every_mean - mean).abs().max() > 1e-3
    # the test set's own mean is not zero after centring
    assert fashion["X_test"].double().mean(dim=0).abs().max() > 1e-3


def test_fashion_results_are_copies(fashion):
    first = load_dataset("fashion_mnist", root=FASHION_DIR)
    expected = first["X_train"][0].clone()
    first["X_train"][0] += 100
    first["y_train"][:] = -1
    first["mean_image"].zero_()
    second = load_dataset("fashion_mnist", root=FASHION_DIR)
    assert torch.equal(second["X_train"][0], expected)
    assert second["y_train"].min() >= 0
    assert torch.equal(second["mean_image"], fashion["mean_image"])


@needs_fashion
def test_fashion_class_names_are_copies():
    first = load_dataset("fashion_mnist", root=FASHION_DIR)
    first["class_names"][0] = "edited"
    assert load_dataset("fashion_mnist", root=FASHION_DIR)["class_names"][0] == "T-shirt/top"


@needs_fashion
def test_fashion_second_call_is_served_from_memory(fresh_cache):
    start = time.perf_counter()
    first = load_dataset("fashion_mnist", root=FASHION_DIR)
    first_s = time.perf_counter() - start
    assert list(fresh_cache.glob("unpacked/*/FashionMNIST/raw/train-images-idx3-ubyte"))
    start = time.perf_counter()
    second = load_dataset("fashion_mnist", root=FASHION_DIR)
    second_s = time.perf_counter() - start
    assert second_s * 5 <= first_s, (first_s, second_s)
    assert torch.equal(first["X_train"], second["X_train"])


@needs_fashion
def test_auto_falls_back_to_fashion_mnist(tmp_path, monkeypatch, capsys):
    repo_data = Path(data.__file__).resolve().parent.parent / "data"
    if (repo_data / "cifar-10-batches-py").is_dir():
        pytest.skip(f"{repo_data} holds CIFAR-10")
    for var in ("COURSE_DATA", "COURSE_CACHE", "HOME"):
        (tmp_path / var).mkdir()
        monkeypatch.setenv(var, str(tmp_path / var))
    asked = []
    monkeypatch.setattr(data, "_network_reaches", lambda host_port, timeout=3.0: asked.append(host_port) or False)
    d = load_dataset("auto")
    assert d["dataset"] == "fashion_mnist" and d["X_train"].shape == (54000, 784)
    assert asked == [data.CIFAR10_HOST]
    out = capsys.readouterr().out
    assert "Fashion-MNIST (CIFAR-10 not found)" in out and str(FASHION_DIR) in out


# get_toy_data

def test_toy_data_default_shapes():
    X, y, params = get_toy_data()
    assert X.shape == (5, 4) and y.shape == (5,)
    assert {k: tuple(v.shape) for k, v in params.items()} == {
        "W1": (4, 10), "b1": (10,), "W2": (10, 3), "b2": (3,)}
    assert X.dtype == torch.float32 and y.dtype == torch.int64
    assert all(v.dtype == torch.float32 for v in params.values())
    assert y.min() >= 0 and y.max() < 3
    # scales: inputs ~10, weights ~0.1
    assert X.abs().max() > 2 and all(v.abs().max() < 1 for v in params.values())


def test_toy_data_custom_sizes():
    X, y, params = get_toy_data(num_inputs=7, input_size=6, hidden_size=8, num_classes=4)
    assert X.shape == (7, 6) and y.shape == (7,)
    assert params["W1"].shape == (6, 8) and params["b1"].shape == (8,)
    assert params["W2"].shape == (8, 4) and params["b2"].shape == (4,)
    assert y.min() >= 0 and y.max() < 4


def test_toy_data_is_deterministic():
    X1, y1, p1 = get_toy_data()
    X2, y2, p2 = get_toy_data()
    assert torch.equal(X1, X2) and torch.equal(y1, y2)
    assert all(torch.equal(p1[k], p2[k]) for k in p1)
    X3, _, _ = get_toy_data(seed=1)
    assert not torch.equal(X1, X3)


def test_toy_data_same_numbers_in_float32_and_float64():
    X32, y32, p32 = get_toy_data(dtype=torch.float32, device="cpu")
    X64, y64, p64 = get_toy_data(dtype=torch.float64, device="cpu")
    assert X64.dtype == torch.float64 and X64.device.type == "cpu" and y64.device.type == "cpu"
    assert all(v.dtype == torch.float64 for v in p64.values())
    assert torch.equal(X32, X64.to(torch.float32))
    assert torch.equal(y32, y64)
    assert all(torch.equal(p32[k], p64[k].to(torch.float32)) for k in p32)


def test_file_layouts_match_torchvision():
    from torchvision.datasets import CIFAR10, FashionMNIST

    from helpers.data import CIFAR10_FOLDER, FASHION_MNIST_FILES
    assert CIFAR10_FOLDER == CIFAR10.base_folder
    assert FASHION_MNIST_FILES == tuple(name for name, _ in FashionMNIST.resources)


@pytest.mark.parametrize("name, num_classes", [("spirals", 3), ("moons", 2)])
def test_toy_2d_data(name, num_classes):
    data = toy_2d_data(name, num_train=90, num_val=60)
    assert data["X_train"].shape == (90, 2) and data["X_val"].shape == (60, 2)
    assert data["X_train"].dtype == torch.float32 and data["y_train"].dtype == torch.int64
    assert data["class_names"] == [f"class {k}" for k in range(num_classes)]
    assert torch.bincount(data["y_train"]).tolist() == [90 // num_classes] * num_classes  # balanced
    assert data["X_train"].abs().max() < 2.5
    again = toy_2d_data(name, num_train=90, num_val=60)
    assert torch.equal(again["X_train"], data["X_train"])  # drawn deterministically
    assert not torch.equal(data["X_train"][:60], data["X_val"])  # validation is its own draw
    assert not torch.equal(toy_2d_data(name, num_train=90, seed=1)["X_train"], data["X_train"])


def test_spiral_arms_are_separate_classes():
    """Without noise, each class lies on its own arm: the angle minus 4 x radius is the arm's offset."""
    data = toy_2d_data("spirals", num_train=300, noise=0.0)
    X, y = data["X_train"].double(), data["y_train"]
    radius, angle = X.norm(dim=1), torch.atan2(X[:, 0], X[:, 1])
    offset = torch.remainder(angle - 4 * radius, 2 * torch.pi)
    expected = y.double() * (2 * torch.pi / 3)
    assert torch.allclose(torch.cos(offset), torch.cos(expected), atol=1e-4)


def test_unknown_toy_data_set_is_named():
    with pytest.raises(ValueError, match="unknown toy data set 'circles'.*spirals, moons"):
        toy_2d_data("circles")
