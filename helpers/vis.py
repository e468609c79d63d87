"""Plotting helpers shared by the course notebooks.

Every plotting function returns a matplotlib ``Figure`` and never calls
``plt.show()``: the figure is displayed inline when it is the value of a
notebook cell (or with ``display(fig)``), and can be saved with
``fig.savefig``. Figures are closed in pyplot before they are returned, so they
are shown exactly once and do not pile up in memory.

Inputs may be torch tensors on any device and of any dtype, numpy arrays or
plain sequences; they are converted to float32 on the CPU.
"""

import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from helpers.curves import DIVERGENCE_FACTOR, is_diverged
from helpers.i18n import _, ngettext

# Flattened image size -> (H, W, C) for the data sets used in the course.
KNOWN_IMAGE_SHAPES = {
    3 * 32 * 32: (32, 32, 3),  # CIFAR-10
    28 * 28: (28, 28, 1),  # MNIST / Fashion-MNIST
}


def _to_tensor(x):
    """Return ``x`` as a detached float32 CPU tensor."""
    if isinstance(x, torch.Tensor):
        return x.detach().to(device="cpu", dtype=torch.float32)
    return torch.as_tensor(np.asarray(x, dtype=np.float32))


def _to_array(values):
    """Return a 1-D float numpy array from a sequence of numbers or 0-d tensors."""
    if isinstance(values, torch.Tensor):
        return _to_tensor(values).reshape(-1).numpy()
    return np.array([float(v) for v in values], dtype=float)


def _finish(fig):
    """Detach ``fig`` from pyplot so it is displayed once, as a cell value."""
    plt.close(fig)
    return fig


def _rescale(img, ubound):
    """Map ``img`` linearly onto [0, ubound]; a constant image becomes zeros."""
    lo, hi = img.min(), img.max()
    if hi > lo:
        return ubound * (img - lo) / (hi - lo)
    return torch.zeros_like(img)


def visualize_grid(Xs, ubound=255.0, padding=1):
    """Tile images into one square grid.

    Xs: (N, H, W, C) images. Each tile is rescaled to [0, ubound] on its own and
    tiles are laid out row by row in a ceil(sqrt(N)) x ceil(sqrt(N)) grid,
    separated by ``padding`` zero pixels.
    Returns a float32 tensor of shape (G*H + (G-1)*padding, G*W + (G-1)*padding, C)
    with G = ceil(sqrt(N)).
    """
    Xs = _to_tensor(Xs)
    if Xs.ndim != 4 or Xs.shape[0] == 0:
        raise ValueError(_("Xs must have shape (N, H, W, C) with N >= 1, got {shape}").format(shape=tuple(Xs.shape)))
    N, H, W, C = Xs.shape
    grid_size = math.ceil(math.sqrt(N))
    grid = torch.zeros(grid_size * H + (grid_size - 1) * padding,
                       grid_size * W + (grid_size - 1) * padding, C)
    for i, img in enumerate(Xs):
        row, col = divmod(i, grid_size)
        y, x = row * (H + padding), col * (W + padding)
        grid[y:y + H, x:x + W] = _rescale(img, ubound)
    return grid


def _weights_as_images(W, image_shape):
    """Turn weights W (D, K) into K images (K, H, W, C).

    Each column holds one image flattened in (C, H, W) order, the layout of a
    torchvision image tensor. A trailing bias row (D = H*W*C + 1) is dropped.
    ``image_shape`` is (H, W, C) or (H, W); None infers it for CIFAR-10 (3072)
    and MNIST (784).
    """
    W = _to_tensor(W)
    if W.ndim != 2:
        raise ValueError(_("weights must have shape (D, K), got {shape}").format(shape=tuple(W.shape)))
    D = W.shape[0]
    if image_shape is None:
        image_shape = KNOWN_IMAGE_SHAPES.get(D) or KNOWN_IMAGE_SHAPES.get(D - 1)
        if image_shape is None:
            known = ", ".join(str(d) for d in KNOWN_IMAGE_SHAPES)
            raise ValueError(_("cannot infer the image shape for D={D} (known: {known}, or one more with a bias row); "
                               "pass image_shape=(H, W, C)").format(D=D, known=known))
    h, w, c = (*image_shape, 1) if len(image_shape) == 2 else image_shape
    if D not in (h * w * c, h * w * c + 1):
        raise ValueError(_("D={D} does not match image_shape {shape} ({pixels} pixels, or {with_bias} with a bias "
                           "row)").format(D=D, shape=tuple(image_shape), pixels=h * w * c, with_bias=h * w * c + 1))
    return W[:h * w * c].T.reshape(-1, c, h, w).permute(0, 2, 3, 1)


