"""helpers.spies: the stand-ins the visible checks give students' functions, and the per-epoch loss recorder."""
import pytest
import torch

from helpers.spies import EpochLosses, StandInNet, TrainingSpy, expected_learning_rates, stand_in_data


def test_the_training_spy_reads_batches_and_learning_rates_back():
    spy = TrainingSpy(num_train=6)
    for rows, rate in (([0, 1], 0.5), ([2, 3], 0.25), ([4, 4], 0.25)):  # a loop that misses row 5
        loss, grads = spy(spy.params, spy.X[rows], y=spy.y[rows])
        for name in spy.params:
            spy.params[name] -= rate * grads[name]
    assert spy.batch_sizes() == [2] and spy.rows_never_drawn() == [5]
    assert spy.learning_rates() == pytest.approx([0.5, 0.25, 0.25])
    assert spy(spy.params, spy.X).shape == (6, 3)  # scores, not a training call
    assert len(spy.batches) == 3


def test_expected_learning_rates_decay_after_the_first_iteration_of_each_epoch():
    assert expected_learning_rates(1.0, 0.5, 7, iterations_per_epoch=3) == [1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]
    assert expected_learning_rates(1.0, 0.5, 3, iterations_per_epoch=1) == [1, 0.5, 0.25]


@pytest.mark.parametrize("accuracy", [0.0, 0.37, 1.0])
def test_a_stand_in_net_scores_the_accuracy_it_was_given(accuracy):
    data, built = stand_in_data(num_features=5, num_classes=3), []
    net = StandInNet(5, 8, 3, accuracy=lambda settings: accuracy, built=built)
    stats = net.train(data["X_train"], data["y_train"], data["X_val"], data["y_val"], learning_rate=0.1, reg=0.0)
    assert built == [net] and net.settings == (0.1, 8, 0.0, 0.95) and stats["val_acc_history"] == [accuracy]
    assert (net.predict(data["X_val"]) == data["y_val"]).float().mean().item() == pytest.approx(accuracy)


def test_epoch_losses_measure_both_sets_when_validation_predictions_are_asked_for():
    X_val, y_val = torch.randn(6, 2), torch.tensor([0, 1, 0, 1, 0, 1])
    X_sample, y_sample = torch.randn(4, 2), torch.tensor([1, 1, 0, 0])

    def loss_func(params, X, y=None, reg=0.0):
        scores = X @ params["W"]
        return scores if y is None else (torch.nn.functional.cross_entropy(scores, y) + reg, {})
    recorder = EpochLosses(lambda params, loss_func, X: loss_func(params, X).argmax(1), X_sample, y_sample, X_val,
                           y_val, reg=0.5)
    params = {"W": torch.randn(2, 2)}
    recorder(params, loss_func, X_sample[:2])  # the training batch's accuracy: nothing measured
    predicted = recorder(params, loss_func, X_val)
    assert torch.equal(predicted, (X_val @ params["W"]).argmax(1))
    assert recorder.history == {
        "epoch_train_loss": [pytest.approx(loss_func(params, X_sample, y_sample, 0.5)[0].item())],
        "val_loss_history": [pytest.approx(loss_func(params, X_val, y_val, 0.5)[0].item())]}
