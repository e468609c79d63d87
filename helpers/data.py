"""Datasets for the course: CIFAR-10 or Fashion-MNIST, preprocessed the homework's way, plus the toy problem
of the visible checks and the 2-D toy data sets of the learning-rate lab (`toy_2d_data`).

`load_dataset` returns a dict of tensors:

    X_train (N_train, D)  y_train (N_train,)   X_val (N_val, D)  y_val (N_val,)
    X_test  (N_test, D)   y_test  (N_test,)

with pixels scaled to [0, 1], the training mean image subtracted, images flattened (D = 3072 for
CIFAR-10, 784 for Fashion-MNIST), and extra keys `dataset`, `class_names`, `image_shape` (C, H, W)
and `mean_image` (D,). Where the files come from, in order: the `root` argument; otherwise
$COURSE_DATA, the course folder's `data/`, the user cache `~/.cache/course-kit/data`, and for
Fashion-MNIST Debian's `/usr/share/datasets/fashion-mnist` (package `dataset-fashion-mnist`).
When none of these has the dataset, `download=True` and the network allows, torchvision downloads it
into the cache (or into `root`): CIFAR-10 (about 170 MB) or Fashion-MNIST (about 30 MB, from
`FashionMNIST.mirrors`, checked against torchvision's MD5 sums). Fashion-MNIST is downloaded into a
temporary folder and moved into place whole, so parallel processes never see half a file and a
corrupted download leaves nothing behind.
"""
import copy
import gzip
import hashlib
import os
import shutil
import socket
import tempfile
from http.client import HTTPException
from pathlib import Path
from urllib.error import URLError
from urllib.parse import urlsplit

import torch

from helpers.course import course_setting, settings_file
from helpers.i18n import _

DATASETS = ("cifar10", "fashion_mnist")
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
CIFAR10_HOST = ("www.cs.toronto.edu", 443)
# torchvision's layouts (tests check these against torchvision); torchvision itself is imported only when
# data is read, so that `import helpers` stays quick.
CIFAR10_FOLDER = "cifar-10-batches-py"
FASHION_MNIST_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                       "t10k-labels-idx1-ubyte.gz")
_RAW_CACHE = {}


class DatasetNotFoundError(FileNotFoundError):
    """No copy of the requested dataset could be found or downloaded."""


def cache_dir():
    """Writable folder for derived files (decompressed data): $COURSE_CACHE or ~/.cache/course-kit."""
    return Path(os.environ.get("COURSE_CACHE", Path.home() / ".cache" / "course-kit"))


def data_dirs(root=None):
    """Folders searched for dataset files, in order; only `root` when it is given."""
    if root is not None:
        return [Path(root)]
    dirs = [Path(os.environ["COURSE_DATA"])] if os.environ.get("COURSE_DATA") else []
    return dirs + [Path(__file__).resolve().parent.parent / "data", cache_dir() / "data"]


def course_dataset():
    """The dataset the course chose for two_layer_net in its settings (helpers/course.toml): one of DATASETS."""
    name = course_setting("two_layer_net", "dataset")
    if name not in DATASETS:
        raise ValueError(f"the course's settings file {settings_file()} names the dataset {name!r} for two_layer_net; "
                         f"choose one of {DATASETS}")
    return name


def check_course_dataset_available(root=None):
    """Raise DatasetNotFoundError, saying how to get it, unless this machine has the course's two_layer_net dataset.
    Returns its name."""
    name = course_dataset()
    raw_images(name, root=root, download=False, verify_checksums=False)
    return name


