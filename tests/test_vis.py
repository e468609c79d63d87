"""Tests for helpers.vis: image grids, weight templates and training plots."""

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
import numpy as np
import pytest
import torch

from helpers import vis


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def image_of(fig, ax_index=0):
    """The array drawn by the first image on axes ``ax_index``."""
    images = fig.axes[ax_index].images
    assert len(images) == 1
    return np.asarray(images[0].get_array())


def legend_labels(ax):
    return [text.get_text() for text in ax.get_legend().get_texts()]


def assert_renders(fig):
    fig.savefig(io.BytesIO(), format="png")


# visualize_grid

def test_grid_shape_layout_and_rescaling():
    Xs = torch.arange(5 * 4 * 4 * 3, dtype=torch.float32).reshape(5, 4, 4, 3)
    grid = vis.visualize_grid(Xs, ubound=255.0, padding=1)
    assert grid.shape == (14, 14, 3)  # 3x3 tiles of 4 pixels plus 2 padding lines
    assert grid.min() == 0 and grid.max() == 255
    for i in range(5):
        row, col = divmod(i, 3)
        tile = grid[row * 5:row * 5 + 4, col * 5:col * 5 + 4]
        expected = 255 * (Xs[i] - Xs[i].min()) / (Xs[i].max() - Xs[i].min())
        torch.testing.assert_close(tile, expected)
    assert (grid[4] == 0).all() and (grid[:, 9] == 0).all()  # padding
    assert (grid[5:9, 10:14] == 0).all() and (grid[10:, :] == 0).all()  # unused cells


def test_grid_accepts_numpy_and_custom_padding():
    Xs = np.random.default_rng(0).normal(size=(4, 5, 6, 1)) * 100
    grid = vis.visualize_grid(Xs, ubound=1.0, padding=3)
    assert isinstance(grid, torch.Tensor) and grid.dtype == torch.float32
    assert grid.shape == (2 * 5 + 3, 2 * 6 + 3, 1)
    for y, x in [(0, 0), (0, 9), (8, 0), (8, 9)]:
        tile = grid[y:y + 5, x:x + 6]
        assert tile.min() == 0 and tile.max() == pytest.approx(1.0)


def test_grid_constant_tile_is_zero():
    Xs = torch.ones(2, 3, 3, 3) * 7.0
    Xs[1] = torch.linspace(-1, 1, 27).reshape(3, 3, 3)
    grid = vis.visualize_grid(Xs, padding=0)
    assert grid.shape == (6, 6, 3)
    assert (grid[:3, :3] == 0).all()
    assert grid[:3, 3:].max() == 255


def test_grid_rejects_wrong_rank():
    with pytest.raises(ValueError, match="N, H, W, C"):
        vis.visualize_grid(torch.zeros(4, 4, 3))


# show_net_weights / show_class_templates

def cifar_weights(hidden):
    """(3072, hidden) weights; column 0 is a pure red image in (C, H, W) order."""
    W = torch.randn(3072, hidden)
    red = torch.zeros(3, 32, 32)
    red[0] = 1.0
    red[0, 0, 0] = 0.5  # keeps the tile non-constant
    W[:, 0] = red.reshape(-1)
    return W


def test_net_weights_cifar_layout():
    fig = vis.show_net_weights(cifar_weights(10))
    img = image_of(fig)
    assert img.shape == (4 * 32 + 3, 4 * 32 + 3, 3)  # ceil(sqrt(10)) = 4 tiles a side
    assert img.min() >= 0 and img.max() <= 1
    first = img[:32, :32]
    assert (first[1:, :, 0] == 1).all() and (first[..., 1:] == 0).all()
    ax = fig.axes[0]
    assert ax.get_title() and ax.get_xlabel()
    assert_renders(fig)


def test_net_weights_of_a_wide_layer_show_its_strongest_units_large_enough_to_read():
    W = torch.randn(784, 2048) * 1e-3
    strong = torch.arange(0, 2048, 32)  # 64 units with far larger weights, each filled with its own constant sign
    W[:, strong] = torch.where(torch.arange(64) % 2 == 0, 1.0, -1.0).expand(784, 64)
    fig = vis.show_net_weights(W)
    img = image_of(fig)
    assert img.shape == (8 * 28 + 7, 8 * 28 + 7)  # 64 tiles of 28 x 28, not 2048
    tiles = [img[r * 29:r * 29 + 28, c * 29:c * 29 + 28] for r in range(8) for c in range(8)]
    assert all(tile.min() == tile.max() for tile in tiles)  # every tile shown is one of the constant strong units
    assert fig.axes[0].get_xlabel().startswith("the 64 of 2048 hidden units with the largest weights")
    assert image_of(vis.show_net_weights(W, max_units=None)).shape == (46 * 28 + 45, 46 * 28 + 45)


