"""helpers.batched: K configurations trained together by vmap equal K runs of the notebook's own loop."""
import pytest
import torch

from autograder.notebooks import exec_definitions
from assignments.two_layer_net.styles import STYLES
from helpers.batched import grid, train_together
from helpers.utils import reset_seed

D, C, ITERS, BATCH = 6, 3, 40, 10  # 60 training rows: 6 iterations per epoch, so the learning rate decays 7 times
# Two hidden sizes, each with its own learning rates, regs and decays.
CONFIGS = [dict(learning_rate=lr, hidden_size=h, reg=reg, learning_rate_decay=decay) for lr, h, reg, decay in (
    (0.1, 5, 1e-3, 0.9), (0.3, 7, 0.0, 1.0), (0.3, 5, 0.0, 0.8), (0.1, 7, 1e-3, 0.95), (0.2, 5, 1e-2, 1.0),
    (0.2, 7, 1e-2, 0.8))]
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
# Styles of the two functions train_together calls (the rest of a style's notebook does not reach it).
NET_STYLES = [s for s in STYLES if {"nn_forward_pass", "nn_forward_backward"} & set(s.answers)]


@pytest.fixture(scope="module")
def reference(source_nb, answers):
    """The source notebook's solution: nn_forward_backward, nn_train, nn_predict, TwoLayerNet."""
    return exec_definitions(source_nb, answers)


@pytest.fixture(scope="module")
def expected(reference):
    """The loop's results for CONFIGS on the float64 toy data, seed 0."""
    return one_at_a_time(reference, CONFIGS, toy_data())


def toy_data(dtype=torch.float64, device="cpu"):
    gen = torch.Generator().manual_seed(1)
    data = {"X_train": torch.randn(60, D, generator=gen, dtype=dtype), "y_train": torch.arange(60) % C,
            "X_val": torch.randn(25, D, generator=gen, dtype=dtype), "y_val": torch.arange(25) % C}
    return {key: value.to(device) for key, value in data.items()}


def init_with(namespace, dtype=torch.float64, device="cpu"):
    return lambda hidden_size: namespace["TwoLayerNet"](D, hidden_size, C, dtype=dtype, device=device, std=0.1).params


def one_at_a_time(namespace, configs, data, seed=0):
    """What find_best_net does: for each configuration, a fresh net from the seed trained by nn_train."""
    results = []
    for c in configs:
        reset_seed(seed)
        net = namespace["TwoLayerNet"](D, c["hidden_size"], C, dtype=data["X_train"].dtype,
                                       device=data["X_train"].device, std=0.1)
        stats = net.train(data["X_train"], data["y_train"], data["X_val"], data["y_val"], c["learning_rate"],
                          c["learning_rate_decay"], c["reg"], ITERS, BATCH)
        val_acc = (net.predict(data["X_val"]) == data["y_val"]).float().mean().item()
        results.append((stats, net.params, val_acc))
    return results


def assert_same(runs, expected, configs, tol):
    assert [run.config for run in runs] == configs
    for run, (stats, params, val_acc) in zip(runs, expected):
        assert len(run.stats["loss_history"]) == ITERS
        assert run.stats["loss_history"] == pytest.approx(stats["loss_history"], rel=tol, abs=tol)
        assert run.stats["train_acc_history"] == stats["train_acc_history"]
        assert run.stats["val_acc_history"] == stats["val_acc_history"]
        assert run.val_acc == val_acc
        for name, value in params.items():
            torch.testing.assert_close(run.params[name], value, rtol=tol, atol=tol)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-10), (torch.float32, 1e-4)])
def test_together_equals_one_at_a_time(reference, capsys, device, dtype, tol):
    data = toy_data(dtype, device)
    runs = train_together(reference["nn_forward_backward"], init_with(reference, dtype, device), CONFIGS, data,
                          ITERS, BATCH, seed=3)
    assert "one at a time" not in capsys.readouterr().out  # the solution batches
    assert_same(runs, one_at_a_time(reference, CONFIGS, data, seed=3), CONFIGS, tol)
    assert len({run.stats["loss_history"][-1] for run in runs}) == len(CONFIGS)  # six different trainings


def test_grid_lists_every_combination_in_get_param_sets_order():
    assert grid([0.1, 0.2], [5], [0.0, 1e-3], [0.9]) == [
        {"learning_rate": lr, "hidden_size": 5, "reg": reg, "learning_rate_decay": 0.9}
        for lr in (0.1, 0.2) for reg in (0.0, 1e-3)]