def load_dataset(name=None, root=None, validation_ratio=0.1, num_train=None,
                 dtype=torch.float32, device="cpu", bias_trick=False, flatten=True,
                 download=True, verify_checksums=True):
    """Load and preprocess a dataset (see the module docstring for the returned dict).

    Args:
        name: 'cifar10' or 'fashion_mnist'; None: the course's choice (course_dataset()), which every student
            of a class and the grader share; 'auto': CIFAR-10 when available, else Fashion-MNIST (this machine's
            choice, for trials outside a class).
        root: folder holding the files; None searches the default places.
        validation_ratio: share of the training set held out as validation, after a fixed shuffle.
        num_train: keep only this many training images (after the split), for quick runs.
        dtype, device: of the returned image tensors; labels are int64 on `device`.
        bias_trick: append a constant-1 feature, so D grows by one.
        flatten: False keeps images as (N, C, H, W).
        download: let torchvision fetch the dataset (CIFAR-10 or Fashion-MNIST) into the cache, or into `root`,
            when no local copy exists and the network allows; False only searches the local folders.
        verify_checksums: check the CIFAR-10 files against torchvision's MD5 sums.

    Raises:
        DatasetNotFoundError: no copy found; the message says how to get one.
    """
    name = course_dataset() if name is None else name
    if name == "auto":
        try:
            raw = _raw_cifar10(root, download, verify_checksums)
        except DatasetNotFoundError:
            raw = _raw_fashion_mnist(root, download)
        if raw["dataset"] == "cifar10":
            print(_("Using CIFAR-10 from {source}.").format(source=raw["source"]))
        else:
            print(_("Using Fashion-MNIST (CIFAR-10 not found) from {source}.").format(source=raw["source"]))
    elif name == "cifar10":
        raw = _raw_cifar10(root, download, verify_checksums)
    elif name == "fashion_mnist":
        raw = _raw_fashion_mnist(root, download)
    else:
        raise ValueError(_("unknown dataset {name}; choose one of {names}").format(name=repr(name),
                                                                                   names=DATASETS + ("auto",)))
    key = (raw["dataset"], raw["source"], validation_ratio, num_train, dtype, bias_trick, flatten)
    cached = _cached(key, lambda: _preprocess(raw, validation_ratio, num_train, dtype, bias_trick, flatten))
    # Copies, so a caller that edits its tensors in place cannot spoil the next call's data.
    return {k: v.to(device=device, copy=True) if torch.is_tensor(v) else copy.copy(v) for k, v in cached.items()}


def raw_images(name, root=None, download=False, verify_checksums=True):
    """A dataset as it is stored: {'x_train' (N, C, H, W) uint8, 'y_train' (N,) int64, 'x_test', 'y_test',
    'class_names', 'dataset', 'source'}, for code that applies its own transforms (e.g. torchvision's).
    `download=True` lets torchvision fetch a missing dataset as load_dataset does.
    Raises DatasetNotFoundError, saying how to get the files, when there is no copy."""
    if name == "cifar10":
        return _raw_cifar10(root, download, verify_checksums)
    if name == "fashion_mnist":
        return _raw_fashion_mnist(root, download)
    raise ValueError(_("unknown dataset {name}; choose one of {names}").format(name=repr(name), names=DATASETS))


def _preprocess(raw, validation_ratio, num_train, dtype, bias_trick, flatten):
    """uint8 (N, C, H, W) images -> the dict of float CPU tensors described in the module docstring."""
    if not 0 <= validation_ratio < 1:
        raise ValueError(_("validation_ratio must be in [0, 1), got {value}").format(value=validation_ratio))
    x_all, y_all = raw["x_train"], raw["y_train"]
    order = torch.randperm(len(y_all), generator=torch.Generator().manual_seed(0))
    num_val = int(round(len(y_all) * validation_ratio))
    val_idx, train_idx = order[:num_val], order[num_val:]
    if num_train is not None:
        train_idx = train_idx[:num_train]

    def scale(x):
        return x.to(torch.float64) / 255.0

    x_train = scale(x_all[train_idx])
    mean_image = x_train.mean(dim=0)
    splits = {"train": (x_train, y_all[train_idx]),
              "val": (scale(x_all[val_idx]), y_all[val_idx]),
              "test": (scale(raw["x_test"]), raw["y_test"])}
    out = {"dataset": raw["dataset"], "class_names": raw["class_names"],
           "image_shape": tuple(x_all.shape[1:])}
    for split, (x, y) in splits.items():
        x = x - mean_image
        if flatten:
            x = x.flatten(1)
            if bias_trick:
                x = torch.cat([x, torch.ones(len(x), 1, dtype=x.dtype)], dim=1)
        out[f"X_{split}"] = x.to(dtype)
        out[f"y_{split}"] = y.to(torch.int64)
    out["mean_image"] = mean_image.reshape(-1).to(dtype)
    return out


