"""Tests for helpers.widgets: the learning-rate explorer."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers.widgets import LearningRateExplorer, learning_rate_explorer  # noqa: E402


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
    assert slider in explorer.widget.children and explorer.output in explorer.widget.children


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
