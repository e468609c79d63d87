"""Tests for helpers.utils: seeding, device choice, grading budget, progress bars, checkpoints, checks."""

import importlib.util
import os
import pickle
import random
import shlex
from pathlib import Path

import pytest
import torch

from autograder.hostile import checkpoint_bomb
from helpers.checks import report_check
from helpers.data import get_toy_data
from helpers.grad import rel_error
from helpers.utils import (BUDGET_ENV, budget, float64_device, grading_budget, load_checkpoint, pick_device, progress,
                           reset_seed, save_checkpoint, supports_float64)


@pytest.fixture
def no_budget_env(monkeypatch):
    monkeypatch.delenv(BUDGET_ENV, raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    return monkeypatch


# reset_seed

def draws():
    return random.random(), torch.rand(4), torch.randn(2, 3), torch.randint(100, (5,))


def assert_same(a, b):
    assert a[0] == b[0]
    assert all(torch.equal(x, y) for x, y in zip(a[1:], b[1:]))


def test_reset_seed_repeats_python_and_torch():
    reset_seed(7)
    first = draws()
    reset_seed(7)
    assert_same(first, draws())


def test_reset_seed_default_is_zero_and_seeds_differ():
    reset_seed()
    default = draws()
    reset_seed(0)
    assert_same(default, draws())
    reset_seed(1)
    other = draws()
    assert default[0] != other[0] and not torch.equal(default[1], other[1])


# pick_device

@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is available here")
def test_pick_device_without_gpu_is_cpu():
    if torch.backends.mps.is_available():
        pytest.skip("an Apple MPS device is available here")
    assert pick_device() == torch.device("cpu")


def test_pick_device_prefer_cpu():
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device(torch.device("cpu")) == torch.device("cpu")
    assert isinstance(pick_device("cpu"), torch.device)


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is available here")
def test_pick_device_prefer_cuda_without_cuda():
    with pytest.raises(RuntimeError, match="CUDA"):
        pick_device("cuda")


def fake_mps():
    """tests/fake_mps/sitecustomize.py's mode, in this process: "mps" calls served on the CPU, float64 refused there."""
    spec = importlib.util.spec_from_file_location("fake_mps", Path(__file__).with_name("fake_mps") / "sitecustomize.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FakeMPS()


def test_float64_work_moves_to_the_cpu_only_on_a_device_without_float64():
    assert float64_device("cpu") == torch.device("cpu")
    assert float64_device("meta") == torch.device("meta")  # a device other than the CPU that has float64 keeps it
    with fake_mps():
        assert not supports_float64("mps") and supports_float64("cpu")
        assert float64_device(torch.device("mps")) == torch.device("cpu")
        with pytest.raises(TypeError, match="float64"):  # the simulation refuses what MPS refuses
            torch.zeros(2, dtype=torch.float64, device="mps")


def test_the_toy_data_and_rel_error_work_on_a_device_without_float64():
    with fake_mps():
        X, y, params = get_toy_data(dtype=torch.float32, device="mps")
        X64, _, _ = get_toy_data(dtype=torch.float64, device=float64_device("mps"))
        assert X.dtype == torch.float32 and X64.dtype == torch.float64
        assert torch.equal(X, X64.float())  # the same numbers, whichever device and dtype
        assert rel_error(X, X64.float()) == 0.0


# grading_budget and budget

def test_grading_budget_off_by_default(no_budget_env):
    assert grading_budget() is False


def test_grading_budget_under_nbgrader(no_budget_env):
    no_budget_env.setenv("NBGRADER_EXECUTION", "autograde")
    assert grading_budget() is True
    no_budget_env.setenv("NBGRADER_EXECUTION", "")
    assert grading_budget() is False


@pytest.mark.parametrize("value", ["1", "true", "YES", " on "])
def test_grading_budget_forced_on(no_budget_env, value):
    no_budget_env.setenv(BUDGET_ENV, value)
    assert grading_budget() is True


@pytest.mark.parametrize("value", ["0", "false", "No", "off"])
def test_grading_budget_forced_off_even_under_nbgrader(no_budget_env, value):
    no_budget_env.setenv("NBGRADER_EXECUTION", "autograde")
    no_budget_env.setenv(BUDGET_ENV, value)
    assert grading_budget() is False


def test_grading_budget_unrecognised_value_falls_back_to_nbgrader(no_budget_env):
    no_budget_env.setenv(BUDGET_ENV, "maybe")
    assert grading_budget() is False
    no_budget_env.setenv("NBGRADER_EXECUTION", "autograde")
    assert grading_budget() is True


def test_budget_picks(no_budget_env):
    assert budget(3000, 30) == 3000
    no_budget_env.setenv("NBGRADER_EXECUTION", "autograde")
    assert budget(3000, 30) == 30
    no_budget_env.setenv(BUDGET_ENV, "0")
    assert budget(3000, 30) == 3000
    no_budget_env.delenv("NBGRADER_EXECUTION")
    no_budget_env.setenv(BUDGET_ENV, "1")
    assert budget([1, 2], None) is None


# progress

def test_progress_silent_under_grading(no_budget_env, capsys):
    no_budget_env.setenv(BUDGET_ENV, "1")
    bar = progress(range(5), desc="training")
    assert bar.disable
    assert list(bar) == [0, 1, 2, 3, 4]
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_progress_shown_normally(no_budget_env, capsys):
    bar = progress(range(5), desc="training")
    assert not bar.disable
    assert list(bar) == [0, 1, 2, 3, 4]
    assert "training" in capsys.readouterr().err


def test_progress_explicit_disable_wins(no_budget_env, capsys):
    bar = progress(iter("abc"), total=3, disable=True)
    assert bar.disable
    assert list(bar) == ["a", "b", "c"]
    assert capsys.readouterr().err == ""
    no_budget_env.setenv(BUDGET_ENV, "1")
    bar = progress(range(3), disable=False)
    assert not bar.disable and list(bar) == [0, 1, 2]


# checkpoints

def test_checkpoint_roundtrip(tmp_path):
    params = {"W1": torch.randn(4, 3, requires_grad=True), "b1": torch.zeros(3),
              "W2": torch.randn(3, 2, dtype=torch.float64)}
    path = tmp_path / "model.pt"
    save_checkpoint(path, params, "fashion_mnist", epoch=3, lr=0.1, hidden=[50, 100], note="best")
    loaded = load_checkpoint(path)
    assert set(loaded) == {"params", "dataset", "meta"}
    assert loaded["dataset"] == "fashion_mnist"
    assert loaded["meta"] == {"epoch": 3, "lr": 0.1, "hidden": [50, 100], "note": "best"}
    assert set(loaded["params"]) == set(params)
    for name, value in params.items():
        got = loaded["params"][name]
        assert torch.equal(got, value.detach()) and got.dtype == value.dtype
        assert got.device.type == "cpu" and not got.requires_grad
    assert load_checkpoint(path, device="cpu")["params"]["W1"].device.type == "cpu"


@pytest.mark.parametrize("content", [[1, 2, 3], {"weights": torch.zeros(2)}, {"params": [torch.zeros(2)]}])
def test_load_checkpoint_refuses_other_files(tmp_path, content):
    path = tmp_path / "other.pt"
    torch.save(content, path)
    with pytest.raises(ValueError, match="not a checkpoint"):
        load_checkpoint(path)


def test_load_checkpoint_refuses_what_would_inflate_past_its_limit_before_inflating_it(tmp_path):
    bomb = checkpoint_bomb(tmp_path / "bomb.pth", 300 * 2**20)
    assert bomb.stat().st_size < 2**20
    with pytest.raises(ValueError, match="the checkpoint declares 300 MB of tensors; the limit is 256 MB"):
        load_checkpoint(bomb)
    honest = tmp_path / "honest.pth"
    save_checkpoint(honest, {"W1": torch.zeros(100, 100)}, "fashion_mnist")
    with pytest.raises(ValueError, match=r"declares 39 kB of tensors; the limit is 10 kB"):
        load_checkpoint(honest, max_bytes=10 * 2**10)
    (tmp_path / "legacy.pth").write_bytes(b"\x80\x02}q\x00.")
    with pytest.raises(ValueError, match="not in torch.save's format"):
        load_checkpoint(tmp_path / "legacy.pth")


class _Payload:
    """Unpickling this runs a shell command that creates a marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {shlex.quote(str(self.marker))}",)


def test_load_checkpoint_refuses_code_execution(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"params": {"W1": torch.zeros(2)}, "dataset": "cifar10", "meta": {"x": _Payload(marker)}}, path)
    assert not marker.exists()
    with pytest.raises(pickle.UnpicklingError):
        load_checkpoint(path)
    assert not marker.exists()
    # the payload is live: a plain (unsafe) load does run it
    torch.load(path, weights_only=False)
    assert marker.exists()


# report_check

def test_report_check_pass(capsys):
    assert report_check("W1 max relative error", 3e-9, 1e-6) is True
    assert capsys.readouterr().out == "W1 max relative error: 3.00e-09  ->  pass\n"


def test_report_check_at_tolerance_passes(capsys):
    assert report_check("loss", 1e-6, 1e-6) is True
    assert capsys.readouterr().out.endswith("->  pass\n")


def test_report_check_fail(capsys):
    assert report_check("b2 max relative error", 2.5e-3, 1e-6) is False
    out = capsys.readouterr().out
    assert out.startswith("b2 max relative error: 2.50e-03  ->  look again")
    assert "1e-06" in out and "pass" not in out


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_report_check_nan_and_inf_fail(capsys, value):
    assert report_check("loss", value, 1e-6) is False
    out = capsys.readouterr().out
    assert "look again" in out and str(value) in out


def test_reset_seed_repeats_numpy_draws():
    """Students sample minibatches with np.random too: their runs must repeat as well."""
    import numpy as np
    reset_seed(7)
    first = np.random.choice(1000, 20)
    reset_seed(7)
    np.testing.assert_array_equal(first, np.random.choice(1000, 20))