def _raw_cifar10(root, download, verify_checksums):
    """CIFAR-10 as uint8 tensors, from the first folder that has it, else downloaded."""
    from torchvision.datasets import CIFAR10
    dataset_cls = CIFAR10 if verify_checksums else _unchecked(CIFAR10)
    for folder in data_dirs(root):
        if (folder / CIFAR10_FOLDER).is_dir():
            return _cached(("cifar10", folder, verify_checksums), lambda: _read_cifar10(dataset_cls, folder))
    target = data_dirs(root)[0] if root is not None else cache_dir() / "data"
    if download and _network_reaches(CIFAR10_HOST):
        target.mkdir(parents=True, exist_ok=True)
        CIFAR10(target, train=True, download=True)
        return _cached(("cifar10", target, verify_checksums), lambda: _read_cifar10(dataset_cls, target))
    if download:
        message = _("CIFAR-10 was not found in {folders}, and cannot be downloaded from here (no network). Get it "
                    "with torchvision.datasets.CIFAR10(ROOT, download=True) on a connected machine and copy "
                    "ROOT/{folder} into one of those folders, or set COURSE_DATA=ROOT; or use "
                    "load_dataset('fashion_mnist').")
    else:
        message = _("CIFAR-10 was not found in {folders} (download=False). Get it with "
                    "torchvision.datasets.CIFAR10(ROOT, download=True) on a connected machine and copy "
                    "ROOT/{folder} into one of those folders, or set COURSE_DATA=ROOT; or use "
                    "load_dataset('fashion_mnist').")
    raise DatasetNotFoundError(message.format(folders=", ".join(str(d) for d in data_dirs(root)),
                                              folder=CIFAR10_FOLDER))


def _unchecked(cifar10):
    """torchvision's CIFAR10, trusting the local files without MD5 checks (re-packed or generated copies)."""
    return type("UncheckedCIFAR10", (cifar10,), {
        "train_list": [[name, None] for name, _ in cifar10.train_list],
        "test_list": [[name, None] for name, _ in cifar10.test_list],
        "meta": dict(cifar10.meta, md5=None)})


def _read_cifar10(dataset_cls, folder):
    try:
        train, test = dataset_cls(folder, train=True), dataset_cls(folder, train=False)
    except RuntimeError as error:
        raise DatasetNotFoundError(
            _("CIFAR-10 files in {folder} are incomplete or corrupted ({error}). Delete that folder and fetch it "
              "again.").format(folder=folder / CIFAR10_FOLDER, error=error)) from error
    return {"dataset": "cifar10", "source": str(folder), "class_names": list(train.classes),
            "x_train": _to_nchw(train.data), "y_train": torch.as_tensor(train.targets),
            "x_test": _to_nchw(test.data), "y_test": torch.as_tensor(test.targets)}


def _to_nchw(hwc_uint8):
    return torch.from_numpy(hwc_uint8).permute(0, 3, 1, 2).contiguous()


def _raw_fashion_mnist(root, download=False):
    """Fashion-MNIST as uint8 tensors, from torchvision's layout or a folder of the four .gz files, else downloaded
    (download=True) by torchvision into the cache or `root`."""
    folders = data_dirs(root) + ([DEBIAN_FASHION_MNIST] if root is None else [])
    for folder in folders:
        if _has_fashion_mnist(folder):
            return _cached(("fashion_mnist", folder), lambda: _read_fashion_mnist(folder, folder))
        if all((folder / gz).is_file() for gz in FASHION_MNIST_FILES):
            return _cached(("fashion_mnist", folder), lambda: _read_fashion_mnist(folder, _unpack_gz(folder)))
    target = Path(root) if root is not None else cache_dir() / "data"
    mirrors = _fashion_mnist_mirrors()
    if download and any(_network_reaches(host_port) for host_port in _hosts(mirrors)):
        _download_fashion_mnist(target, mirrors)
        return _cached(("fashion_mnist", target), lambda: _read_fashion_mnist(target, target))
    if download:
        message = _("Fashion-MNIST was not found in {folders}, and the automatic download could not reach "
                    "torchvision's mirrors ({mirrors}): no network? Install it with 'sudo apt-get install "
                    "dataset-fashion-mnist' (Debian/Ubuntu), or run torchvision.datasets.FashionMNIST(ROOT, "
                    "download=True) on a connected machine and set COURSE_DATA=ROOT (or copy ROOT/FashionMNIST into "
                    "one of those folders).")
    else:
        message = _("Fashion-MNIST was not found in {folders} (download=False). Install it with 'sudo apt-get "
                    "install dataset-fashion-mnist' (Debian/Ubuntu), or run torchvision.datasets.FashionMNIST(ROOT, "
                    "download=True) on a connected machine and set COURSE_DATA=ROOT (or copy ROOT/FashionMNIST into "
                    "one of those folders).")
    raise DatasetNotFoundError(message.format(folders=", ".join(str(d) for d in folders), mirrors=", ".join(mirrors)))


