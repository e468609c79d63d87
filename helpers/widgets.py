"""Interactive learning-rate demos (ipywidgets + matplotlib) for the lab and the assignment notebooks.

    learning_rate_explorer(loss_curve_fn)  a log-scale learning-rate slider over the loss curve
                                           ``loss_curve_fn(lr)`` returns (two_layer_net uses it)
    descent_demo()                         gradient descent on a 2-D loss surface: learning rate, steps,
                                           momentum and decay; the path over the contours and the loss
    toy_net_demo(net_class)                a two-layer net trained on 2-D spirals or moons through
                                           ``net_class``'s own ``train``: learning rate, decay,
                                           regularisation, hidden size; loss, accuracies, decision boundary

Each demo is a row of controls above a figure and a status line of numbers. The figure is rendered to a
PNG image widget, so a slider move redraws in place in JupyterLab, Notebook 7 and VS Code alike. Results
are cached per setting, so going back to a setting is instant. A run that diverges (the loss grows without
bound, or becomes inf or nan) is drawn and named as such; an exception raised by the code being trained
is shown in the status line, not as a traceback. Evaluate a demo in a cell to display it.
"""
import functools
import gc
import html
import io
import math
import time

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from helpers.curves import divergence_message, divergence_point, is_diverged
from helpers.data import TOY_2D_SETS, toy_2d_data
from helpers.i18n import _
from helpers.library_net import LibraryTwoLayerNet
from helpers.surfaces import SURFACES, descend, verdict_name
from helpers.utils import reset_seed
from helpers.vis import plot_decision_boundary, plot_loss_curves

DPI = 80
SLIDER_STYLE = {"description_width": "initial"}


class FigureDemo:
    """Controls, an optional caption widget, a figure shown as a PNG image, and a status line; subclasses draw
    the figure.

    Every control's value change redraws (``continuous_update`` is off on sliders: one redraw per move).
    ``redraw_seconds`` holds how long the last redraw took, from the change to the new image and status sent.
    """

    def __init__(self, title, controls, figsize, css_class, margins, caption=None):
        # A fixed layout: a layout engine would measure every label again at every redraw.
        self.figure = Figure(figsize=figsize, dpi=DPI)
        self.figure.subplots_adjust(**margins)
        self.controls = controls
        self.image = widgets.Image(format="png", layout={"width": f"{figsize[0] * DPI}px"})
        self.status = widgets.HTML()
        self.image.add_class("lr-lab-figure")
        self.status.add_class("lr-lab-status")
        self.widget = widgets.VBox([widgets.HTML(f"<b>{html.escape(title)}</b>"),
                                    widgets.HBox(controls, layout={"flex_flow": "row wrap"}),
                                    *([caption] if caption else []), self.image, self.status])
        self.widget.add_class("lr-lab-demo")
        self.widget.add_class(css_class)
        self.status_text = ""
        self.redraw_seconds = None
        for control in controls:
            control.observe(lambda change: self.redraw(), names="value")

    def redraw(self):
        """Draw the figure for the controls' current values, show it and the status line.

        Python's cyclic garbage collector is held off until both are sent: with torch and matplotlib loaded, a
        full collection takes 0.1-0.2 s, and each redraw makes enough garbage to trigger one every few moves.
        """
        start = time.perf_counter()
        collecting = gc.isenabled()
        gc.disable()
        try:
            self.figure.clear()
            self.status_text = self.draw()
            png = io.BytesIO()
            self.figure.savefig(png, format="png")
            self.image.value = png.getvalue()
            self.status.value = f"<code>{html.escape(self.status_text)}</code>"
            self.redraw_seconds = time.perf_counter() - start
        finally:
            if collecting:
                gc.enable()

    def draw(self):
        """Draw on self.figure (cleared); return the status line."""
        raise NotImplementedError

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def log_slider(description, low, high, value, readout_format=".1e", width="440px"):
    """A FloatLogSlider over [low, high] (powers of ten) in tenths of a decade, one redraw per move."""
    return widgets.FloatLogSlider(value=value, base=10, min=math.log10(low), max=math.log10(high), step=0.1,
                                  continuous_update=False, readout_format=readout_format,
                                  description=description, style=SLIDER_STYLE, layout={"width": width})


