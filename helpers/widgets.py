"""Interactive learning-rate demo for the lecture notebooks.

``learning_rate_explorer(loss_curve_fn)`` shows a log-scale learning-rate
slider above a plot of the loss curve that ``loss_curve_fn(lr)`` returns for the
chosen rate. Evaluate the returned object in a cell to display it.
"""

import math

import ipywidgets as widgets
from IPython.display import display

from helpers.vis import is_diverged, plot_loss_curves


class LearningRateExplorer:
    """A learning-rate slider that redraws the loss curve it selects.

    loss_curve_fn(lr) -> (n_iters,) losses is called once per learning rate
    (rounded to 6 significant digits); results are kept in ``history``.
    """

    def __init__(self, loss_curve_fn, lr_min=1e-4, lr_max=10.0, value=1e-2,
                 title="Learning rate explorer"):
        if not 0 < lr_min <= value <= lr_max:
            raise ValueError(f"need 0 < lr_min <= value <= lr_max, got {lr_min}, {value}, {lr_max}")
        self.loss_curve_fn = loss_curve_fn
        self.lr_min, self.lr_max = lr_min, lr_max
        self.history = {}
        self.figure = None
        self.slider = widgets.FloatLogSlider(
            value=value, base=10, min=math.log10(lr_min), max=math.log10(lr_max), step=0.1,
            continuous_update=False, readout_format=".1e", description="learning rate",
            style={"description_width": "initial"}, layout={"width": "500px"})
        self.output = widgets.Output()
        self.widget = widgets.VBox([widgets.HTML(f"<b>{title}</b>"), self.slider, self.output])
        self.slider.observe(lambda change: self._show(change["new"]), names="value")
        self._show(value)

    def update(self, lr):
        """Move the slider to ``lr``, redraw, and return the Figure drawn."""
        if not self.lr_min <= lr <= self.lr_max:
            raise ValueError(f"lr={lr} is outside the slider range [{self.lr_min}, {self.lr_max}]")
        if self.slider.value == lr:
            self._show(lr)
        else:
            self.slider.value = lr  # the slider's observer redraws
        return self.figure

    def _show(self, lr):
        """Compute (or look up) the losses for ``lr`` and draw them in the output area."""
        lr = float(f"{lr:.6g}")
        if lr not in self.history:
            self.history[lr] = [float(loss) for loss in self.loss_curve_fn(lr)]
        losses = self.history[lr]
        summary = f"final loss {losses[-1]:.4g}" if losses else "no losses"
        if is_diverged(losses):
            summary += " (diverged)"
        self.figure = plot_loss_curves({f"lr = {lr:.1e}": losses},
                                       title=f"learning rate {lr:.1e}: {summary}")
        self.output.clear_output(wait=True)
        with self.output:
            display(self.figure)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def learning_rate_explorer(loss_curve_fn, lr_min=1e-4, lr_max=10.0, value=1e-2,
                           title="Learning rate explorer"):
    """Build a LearningRateExplorer; ``loss_curve_fn(lr)`` returns (n_iters,) losses."""
    return LearningRateExplorer(loss_curve_fn, lr_min, lr_max, value, title)