def _imshow(ax, img):
    """Draw an (H, W, C) image with values in [0, 1]; one channel is drawn in grey."""
    if img.shape[-1] == 1:
        ax.imshow(img[..., 0].numpy(), cmap="gray", vmin=0.0, vmax=1.0)
    else:
        ax.imshow(img.numpy())
    ax.set_xticks([])
    ax.set_yticks([])


def show_net_weights(W1, image_shape=None, title=None, max_units=64):
    """Show hidden units' input weights as images: all of them, or the `max_units` with the largest weights.

    W1: (D, H) first-layer weights, or (D+1, H) with a bias row, which is dropped.
    image_shape: (H, W, C); inferred for D = 3072 (32x32 RGB) and D = 784 (28x28 grey).
    max_units: at most this many units, those whose weights have the largest norm (the ones training moved most
    from their small random start), so that each image stays large enough to read; None shows every unit.
    """
    templates = _weights_as_images(W1, image_shape)
    count = templates.shape[0]
    if max_units is not None and count > max_units:
        norms = np.linalg.norm(templates.reshape(count, -1), axis=1)
        templates = templates[np.argsort(-norms)[:max_units]]
        label = _("the {shown} of {count} hidden units with the largest weights, each rescaled to [0, 1]").format(
            shown=max_units, count=count)
    else:
        label = _("{count} hidden units, each rescaled to [0, 1]").format(count=count)
    fig, ax = plt.subplots(figsize=(7, 7))
    _imshow(ax, visualize_grid(templates, ubound=1.0))
    ax.set_title(_("First-layer weights as image templates") if title is None else title)
    ax.set_xlabel(label)
    return _finish(fig)


def show_class_templates(W, class_names, image_shape=None, title=None):
    """Show a linear classifier's weights as one image per class.

    W: (D, C) weights, or (D+1, C) with a bias row, which is dropped.
    class_names: C names, used as subplot titles.
    image_shape: (H, W, C); inferred for D = 3072 and D = 784 as in show_net_weights.
    """
    templates = _weights_as_images(W, image_shape)
    if len(class_names) != templates.shape[0]:
        raise ValueError(_("got {names} class names for {templates} templates").format(
            names=len(class_names), templates=templates.shape[0]))
    fig, axes = plt.subplots(1, len(class_names), figsize=(1.6 * len(class_names), 2.2),
                             squeeze=False)
    for ax, template, name in zip(axes[0], templates, class_names):
        _imshow(ax, _rescale(template, 1.0))
        ax.set_title(name)
    fig.suptitle(_("Learned class templates") if title is None else title)
    fig.supxlabel(_("one template per class, each rescaled to [0, 1]"))
    return _finish(fig)


