"""Fashion-MNIST downloads by itself through torchvision, tested against a loopback mirror.

The mirror serves Debian's copy of the four .gz files (dataset-fashion-mnist). Debian re-compressed them, so
torchvision's MD5 sums are swapped for the served files' own; everything else (mirror list, download, checksum,
progress bar, decompression) is torchvision's.
"""

import gzip
import hashlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from helpers import data
from helpers.data import DatasetNotFoundError, load_dataset, raw_images

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
FILES = data.FASHION_MNIST_FILES
pytestmark = pytest.mark.skipif(
    not all((FASHION_DIR / name).is_file() for name in FILES),
    reason=f"{FASHION_DIR} is absent: install the Debian package dataset-fashion-mnist")


@pytest.fixture(scope="module")
def fashion_gz():
    return {name: (FASHION_DIR / name).read_bytes() for name in FILES}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        mirror = self.server.mirror
        mirror.requests.append(self.path)
        body = mirror.files.get(self.path.lstrip("/"))
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # torchvision's redirect probe is a GET that it closes unread

    def log_message(self, *args):
        pass


class Mirror:
    """A loopback HTTP server serving `files` (name -> bytes, editable) and recording each request's path."""

    def __init__(self, files):
        self.files, self.requests = dict(files), []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.mirror = self
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def machine(tmp_path, monkeypatch):
    """A machine with no local Fashion-MNIST: empty HOME and COURSE_CACHE, no COURSE_DATA, no Debian copy.
    Returns the cache's data folder, where downloads go."""
    repo_data = Path(data.__file__).resolve().parent.parent / "data"
    if data._has_fashion_mnist(repo_data) or all((repo_data / name).is_file() for name in FILES):
        pytest.skip(f"{repo_data} holds Fashion-MNIST")
    monkeypatch.setattr(data, "_RAW_CACHE", {})
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", tmp_path / "no-debian-package")
    monkeypatch.delenv("COURSE_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path / "cache"))
    for var in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(var, "127.0.0.1,localhost")
    return tmp_path / "cache" / "data"


def point_torchvision_at(monkeypatch, url, files):
    from torchvision.datasets import FashionMNIST
    monkeypatch.setattr(FashionMNIST, "mirrors", [url])
    monkeypatch.setattr(FashionMNIST, "resources", [(name, hashlib.md5(files[name]).hexdigest()) for name in FILES])


@pytest.fixture
def mirror(monkeypatch, fashion_gz):
    served = Mirror(fashion_gz)
    point_torchvision_at(monkeypatch, served.url, fashion_gz)
    yield served
    served.close()


def files_under(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def assert_complete_copy(target, fashion_gz):
    raw = target / "FashionMNIST" / "raw"
    for name in FILES:
        assert (raw / name[:-3]).read_bytes() == gzip.decompress(fashion_gz[name])
    assert [p.name for p in target.iterdir()] == ["FashionMNIST"]  # no temporary folder left beside it


def test_fashion_mnist_downloads_once_into_the_cache(machine, mirror, fashion_gz, monkeypatch, capsys):
    d = load_dataset("fashion_mnist", num_train=100)
    assert d["dataset"] == "fashion_mnist"
    assert d["X_train"].shape == (100, 784) and d["X_val"].shape == (6000, 784) and d["X_test"].shape == (10000, 784)
    out = capsys.readouterr().out
    (line,) = [line for line in out.splitlines() if "downloading" in line]
    assert mirror.url in line and "30 MB" in line and str(machine / "FashionMNIST" / "raw") in line
    assert {path.lstrip("/") for path in mirror.requests} == set(FILES)
    assert_complete_copy(machine, fashion_gz)

    asked = len(mirror.requests)
    monkeypatch.setattr(data, "_RAW_CACHE", {})  # a new session: read from the cache folder, not from memory
    raw = raw_images("fashion_mnist", download=True)
    assert len(mirror.requests) == asked
    assert raw["source"] == str(machine)
    assert raw["x_train"].shape == (60000, 1, 28, 28) and raw["x_test"].shape == (10000, 1, 28, 28)
    assert raw["y_train"].shape == (60000,) and raw["y_test"].shape == (10000,)
    assert raw["class_names"][0] == "T-shirt/top"


def test_truncated_download_is_reported_and_leaves_nothing(machine, mirror, fashion_gz, monkeypatch):
    last = FILES[-1]  # the three files before it are downloaded whole first, and must go too
    mirror.files[last] = fashion_gz[last][:len(fashion_gz[last]) // 2]
    with pytest.raises(DatasetNotFoundError, match="corrupted") as info:
        load_dataset("fashion_mnist", num_train=100)
    assert "apt-get install dataset-fashion-mnist" in str(info.value)
    assert files_under(machine) == []

    mirror.files[last] = fashion_gz[last]
    monkeypatch.setattr(data, "_RAW_CACHE", {})
    assert raw_images("fashion_mnist", download=True)["x_test"].shape == (10000, 1, 28, 28)
    assert_complete_copy(machine, fashion_gz)


def test_parallel_downloads_replace_a_stale_folder_and_both_succeed(machine, mirror, fashion_gz):
    stale = machine / "FashionMNIST" / "raw"
    stale.mkdir(parents=True)
    (stale / FILES[0][:-3]).write_bytes(b"half of an interrupted download")
    errors = []

    def download():
        try:
            data._download_fashion_mnist(machine, [mirror.url])
        except Exception as error:  # noqa: BLE001 (reported below, in the main thread)
            errors.append(error)

    threads = [threading.Thread(target=download) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert_complete_copy(machine, fashion_gz)
    assert raw_images("fashion_mnist")["x_train"].shape == (60000, 1, 28, 28)


def test_offline_says_how_to_get_fashion_mnist(machine, monkeypatch, fashion_gz):
    with socket.socket() as probe:  # a loopback port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/"
    point_torchvision_at(monkeypatch, url, fashion_gz)
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset("fashion_mnist")
    message = str(info.value)
    assert "could not reach" in message and url in message and str(machine) in message
    assert "apt-get install dataset-fashion-mnist" in message and "FashionMNIST(ROOT, download=True)" in message
    assert "COURSE_DATA=ROOT" in message
    assert files_under(machine) == []


def test_download_false_never_touches_the_network(machine, mirror, monkeypatch):
    monkeypatch.setattr(data, "_network_reaches", lambda *a, **k: pytest.fail("probed the network"))
    for load in (lambda: load_dataset("fashion_mnist", download=False),
                 lambda: raw_images("fashion_mnist"),
                 lambda: raw_images("fashion_mnist", root=machine)):
        with pytest.raises(DatasetNotFoundError, match="download=False"):
            load()
    from helpers import transfer
    with pytest.raises(DatasetNotFoundError, match="apt-get install dataset-fashion-mnist"):
        transfer.check_experiment_available("fashion_halves")
    assert mirror.requests == [] and files_under(machine) == []


def test_the_transfer_experiment_downloads_fashion_mnist_but_its_preflight_check_does_not(machine, mirror, fashion_gz,
                                                                                          monkeypatch):
    """The transfer notebook's prepare_experiment fetches a missing Fashion-MNIST (Colab, macOS); the grader's
    pre-flight check (check_experiment_available) still only looks. No source network is trained here: the
    training function is replaced by one that records which copy of the data it was handed."""
    from helpers import transfer
    monkeypatch.setenv("COURSE_GRADING_BUDGET", "0")
    with pytest.raises(DatasetNotFoundError, match="download=False"):
        transfer.check_experiment_available("fashion_halves")
    assert mirror.requests == [] and files_under(machine) == []

    handed = []

    def no_training(raw, settings):
        handed.append(raw["source"])
        return {"state_dict": transfer.resnet18(len(settings["classes"])).state_dict(), "mean": 0.3, "std": 0.3,
                "val_accuracy": 0.0, "settings": settings}
    monkeypatch.setattr(transfer, "train_source_model", no_training)
    experiment = transfer.prepare_experiment("fashion_halves", labels_per_class=2, test_per_class=3)
    assert {path.lstrip("/") for path in mirror.requests} == set(FILES)
    assert_complete_copy(machine, fashion_gz)
    assert handed == [str(machine)]  # the source network's data: the downloaded copy, read once more from the cache
    assert experiment.class_names == ["Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    assert experiment.train[0].shape == (10, 1, 28, 28) and experiment.test[0].shape == (15, 1, 28, 28)

    asked = len(mirror.requests)
    assert transfer.check_experiment_available("fashion_halves") == "fashion_halves"  # found in the cache now
    assert len(mirror.requests) == asked