def test_net_weights_mnist_is_grey():
    fig = vis.show_net_weights(torch.randn(784, 5, dtype=torch.float64))
    img = image_of(fig)
    assert img.shape == (3 * 28 + 2, 3 * 28 + 2)
    assert fig.axes[0].images[0].get_cmap().name == "gray"


@pytest.mark.parametrize("D", [3072, 784])
def test_net_weights_drop_bias_row(D):
    W = torch.randn(D, 6)
    with_bias = torch.cat([W, torch.full((1, 6), 1e6)])
    np.testing.assert_array_equal(image_of(vis.show_net_weights(with_bias)),
                                  image_of(vis.show_net_weights(W)))


def test_net_weights_accepts_tensor_needing_grad():
    W = torch.randn(784, 3, requires_grad=True)
    assert image_of(vis.show_net_weights(W * 2)).shape == (2 * 28 + 1, 2 * 28 + 1)


def test_net_weights_unknown_size_needs_image_shape():
    with pytest.raises(ValueError, match="image_shape"):
        vis.show_net_weights(torch.randn(100, 4))
    img = image_of(vis.show_net_weights(torch.randn(100, 4), image_shape=(10, 10, 1)))
    assert img.shape == (21, 21)
    with pytest.raises(ValueError, match="does not match"):
        vis.show_net_weights(torch.randn(100, 4), image_shape=(8, 8, 1))


def test_class_templates():
    names = ["plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    W = cifar_weights(10)
    fig = vis.show_class_templates(torch.cat([W, torch.randn(1, 10)]), names)
    assert [ax.get_title() for ax in fig.axes] == names
    assert fig.get_suptitle()
    first = image_of(fig, 0)
    assert first.shape == (32, 32, 3)
    assert (first[1:, :, 0] == 1).all() and (first[..., 1:] == 0).all()
    with pytest.raises(ValueError, match="class names"):
        vis.show_class_templates(W, names[:3])


# training plots

def test_plot_stats():
    stats = {
        "loss_history": [2.3, 2.0, 1.7, 1.5, 1.4, 1.2],
        "train_acc_history": torch.tensor([0.3, 0.45, 0.5]),
        "val_acc_history": [torch.tensor(0.28), torch.tensor(0.4), torch.tensor(0.42)],
    }
    fig = vis.plot_stats(stats, title="run 1")
    ax_loss, ax_acc = fig.axes
    np.testing.assert_allclose(ax_loss.lines[0].get_ydata(), stats["loss_history"])
    np.testing.assert_allclose(ax_acc.lines[0].get_xdata(), [1, 2, 3])
    np.testing.assert_allclose(ax_acc.lines[0].get_ydata(), [0.3, 0.45, 0.5], rtol=1e-6)
    np.testing.assert_allclose(ax_acc.lines[1].get_ydata(), [0.28, 0.4, 0.42], rtol=1e-6)
    assert (ax_loss.get_xlabel(), ax_loss.get_ylabel()) == ("iteration", "loss")
    assert (ax_acc.get_xlabel(), ax_acc.get_ylabel()) == ("epoch", "accuracy")
    assert ax_loss.get_title() and ax_acc.get_title()
    assert legend_labels(ax_acc) == ["train", "val"]
    assert fig.get_suptitle() == "run 1"


def test_plot_sweep_marks_best_val():
    values = [1e-1, 1e-3, 1e-2, 1.0]
    val = [0.40, 0.30, 0.45, 0.10]
    fig = vis.plot_sweep(values, [0.5, 0.35, 0.6, 0.1], val, "learning rate", log_x=True)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "learning rate"
    np.testing.assert_allclose(ax.lines[1].get_xdata(), [1e-3, 1e-2, 1e-1, 1.0])
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [0.30, 0.45, 0.40, 0.10])
    (best,) = ax.collections
    np.testing.assert_allclose(best.get_offsets(), [[1e-2, 0.45]])
    assert any(label.startswith("best val: 0.450") for label in legend_labels(ax))
    assert [t.get_text() for t in ax.texts] == ["0.450"]
    assert "learning rate" in ax.get_title()