def plot_stats(stat_dict, title=None):
    """Plot a training run: loss per iteration, train/val accuracy per epoch, and train/val loss per epoch when the
    run measured them (helpers.spies.EpochLosses).

    stat_dict: 'loss_history' (n_iters,), 'train_acc_history' and 'val_acc_history' (n_epochs,); optionally
    'epoch_train_loss' and 'val_loss_history' (n_epochs,).
    """
    loss = _to_array(stat_dict["loss_history"])
    train_acc = _to_array(stat_dict["train_acc_history"])
    val_acc = _to_array(stat_dict["val_acc_history"])
    epoch_losses = "val_loss_history" in stat_dict
    fig, axes = plt.subplots(1, 3 if epoch_losses else 2, figsize=(17 if epoch_losses else 12, 4))
    ax_loss, ax_acc = axes[0], axes[-1]
    ax_loss.plot(np.arange(len(loss)), loss)
    ax_loss.set(title=_("Training loss (each minibatch)"), xlabel=_("iteration"), ylabel=_("loss"))
    if epoch_losses:
        for key, label, marker in (("epoch_train_loss", _("train"), "o-"), ("val_loss_history", _("val"), "s-")):
            values = _to_array(stat_dict[key])
            axes[1].plot(np.arange(1, len(values) + 1), values, marker, label=label)
        axes[1].set(title=_("Loss per epoch (training sample and validation set)"), xlabel=_("epoch"),
                    ylabel=_("loss"))
        axes[1].legend()
    ax_acc.plot(np.arange(1, len(train_acc) + 1), train_acc, "o-", label=_("train"))
    ax_acc.plot(np.arange(1, len(val_acc) + 1), val_acc, "s-", label=_("val"))
    ax_acc.set(title=_("Classification accuracy"), xlabel=_("epoch"), ylabel=_("accuracy"))
    ax_acc.legend()
    fig.suptitle(title or _("Training statistics"))
    fig.tight_layout()
    return _finish(fig)


def plot_runs(runs, title=None):
    """Train and validation accuracy per epoch of several runs side by side, one small panel each, sharing the y axis,
    so that their shapes can be compared (which underfits, which overfits, which has not finished).

    runs: {label: stats dict with 'train_acc_history' and 'val_acc_history'}, in the order to show.
    """
    if not runs:
        raise ValueError(_("plot_runs needs at least one run"))
    fig, axes = plt.subplots(1, len(runs), figsize=(3.2 * len(runs), 3.2), sharey=True, squeeze=False)
    for ax, (label, stats) in zip(axes[0], runs.items()):
        for key, name, marker in (("train_acc_history", _("train"), "o-"), ("val_acc_history", _("val"), "s-")):
            values = _to_array(stats[key])
            ax.plot(np.arange(1, len(values) + 1), values, marker, label=name)
        ax.set(title=label, xlabel=_("epoch"))
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(_("accuracy"))
    axes[0][0].legend()
    fig.suptitle(title or _("Accuracy per epoch of each run"))
    fig.tight_layout()
    return _finish(fig)


def plot_data_size(sizes, accuracies, title=None):
    """Validation accuracy against the number of training images, one line per model, on a log axis.

    sizes: (n,) training-set sizes; accuracies: {model name: (n,) accuracies, in the order of sizes}.
    """
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, accs in accuracies.items():
        ax.plot(sizes, _to_array(accs), "o-", label=name)
    ax.set_xscale("log")
    ax.set_xticks(sizes, [f"{size:,}" for size in sizes])
    ax.set_xticks([], minor=True)
    ax.set(xlabel=_("training images"), ylabel=_("validation accuracy"),
           title=title or _("Accuracy against training-set size"))
    ax.grid(alpha=0.3)
    ax.legend()
    return _finish(fig)


def plot_sweep(values, train_accs, val_accs, param_name, log_x=False, title=None):
    """Plot train and val accuracy against one hyper-parameter; mark the best val point.

    values, train_accs, val_accs: (n,) each, in matching order (any order of values).
    """
    values, train_accs, val_accs = _to_array(values), _to_array(train_accs), _to_array(val_accs)
    if not len(values) == len(train_accs) == len(val_accs) > 0:
        raise ValueError(_("values, train_accs and val_accs must be non-empty and of equal length"))
    order = np.argsort(values)
    values, train_accs, val_accs = values[order], train_accs[order], val_accs[order]
    best = int(np.argmax(val_accs))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(values, train_accs, "o-", label=_("train"))
    ax.plot(values, val_accs, "s-", label=_("val"))
    ax.scatter([values[best]], [val_accs[best]], s=250, marker="*", color="red", zorder=3,
               label=_("best val: {value} at {setting}").format(value=f"{val_accs[best]:.3f}",
                                                               setting=f"{param_name}={values[best]:.3g}"))
    ax.annotate(f"{val_accs[best]:.3f}", (values[best], val_accs[best]),
                textcoords="offset points", xytext=(0, 10), ha="center")
    if log_x:
        positive = values[values > 0]
        if len(positive) < len(values):
            # 0 has no place on a log axis: a symmetric-log one is linear up to the smallest positive value.
            ax.set_xscale("symlog", linthresh=positive.min() if len(positive) else 1.0)
            edge = positive.min() if len(positive) else values.max()
            ax.axvspan(values.min(), edge, color="grey", alpha=0.1,
                       label=_("linear scale from {low} to {high}").format(low=f"{values.min():g}", high=f"{edge:g}"))
        else:
            ax.set_xscale("log")
        ax.set_xticks(values, [f"{v:g}" for v in values])
        ax.set_xticks([], minor=True)
    ax.set(title=title or _("Accuracy vs {setting}").format(setting=param_name), xlabel=param_name,
           ylabel=_("accuracy"))
    ax.legend()
    return _finish(fig)