def _has_fashion_mnist(folder):
    """Whether `folder` holds Fashion-MNIST in torchvision's layout (FashionMNIST/raw, decompressed)."""
    return all((folder / "FashionMNIST" / "raw" / gz[:-3]).is_file() for gz in FASHION_MNIST_FILES)


def _fashion_mnist_mirrors():
    from torchvision.datasets import FashionMNIST
    return list(FashionMNIST.mirrors)


def _hosts(urls):
    """(host, port) of each URL, for the network probe."""
    hosts = []
    for url in urls:
        parts = urlsplit(url)
        if parts.hostname:
            hosts.append((parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)))
    return hosts


def _download_fashion_mnist(target, mirrors):
    """Let torchvision download Fashion-MNIST (its mirrors, MD5 sums and progress bar) into target/FashionMNIST/raw.

    torchvision writes in place, so it works in a fresh temporary folder beside the target, and the finished raw
    folder is moved into place with one rename: other processes see all of it or nothing, and a failed or
    corrupted download is deleted with the temporary folder.
    """
    from torchvision.datasets import FashionMNIST
    raw = target / "FashionMNIST" / "raw"
    print(_("Fashion-MNIST is not on this machine: downloading it (about 30 MB, once) from {mirror} into {folder} "
            "...").format(mirror=mirrors[0], folder=raw), flush=True)
    raw.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".FashionMNIST-download-", dir=target))
    try:
        FashionMNIST(staging, train=True, download=True)
        _move_into_place(staging / "FashionMNIST" / "raw", raw, staging)
    except (RuntimeError, URLError, HTTPException, OSError) as error:
        raise DatasetNotFoundError(_(
            "The download of Fashion-MNIST from {mirrors} was interrupted or corrupted (truncated, or its MD5 sum "
            "does not match torchvision's); nothing of it was kept in {folder}. Run again to retry, or get the files "
            "another way: 'sudo apt-get install dataset-fashion-mnist' (Debian/Ubuntu), or "
            "torchvision.datasets.FashionMNIST(ROOT, download=True) on a connected machine and set COURSE_DATA=ROOT. "
            "torchvision said: {error}").format(mirrors=", ".join(mirrors), folder=raw,
                                                error=" ".join(str(error).split()))) from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _move_into_place(staged, raw, staging):
    """Rename the complete `staged` folder to `raw`, unless another process has already put a complete copy there;
    an incomplete `raw` (an interrupted download of another kind) is moved into `staging`, to be deleted."""
    for attempt in range(3):
        if _has_fashion_mnist(raw.parent.parent):
            return
        if raw.exists():
            try:
                os.replace(raw, staging / f"stale-{attempt}")
            except OSError:
                pass  # another process moved it first
        try:
            os.replace(staged, raw)
            return
        except OSError:
            continue  # another process got there between the check and the rename: look again
    if not _has_fashion_mnist(raw.parent.parent):
        raise OSError(f"could not move the downloaded files into {raw}")


def _unpack_gz(folder):
    """Decompress the four .gz files into torchvision's layout under the cache; return its root.

    Each source folder gets its own cache entry. Debian re-compresses the files, so the published
    MD5 sums do not apply; torchvision's reader checks the IDX headers and sizes instead.
    """
    target = cache_dir() / "unpacked" / hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
    raw_folder = target / "FashionMNIST" / "raw"
    for gz in FASHION_MNIST_FILES:
        if not (raw_folder / gz[:-3]).is_file():
            raw_folder.mkdir(parents=True, exist_ok=True)
            partial = raw_folder / f"{gz[:-3]}.{os.getpid()}.part"
            try:
                with gzip.open(folder / gz, "rb") as source, open(partial, "wb") as sink:
                    shutil.copyfileobj(source, sink)
            except (OSError, EOFError) as error:
                partial.unlink(missing_ok=True)
                raise DatasetNotFoundError(_("{file} is not a readable gzip file ({error}). Reinstall or fetch it "
                                             "again.").format(file=folder / gz, error=error)) from error
            os.replace(partial, raw_folder / gz[:-3])  # atomic: parallel graders never see half a file
    return target


def _read_fashion_mnist(source, root):
    from torchvision.datasets import FashionMNIST
    try:
        train, test = FashionMNIST(root, train=True), FashionMNIST(root, train=False)
    except (RuntimeError, AssertionError, ValueError) as error:
        raise DatasetNotFoundError(_("Fashion-MNIST files under {folder} are incomplete or corrupted ({error}). "
                                     "Delete them and fetch them again.").format(folder=root, error=error)) from error
    return {"dataset": "fashion_mnist", "source": str(source), "class_names": list(train.classes),
            "x_train": train.data.unsqueeze(1), "y_train": train.targets,
            "x_test": test.data.unsqueeze(1), "y_test": test.targets}