def test_plot_stats_adds_the_loss_per_epoch_when_the_run_measured_it():
    stats = {"loss_history": [2.3, 2.0, 1.8, 1.7], "train_acc_history": [0.1, 0.5], "val_acc_history": [0.1, 0.4],
             "epoch_train_loss": [2.2, 1.6], "val_loss_history": [2.25, 1.9]}
    fig = vis.plot_stats(stats)
    per_epoch = fig.axes[1]
    assert len(fig.axes) == 3 and legend_labels(per_epoch) == ["train", "val"]
    np.testing.assert_allclose(per_epoch.lines[1].get_ydata(), [2.25, 1.9])
    without_epoch_losses = {k: stats[k] for k in ("loss_history", "train_acc_history", "val_acc_history")}
    assert len(vis.plot_stats(without_epoch_losses).axes) == 2


def test_plot_runs_puts_each_run_in_a_panel_of_its_own():
    runs = {f"reg {r:g}": {"train_acc_history": [0.1, 0.5 + r], "val_acc_history": [0.1, 0.4 + r]}
            for r in (0, 0.1, 0.2)}
    fig = vis.plot_runs(runs, title="sweep")
    assert [ax.get_title() for ax in fig.axes] == ["reg 0", "reg 0.1", "reg 0.2"] and fig.get_suptitle() == "sweep"
    np.testing.assert_allclose(fig.axes[2].lines[1].get_ydata(), [0.1, 0.6])
    assert fig.axes[0].get_shared_y_axes().joined(fig.axes[0], fig.axes[2])
    with pytest.raises(ValueError, match="at least one run"):
        vis.plot_runs({})


def test_plot_sweep_shows_zero_on_a_log_axis():
    """reg = 0 is a real choice (no regularisation): it must be on the plot, not dropped by the log scale."""
    fig = vis.plot_sweep([0.0, 1e-4, 1e-2, 1.0], [0.9, 0.88, 0.85, 0.3], [0.85, 0.86, 0.84, 0.3], "reg", log_x=True)
    ax = fig.axes[0]
    assert ax.get_xscale() == "symlog"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "0.0001", "0.01", "1"]
    left, right = ax.get_xlim()
    assert left < 0 < 1e-4 < right  # 0 lies inside the axes
    assert any(label.startswith("linear scale from 0 to 0.0001") for label in legend_labels(ax))
    assert_renders(fig)


def test_plot_sweep_length_mismatch():
    with pytest.raises(ValueError, match="equal length"):
        vis.plot_sweep([1, 2], [0.1, 0.2], [0.1], "reg")


def test_plot_search_panels_lines_and_best():
    from helpers.batched import Run, grid
    accs = iter([0.5, 0.6, 0.7, 0.2, 0.8, 0.1, 0.3, 0.4, 0.9, 0.65, 0.3, 0.35])
    runs = [Run(config, {}, {}, next(accs)) for config in grid([0.1, 0.3], [16, 64], [1e-4, 1e-3, 1e-2], [0.95])]
    fig = vis.plot_search(runs, title="grid")
    assert [ax.get_title() for ax in fig.axes] == ["hidden size 16", "hidden size 64"] and fig.get_suptitle() == "grid"
    small, large = fig.axes
    assert legend_labels(large) == ["reg 0.0001", "reg 0.001", "reg 0.01"]
    np.testing.assert_allclose(small.lines[0].get_xdata(), [0.1, 0.3])
    np.testing.assert_allclose(small.lines[0].get_ydata(), [0.5, 0.3])  # lr 0.1 and 0.3 at reg 1e-4, hidden 16
    np.testing.assert_allclose(large.lines[2].get_ydata(), [0.1, 0.35])  # reg 1e-2, hidden 64
    assert not large.collections and legend_labels(small)[-1] == "best: 0.900"
    np.testing.assert_allclose(small.collections[0].get_offsets(), [[0.3, 0.9]])
    assert (small.get_xlabel(), small.get_ylabel(), small.get_xscale()) == \
        ("learning rate", "validation accuracy", "log")
    assert_renders(fig)


def test_plot_loss_curves_with_diverged_runs():
    good = [2.3, 1.9, 1.5, 1.2]
    curves = {
        "lr=1e-2": good,
        "lr=1": [2.3, 5.0, 80.0, float("inf")],
        "lr=10": torch.tensor([2.3, float("nan"), float("nan"), float("nan")]),
    }
    fig = vis.plot_loss_curves(curves, title="lr sweep", log_y=True)
    ax = fig.axes[0]
    assert legend_labels(ax) == ["lr=1e-2", "lr=1 (diverged)", "lr=10 (diverged)"]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), good)
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), [2.3, 5.0, np.nan, np.nan])
    assert ax.get_yscale() == "log" and ax.get_title() == "lr sweep"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("iteration", "loss")
    assert_renders(fig)