def _setting_name(key):
    """A search setting's key (learning_rate, hidden_size, reg, learning_rate_decay) in words, for axes and legends."""
    names = {"learning_rate": _("learning rate"), "hidden_size": _("hidden size"),
             "learning_rate_decay": _("learning rate decay")}
    return names.get(key, key.replace("_", " "))


def plot_search(runs, x="learning_rate", line="reg", title=None):
    """Final validation accuracy of a search against one setting, a line per value of another, a panel per hidden size.

    runs: objects with a ``config`` dict (learning_rate, hidden_size, reg, learning_rate_decay) and a ``val_acc``,
    such as helpers.batched.train_together returns. Where other settings vary too, each point is the best run
    among them. The best run of all is starred.
    """
    best = max(runs, key=lambda run: run.val_acc)
    sizes = sorted({run.config["hidden_size"] for run in runs})
    fig, axes = plt.subplots(1, len(sizes), figsize=(6 * len(sizes), 4.5), squeeze=False, sharey=True)
    for ax, size in zip(axes[0], sizes):
        points = {}
        for run in runs:
            if run.config["hidden_size"] == size:
                key = (run.config[line], run.config[x])
                points[key] = max(points.get(key, 0.0), run.val_acc)
        for value in sorted({v for v, u in points}):
            xs = sorted(u for v, u in points if v == value)
            ax.plot(xs, [points[value, u] for u in xs], "o-", label=f"{_setting_name(line)} {value:g}")
        if best.config["hidden_size"] == size:
            ax.scatter([best.config[x]], [best.val_acc], s=250, marker="*", color="red", zorder=3,
                       label=_("best: {value}").format(value=f"{best.val_acc:.3f}"))
        ax.set_xscale("log")
        ax.set(title=_("hidden size {size}").format(size=size), xlabel=_setting_name(x),
               ylabel=_("validation accuracy"))
        ax.legend(fontsize="small")
    fig.suptitle(title or _("Search results"))
    fig.tight_layout()
    return _finish(fig)


def plot_loss_curves(curves, title=None, log_y=False, factor=DIVERGENCE_FACTOR, ax=None):
    """Plot several loss curves, e.g. one per learning rate.

    curves: dict label -> (n_iters,) losses. A diverged curve (see is_diverged)
    is drawn dashed and only where it is finite and below ``factor`` times its
    first loss, so it cannot swamp the others; its legend label ends in "(diverged)".
    ax: draw into this Axes (e.g. a widget's figure) instead of a new figure.
    """
    fig, ax = plt.subplots(figsize=(7, 4.5)) if ax is None else (None, ax)
    for label, losses in curves.items():
        losses = _to_array(losses)
        if is_diverged(losses, factor):
            shown = np.where(np.isfinite(losses), losses, np.nan)
            if np.isfinite(shown[0]) and shown[0] > 0:
                shown[shown > factor * shown[0]] = np.nan
            ax.plot(np.arange(len(shown)), shown, "--", label=_("{label} (diverged)").format(label=label))
        else:
            ax.plot(np.arange(len(losses)), losses, label=str(label))
    if log_y:
        ax.set_yscale("log")
    ax.set(title=title or _("Loss curves"), xlabel=_("iteration"), ylabel=_("loss"))
    ax.legend()
    return ax.figure if fig is None else _finish(fig)


