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
from helpers.visible import report_check
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


# estimate_search_cost

class FakeClock:
    """time.perf_counter for helpers.utils: it moves only when a FakeNet trains."""

    def __init__(self):
        self.now = 100.0

    def perf_counter(self):
        return self.now


def seconds_per_iteration(hidden_size):
    return hidden_size * 1e-5  # hidden 50: 0.5 s per 1,000 iterations; hidden 100: 1.0 s


def fake_net_class(clock, built, trained):
    class FakeNet:
        """A TwoLayerNet whose train() advances the fake clock by its iterations' cost and records its call."""

        def __init__(self, input_size, hidden_size, output_size, dtype=torch.float32, device="cpu", std=1e-4):
            self.hidden_size = hidden_size
            built.append((input_size, hidden_size, output_size, dtype, torch.device(device), std))

        def train(self, X, y, X_val, y_val, learning_rate=1e-3, learning_rate_decay=0.95, reg=5e-6, num_iters=100,
                  batch_size=200, verbose=False):
            trained.append(dict(hidden_size=self.hidden_size, num_iters=num_iters, batch_size=batch_size,
                                learning_rate=learning_rate, reg=reg, learning_rate_decay=learning_rate_decay,
                                device=X.device, val_device=X_val.device))
            clock.now += num_iters * seconds_per_iteration(self.hidden_size)
            return {"loss_history": [0.0] * num_iters, "train_acc_history": [], "val_acc_history": []}

    return FakeNet


def search_data(device="cpu", dtype=torch.float64, class_names=None):
    data = {"X_train": torch.zeros(40, 6, dtype=dtype, device=device), "y_train": torch.zeros(40, dtype=torch.long),
            "X_val": torch.zeros(10, 6, dtype=dtype, device=device), "y_val": torch.zeros(10, dtype=torch.long)}
    if class_names is None:
        data["y_val"][-1] = 4  # labels 0..4: five classes
    else:
        data["class_names"] = class_names
    data["y_train"], data["y_val"] = data["y_train"].to(device), data["y_val"].to(device)
    return data


@pytest.fixture
def fake_search(monkeypatch):
    import helpers.utils
    clock, built, trained = FakeClock(), [], []
    monkeypatch.setattr(helpers.utils, "time", clock)
    return fake_net_class(clock, built, trained), built, trained


def test_search_cost_times_each_hidden_size_once_and_extrapolates_over_the_grid(fake_search):
    from helpers.utils import estimate_search_cost
    FakeNet, built, trained = fake_search
    param_set = ([0.3, 0.1], [50, 100, 50], [1e-4], [0.9, 0.95])  # 2 x 3 x 1 x 2 = 12; hidden 50 twice
    cost = estimate_search_cost(FakeNet, search_data(), param_set, num_iters=300, batch_size=32)
    assert cost["combinations"] == 12
    assert cost["counts"] == {50: 8, 100: 4}
    # One warm-up (not timed) and one timed run per distinct hidden size, with the grid's first settings.
    assert [(t["hidden_size"], t["num_iters"]) for t in trained] == [(50, 1), (50, 300), (100, 1), (100, 300)]
    assert all((t["batch_size"], t["learning_rate"], t["reg"], t["learning_rate_decay"]) == (32, 0.3, 1e-4, 0.9)
               for t in trained)
    assert cost["seconds_per_1000"] == pytest.approx({50: 0.5, 100: 1.0})
    # 8 combinations at 0.5 s and 4 at 1.0 s per 1,000 iterations: 8 s per 1,000 for the grid.
    assert cost["total_seconds"] == pytest.approx({1000: 8.0, 5000: 40.0, 20000: 160.0})
    assert (cost["num_iters"], cost["batch_size"]) == (300, 32)
    # Networks built for the data: D inputs, classes counted from the labels, the data's dtype, std 1e-2.
    assert {b[:1] + b[2:] for b in built} == {(6, 5, torch.float64, torch.device("cpu"), 1e-2)}


def test_search_cost_follows_the_datas_device(fake_search):
    from helpers.utils import estimate_search_cost
    FakeNet, built, trained = fake_search
    data = search_data(device="meta", dtype=torch.float32, class_names=list("abc"))  # a device that is not the CPU
    cost = estimate_search_cost(FakeNet, data, ([0.1], [20], [0.0], [1.0]), num_iters=10, warmup_iters=1)
    assert cost["device"] == "meta"
    assert {(b[2], b[3], b[4]) for b in built} == {(3, torch.float32, torch.device("meta"))}
    assert {(t["device"].type, t["val_device"].type) for t in trained} == {("meta", "meta")}
    assert cost["total_seconds"][1000] == pytest.approx(1000 * seconds_per_iteration(20))


def test_search_cost_leaves_the_random_state_as_it_was(fake_search):
    from helpers.utils import estimate_search_cost

    class DrawingNet(fake_search[0]):
        def train(self, X, *args, **kwargs):
            torch.randn(3)  # the draws a real training run makes
            return super().train(X, *args, **kwargs)

    reset_seed(3)
    estimate_search_cost(DrawingNet, search_data(), ([0.1], [8, 16], [0.0], [1.0]), num_iters=5)
    after = torch.rand(4)
    reset_seed(3)
    assert torch.equal(after, torch.rand(4))


def test_search_cost_refuses_an_empty_grid(fake_search):
    from helpers.utils import estimate_search_cost
    with pytest.raises(ValueError, match="no combinations"):
        estimate_search_cost(fake_search[0], search_data(), ([], [], [], []))
    assert fake_search[2] == []  # nothing trained


def test_search_cost_report_names_the_grid_the_totals_and_the_cost_driver(fake_search):
    from helpers.utils import describe_search_cost, estimate_search_cost
    FakeNet, _, _ = fake_search
    small = describe_search_cost(estimate_search_cost(FakeNet, search_data(), ([0.1], [100], [0.0], [1.0])))
    assert "hidden 100: 1.0 s per 1,000 iterations (1 combination)" in small
    assert "Your grid: 1 combination." in small
    for line in ("1,000 iterations each: about 1.0 s", "5,000 iterations each: about 5.0 s",
                 "20,000 iterations each: about 20 s"):
        assert line in small
    assert "iterations x hidden size x combinations" in small and "long for a laptop" not in small
    # 3 x 3 x 3 x 2 = 54 combinations, 18 per hidden size: 18 x (5 + 10 + 20) = 630 s per 1,000 iterations.
    big = describe_search_cost(estimate_search_cost(FakeNet, search_data(),
                                                    ([0.1, 0.3, 1.0], [500, 1000, 2000], [0, 1e-4, 1e-3], [0.9, 0.95])))
    assert "Your grid: 54 combinations." in big
    assert "1,000 iterations each: about 10.5 min" in big and "20,000 iterations each: about 3.5 h" in big
    assert "long for a laptop" in big
    assert "train_together" in big


def test_human_duration():
    from helpers.utils import human_duration
    assert [human_duration(s) for s in (0.42, 4.25, 42, 300, 11000)] == ["0.42 s", "4.2 s", "42 s", "5.0 min",
                                                                         "3.1 h"]