def test_figures_are_not_kept_by_pyplot():
    vis.plot_stats({"loss_history": [1.0], "train_acc_history": [0.1], "val_acc_history": [0.1]})
    vis.show_net_weights(torch.randn(784, 2))
    vis.plot_loss_curves({"a": [1.0, 0.5]})
    assert plt.get_fignums() == []


def test_plot_loss_curves_into_given_axes():
    fig = Figure()
    ax = fig.subplots()
    assert vis.plot_loss_curves({"a": [1.0, 0.5]}, ax=ax) is fig
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [1.0, 0.5])
    assert plt.get_fignums() == []


def test_plot_decision_boundary_colours_each_predicted_class():
    X = torch.tensor([[-1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    y = torch.tensor([0, 1, 2])
    seen = []

    def left_or_right(points):
        seen.append(points.shape)
        return (points[:, 0] > 0).long()

    fig = vis.plot_decision_boundary(left_or_right, X, y, resolution=30, title="halves")
    ax = fig.axes[0]
    assert seen == [(900, 2)] and ax.get_title() == "halves"
    filled, *points = ax.collections
    assert len(points) == 3  # one scatter per class
    np.testing.assert_allclose(points[1].get_offsets(), [[1.0, 0.0]])
    assert ax.get_xlim() == pytest.approx((-1.3, 1.3)) and ax.get_ylim() == pytest.approx((-1.3, 1.3))
    assert_renders(fig)
    data_only = vis.plot_decision_boundary(None, X, y).axes[0]
    assert len(data_only.collections) == 3  # no filled regions without a predict function


def test_plot_label_budgets_draws_mean_band_and_every_run():
    runs = [{"labels_per_class": k, "mode": mode, "seed": seed, "test_acc": acc}
            for k, base in ((5, 0.6), (50, 0.9)) for mode, shift in (("fine-tuned", 0.05), ("from scratch", 0.0))
            for seed, acc in enumerate((base + shift - 0.02, base + shift + 0.02))]
    fig = vis.plot_label_budgets(runs)
    ax = fig.axes[0]
    means = {line.get_label(): line.get_ydata().tolist() for line in ax.get_lines()}
    assert means["fine-tuned (mean)"] == pytest.approx([65.0, 95.0])
    assert means["from scratch (mean)"] == pytest.approx([60.0, 90.0])
    assert ax.get_xscale() == "log" and "2 seeds" in ax.get_title()
    # Only the budgets label the axis: no minor-tick labels such as 6x10^0 between them.
    assert [t.get_text() for t in ax.get_xticklabels()] == ["5", "50"] and len(ax.get_xticks(minor=True)) == 0
    assert sum(len(c.get_offsets()) for c in ax.collections if len(c.get_offsets()) == 2) == 8  # every run a dot


def test_feature_projection_one_panel_per_view_coloured_by_class():
    labels = torch.tensor([0, 1, 1, 2])
    fig = vis.plot_feature_projection({"pretrained": torch.randn(4, 2), "random": torch.randn(4, 2)}, labels,
                                      ["a", "b", "c"])
    assert [ax.get_title() for ax in fig.axes] == ["pretrained", "random"]
    assert [len(c.get_offsets()) for c in fig.axes[0].collections] == [1, 2, 1]


def test_residual_block_diagram_names_its_parts():
    texts = [t.get_text() for t in vis.show_residual_block().axes[0].texts]
    assert "ReLU  ->  H(x) = F(x) + x" in texts and "+" in texts and any("identity x" in t for t in texts)


def test_confusion_matrix_shows_counts_and_row_shares():
    fig = vis.plot_confusion_matrix(torch.tensor([[3, 1], [0, 4]]), ["cat", "dog"])
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["3\n75%", "1\n25%", "0\n0%", "4\n100%"]


def test_misclassified_shows_only_the_mistakes_with_true_and_predicted_class():
    images = torch.rand(4, 1, 8, 8)
    fig = vis.show_misclassified(images, torch.tensor([0, 1, 1, 0]), torch.tensor([0, 0, 1, 1]), ["cat", "dog"])
    assert [ax.get_title() for ax in fig.axes if ax.get_title()] == ["dog\n-> cat", "cat\n-> dog"]