def plot_decision_boundary(predict, X, y, class_names=None, resolution=80, title=None, ax=None):
    """Colour the plane by the class ``predict`` gives each point, with the data on top.

    predict: (M, 2) float32 points -> (M,) labels (e.g. a trained net's predict), or None to draw the data only.
    X: (N, 2) points, y: (N,) labels; the plotted square spans X with a margin, sampled at resolution x
    resolution points.
    ax: draw into this Axes instead of a new figure.
    """
    fig, ax = plt.subplots(figsize=(5, 5)) if ax is None else (None, ax)
    X, y = _to_tensor(X), _to_tensor(y).long()
    num_classes = int(y.max()) + 1
    low, high = float(X.min()) - 0.3, float(X.max()) + 0.3
    colours = plt.get_cmap("tab10")
    if predict is not None:
        ticks = torch.linspace(low, high, resolution)
        gx, gy = torch.meshgrid(ticks, ticks, indexing="xy")
        labels = _to_tensor(predict(torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1))).reshape(gx.shape)
        ax.contourf(gx.numpy(), gy.numpy(), labels.numpy(), levels=np.arange(num_classes + 1) - 0.5,
                    colors=[colours(k) for k in range(num_classes)], alpha=0.3)
    for k in range(num_classes):
        mine = y == k
        ax.scatter(X[mine, 0].numpy(), X[mine, 1].numpy(), s=10, color=colours(k),
                   label=class_names[k] if class_names else _("class {k}").format(k=k))
    ax.set(xlim=(low, high), ylim=(low, high), aspect="equal", title=title or _("Decision boundary"),
           xlabel="$x_1$", ylabel="$x_2$")
    return ax.figure if fig is None else _finish(fig)


def plot_transfer_curves(histories, title=None):
    """Training and validation curves of several runs of `fit` on one figure, the chosen (best) epoch starred.

    histories: dict label -> fit's history ('train_loss', 'val_loss', 'val_acc' (n_epochs,) each, 'best_epoch').
    """
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(12, 4.5))
    for i, (label, history) in enumerate(histories.items()):
        color = f"C{i}"
        epochs = np.arange(len(history["val_loss"]))
        best = history["best_epoch"]
        ax_loss.plot(epochs, _to_array(history["train_loss"]), "--", color=color,
                     label=_("{label}: train").format(label=label))
        ax_loss.plot(epochs, _to_array(history["val_loss"]), "-", color=color,
                     label=_("{label}: validation").format(label=label))
        val_acc = _to_array(history["val_acc"])
        ax_acc.plot(epochs, val_acc, "o-", color=color, markersize=3, label=label)
        ax_acc.scatter([best], [val_acc[best]], s=200, marker="*", color=color, zorder=3)
        ax_loss.scatter([best], [_to_array(history["val_loss"])[best]], s=200, marker="*", color=color, zorder=3)
    ax_loss.set(title=_("Loss (star: the epoch early stopping kept)"), xlabel=_("epoch"), ylabel=_("loss"))
    ax_acc.set(title=_("Validation accuracy"), xlabel=_("epoch"), ylabel=_("accuracy"))
    ax_loss.legend(fontsize="small")
    ax_acc.legend(fontsize="small")
    fig.suptitle(title or _("Training curves"))
    fig.tight_layout()
    return _finish(fig)


def plot_lr_schedules(histories, title=None):
    """The learning rate of each epoch, per run (log scale): the steps ReduceLROnPlateau took.

    histories: dict label -> fit's history ('lr' (n_epochs,), 'best_epoch').
    """
    fig, ax = plt.subplots(figsize=(7, 4))
    for i, (label, history) in enumerate(histories.items()):
        lrs = _to_array(history["lr"])
        ax.step(np.arange(len(lrs)), lrs, where="post", color=f"C{i}",
                label=_("{label} ({count} epochs run)").format(label=label, count=len(lrs)))
        ax.axvline(history["best_epoch"], color=f"C{i}", linestyle=":", alpha=0.6)
    ax.set_yscale("log")
    ax.set(title=title or _("Learning rate per epoch (dotted: best epoch)"), xlabel=_("epoch"),
           ylabel=_("learning rate"))
    ax.legend(fontsize="small")
    return _finish(fig)


