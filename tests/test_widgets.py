"""Tests for helpers.widgets: the learning-rate explorer, the descent demo and the toy-net demo."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from helpers.data import toy_2d_data
from helpers.library_net import LibraryTwoLayerNet
from helpers.widgets import LearningRateExplorer, descent_demo, learning_rate_explorer, toy_net_demo


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


class FakeTraining:
    """Loss curves that shrink for small rates and blow up above lr = 1."""

    def __init__(self):
        self.calls = []

    def __call__(self, lr):
        self.calls.append(lr)
        rate = 1 - lr if lr < 1 else 1 + 4 * lr
        return [2.3 * rate ** k for k in range(20)]


def drawn_losses(fig):
    (line,) = fig.axes[0].lines
    return list(line.get_ydata())


def test_slider_configuration():
    explorer = learning_rate_explorer(FakeTraining(), lr_min=1e-4, lr_max=10.0, value=1e-2)
    slider = explorer.slider
    assert isinstance(explorer, LearningRateExplorer)
    assert (slider.min, slider.max, slider.base) == (-4, 1, 10)
    assert slider.value == pytest.approx(1e-2)
    assert slider.continuous_update is False
    assert slider.readout_format == ".1e" and slider.description == "learning rate"
    title, controls, image, status = explorer.widget.children
    assert controls.children == (slider,) and image is explorer.image and status is explorer.status
    assert bytes(explorer.image.value).startswith(b"\x89PNG") and "final loss" in explorer.status.value


def test_displaying_the_explorer_shows_its_widget():
    explorer = learning_rate_explorer(FakeTraining())
    bundle = explorer._repr_mimebundle_()
    view = bundle["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == explorer.widget.model_id


def test_initial_value_is_drawn():
    fake = FakeTraining()
    explorer = learning_rate_explorer(fake, value=1e-3)
    assert fake.calls == [1e-3]
    assert drawn_losses(explorer.figure) == pytest.approx(explorer.history[1e-3])


def test_update_calls_fn_and_draws_its_losses():
    fake = FakeTraining()
    explorer = learning_rate_explorer(fake)
    fig = explorer.update(0.1)
    assert fake.calls[-1] == 0.1
    assert fig is explorer.figure
    expected = [2.3 * 0.9 ** k for k in range(20)]
    assert explorer.history[0.1] == pytest.approx(expected)
    assert drawn_losses(fig) == pytest.approx(expected)
    title = fig.axes[0].get_title()
    assert "1.0e-01" in title and f"{expected[-1]:.4g}" in title and "diverged" not in title
    assert explorer.slider.value == pytest.approx(0.1)


def test_results_are_cached_per_lr():
    fake = FakeTraining()
    explorer = learning_rate_explorer(fake)
    explorer.update(0.1)
    explorer.update(0.01)
    explorer.update(0.1 * (1 + 1e-12))  # a slider value off in the last digits
    fig = explorer.update(0.1)
    assert fake.calls == [0.01, 0.1]
    assert drawn_losses(fig) == pytest.approx(explorer.history[0.1])
    assert "1.0e-01" in fig.axes[0].get_title()


def test_moving_the_slider_redraws():
    fake = FakeTraining()
    explorer = learning_rate_explorer(fake)
    explorer.slider.value = 0.5
    assert fake.calls == [0.01, 0.5]
    assert drawn_losses(explorer.figure) == pytest.approx([2.3 * 0.5 ** k for k in range(20)])
    assert "5.0e-01" in explorer.figure.axes[0].get_title()


@pytest.mark.parametrize("losses", [
    [2.3, 3.0, 40.0],
    [2.3, float("nan")],
    [2.3, 1e3, float("inf")],
])
def test_divergence_is_labelled(losses):
    explorer = learning_rate_explorer(lambda lr: losses if lr > 1 else [2.3, 2.0])
    assert "diverged" not in explorer.figure.axes[0].get_title()
    fig = explorer.update(5.0)
    ax = fig.axes[0]
    assert "diverged" in ax.get_title()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["lr = 5.0e+00 (diverged)"]


def test_growing_fake_run_diverges():
    explorer = learning_rate_explorer(FakeTraining())
    assert "diverged" in explorer.update(2.0).axes[0].get_title()


def test_out_of_range_lr_is_rejected():
    explorer = learning_rate_explorer(FakeTraining(), lr_min=1e-3, lr_max=1.0)
    with pytest.raises(ValueError, match="outside"):
        explorer.update(5.0)
    with pytest.raises(ValueError):
        learning_rate_explorer(FakeTraining(), lr_min=1e-3, lr_max=1.0, value=2.0)


def test_figures_do_not_accumulate():
    fake = FakeTraining()
    explorer = learning_rate_explorer(fake)
    for lr in np.logspace(-4, 0, 15):
        explorer.update(float(lr))
    assert plt.get_fignums() == []
    # The 8th point, 10**-2 up to rounding, reuses the initial run.
    assert len(fake.calls) == len(explorer.history) == 15


def test_explorer_shows_an_error_of_the_training_code_instead_of_raising():
    def unfinished(lr):
        if lr > 1:
            raise NotImplementedError()
        return [2.3, 2.0]

    explorer = learning_rate_explorer(unfinished)
    png = explorer.image.value
    explorer.update(5.0)
    assert explorer.status_text == "learning rate 5.0e+00: error: NotImplementedError"
    assert "NotImplementedError" in explorer.figure.axes[0].texts[0].get_text()
    assert explorer.image.value != png and 5.0 not in explorer.history
    explorer.update(0.5)
    assert "final loss 2" in explorer.status_text


# The descent demo (helpers.surfaces through torch.optim.SGD).

def test_descent_demo_draws_the_path_and_names_the_run():
    demo = descent_demo(learning_rate=0.03, steps=60)
    run = demo.run()
    assert demo.status_text.startswith("ill-conditioned quadratic | lr 3.00e-02 | 60 steps | momentum 0.00")
    assert demo.status_text.endswith(run.describe()) and run.verdict == "converging"
    ax_path, ax_loss = demo.figure.axes
    path_line = ax_path.lines[0]
    np.testing.assert_allclose(np.column_stack(path_line.get_data()), run.path)
    assert ax_path.get_title() == "ill-conditioned quadratic: converging"
    np.testing.assert_allclose(ax_loss.lines[0].get_ydata(), run.losses)
    assert ax_loss.get_yscale() == "log"


def test_descent_demo_names_divergence_in_figure_and_status():
    demo = descent_demo()
    png = demo.image.value
    demo.learning_rate.value = 0.11
    assert "diverged: the loss blew up" in demo.status_text and "at step 8" in demo.status_text
    ax_path, ax_loss = demo.figure.axes
    assert ax_path.get_title().endswith("diverged")
    assert [t.get_text() for t in ax_path.texts] == ["DIVERGED at step 8"]
    assert "diverged at step 8" in ax_loss.texts[0].get_text()
    assert demo.image.value != png


@pytest.mark.parametrize("control, value, shown", [
    ("learning_rate", 1e-3, "lr 1.00e-03"), ("steps", 120, "120 steps"), ("momentum", 0.9, "momentum 0.90"),
    ("decay", 0.95, "decay 0.950"), ("surface", "banana valley", "banana valley |"),
])
def test_every_descent_control_redraws(control, value, shown):
    demo = descent_demo()
    before, png = demo.status_text, demo.image.value
    getattr(demo, control).value = value
    assert shown in demo.status_text and demo.status_text != before and demo.image.value != png
    assert demo.redraw_seconds > 0


def test_descent_runs_are_computed_once_per_setting(monkeypatch):
    import helpers.widgets
    calls = []
    real = helpers.widgets.descend
    monkeypatch.setattr(helpers.widgets, "descend", lambda *args, **kwargs: calls.append(args) or real(*args, **kwargs))
    demo = descent_demo(learning_rate=0.03)
    demo.learning_rate.value = 0.1
    demo.learning_rate.value = 0.03 * (1 + 1e-12)  # a slider value off in its last digits
    demo.learning_rate.value = 0.1
    assert [args[1] for args in calls] == [0.03, 0.1]


# The toy-net demo: it trains whatever net class it is given, through that class's own train and predict.

class SpyNet(LibraryTwoLayerNet):
    """LibraryTwoLayerNet that records how the demo builds and trains it."""
    built, trained = [], []

    def __init__(self, *args, **kwargs):
        SpyNet.built.append((args, kwargs))
        super().__init__(*args, **kwargs)

    def train(self, *args, **kwargs):
        SpyNet.trained.append((len(args), kwargs))
        return super().train(*args, **kwargs)


def test_toy_net_demo_trains_the_given_class_with_the_sliders_settings():
    SpyNet.built, SpyNet.trained = [], []
    demo = toy_net_demo(SpyNet, num_iters=50, batch_size=25, std=0.7, learning_rate=0.3, hidden_size=16)
    demo.reg.value = 1e-2
    demo.decay.value = 0.9
    demo.hidden_size.value = 32
    demo.learning_rate.value = 1.0
    assert SpyNet.built[0] == ((2, 16, 3), {"std": 0.7})
    assert SpyNet.built[-1] == ((2, 32, 3), {"std": 0.7})
    assert SpyNet.trained[-1] == (4, {"learning_rate": 1.0, "learning_rate_decay": 0.9, "reg": 0.01,
                                      "num_iters": 50, "batch_size": 25})
    assert len(SpyNet.trained) == 5
    demo.learning_rate.value = 0.3  # both settings seen: from the cache
    demo.learning_rate.value = 1.0
    assert len(SpyNet.trained) == 5
    demo.learning_rate.value = 0.5  # a new one
    assert len(SpyNet.trained) == 6
    assert demo.status_text.startswith("lr 5.0e-01 | decay 0.90 | reg 1.0e-02 | hidden 32 | final loss")


def test_toy_net_demo_on_the_assignments_own_two_layer_net(source_nb, answers):
    """The reference solution's TwoLayerNet (nn_train, nn_forward_backward, nn_predict) learns the spirals."""
    from autograder.notebooks import exec_definitions
    TwoLayerNet = exec_definitions(source_nb, answers)["TwoLayerNet"]
    demo = toy_net_demo(TwoLayerNet)
    accuracy = float(demo.status_text.split("validation accuracy ")[1].split("%")[0])
    assert accuracy > 85 and demo.status_text.endswith("| learning")
    ax_data, ax_loss, ax_acc = demo.figure.axes
    assert ax_data.get_title() == f"decision boundary (val acc {accuracy}%)"
    assert len(ax_loss.lines[0].get_ydata()) == 300 and len(ax_acc.lines[1].get_ydata()) == 50  # 6 iterations/epoch
    # The same run through the library net, which follows the same recipe, reaches the same accuracy.
    assert demo.status_text.split("| final")[1] == toy_net_demo().status_text.split("| final")[1]