def test_one_step_per_hidden_size_not_per_configuration(reference):
    """Configurations sharing a hidden size are stacked: one call of the loss function steps them all."""
    configs = [dict(CONFIGS[0], hidden_size=h, learning_rate=lr) for h, lr in zip((5, 7, 5, 7), (0.1, 0.2, 0.3, 0.4))]
    steps, sizes = [], []

    def loss_func(params, X, y=None, reg=0.0):
        if y is not None:
            steps.append(params["W1"].shape)
        return reference["nn_forward_backward"](params, X, y, reg)

    def init(hidden_size):
        sizes.append(hidden_size)
        return init_with(reference)(hidden_size)

    runs = train_together(loss_func, init, configs, toy_data(), ITERS, BATCH)
    assert sizes == [5, 7]
    assert len(steps) == 2 * ITERS + 1  # one vmapped step per hidden size and iteration, and one trial step
    assert [run.params["W1"].shape for run in runs] == [(D, 5), (D, 7), (D, 5), (D, 7)]
    assert [run.config["learning_rate"] for run in runs] == [0.1, 0.2, 0.3, 0.4]


def item_in_loss(reference):
    """A correct nn_forward_backward that vmap cannot batch: it turns the loss into a Python float and back."""
    def nn_forward_backward(params, X, y=None, reg=0.0):
        out = reference["nn_forward_backward"](params, X, y, reg)
        if y is None:
            return out
        loss, grads = out
        return torch.tensor(loss.item(), dtype=X.dtype), grads
    return nn_forward_backward


def test_code_vmap_cannot_batch_is_trained_one_at_a_time_with_a_clear_message(reference, expected, capsys):
    runs = train_together(item_in_loss(reference), init_with(reference), CONFIGS, toy_data(), ITERS, BATCH)
    out = capsys.readouterr().out
    assert out.count("one at a time") == 1, out  # said once, though there are two hidden sizes
    assert "calling .item() on a Tensor" in out and "no .item() or float() of a tensor" in out
    assert_same(runs, expected, CONFIGS, 1e-10)


@pytest.mark.parametrize("style", NET_STYLES, ids=[s.name for s in NET_STYLES])
def test_every_correct_style_trains_to_the_same_nets(source_nb, answers, reference, expected, style):
    """Batched or not (a boolean-mask ReLU or a float loss cannot be vmapped), the results are the loop's."""
    namespace = exec_definitions(source_nb, style.applied_to(answers))
    runs = train_together(namespace["nn_forward_backward"], init_with(reference), CONFIGS, toy_data(), ITERS, BATCH)
    assert_same(runs, expected, CONFIGS, 1e-10)


@pytest.mark.parametrize("change, message", [
    (lambda configs, data: ([], data), "configs is empty"),
    (lambda configs, data: ([{"learning_rate": 0.1, "hidden_size": 5}], data), "lacks reg, learning_rate_decay"),
    (lambda configs, data: (configs, dict(data, y_train=data["y_train"][:-1])),
     r"y_train \(N,\); got \(60, 6\) and \(59,\)"),
    (lambda configs, data: (configs, dict(data, X_val=data["X_val"][:, :4])), "X_val has 4 features, X_train 6"),
])
def test_bad_input_is_refused_with_a_clear_error(reference, change, message):
    configs, data = change(CONFIGS, toy_data())
    with pytest.raises(ValueError, match=message):
        train_together(reference["nn_forward_backward"], init_with(reference), configs, data, ITERS, BATCH)


def test_no_iterations_is_refused(reference):
    with pytest.raises(ValueError, match="num_iters and batch_size should be positive; got 0 and 10"):
        train_together(reference["nn_forward_backward"], init_with(reference), CONFIGS, toy_data(), 0, BATCH)


def test_params_that_do_not_fit_the_data_are_refused(reference):
    def wrong_init(hidden_size):
        return init_with(reference)(hidden_size + 1)

    with pytest.raises(ValueError, match=r"init\(5\) gave W1 \(6, 6\) .* expected W1 \(6, 5\)"):
        train_together(reference["nn_forward_backward"], wrong_init, CONFIGS, toy_data(), ITERS, BATCH)