def show_examples(images, labels, class_names, count=8, title=None):
    """A row of `count` images (N, C, H, W), each rescaled to [0, 1] on its own, titled with its class name."""
    count = min(count, len(images))
    fig, axes = plt.subplots(1, count, figsize=(1.6 * count, 2.2))
    for ax, image, label in zip(np.atleast_1d(axes), images[:count], labels[:count]):
        _imshow(ax, _rescale(_to_tensor(image).permute(1, 2, 0), 1.0))
        ax.set_title(class_names[int(label)], fontsize="small")
    fig.suptitle(title or _("Examples"))
    return _finish(fig)


def plot_label_budgets(runs, title=None, homework=None):
    """Test accuracy against labelled training images per class (log scale), one line per mode: the mean over seeds,
    a band from the lowest to the highest seed, and each seed's run as a dot.

    runs: dicts {'labels_per_class', 'mode', 'seed', 'test_acc'} (helpers.transfer.label_budget_curve).
    """
    from helpers.transfer import mode_name
    fig, ax = plt.subplots(figsize=(8, 5))
    modes = list(dict.fromkeys(run["mode"] for run in runs))
    budgets = sorted({run["labels_per_class"] for run in runs})
    seeds = len({run["seed"] for run in runs})
    for i, mode in enumerate(modes):
        accs = [[100 * r["test_acc"] for r in runs if r["mode"] == mode and r["labels_per_class"] == k]
                for k in budgets]
        color = f"C{i}"
        ax.plot(budgets, [np.mean(a) for a in accs], "o-", color=color,
                label=_("{mode} (mean)").format(mode=mode_name(mode)))
        ax.fill_between(budgets, [min(a) for a in accs], [max(a) for a in accs], color=color, alpha=0.15)
        for k, a in zip(budgets, accs):
            ax.scatter([k] * len(a), a, s=12, color=color, alpha=0.6)
    ax.set_xscale("log")
    ax.set_xticks(budgets, [str(k) for k in budgets])
    ax.set_xticks([], minor=True)  # a log axis labels its minor ticks (6x10^0, ...): only the budgets here
    ax.set(xlabel=_("labelled training images per class (as many again for validation)"),
           ylabel=_("test accuracy (%)"),
           title=title or ngettext("Accuracy against labels: mean of {count} seed, band = lowest to highest",
                                   "Accuracy against labels: mean of {count} seeds, band = lowest to highest",
                                   max(seeds, 1)).format(count=seeds))
    ax.grid(alpha=0.3)
    ax.legend()
    return _finish(fig)


def plot_feature_depth(scores, title=None):
    """How well each block's features separate the target's classes, one line per network.

    scores: dict network name -> {block: accuracy (fraction)} (helpers.transfer.nearest_mean_by_block).
    """
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for i, (name, by_block) in enumerate(scores.items()):
        ax.plot(list(by_block), [100 * a for a in by_block.values()], "o-", color=f"C{i}", label=name)
        for block, accuracy in by_block.items():
            ax.annotate(f"{100 * accuracy:.1f}", (block, 100 * accuracy), textcoords="offset points", xytext=(0, 6),
                        ha="center", fontsize=8, color=f"C{i}")
    ax.set(xlabel=_("features taken after this block (global average pooling)"),
           ylabel=_("nearest class mean: test accuracy (%)"),
           title=title or _("Which depth's features separate the new classes"))
    ax.grid(alpha=0.3)
    ax.legend()
    return _finish(fig)


def plot_feature_projection(projections, labels, class_names, title=None):
    """Side-by-side scatter plots of 2-D projections of features, one point per image, coloured by class.

    projections: dict panel title -> (N, 2) points; labels: (N,) class indices.
    """
    fig, axes = plt.subplots(1, len(projections), figsize=(6 * len(projections), 5), squeeze=False)
    labels = _to_tensor(labels).long().numpy()
    for ax, (name, points) in zip(axes[0], projections.items()):
        points = _to_tensor(points).numpy()
        for c, class_name in enumerate(class_names):
            ax.scatter(points[labels == c, 0], points[labels == c, 1], s=6, alpha=0.6, color=f"C{c}",
                       label=class_name)
        ax.set(title=name, xlabel=_("first principal component"), ylabel=_("second principal component"))
    axes[0][0].legend(markerscale=3, fontsize="small")
    fig.suptitle(title or _("Features projected on their two principal components"))
    fig.tight_layout()
    return _finish(fig)