def _cached(key, read):
    if key not in _RAW_CACHE:
        _RAW_CACHE[key] = read()
    return _RAW_CACHE[key]


def _network_reaches(host_port, timeout=3.0):
    try:
        socket.create_connection(host_port, timeout=timeout).close()
        return True
    except OSError:
        return False


def get_toy_data(num_inputs=5, input_size=4, hidden_size=10, num_classes=3,
                 dtype=torch.float32, device="cpu", seed=0):
    """The small fixed problem the notebook's visible checks use.

    Drawn deterministically on the CPU in float64 (the same numbers on every machine), then moved.

    Returns:
        X: (num_inputs, input_size) inputs, scale 10.
        y: (num_inputs,) int64 labels in [0, num_classes).
        params: dict with W1 (input_size, hidden_size), b1 (hidden_size,),
            W2 (hidden_size, num_classes), b2 (num_classes,), weights of scale 0.1.
    """
    gen = torch.Generator().manual_seed(seed)

    def draw(*shape, scale):
        # dtype first, on the CPU: a device without float64 (Apple's MPS) then receives float32 only.
        return (scale * torch.randn(*shape, generator=gen, dtype=torch.float64)).to(dtype).to(device)

    params = {"W1": draw(input_size, hidden_size, scale=1e-1), "b1": draw(hidden_size, scale=1e-1),
              "W2": draw(hidden_size, num_classes, scale=1e-1), "b2": draw(num_classes, scale=1e-1)}
    X = draw(num_inputs, input_size, scale=10.0)
    y = torch.randint(num_classes, (num_inputs,), generator=gen).to(device)
    return X, y, params


TOY_2D_SETS = ("spirals", "moons")


def toy_2d_data(name="spirals", num_train=300, num_val=300, noise=None, seed=0):
    """A 2-D classification problem for the learning-rate lab, drawn deterministically on the CPU.

    name: 'spirals' (3 interleaved arms, 3 classes) or 'moons' (two half circles, 2 classes).
    noise: standard deviation of the jitter (default 0.2 for spirals, 0.15 for moons).
    Returns a dict: X_train (num_train, 2) and X_val (num_val, 2) float32 in about [-1.5, 1.5]²,
    y_train (num_train,) and y_val (num_val,) int64, and 'class_names'. Training and validation
    points are independent draws of the same distribution.
    """
    makers = {"spirals": (_spirals, 0.2), "moons": (_moons, 0.15)}
    if name not in makers:
        raise ValueError(_("unknown toy data set {name}: choose one of {names}").format(
            name=repr(name), names=", ".join(TOY_2D_SETS)))
    make, default_noise = makers[name]
    noise = default_noise if noise is None else noise
    gen = torch.Generator().manual_seed(seed)
    X_train, y_train = make(num_train, noise, gen)
    X_val, y_val = make(num_val, noise, gen)
    num_classes = int(y_train.max()) + 1
    return {"X_train": X_train, "y_train": y_train, "X_val": X_val, "y_val": y_val,
            "class_names": [f"class {k}" for k in range(num_classes)]}


def _spirals(n, noise, gen, num_classes=3):
    """n points on `num_classes` spiral arms (CS231n's spiral), arm k is class k."""
    y = torch.arange(n) % num_classes
    t = torch.rand(n, generator=gen, dtype=torch.float64)
    angle = 4.0 * t + y * (2 * torch.pi / num_classes) + noise * torch.randn(n, generator=gen, dtype=torch.float64)
    X = torch.stack([t * torch.sin(angle), t * torch.cos(angle)], dim=1)
    return X.float(), y


def _moons(n, noise, gen):
    """n points on two interleaved half circles (class 0 on top), centred on the origin."""
    y = torch.arange(n) % 2
    angle = torch.pi * torch.rand(n, generator=gen, dtype=torch.float64)
    upper = torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    lower = torch.stack([1 - torch.cos(angle), 0.5 - torch.sin(angle)], dim=1)
    X = torch.where((y == 0)[:, None], upper, lower) - torch.tensor([0.5, 0.25], dtype=torch.float64)
    X = X + noise * torch.randn(n, 2, generator=gen, dtype=torch.float64)
    return X.float(), y