def slider(kind, description, value, low, high, step, width="330px", **options):
    """A linear slider (widgets.IntSlider or FloatSlider) that redraws once per move."""
    return kind(value=value, min=low, max=high, step=step, continuous_update=False, description=description,
                style=SLIDER_STYLE, layout={"width": width}, **options)


def _failure(error):
    """Status line for an exception raised by the code under demonstration."""
    return _("error: {detail}").format(detail=f"{type(error).__name__}: {error}".rstrip(": "))


def _message(ax, text, colour="black"):
    """Write text across the middle of ax, on a white box."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color=colour,
            bbox={"facecolor": "white", "edgecolor": colour, "alpha": 0.9})


def _draw_losses(ax, values, diverged_at, unit, ylabel, title):
    """values (n,) on a log scale (those finite and > 0), one per `unit` ("step" or "iteration"); a dashed red line
    where the run diverged."""
    xlabel = {"step": _("step"), "iteration": _("iteration")}.get(unit, unit)
    values = np.asarray(values, dtype=float)
    shown = np.where(np.isfinite(values) & (values > 0), values, np.nan)
    ax.semilogy(np.arange(len(values)), shown, ".-" if len(values) < 20 else "-",
                color="tab:blue" if diverged_at is None else "tab:red")
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    if diverged_at is not None:
        ax.axvline(diverged_at, color="tab:red", linestyle="--")
        where = {"step": _("diverged at step {at}"), "iteration": _("diverged at iteration {at}")}.get(
            unit, _("diverged at {unit} {at}")).format(unit=unit, at=diverged_at)
        ax.text(diverged_at, 0.97, f" {where}", transform=ax.get_xaxis_transform(), color="tab:red", va="top")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)


class LearningRateExplorer(FigureDemo):
    """A learning-rate slider that redraws the loss curve it selects.

    loss_curve_fn(lr) -> (n_iters,) losses is called once per learning rate
    (rounded to 6 significant digits); results are kept in ``history``.
    """

    def __init__(self, loss_curve_fn, lr_min=1e-4, lr_max=10.0, value=1e-2, title=None):
        if not 0 < lr_min <= value <= lr_max:
            raise ValueError(_("need 0 < lr_min <= value <= lr_max, got {lr_min}, {value}, {lr_max}").format(
                lr_min=lr_min, value=value, lr_max=lr_max))
        self.loss_curve_fn = loss_curve_fn
        self.lr_min, self.lr_max = lr_min, lr_max
        self.history = {}
        self.slider = log_slider(_("learning rate"), lr_min, lr_max, value, width="500px")
        super().__init__(_("Learning rate explorer") if title is None else title, [self.slider], figsize=(7, 4.2),
                         css_class="lr-explorer", margins={"left": 0.11, "right": 0.97, "bottom": 0.12, "top": 0.92})
        self.redraw()

    def update(self, lr):
        """Move the slider to ``lr``, redraw, and return the Figure drawn."""
        if not self.lr_min <= lr <= self.lr_max:
            raise ValueError(_("lr={lr} is outside the slider range [{low}, {high}]").format(
                lr=lr, low=self.lr_min, high=self.lr_max))
        if self.slider.value == lr:
            self.redraw()
        else:
            self.slider.value = lr  # the slider's observer redraws
        return self.figure

    def draw(self):
        lr = float(f"{self.slider.value:.6g}")
        ax = self.figure.subplots()
        if lr not in self.history:
            try:
                self.history[lr] = [float(loss) for loss in self.loss_curve_fn(lr)]
            except Exception as error:  # noqa: BLE001 - the student's training code: show the error, keep the widget alive
                _message(ax, _failure(error), "red")
                return _("learning rate {lr}: {summary}").format(lr=f"{lr:.1e}", summary=_failure(error))
        losses = self.history[lr]
        summary = _("final loss {loss}").format(loss=f"{losses[-1]:.4g}") if losses else _("no losses")
        if is_diverged(losses):
            summary = _("{summary} (diverged)").format(summary=summary)
        line = _("learning rate {lr}: {summary}").format(lr=f"{lr:.1e}", summary=summary)
        plot_loss_curves({f"lr = {lr:.1e}": losses}, title=line, ax=ax)
        return line


def learning_rate_explorer(loss_curve_fn, lr_min=1e-4, lr_max=10.0, value=1e-2, title=None):
    """Build a LearningRateExplorer; ``loss_curve_fn(lr)`` returns (n_iters,) losses."""
    return LearningRateExplorer(loss_curve_fn, lr_min, lr_max, value, title)


class DescentDemo(FigureDemo):
    """Gradient descent (torch.optim.SGD) on a 2-D surface of helpers.surfaces.SURFACES.

    Controls: surface, learning rate (log scale), steps, momentum, decay (per step). Left: the path over the
    loss contours; right: the gap to the lowest loss per step (log scale). ``runs`` caches every Descent.
    """

    def __init__(self, surface="ill-conditioned quadratic", learning_rate=0.03, steps=60, momentum=0.0, decay=1.0):
        # The surfaces keep their English names: they are the names descend() takes and the notebooks quote.
        self.surface = widgets.Dropdown(options=list(SURFACES), value=surface, description=_("surface"),
                                        layout={"width": "290px"})
        self.learning_rate = log_slider(_("learning rate"), 1e-4, 1.0, learning_rate, readout_format=".2e")
        self.steps = slider(widgets.IntSlider, _("steps"), steps, 5, 300, 5)
        self.momentum = slider(widgets.FloatSlider, _("momentum"), momentum, 0.0, 0.99, 0.01)
        self.decay = slider(widgets.FloatSlider, _("decay / step"), decay, 0.9, 1.0, 0.002, readout_format=".3f")
        self.runs = {}
        self.caption = widgets.HTML()  # what the chosen surface is (its formula and shape)
        super().__init__(_("Gradient descent on a loss surface"),
                         [self.surface, self.learning_rate, self.steps, self.momentum, self.decay],
                         figsize=(11, 4.2), css_class="lr-descent",
                         margins={"left": 0.06, "right": 0.98, "bottom": 0.12, "top": 0.92, "wspace": 0.25},
                         caption=self.caption)
        self.redraw()

    def run(self):
        """The Descent for the current settings (computed once per setting)."""
        key = (self.surface.value, float(f"{self.learning_rate.value:.6g}"), self.steps.value,
               round(self.momentum.value, 4), round(self.decay.value, 4))
        if key not in self.runs:
            self.runs[key] = descend(key[0], key[1], steps=key[2], momentum=key[3], decay=key[4])
        return self.runs[key]

    def draw(self):
        surface, run = SURFACES[self.surface.value], self.run()
        self.caption.value = f"<i>{html.escape(str(surface.note))}</i>"
        ax_path, ax_loss = self.figure.subplots(1, 2, width_ratios=[1.25, 1])
        X, Y, Z = surface.grid
        gap = Z - surface.minimum
        levels = surface.minimum + np.geomspace(max(gap.max() * 1e-4, 1e-3), gap.max(), 14)
        ax_path.contour(X, Y, Z, levels=levels, cmap="viridis", linewidths=0.8)
        ax_path.plot(run.path[:, 0], run.path[:, 1], "o-", color="tab:red", markersize=2.5, linewidth=1)
        ax_path.plot(*run.path[0], "s", color="black", label=_("start"))
        ax_path.plot(*run.path[-1], "*", color="tab:red", markersize=12, label=_("end"))
        x_min, x_max, y_min, y_max = surface.extent
        ax_path.set(xlim=(x_min, x_max), ylim=(y_min, y_max), xlabel="$w_1$", ylabel="$w_2$",
                    title=_("{surface}: {verdict}").format(surface=surface.name, verdict=verdict_name(run.verdict)))
        ax_path.legend(loc="lower right", fontsize="small")
        if run.diverged_at is not None:
            _message(ax_path, _("DIVERGED at step {step}").format(step=run.diverged_at), "tab:red")
        lr, momentum, decay = f"{self.learning_rate.value:.2e}", f"{self.momentum.value:.2f}", f"{self.decay.value:.3f}"
        _draw_losses(ax_loss, np.maximum(run.losses - surface.minimum, 1e-16), run.diverged_at, "step",
                     _("loss − lowest loss"),
                     _("lr {lr}, momentum {momentum}, decay {decay}").format(lr=lr, momentum=momentum, decay=decay))
        ax_loss.set_xlim(0, run.steps)
        return _("{surface} | lr {lr} | {steps} steps | momentum {momentum} | decay {decay} | {description}").format(
            surface=surface.name, lr=lr, steps=self.steps.value, momentum=momentum, decay=decay,
            description=run.describe())


def descent_demo(surface="ill-conditioned quadratic", learning_rate=0.03, steps=60, momentum=0.0, decay=1.0):
    """Build a DescentDemo starting at these settings (the surface is a name in helpers.surfaces.SURFACES)."""
    return DescentDemo(surface, learning_rate, steps, momentum, decay)


_toy_data = functools.cache(toy_2d_data)  # each 2-D data set drawn once per kernel


class ToyNetDemo(FigureDemo):
    """A two-layer net on 2-D data, trained by ``net_class(2, hidden, C, std=std).train(...)``.

    net_class: the assignment's ``TwoLayerNet`` (or anything with its constructor, ``train`` and
    ``predict``); data: a name in helpers.data.TOY_2D_SETS (a data-set control is shown) or a dict as
    ``toy_2d_data`` returns. Every run starts from the same seed, so only the moved setting changes.
    Controls: learning rate, decay (per epoch), regularisation, hidden size. Left: the decision boundary
    over the training points; middle: the training loss; right: training and validation accuracy.
    ``runs`` caches (stats, final accuracies, boundary predictions, error) per setting.
    """

    HIDDEN_SIZES = (2, 4, 8, 16, 32, 64, 128, 256)

    def __init__(self, net_class=LibraryTwoLayerNet, data="spirals", num_iters=300, batch_size=50, std=1.0,
                 learning_rate=0.3, learning_rate_decay=0.99, reg=1e-3, hidden_size=64, seed=0):
        self.net_class, self.num_iters, self.batch_size, self.std, self.seed = \
            net_class, num_iters, batch_size, std, seed
        self.learning_rate = log_slider(_("learning rate"), 1e-3, 1e2, learning_rate)
        self.decay = slider(widgets.FloatSlider, _("decay / epoch"), learning_rate_decay, 0.8, 1.0, 0.01)
        self.reg = log_slider(_("regularisation"), 1e-6, 1.0, reg)
        self.hidden_size = widgets.SelectionSlider(options=self.HIDDEN_SIZES, value=hidden_size,
                                                   continuous_update=False, description=_("hidden size"),
                                                   style=SLIDER_STYLE, layout={"width": "330px"})
        controls = [self.learning_rate, self.decay, self.reg, self.hidden_size]
        if isinstance(data, str):
            # The data sets keep their English names: they are the names toy_net_demo(data=...) takes.
            self.data_set = widgets.Dropdown(options=TOY_2D_SETS, value=data, description=_("data"),
                                             layout={"width": "200px"})
            controls.insert(0, self.data_set)
            self._given = None
        else:
            self.data_set, self._given = None, data
        self.runs = {}
        super().__init__(_("A two-layer net on 2-D data"), controls, figsize=(12, 3.9), css_class="lr-toy-net",
                         margins={"left": 0.05, "right": 0.98, "bottom": 0.13, "top": 0.91, "wspace": 0.3})
        self.redraw()

    @property
    def data(self):
        """The current data set (dict of X_train, y_train, X_val, y_val, class_names)."""
        return self._given if self.data_set is None else _toy_data(self.data_set.value)

    def settings(self):
        """The training settings the sliders show, rounded as the cache keys them."""
        return {"learning_rate": float(f"{self.learning_rate.value:.6g}"),
                "learning_rate_decay": round(self.decay.value, 4), "reg": float(f"{self.reg.value:.6g}"),
                "hidden_size": self.hidden_size.value}

    def run(self):
        """Train once per setting; return the cached record (a dict)."""
        settings = self.settings()
        key = (self.data_set and self.data_set.value, *settings.values())
        if key not in self.runs:
            self.runs[key] = self._train(**settings)
        return self.runs[key]

    def _train(self, learning_rate, learning_rate_decay, reg, hidden_size):
        data = self.data
        num_classes = len(data["class_names"])
        reset_seed(self.seed)
        try:
            net = self.net_class(2, hidden_size, num_classes, std=self.std)
            stats = net.train(data["X_train"], data["y_train"], data["X_val"], data["y_val"],
                              learning_rate=learning_rate, learning_rate_decay=learning_rate_decay, reg=reg,
                              num_iters=self.num_iters, batch_size=self.batch_size)
            losses = [float(loss) for loss in stats["loss_history"]]
            with torch.no_grad():
                accuracy = {split: float((net.predict(data[f"X_{split}"]).cpu() == data[f"y_{split}"]).float().mean())
                            for split in ("train", "val")}
        except Exception as error:  # noqa: BLE001 - the student's code: show the error, keep the widget alive
            return {"error": error}
        return {"net": net, "losses": losses, "accuracy": accuracy,
                "train_acc": [float(a) for a in stats["train_acc_history"]],
                "val_acc": [float(a) for a in stats["val_acc_history"]]}

    def draw(self):
        data, record = self.data, self.run()
        ax_data, ax_loss, ax_acc = self.figure.subplots(1, 3, width_ratios=[1, 1.2, 1.2])
        setting = _("lr {lr} | decay {decay} | reg {reg} | hidden {hidden}").format(
            lr=f"{self.learning_rate.value:.1e}", decay=f"{self.decay.value:.2f}", reg=f"{self.reg.value:.1e}",
            hidden=self.hidden_size.value)
        if "error" in record:
            _message(ax_loss, _failure(record["error"]), "red")
            return f"{setting} | {_failure(record['error'])}"
        losses, accuracy = record["losses"], record["accuracy"]
        diverged_at = divergence_point(losses)
        chance = 1 / len(data["class_names"])
        if diverged_at is not None:
            verdict, short = divergence_message(losses, diverged_at, "iteration"), _("diverged")
            plot_decision_boundary(None, data["X_train"], data["y_train"], title=_("no boundary: training diverged"),
                                   ax=ax_data)
            _message(ax_data, _("DIVERGED"), "tab:red")
        else:
            verdict = short = _("at chance level") if accuracy["val"] <= chance + 0.05 else _("learning")
            plot_decision_boundary(record["net"].predict, data["X_train"], data["y_train"], resolution=60,
                                   title=_("decision boundary (val acc {value})").format(
                                       value=f"{accuracy['val']:.1%}"), ax=ax_data)
        _draw_losses(ax_loss, losses, diverged_at, "iteration", _("training loss"),
                     _("loss: {verdict}").format(verdict=short))
        epochs = np.arange(1, len(record["train_acc"]) + 1)
        style = ".-" if len(epochs) < 20 else "-"
        ax_acc.plot(epochs, record["train_acc"], style, label=_("train (batch)"))
        ax_acc.plot(epochs, record["val_acc"], style, label=_("validation"))
        ax_acc.axhline(chance, color="grey", linestyle=":", label=_("chance"))
        ax_acc.set(ylim=(0, 1.02), xlabel=_("epoch"), ylabel=_("accuracy"), title=_("accuracy per epoch"))
        ax_acc.legend(loc="lower right", fontsize="small")
        final = "nan" if not math.isfinite(losses[-1]) else f"{losses[-1]:.4g}"
        return _("{setting} | final loss {loss} | train accuracy {train} | validation accuracy {validation} | "
                 "{verdict}").format(setting=setting, loss=final, train=f"{accuracy['train']:.1%}",
                                     validation=f"{accuracy['val']:.1%}", verdict=verdict)


def toy_net_demo(net_class=LibraryTwoLayerNet, data="spirals", num_iters=300, batch_size=50, std=1.0, **settings):
    """Build a ToyNetDemo training ``net_class`` (default: helpers.library_net.LibraryTwoLayerNet).

    settings: starting learning_rate, learning_rate_decay, reg, hidden_size and seed.
    """
    return ToyNetDemo(net_class, data, num_iters, batch_size, std, **settings)