def test_toy_net_divergence_is_drawn_and_named():
    demo = toy_net_demo(num_iters=60)
    demo.learning_rate.value = 100.0
    assert "| diverged: the loss blew up to" in demo.status_text and "at iteration 1" in demo.status_text
    ax_data, ax_loss, _ = demo.figure.axes
    assert ax_data.get_title() == "no boundary: training diverged"
    assert [t.get_text() for t in ax_data.texts] == ["DIVERGED"]
    assert ax_loss.get_title() == "loss: diverged" and "diverged at iteration 1" in ax_loss.texts[0].get_text()


def test_toy_net_nan_loss_is_named_diverged():
    class NanNet(LibraryTwoLayerNet):
        def train(self, *args, **kwargs):
            stats = super().train(*args, **kwargs)
            stats["loss_history"][5:] = [float("nan")] * (len(stats["loss_history"]) - 5)
            return stats

    demo = toy_net_demo(NanNet, num_iters=20)
    assert "diverged: the loss became inf/nan at iteration 5" in demo.status_text
    assert "final loss nan" in demo.status_text


def test_toy_net_shows_an_error_of_the_students_code_instead_of_raising():
    class Unfinished(LibraryTwoLayerNet):
        def train(self, *args, **kwargs):
            raise NotImplementedError()

    demo = toy_net_demo(Unfinished, num_iters=20)
    assert demo.status_text.endswith("| error: NotImplementedError")
    assert "NotImplementedError" in demo.figure.axes[1].texts[0].get_text()
    demo.hidden_size.value = 8  # still alive
    assert demo.status_text.endswith("| error: NotImplementedError") and "hidden 8" in demo.status_text


def test_toy_net_given_data_has_no_data_control():
    data = toy_2d_data("moons", num_train=100, num_val=50)
    demo = toy_net_demo(data=data, num_iters=30)
    assert demo.data_set is None and len(demo.controls) == 4
    assert demo.data is data


def test_toy_net_data_set_control_switches_data():
    demo = toy_net_demo(num_iters=30)
    demo.data_set.value = "moons"
    assert demo.data["X_train"].shape == (300, 2) and len(demo.data["class_names"]) == 2
    assert demo.figure.axes[2].lines[-1].get_ydata()[0] == pytest.approx(0.5)  # chance for two classes


def test_demos_keep_no_pyplot_figures():
    demo = toy_net_demo(num_iters=10)
    for lr in (0.01, 0.1, 1.0):
        demo.learning_rate.value = lr
    descent_demo().steps.value = 20
    assert plt.get_fignums() == []


def test_descent_caption_says_what_the_surface_is():
    from helpers.surfaces import SURFACES
    demo = descent_demo()
    assert demo.caption in demo.widget.children
    assert SURFACES["ill-conditioned quadratic"].note in demo.caption.value
    demo.surface.value = "two valleys"
    assert "shallow valley" in demo.caption.value
