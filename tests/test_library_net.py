"""helpers.library_net.LibraryTwoLayerNet follows the assignment's recipe: with the same seed it trains exactly as
the reference solution's TwoLayerNet does (same initial weights, minibatches, steps, decay and accuracies)."""
import pytest
import torch

from autograder.notebooks import exec_definitions
from helpers.data import toy_2d_data
from helpers.library_net import LibraryTwoLayerNet
from helpers.utils import reset_seed


@pytest.fixture(scope="module")
def reference_net(source_nb, answers):
    return exec_definitions(source_nb, answers)["TwoLayerNet"]


def train(net_class, data, **settings):
    reset_seed(3)
    net = net_class(2, 16, 3, dtype=torch.float64, std=0.5)
    stats = net.train(data["X_train"], data["y_train"], data["X_val"], data["y_val"], **settings)
    return net, stats


@pytest.mark.parametrize("settings", [
    {"learning_rate": 0.5, "learning_rate_decay": 0.5, "reg": 1e-2, "num_iters": 40, "batch_size": 10},
    {"learning_rate": 0.05, "learning_rate_decay": 1.0, "reg": 0.0, "num_iters": 25, "batch_size": 7},
])
def test_trains_as_the_reference_two_layer_net(reference_net, settings):
    data = {key: value.double() if value.is_floating_point() else value
            for key, value in toy_2d_data("spirals", num_train=60, num_val=30).items() if key != "class_names"}
    library, library_stats = train(LibraryTwoLayerNet, data, **settings)
    reference, reference_stats = train(reference_net, data, **settings)
    assert library_stats["loss_history"] == pytest.approx(reference_stats["loss_history"], rel=1e-10)
    assert library_stats["train_acc_history"] == reference_stats["train_acc_history"]
    assert library_stats["val_acc_history"] == reference_stats["val_acc_history"]
    assert len(library_stats["val_acc_history"]) == -(-settings["num_iters"] // max(60 // settings["batch_size"], 1))
    for name, value in reference.params.items():
        torch.testing.assert_close(library.params[name].detach(), value, rtol=1e-9, atol=1e-12)
    assert torch.equal(library.predict(data["X_val"]), reference.predict(data["X_val"]))


def test_learns_the_spirals():
    data = toy_2d_data("spirals")
    reset_seed(0)
    net = LibraryTwoLayerNet(2, 64, 3, std=1.0)
    stats = net.train(data["X_train"], data["y_train"], data["X_val"], data["y_val"], learning_rate=0.3,
                      learning_rate_decay=0.99, reg=1e-3, num_iters=300, batch_size=50)
    assert stats["loss_history"][-1] < 0.6 * stats["loss_history"][0]
    assert (net.predict(data["X_val"]) == data["y_val"]).float().mean() > 0.85