def show_residual_block(title=None):
    """A diagram of a residual block: two weight layers compute F(x), the shortcut adds x, so H(x) = F(x) + x."""
    fig, ax = plt.subplots(figsize=(7, 6))
    ax.set(xlim=(0, 10), ylim=(0, 12), aspect="equal")
    ax.axis("off")
    boxes = [(10.5, "x"), (8.5, "3x3 conv + BatchNorm"), (6.5, "ReLU"), (4.5, "3x3 conv + BatchNorm"),
             (2.5, "+"), (0.8, "ReLU  ->  H(x) = F(x) + x")]
    for y, text in boxes:
        style = "circle,pad=0.3" if text == "+" else "round,pad=0.4"
        ax.text(4, y, text, ha="center", va="center", fontsize=12 if text != "+" else 16,
                bbox=dict(boxstyle=style, facecolor="white" if text in ("x", "+") else "#dde8f6", edgecolor="0.3"))
    for (y_from, _text), (y_to, _next) in zip(boxes, boxes[1:]):
        ax.annotate("", xy=(4, y_to + 0.55), xytext=(4, y_from - 0.55), arrowprops=dict(arrowstyle="->", lw=1.5))
    ax.annotate("", xy=(4.45, 2.5), xytext=(4.6, 10.5),
                arrowprops=dict(arrowstyle="->", lw=1.5, color="C3", connectionstyle="bar,fraction=-0.35"))
    ax.text(8.9, 6.5, _("shortcut:\nidentity x"), ha="center", va="center", color="C3", fontsize=11)
    ax.text(0.3, 6.5, _("F(x):\nthe residual\nthe layers learn"), ha="center", va="center", fontsize=11)
    ax.set_title(title or _("A residual block (ResNet's BasicBlock)"))
    return _finish(fig)


def plot_confusion_matrix(counts, class_names, title=None):
    """A confusion matrix (row = true class, column = predicted), each cell its count and its share of the row."""
    counts = _to_tensor(counts).numpy()
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(1.1 * len(class_names) + 2, 1.1 * len(class_names) + 1))
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(class_names)):
        for j in range(len(class_names)):
            ax.text(j, i, f"{int(counts[i, j])}\n{100 * shares[i, j]:.0f}%", ha="center", va="center",
                    fontsize="small", color="white" if shares[i, j] > 0.5 else "black")
    ticks = range(len(class_names))
    ax.set_xticks(ticks, class_names, rotation=45, ha="right")
    ax.set_yticks(ticks, class_names)
    ax.set(xlabel=_("predicted class"), ylabel=_("true class"), title=title or _("Confusion matrix (test set)"))
    fig.tight_layout()
    return _finish(fig)


def show_misclassified(images, labels, predicted, class_names, count=10, title=None):
    """Up to `count` images (N, C, H, W) the model got wrong, each titled 'true -> predicted'."""
    wrong = (_to_tensor(labels) != _to_tensor(predicted)).nonzero().flatten()[:count]
    count = max(len(wrong), 1)
    fig, axes = plt.subplots(1, count, figsize=(1.7 * count, 2.4))
    for ax, i in zip(np.atleast_1d(axes), wrong.tolist()):
        _imshow(ax, _rescale(_to_tensor(images[i]).permute(1, 2, 0), 1.0))
        ax.set_title(f"{class_names[int(labels[i])]}\n-> {class_names[int(predicted[i])]}", fontsize="small")
    for ax in np.atleast_1d(axes)[len(wrong):]:
        ax.axis("off")
    fig.suptitle(title or _("Misclassified test images (true -> predicted)"))
    fig.tight_layout()
    return _finish(fig)
