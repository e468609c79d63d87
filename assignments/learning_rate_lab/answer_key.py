"""The learning-rate lab's answer key, measured with the lab's own demos: writes answer_key.md next to this file.

    python -m assignments.learning_rate_lab.answer_key           # (re)write answer_key.md
    python -m assignments.learning_rate_lab.answer_key --check   # exit 1 and print a diff when the file is stale

The demos are built as the lab's cells build them (the ``descent_demo(...)`` and ``toy_net_demo(...)`` calls of
source/learning_rate_lab/learning_rate_lab.ipynb; everything those calls leave out comes from helpers.widgets'
defaults) and driven through their own controls, as a student moves them. Every setting the key quotes is one its
control can take (a stop of its slider, or the value the demo opens with: ``Demo.run`` refuses any other), every
number is one a run gave or a widget defines, and every run's name is the run's own (``Descent.verdict`` and
``describe()``; for the toy net, helpers.curves' divergence test and message, which its status line uses). The
prose around the numbers is fixed text; the facts it rests on are checked (``claim``), so a change of a demo that
makes a sentence false stops the generation with a message instead of printing it.
"""
import argparse
import ast
import difflib
import math
import sys
from contextlib import contextmanager
from pathlib import Path

import ipywidgets as widgets
import numpy as np
import torch
import torch.nn.functional as F

from autograder.course_dir import COURSE_ROOT
from autograder.notebooks import read_notebook
from helpers import i18n, surfaces
from helpers import widgets as demos
from helpers.curves import divergence_message, divergence_point
from helpers.data import toy_2d_data

KEY = Path(__file__).with_name("answer_key.md")
LAB = COURSE_ROOT / "source" / "learning_rate_lab" / "learning_rate_lab.ipynb"
COMMAND = "python -m assignments.learning_rate_lab.answer_key"
BUILDERS = {"descent_demo": demos.descent_demo, "toy_net_demo": demos.toy_net_demo}

#: Values the lab's questions name (each is checked against its control like any other setting).
QUESTION_MOMENTUM = 0.9                  # part 1, question 3
QUESTION_REG = (1e-6, 1e-1)              # part 2, question 4
QUESTION_HIDDEN = (2, 256)               # part 2, question 5
QUESTION_SURFACES = ("ill-conditioned quadratic", "two valleys", "banana valley")
QUESTION_DATA = ("spirals", "moons")

#: The key's own yardsticks (stated in the prose where they are used).
REACHED = 1e-3          # part 1, question 6: the minimum counts as reached once the loss is this close to it
LATE = 50               # part 2: "the end of a run" is its last LATE iterations
NEAR_BEST = 0.02        # part 2, question 5: a rate "works" when its validation accuracy is this close to the best
FOLLOWS = 0.90          # part 2, question 1: the boundary follows the arms while validation accuracy is at least this
SCIENTIFIC = {"reg"}    # controls whose values the key writes in powers of ten


class StaleProse(AssertionError):
    """A fact the key's fixed prose rests on no longer holds for the demos as they are."""


def claim(condition, fact):
    if not condition:
        raise StaleProse(f"the answer key's prose says that {fact}, which the demos no longer show: rewrite that "
                         f"sentence in {Path(__file__).name}")


# ----------------------------------------------------------------------------------------------- the lab's demos

def lab_calls(path=LAB):
    """{builder name: (source text of the call, positional arguments, keyword arguments)} for each demo the lab's
    code cells build (literal arguments only)."""
    calls = {}
    for cell in read_notebook(path).cells:
        if cell.cell_type != "code":
            continue
        source = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in BUILDERS:
                calls[node.func.id] = (ast.get_source_segment(source, node),
                                       [ast.literal_eval(arg) for arg in node.args],
                                       {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords})
    missing = sorted(set(BUILDERS) - set(calls))
    if missing:
        raise LookupError(f"{path.name} builds no {', '.join(missing)}: the key has nothing to measure")
    return calls


def stops(control):
    """Every value a student can move ``control`` to, in order. A log slider moves in steps of its exponent; its
    values are rounded to 6 significant digits, as the demos round them for their caches."""
    if isinstance(control, widgets.FloatLogSlider):
        count = round((control.max - control.min) / control.step)
        return [float(f"{control.base ** (control.min + k * control.step):.6g}") for k in range(count + 1)]
    if isinstance(control, (widgets.IntSlider, widgets.FloatSlider)):
        count = round((control.max - control.min) / control.step)
        kind = int if isinstance(control, widgets.IntSlider) else float
        return [kind(round(control.min + k * control.step, 10)) for k in range(count + 1)]
    return list(control.options)


def significant(value, digits=3):
    """``value`` to ``digits`` significant digits, exponents without padding: 0.0794, 3.16, 1e-6, 3.16e-5."""
    text = f"{value:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def scientific(value, digits=3):
    """``value`` in powers of ten to ``digits`` significant digits: 1e-6, 3.16e-5, 1e-1."""
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def same(a, b):
    return a == b if not isinstance(a, float) else math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


class Demo:
    """One of the lab's demos, built as its cell builds it and driven through its controls as a student drives them.

    ``controls``: {attribute name: control} of the demo's row of controls; ``opening``: their values when the demo
    opens. ``run(**settings)`` moves the named controls (the others back to their opening values) and returns the
    demo's own run (a helpers.surfaces.Descent, or the toy-net demo's record) without drawing the figure. A value
    its control cannot take raises ValueError. ``quote(name, value)`` writes a setting as the key shows it and
    records it in ``quoted``.
    """

    def __init__(self, builder, call, args=(), kwargs=None, **overrides):
        self.builder, self.call = builder, call
        self.widget = BUILDERS[builder](*args, **{**(kwargs or {}), **overrides})
        self.widget.redraw = lambda: None  # the controls' observers redraw; measuring needs no figure
        self.controls = {name: value for name, value in vars(self.widget).items()
                         if any(value is control for control in self.widget.controls)}
        self.opening = {name: control.value for name, control in self.controls.items()}
        self.quoted = {name: {} for name in self.controls}  # control: {value: as written}

    def stops(self, name):
        return stops(self.controls[name])

    def settable(self, name, value):
        """Whether a student can set control ``name`` to ``value``: one of its stops, or its opening value."""
        return same(value, self.opening[name]) or any(same(value, stop) for stop in self.stops(name))

    def run(self, **settings):
        unknown = sorted(set(settings) - set(self.controls))
        if unknown:
            raise TypeError(f"{self.builder} has no control {', '.join(unknown)}")
        for name, control in self.controls.items():
            value = settings.get(name, self.opening[name])
            if not self.settable(name, value):
                raise ValueError(f"{self.builder}: its {control.description!r} control cannot be set to {value!r}; "
                                 f"its values: {self.range_text(name)}")
            control.value = value
            if not same(control.value, value):
                raise ValueError(f"{self.builder}: {control.description!r} took {control.value!r}, not {value!r}")
        return self.widget.run()

    def text(self, name, value):
        """``value`` of control ``name`` as the key writes it."""
        control = self.controls[name]
        if isinstance(control, widgets.FloatLogSlider):
            return scientific(value) if name in SCIENTIFIC else significant(value)
        if isinstance(control, widgets.FloatSlider):
            decimals = max(len(f"{control.step:g}".partition(".")[2]), 1)
            whole, _, fraction = f"{value:.{decimals}f}".partition(".")
            return f"{whole}.{fraction.rstrip('0') or '0'}"
        return str(value)

    def quote(self, name, value):
        """``value`` as the key writes it, recorded as a setting the key asks for (it must be settable)."""
        if not self.settable(name, value):
            raise ValueError(f"{self.builder}: the key quotes {value!r} for {self.controls[name].description!r}, "
                             f"which it cannot take ({self.range_text(name)})")
        written = self.text(name, value)
        self.quoted[name].setdefault(value, written)
        return written

    def range_text(self, name):
        """What values control ``name`` offers, in words."""
        control = self.controls[name]
        if isinstance(control, widgets.FloatLogSlider):
            return (f"{significant(control.base ** control.min)} to {significant(control.base ** control.max)}, "
                    f"log scale, {control.step:g} of a decade per stop")
        if isinstance(control, (widgets.IntSlider, widgets.FloatSlider)):
            return (f"{self.text(name, control.min)} to {self.text(name, control.max)} by "
                    f"{self.text(name, control.step) if isinstance(control, widgets.FloatSlider) else control.step}")
        return ", ".join(str(option) for option in control.options)


def build_demos():
    """The lab's two demos, as its cells build them: {'descent_demo': Demo, 'toy_net_demo': Demo}."""
    return {builder: Demo(builder, *call) for builder, call in lab_calls().items()}


@contextmanager
def one_thread():
    """Train on one CPU thread: the toy runs are tiny, several times faster so, and the same on every machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# ----------------------------------------------------------------------------------------------- small helpers

def spans(values, labels):
    """[(label, first value, last value)] for each stretch of equal labels along ``values``."""
    out = []
    for value, label in zip(values, labels):
        if out and out[-1][0] == label:
            out[-1][2] = value
        else:
            out.append([label, value, value])
    return [tuple(span) for span in out]


def stretch(quote, first, last):
    return f"at {quote(first)}" if first == last else f"from {quote(first)} to {quote(last)}"


def said(run):
    """A descent's status words (Descent.describe()), without the lowest-possible-loss aside."""
    return f"`{run.describe().split(' (lowest possible')[0]}`"


def brief(run):
    """A descent's verdict with its telling number, from the run itself."""
    if run.verdict == "diverged":
        return f"*diverged* at step {run.diverged_at}"
    if run.verdict in ("crawling", "bouncing"):
        return f"*{run.verdict}*, {1 - run.gap_left:.0%} of the way down"
    return f"*{run.verdict}*, loss {run.losses[-1]:.4g}"


def pct(value):
    return f"{value:.1%}"


def curvatures(surface, point):
    """The Hessian's eigenvalues (ascending, to 9 significant digits) of ``surface`` at ``point``."""
    hessian = torch.autograd.functional.hessian(surface.func, torch.tensor(point, dtype=torch.float64))
    return [float(f"{value:.9g}") for value in np.linalg.eigvalsh(hessian.numpy())]


def g(value):
    """A derived number (not a setting), to 3 significant digits."""
    return significant(value)


# ----------------------------------------------------------------------------------------------- part 1

def part_1(demo):
    q = demo.quote
    lr = lambda value: q("learning_rate", value)  # noqa: E731 - a short name for the most quoted control
    steps = demo.opening["steps"]
    rates = demo.stops("learning_rate")
    quadratic, valleys, banana = (surfaces.SURFACES[name] for name in QUESTION_SURFACES)
    claim(demo.opening["surface"] == quadratic.name and demo.opening["momentum"] == 0
          and demo.opening["decay"] == 1, "the surface demo opens on the quadratic, without momentum or decay")
    out = ["## Part 1: gradient descent on a loss surface", ""]

    # 1. Verdicts and the divergence boundary.
    runs = {rate: demo.run(learning_rate=rate) for rate in rates}
    groups = spans(rates, [runs[rate].verdict for rate in rates])
    claim([group[0] for group in groups] == ["crawling", "converging", "bouncing", "diverged"],
          "over the learning-rate stops the verdicts run crawling, converging, bouncing, diverged")
    (_, _, last_crawl), (_, first_conv, last_conv), (_, first_bounce, last_bounce), (_, first_div, _) = groups
    flat, steep = curvatures(quadratic, quadratic.start)
    claim(flat == 1, "the quadratic's flat direction has curvature 1 (a step multiplies x by 1 − η)")
    limit, flip = 2 / steep, 1 / steep
    claim(last_bounce <= limit < first_div, "bouncing turns into diverged at 2 / the steepest curvature")
    flipping = [rate for rate in rates if flip < rate < limit]
    claim(flipping and flipping[-1] == last_conv and all(runs[rate].verdict == "converging" for rate in flipping) and
          all(np.all(np.diff(np.sign(runs[rate].path[:4, 1])) != 0) for rate in flipping),
          "between 1/curvature and 2/curvature y flips sign every step and the runs below the limit converge")
    edge = runs[last_bounce]
    second_div = rates[rates.index(first_div) + 1]
    out.append(
        f"**1. Verdicts and the divergence boundary.** On the ill-conditioned quadratic 0.5 (x² + {g(steep)} y²), at "
        f"the demo's {q('steps', steps)} steps, the learning-rate stops give: *crawling* up to {lr(last_crawl)} "
        f"({said(runs[last_crawl])}), *converging* {stretch(lr, first_conv, last_conv)}, *bouncing* "
        f"{stretch(lr, first_bounce, last_bounce)} ({said(edge)}), *diverged* from {lr(first_div)} "
        f"({said(runs[first_div])}; at {lr(second_div)} already at step {runs[second_div].diverged_at}). So "
        f"*bouncing* turns into *diverged* between {lr(last_bounce)} and {lr(first_div)}, as predicted: a step "
        f"multiplies y by 1 − {g(steep)}η, and the run diverges once |1 − {g(steep)}η| > 1, i.e. η > "
        f"2/{g(steep)} = {g(limit)}. At {lr(last_bounce)} the factor is {g(1 - steep * last_bounce)}: y jumps "
        f"between {g(edge.path[-2, 1])} and {g(edge.path[-1, 1])} for ever while x still shrinks. From {g(flip)} "
        f"to {g(limit)} the factor is negative too, so y changes sign every step, but it shrinks (by "
        f"{g(abs(1 - steep * last_conv))} per step at {lr(last_conv)}): after a few steps only x moves, "
        f"few of the {steps} steps turn back ({runs[last_conv].reversals:.0%} at {lr(last_conv)}; *bouncing* "
        f"needs more than {surfaces.BOUNCING_REVERSALS:.0%}), and the status line says *converging*.")
    out.append("")

    # 2. Bouncing and crawling at once.
    best = runs[last_conv]
    x_factor, y_factor = best.path[1] / best.path[0]
    claim(y_factor < 0 < x_factor < 1, "at the largest converging stop y flips sign and x shrinks every step")
    fast = min(rates, key=lambda rate: abs(rate - 1 / flat))
    claim(runs[fast].verdict == "diverged", "a rate fast along the valley's floor diverges")
    out.append(
        f"**2. Bouncing and crawling at once.** At {lr(last_conv)}, the largest stop still *converging*, each step "
        f"multiplies y by {g(y_factor)} (1 − {g(steep)}η: it flips sign every step, bouncing across the valley while "
        f"it shrinks) and x by {g(x_factor)} (1 − η: it crawls along the valley's floor). y shrinks ten-fold in "
        f"{math.log(0.1) / math.log(abs(y_factor)):.1f} steps, x in {math.log(0.1) / math.log(x_factor):.0f}: after "
        f"{steps} steps x is at {g(best.path[-1, 0])} (it started at {g(best.path[0, 0])}), y at "
        f"{g(best.path[-1, 1])}. The rate that would be fastest along x, {lr(fast)} (1 − η = {g(1 - flat * fast)}: "
        f"x would reach 0 in one step), multiplies y by {g(1 - steep * fast)}: {said(runs[fast])}. A rate safe "
        f"across the valley (below {g(limit)}) is slow "
        f"along it: the ratio of the two curvatures ({g(steep / flat)}, the condition number) decides how slow.")
    out.append("")

    # 3. Momentum.
    beta = QUESTION_MOMENTUM
    above = [rate for rate in rates if rate >= first_div]
    heavy = {rate: demo.run(learning_rate=rate, momentum=beta) for rate in above}
    heavy_groups = spans(above, [heavy[rate].verdict == "diverged" for rate in above])
    claim(len(heavy_groups) == 2 and not heavy_groups[0][0],
          "with momentum the first stops above the limit stop diverging, the larger ones still diverge")
    rescued, still = [rate for rate in above if heavy[rate].verdict != "diverged"], heavy_groups[1][1]
    heavy_limit = 2 * (1 + beta) / steep
    claim(rescued[-1] < heavy_limit < still, "momentum moves the limit to 2(1 + β)/curvature")
    slow = rates[rates.index(last_crawl) - 10]
    pushed = demo.run(learning_rate=slow, momentum=beta)
    tenfold = min(rates, key=lambda rate: abs(rate - slow / (1 - beta)))
    claim(1 - pushed.gap_left > 1 - runs[slow].gap_left, "momentum speeds up a crawling run")
    swinging = demo.run(learning_rate=last_conv, momentum=beta)
    claim(swinging.losses[-1] > best.losses[-1], "momentum leaves a converging run further from the minimum")
    out.append(
        f"**3. Momentum {q('momentum', beta)}.** Rates that diverged without momentum now reach the minimum, up to "
        f"a limit: "
        + ", ".join(f"{lr(rate)} gives {said(heavy[rate])}" for rate in rescued)
        + f"; from {lr(still)} the run still diverges ({said(heavy[still])}). Momentum β raises the limit from "
        f"2/{g(steep)} = {g(limit)} to 2(1 + β)/{g(steep)} = {g(heavy_limit)}. The path overshoots and swings "
        f"around the minimum like a heavy ball: the velocity it has built up carries it past the bottom, so even a "
        f"rate that converged without momentum ends further away ({lr(last_conv)}: loss {swinging.losses[-1]:.4g} "
        f"after {steps} steps, against {best.losses[-1]:.4g} without). The swings across the valley cancel while "
        f"the steady gradient along it adds up: at {lr(slow)} momentum takes the run {1 - pushed.gap_left:.0%} of "
        f"the way down ({1 - runs[slow].gap_left:.0%} without), about as far as plain descent at {lr(tenfold)} "
        f"({1 - runs[tenfold].gap_left:.0%}), the rate times 1/(1 − β).")
    out.append("")

    # 4. Decay.
    decays = demo.stops("decay")
    lowest = decays[0]
    saved = {rate: [d for d in decays if demo.run(learning_rate=rate, decay=d).verdict != "diverged"]
             for rate in above[:2]}
    first, second = above[:2]
    claim(saved[first] and not saved[second] and saved[first] == decays[:len(saved[first])],
          "decay rescues the first stop above the limit (from the lowest decay up to some value), not the second")
    rescue_high = saved[first][-1]
    fails_from = decays[len(saved[first])]
    gentle = demo.run(learning_rate=first, decay=lowest)
    sharp = demo.run(learning_rate=first, decay=rescue_high)
    failing = demo.run(learning_rate=first, decay=fails_from)
    too_late = demo.run(learning_rate=second, decay=lowest)
    needed = math.ceil(math.log(limit / second) / math.log(lowest))
    claim(too_late.diverged_at < needed, "the second stop blows up before decay brings its rate under the limit")
    opening = demo.opening["learning_rate"]
    shown = decays[::-10]
    shown = shown if shown[-1] == lowest else [*shown, lowest]
    paid = {d: demo.run(learning_rate=opening, decay=d) for d in shown}
    claim(paid[shown[0]].losses[-1] < min(paid[d].losses[-1] for d in shown[1:]) and
          paid[lowest].verdict == "crawling", "decay costs a run that starts well, down to crawling")
    out.append(
        f"**4. Decay.** Only just. {lr(first)}, the first stop that diverges ({said(runs[first])} without decay), "
        f"converges with every decay from {q('decay', lowest)} (the slider's lowest) to {q('decay', rescue_high)}: "
        f"{said(gentle)} and {said(sharp)}, because the rate falls under {g(limit)} before y has grown much; from "
        f"{q('decay', fails_from)} it still diverges ({said(failing)}). From {lr(second)} on, no decay the slider "
        f"offers rescues the run: at {lr(second)} with decay {q('decay', lowest)} it diverges at step "
        f"{too_late.diverged_at}, while its rate needs {needed} steps to fall under {g(limit)}. Decay cannot undo "
        f"growth that has already happened; it can only pull a rate that is a little too large under the limit "
        f"in time. A run that starts well pays for decay: at the opening {lr(opening)}, "
        + "; ".join(f"decay {q('decay', d)} gives {brief(paid[d])}" for d in shown)
        + f". With decay d the rates of a whole run add up to less than η/(1 − d) ({g(opening / (1 - lowest))} at "
        f"{q('decay', lowest)}), too little to travel down the valley's floor: too strong a decay stops a run "
        f"before it arrives.")
    out.append("")

    # 5. Two valleys.
    xs = torch.linspace(valleys.extent[0], valleys.extent[1], 2001, dtype=torch.float64)
    floor = valleys(torch.stack([xs, torch.zeros_like(xs)], dim=-1)).numpy()
    peaks = [i for i in range(1, len(xs) - 1) if floor[i - 1] < floor[i] > floor[i + 1]]
    claim(len(peaks) == 1 and floor[:peaks[0]].min() < floor[peaks[0]:].min() and valleys.start[0] > xs[peaks[0]],
          "two valleys: a ridge, the deeper valley on the left, the start on the right")
    ridge = float(xs[peaks[0]])
    plain = {rate: demo.run(surface=valleys.name, learning_rate=rate) for rate in rates}
    swung = {rate: demo.run(surface=valleys.name, learning_rate=rate, momentum=beta) for rate in rates}

    def where(run):
        return "diverged" if run.verdict == "diverged" else ("left" if run.path[-1, 0] < ridge else "right")

    at_opening = demo.run(surface=valleys.name)
    stuck = [rate for rate in rates if plain[rate].verdict == "stuck"]
    claim(stuck and stuck == rates[rates.index(stuck[0]):rates.index(stuck[-1]) + 1]
          and all(where(plain[rate]) == "right" for rate in rates if rate <= stuck[-1])
          and where(at_opening) == "right" and at_opening.verdict == "crawling",
          "plain descent ends in the right valley at every stop up to the stuck ones, and stops there (stuck)")
    jumps = spans([r for r in rates if r > stuck[-1]], [where(plain[r]) for r in rates if r > stuck[-1]])
    claim([span[0] for span in jumps] == ["left", "diverged"], "larger rates overshoot into the left valley, "
          "then diverge")
    carried = spans(rates, [where(swung[rate]) for rate in rates])
    claim([span[0] for span in carried] == ["right", "left", "right", "diverged"],
          "momentum carries a middle range of rates into the left valley")
    resting = plain[stuck[0]]
    patience = next((n for n in demo.stops("steps") if demo.run(surface=valleys.name, steps=n).verdict == "stuck"),
                    None)
    claim(patience, "at the opening rate, more steps make the run stuck")
    bottom = demo.run(surface=valleys.name, learning_rate=carried[1][1], momentum=beta,
                      steps=demo.stops("steps")[-1])
    claim(bottom.verdict == "converging" and where(bottom) == "left", "a long momentum run settles in the left valley")
    example_rate = min(rates[rates.index(carried[1][1]):rates.index(carried[1][2]) + 1],
                       key=lambda rate: abs(rate - opening))
    out.append(
        f"**5. Two valleys.** From the start ({g(valleys.start[0])}, {g(valleys.start[1])}), plain gradient descent "
        f"ends in the right, shallow valley. At the opening {lr(opening)} it is still sliding down into it after "
        f"{steps} steps ({said(at_opening)}), and stuck from {q('steps', patience)} steps; at {steps} steps, "
        f"{stretch(lr, stuck[0], stuck[-1])} it is {said(resting)}, at "
        f"x = {g(resting.path[-1, 0])}: the gradient there has fallen to "
        f"{g(resting.gradient_norms[-1] / resting.gradient_norms[0])} of its size at the start (the status line "
        f"calls a run stuck below {g(surfaces.STATIONARY_GRADIENT)}), so the point no longer moves, although the "
        f"left valley is deeper (loss {valleys.minimum:.4g} at x = {g(bottom.path[-1, 0])}, against "
        f"{resting.losses[-1]:.4g}). Gradient descent only follows the local slope, and at the bottom of a valley "
        f"the slope is zero. (Much larger rates, {stretch(lr, jumps[0][1], jumps[0][2])}, overshoot the ridge in "
        f"their first steps and end in the left valley ({said(plain[jumps[0][1]])} at {lr(jumps[0][1])}): not by "
        f"following the slope but by leaping; from "
        f"{lr(jumps[1][1])} they diverge.) Momentum {q('momentum', beta)} carries the point over the ridge into "
        f"the left valley at every stop {stretch(lr, carried[1][1], carried[1][2])} ({said(swung[example_rate])} "
        f"at {lr(example_rate)}); "
        f"with a smaller rate (up to {lr(carried[0][2])}) the velocity it builds is too small to climb the ridge, "
        f"{stretch(lr, carried[2][1], carried[2][2])} it swings back to the right, and from {lr(carried[3][1])} "
        f"it diverges.")
    out.append("")

    # 6. Banana valley.
    most = demo.stops("steps")[-1]
    long_steps = 10 * most
    at_opening = demo.run(surface=banana.name)
    claim(at_opening.verdict == "diverged", "the opening rate diverges on the banana valley")
    bent = {rate: demo.run(surface=banana.name, learning_rate=rate, steps=most) for rate in rates}
    bent_groups = spans(rates, [bent[rate].verdict for rate in rates])
    claim([span[0] for span in bent_groups] == ["crawling", "converging", "bouncing", "diverged"],
          f"on the banana valley at {most} steps the verdicts run crawling, converging, bouncing, diverged")
    (_, _, crawl_top), (_, conv_low, conv_top), (_, bounce_low, bounce_top), (_, bent_div, _) = bent_groups
    near = bent[conv_top]
    claim(near.losses[-1] - near.minimum > REACHED, f"no converging stop reaches the minimum within {most} steps")
    lasting = {rate: surfaces.descend(banana.name, rate, steps=long_steps) for rate in (conv_top, conv_low)}
    took = {}
    for rate, run in lasting.items():
        gap = run.losses - run.minimum
        claim(run.verdict == "converging" and (gap < REACHED).any(), f"{long_steps} steps reach the minimum")
        took[rate] = int(np.argmax(gap < REACHED))
    restless = surfaces.descend(banana.name, bounce_top, steps=long_steps)
    touched = np.flatnonzero(restless.losses - restless.minimum < REACHED)
    claim(restless.verdict == "bouncing" and restless.losses[-1] - restless.minimum > REACHED and len(touched)
          and touched[0] <= most, "the bouncing stop comes near the minimum within the slider's steps, and leaves it")
    target = lasting[conv_top].path[-1]
    along, across = curvatures(banana, target)
    claim(conv_top < 2 / across < bent_div, "on the banana the stability limit sits at 2/steepest curvature")
    factor = 1 - conv_top * along
    out.append(
        f"**6. Banana valley.** At the opening {lr(opening)} the run diverges ({said(at_opening)}). With the "
        f"steps at the slider's {q('steps', most)}: *crawling* up to {lr(crawl_top)}, *converging* "
        f"{stretch(lr, conv_low, conv_top)}, *bouncing* {stretch(lr, bounce_low, bounce_top)}, *diverged* from "
        f"{lr(bent_div)}. No stop that converges reaches ({g(target[0])}, {g(target[1])}) within {most} steps: the "
        f"largest, {lr(conv_top)}, ends at ({g(near.path[-1, 0])}, {g(near.path[-1, 1])}), {said(near)}. A "
        f"cell shows how many it takes, e.g. `descend(\"{banana.name}\", {significant(conv_top)}, "
        f"steps={long_steps})`: counting the minimum as reached once the loss is within {g(REACHED)} of it, "
        f"{took[conv_top]} steps at {significant(conv_top)} and {took[conv_low]} at {significant(conv_low)}. "
        f"{lr(bounce_top)} gets that close sooner, at step {touched[0]}, but it bounces from wall to wall and does "
        f"not stay ({said(bent[bounce_top])}; after {long_steps} steps its loss is {restless.losses[-1]:.3g}). At the "
        f"minimum the surface curves {g(across)} across the valley and {g(along)} along it: a rate must stay below "
        f"2/{g(across)} = {g(2 / across)} (just under {lr(bounce_top)}, which bounces; the walls are steeper still "
        f"where the run starts, so {lr(bent_div)} diverges), and at {lr(conv_top)} each step then shrinks the "
        f"distance left along the floor only by a factor 1 − {g(along)}η = {factor:.4f}, "
        f"{math.log(0.1) / math.log(factor):.0f} steps per ten-fold. The steep walls limit the rate, as in question "
        f"1, while along the curved floor the gradient is small.")
    out.append("")
    return out


# ----------------------------------------------------------------------------------------------- part 2

def dead_units(record, X):
    """How many hidden ReLUs are negative for every point of X."""
    params = record["net"].params
    with torch.no_grad():
        return int((~((X @ params["W1"] + params["b1"]) > 0).any(dim=0)).sum())


def loss_parts(record, data, reg):
    """(data loss on the whole training set, regularisation term) of a trained net."""
    net = record["net"]
    with torch.no_grad():
        data_loss = float(F.cross_entropy(net.scores(data["X_train"]), data["y_train"]))
        penalty = reg * float(net.params["W1"].square().sum() + net.params["W2"].square().sum())
    return data_loss, penalty


def part_2(demo, calls):
    q = demo.quote
    lr = lambda value: q("learning_rate", value)  # noqa: E731
    toy = demo.widget
    opening = demo.opening
    rates = demo.stops("learning_rate")
    claim(opening["data_set"] == QUESTION_DATA[0], "the toy-net demo opens on the spirals")

    def train(**settings):
        record = demo.run(**settings)
        claim("error" not in record, f"the library net trains ({record.get('error')!r})")
        return record

    def val(record):
        return record["accuracy"]["val"]

    def diverged(record):
        return divergence_point(record["losses"]) is not None

    def late(record, offset=0):
        losses = record["losses"]
        return float(np.mean(losses[len(losses) - LATE * (offset + 1):len(losses) - LATE * offset]))

    spirals = {rate: train(learning_rate=rate) for rate in rates}
    base = train()
    data = toy.data
    classes = len(data["class_names"])
    out = ["## Part 2: a two-layer network on 2-D points", ""]

    # 1. Small rates.
    below = [rate for rate in rates if rate < opening["learning_rate"]][::-1]
    half_decades = [rate for rate in below if abs(math.log10(rate) * 2 - round(math.log10(rate) * 2)) < 1e-6]
    gives_up = next((rate for rate in below if round(val(spirals[rate]), 3) < FOLLOWS), None)
    claim(gives_up is not None and val(base) >= FOLLOWS, f"small rates fall under {FOLLOWS:.0%} validation accuracy")
    small = next(rate for rate in below if rate < gives_up and abs(math.log10(rate) - round(math.log10(rate))) < 1e-6)
    small_run = spirals[small]
    longer = Demo("toy_net_demo", *calls["toy_net_demo"][:2],
                  {**calls["toy_net_demo"][2], "learning_rate": small}, num_iters=10 * toy.num_iters)
    long_run = longer.widget.run()
    claim(late(small_run) < late(small_run, 1) and val(long_run) > val(small_run),
          "a small rate's loss is still falling at the end, and more iterations get further")
    epochs = len(long_run["val_acc"])
    out.append(
        f"**1. Small rates.** Going down from the opening {lr(opening['learning_rate'])} (validation accuracy "
        f"{pct(val(base))}), the validation accuracy after {toy.num_iters} iterations is "
        + ", ".join(f"{pct(val(spirals[rate]))} at {lr(rate)}" for rate in half_decades)
        + f". The first stop under {FOLLOWS:.0%}, {lr(gives_up)} ({pct(val(spirals[gives_up]))}), is about where "
        f"the boundary stops following the arms. The network is not wrong, only unfinished: at {lr(small)} its "
        f"loss is still falling at the end (its mean falls from {late(small_run, 1):.3f} to {late(small_run):.3f} "
        f"between the last two stretches of {LATE} iterations), and ten times the iterations, "
        f"`toy_net_demo(learning_rate={significant(small)}, num_iters={10 * toy.num_iters})` in a cell, reach "
        f"{pct(val(long_run))}, close to the opening rate's {pct(val(base))} (by then the decay of "
        f"{q('decay', opening['decay'])} per epoch, over {epochs} epochs, has shrunk the rate to "
        f"{g(small * opening['decay'] ** epochs)}).")
    out.append("")

    # 2. Divergence and dead ReLUs.
    above = [rate for rate in rates if rate > opening["learning_rate"]]
    first_div = next(rate for rate in above if diverged(spirals[rate]))
    chance = 1 / classes
    hidden = opening["hidden_size"]
    dead_from = next(rate for rate in above if dead_units(spirals[rate], data["X_train"]) == hidden)
    blown = [rate for rate in above if rate >= dead_from]
    claim(all(diverged(spirals[rate]) and math.isclose(val(spirals[rate]), chance, abs_tol=1e-6)
              and dead_units(spirals[rate], data["X_train"]) == hidden for rate in blown),
          "every stop from the first with all units dead diverges to chance")
    decade = next(rate for rate in blown if abs(math.log10(rate) - round(math.log10(rate))) < 1e-6)
    shown = sorted({dead_from, decade})
    parts = {rate: loss_parts(spirals[rate], data, opening["reg"]) for rate in shown}
    with torch.no_grad():
        odds = F.softmax(spirals[decade]["net"].params["b2"], dim=0).tolist()
    claim(all(late(spirals[rate]) > math.log(classes) and parts[rate][0] > math.log(classes)
              and parts[rate][1] < 0.1 * (parts[rate][0] - math.log(classes)) for rate in shown)
          and max(odds) - min(odds) > 0.1,
          "after divergence the loss stays above ln C because b2 is unequal, not because of the regularisation")
    first_record = spirals[first_div]
    dead_at_opening = dead_units(base, data["X_train"])
    out.append(
        f"**2. Divergence and dead ReLUs.** The first stop that diverges is {lr(first_div)} "
        f"(`{divergence_message(first_record['losses'], divergence_point(first_record['losses']))}`; "
        f"{dead_units(first_record, data['X_train'])} of the {hidden} hidden units end dead, validation accuracy "
        f"{pct(val(first_record))}). From {lr(dead_from)} on, every unit ends dead and the accuracy is "
        f"{pct(chance)}, chance for {classes} classes; the loss settles a little above ln {classes} ≈ "
        f"{math.log(classes):.3f} (mean over the last {LATE} iterations: "
        + ", ".join(f"{late(spirals[rate]):.3f} at {lr(rate)}" for rate in shown)
        + f"). ln {classes} is the loss of a network that gives every class the same score, and that is what is "
        f"left: the huge steps pushed every hidden unit to a negative input for every point (against "
        f"{dead_at_opening} dead unit{'s' if dead_at_opening != 1 else ''} at the opening rate). A dead ReLU passes "
        f"no gradient, so it never recovers, and the scores are the constant b2, the same for every point. Only b2 "
        f"still learns, and at such a rate each minibatch's mix of classes throws it about, so the scores are "
        f"never quite equal: at {lr(decade)} the net ends giving every point the class probabilities "
        f"{', '.join(f'{p:.2f}' for p in odds)} (loss {parts[decade][0]:.3f} over the whole training set). The "
        f"regularisation adds little ({parts[decade][1]:.2g}): the dead units' weights get no gradient but its "
        f"pull, and shrink.")
    out.append("")

    # 3. Decay at a large rate.
    decays = demo.stops("decay")
    undecayed = {rate: train(learning_rate=rate, decay=decays[-1]) for rate in above if rate < first_div}
    steady = [rate for rate, record in undecayed.items() if not diverged(record) and val(record) > chance + 0.05]
    claim(steady, "some stops above the opening rate learn without decay")
    big = steady[-1]
    chosen = sorted({*decays[::-5], opening["decay"]}, reverse=True)
    settled = {d: train(learning_rate=big, decay=d) for d in chosen}
    no_decay = settled[decays[-1]]
    best_decay = max(chosen, key=lambda d: val(settled[d]))

    def spread(record):
        tail = record["losses"][-LATE:]
        return max(tail) - min(tail)

    def jumps(record):
        tail = record["losses"][-LATE:]
        return f"from {min(tail):.3f} to {max(tail):.3f}"

    calm = [d for d in chosen[1:] if spread(settled[d]) < spread(no_decay) / 2]
    claim(calm and calm == chosen[chosen.index(calm[0]):] and best_decay in calm and best_decay != decays[0]
          and val(settled[decays[0]]) < val(settled[best_decay]) and val(no_decay) < val(settled[best_decay]),
          "decay from some value down settles the curve, and a moderate decay does best")
    restless = [d for d in chosen[1:] if d not in calm]
    tied = [d for d in chosen if round(val(settled[d]), 3) == round(val(settled[best_decay]), 3)]
    epochs = len(no_decay["val_acc"])

    def result(d):
        return (f"{q('decay', d)}: loss {settled[d]['losses'][-1]:.4g}, {pct(val(settled[d]))}, over the last "
                f"{LATE} {jumps(settled[d])}")

    out.append(
        f"**3. Decay at a large rate.** At {lr(big)}, the largest stop that still learns without decay: with decay "
        f"{q('decay', decays[-1])} the loss ends at {no_decay['losses'][-1]:.4g} and the validation accuracy at "
        f"{pct(val(no_decay))}, and over the last {LATE} iterations the loss still jumps {jumps(no_decay)}. "
        + (f"A slight decay does not calm it yet ({'; '.join(result(d) for d in restless)}); from "
           f"{q('decay', calm[0])} down the curve settles: " if restless else "Lowering the decay settles the curve: ")
        + "; ".join(result(d) for d in calm)
        + f". The best {'is' if len(tied) == 1 else 'are'} {' and '.join(q('decay', d) for d in tied)}"
        f"{'' if len(tied) == 1 else f' (both {pct(val(settled[best_decay]))})'}; at {q('decay', decays[0])} the "
        f"rate has shrunk to "
        f"{g(big * decays[0] ** 10)} after 10 epochs and {g(big * decays[0] ** epochs)} after all {epochs}: it "
        f"stops too soon. A large rate with moderate decay makes fast progress first and then settles.")
    out.append("")

    # 4. Regularisation.
    low, high = QUESTION_REG
    regs = [reg for reg in demo.stops("reg") if low * (1 - 1e-9) <= reg <= high * (1 + 1e-9)
            and abs(math.log10(reg) - round(math.log10(reg))) < 1e-6]
    claim(regs and same(regs[0], low) and same(regs[-1], high), "the question's regularisations are stops")
    penalised = {reg: train(reg=reg) for reg in regs}

    def gap(reg):
        record = penalised[reg]
        return record["accuracy"]["train"] - record["accuracy"]["val"]

    def weight(reg):
        params = penalised[reg]["net"].params
        with torch.no_grad():
            return float(params["W1"].square().sum() + params["W2"].square().sum())

    with torch.no_grad():
        predicted = len(torch.unique(penalised[regs[-1]]["net"].predict(data["X_val"])))
    mild = [reg for reg in regs if reg <= opening["reg"]]
    claim(max(gap(reg) for reg in regs) < 0.06 and predicted == 1 and val(penalised[regs[-1]]) <= chance + 1e-6,
          "the train/validation gap stays small, and the strongest regularisation predicts one class")
    out.append(
        f"**4. Regularisation.** From {q('reg', low)} to {q('reg', high)} (training / validation accuracy): "
        + ", ".join(f"{q('reg', reg)}: {pct(penalised[reg]['accuracy']['train'])} / {pct(val(penalised[reg]))}"
                    for reg in regs)
        + f". The boundary goes from tight arms to smoother, coarser ones and finally to none: at {q('reg', high)} "
        f"the net predicts one class for every point, as the penalty outweighs the data and the weights shrink "
        f"(ΣW1² + ΣW2² falls from {g(weight(regs[0]))} at {q('reg', regs[0])} to {g(weight(regs[-1]))}). The gap "
        f"between training and validation accuracy stays small at every setting (at most "
        f"{max(gap(reg) for reg in mild) * 100:.1f} points up to {q('reg', mild[-1])}, "
        + ", ".join(f"{gap(reg) * 100:.1f} at {q('reg', reg)}" for reg in regs if reg > opening["reg"])
        + f"): {toy.num_iters} iterations do not overfit these points much, so here regularisation mainly smooths "
        f"the boundary and, when too strong, lowers both accuracies together: underfitting.")
    out.append("")

    # 5. Hidden size.
    sizes = sorted({*QUESTION_HIDDEN, hidden})
    swept = {size: spirals if size == hidden else {rate: train(learning_rate=rate, hidden_size=size) for rate in rates}
             for size in sizes}
    best = {size: max(rates, key=lambda rate: val(swept[size][rate])) for size in sizes}
    working = {size: [rate for rate in rates if val(swept[size][rate]) >= val(swept[size][best[size]]) - NEAR_BEST]
               for size in sizes}
    narrow, wide = sizes[0], sizes[-1]
    claim(len({best[size] for size in sizes}) == len(sizes), "the best rate differs between hidden sizes")
    claim(val(swept[narrow][best[narrow]]) < 0.6 and val(swept[wide][best[wide]]) > val(swept[hidden][best[hidden]]),
          "two units stay poor at every rate and the widest net does best")
    claim(working[wide] == rates[rates.index(working[wide][0]):rates.index(working[wide][-1]) + 1]
          and all(len(working[wide]) > len(working[size]) for size in sizes if size != wide),
          "the widest net's good rates form one stretch, the longest")
    wide_parts = loss_parts(swept[wide][best[wide]], data, opening["reg"])
    span = [f(val(swept[wide][rate]) for rate in working[wide]) for f in (min, max)]
    out.append(
        f"**5. Hidden size.** With {q('hidden_size', narrow)} hidden units no rate works well: the best validation "
        f"accuracy over all the stops is {pct(val(swept[narrow][best[narrow]]))}, at {lr(best[narrow])} (two ReLUs "
        f"cannot carve three spiral arms). With {q('hidden_size', wide)} units every stop "
        f"{stretch(lr, working[wide][0], working[wide][-1])} reaches {pct(span[0])}–{pct(span[1])} "
        f"validation accuracy (within {NEAR_BEST * 100:.0f} points of its best, {pct(val(swept[wide][best[wide]]))} "
        f"at {lr(best[wide])}). The best rate is not the same for every size: "
        + ", ".join(f"{q('hidden_size', size)} units do best at {lr(best[size])} ({pct(val(swept[size][best[size]]))},"
                    f" {len(working[size])} stops within {NEAR_BEST * 100:.0f} points of it)" for size in sizes)
        + f". The wider net learns well across the widest range; its loss is mostly the regularisation of "
        f"{wide} units' weights (at {lr(best[wide])}: {wide_parts[1]:.3g} of "
        f"{swept[wide][best[wide]]['losses'][-1]:.4g}).")
    out.append("")

    # 6. Moons.
    moons = {rate: train(data_set=QUESTION_DATA[1], learning_rate=rate) for rate in rates}
    moon_div = next(rate for rate in rates if diverged(moons[rate]))
    learning = [rate for rate in rates if rate < moon_div]
    moon_chance = 1 / len(toy_2d_data(QUESTION_DATA[1])["class_names"])
    at_chance = next((rate for rate in rates if rate >= moon_div and
                      math.isclose(val(moons[rate]), moon_chance, abs_tol=1e-6)), None)
    claim(all(val(moons[rate]) > 0.8 for rate in learning) and at_chance and
          all(diverged(moons[rate]) and math.isclose(val(moons[rate]), moon_chance, abs_tol=1e-6)
              for rate in rates if rate >= at_chance),
          "on moons every stop below the divergence learns, and divergence ends at chance")
    retried = [("hidden_size", narrow), ("reg", regs[-2]), ("learning_rate", rates[0])]
    again = {name: (train(data_set=QUESTION_DATA[1], **{name: value}), train(**{name: value}))
             for name, value in retried}
    claim(all(val(moon) > val(spiral) + 0.1 for moon, spiral in again.values()),
          "settings that fail on spirals work on moons")
    out.append(
        f"**6. Moons.** Every stop {stretch(lr, learning[0], learning[-1])} learns "
        f"({pct(min(val(moons[rate]) for rate in learning))} to {pct(max(val(moons[rate]) for rate in learning))} "
        f"validation accuracy), and from {lr(moon_div)} the run diverges ("
        + (f"{', '.join(f'{pct(val(moons[r]))} at {lr(r)}' for r in rates if moon_div <= r < at_chance)}; "
           if at_chance > moon_div else "")
        + f"from {lr(at_chance)} on {pct(moon_chance)}, chance for {round(1 / moon_chance)} classes). Settings "
        f"that failed on spirals work here: "
        + ", ".join(f"{demo.controls[name].description} {q(name, value)} gives {pct(val(again[name][0]))} "
                    f"(spirals: {pct(val(again[name][1]))})" for name, value in retried)
        + ". Two half-moons need one bent boundary, which a few ReLUs draw; three interleaved spirals need many "
        "turns, so more units, a good rate and more iterations.")
    out.append("")
    return out


# ----------------------------------------------------------------------------------------------- the key

def opening_text(demo):
    """The demo's cell, what it opens with (controls and fixed settings) and what its controls offer."""
    widget = demo.widget
    fixed = ""
    if demo.builder == "toy_net_demo":
        fixed = (f"; it trains `{widget.net_class.__module__}.{widget.net_class.__name__}`, {widget.num_iters} "
                 f"iterations of {widget.batch_size} points, weights std {widget.std:g}, seed {widget.seed}")
    controls = "; ".join(f"*{control.description}* {demo.text(name, demo.opening[name])} "
                         f"({demo.range_text(name)})" for name, control in demo.controls.items())
    return f"- `{demo.call}`{fixed}. Opens with: {controls}."


def quoted_text(demo):
    def written(name):
        values, options = demo.quoted[name], getattr(demo.controls[name], "options", None)
        return [values[v] for v in sorted(values, key=(lambda v: list(options).index(v)) if options else None)]

    return (f"- `{demo.builder}`: "
            + "; ".join(f"*{demo.controls[name].description}* {', '.join(written(name))}"
                        for name, values in demo.quoted.items() if values) + ".")


def stops_text(lab):
    """How the log sliders' stops look (the surface demo's learning rates in the decade of its opening value), and
    which opening values lie between stops."""
    demo = lab["descent_demo"]
    opening = demo.opening["learning_rate"]
    decade = 10.0 ** math.floor(math.log10(opening))
    rates = [rate for rate in demo.stops("learning_rate") if decade * (1 - 1e-9) <= rate <= 10 * decade * (1 + 1e-9)]
    between = [f"{demo.text(name, value)} ({demo.controls[name].description}, `{demo.builder}`)"
               for demo in lab.values() for name, value in demo.opening.items()
               if not any(same(value, stop) for stop in demo.stops(name))]
    return (f"A log slider moves by tenths of a decade, so a student can set only its stops, e.g. the learning "
            f"rates {', '.join(demo.text('learning_rate', rate) for rate in rates)} (quoted here to 3 digits; its "
            f"readout shows {demo.text('learning_rate', rates[1])} as "
            f"{format(rates[1], demo.controls['learning_rate'].readout_format)}), or the value a demo opens "
            f"with, which may lie between stops (once moved away, the slider cannot return to it): "
            f"{', '.join(between) or 'none does'}. The losses of part 2 include the regularisation term. Every "
            f"setting the key quotes is one its control can take (a stop, or the opening value):")


def generate():
    """The answer key's text, measured now: in English, the key's language, whatever the course's (the demos'
    status lines and messages it quotes are the English ones)."""
    with i18n.speaking("en"):
        return _measured()


def _measured():
    with one_thread():
        calls = lab_calls()
        lab = {builder: Demo(builder, *call) for builder, call in calls.items()}
        body = part_1(lab["descent_demo"]) + part_2(lab["toy_net_demo"], calls)
    head = [
        "# Learning-rate lab: answer key (instructors only)",
        "",
        f"Generated by `{COMMAND}`: do not edit by hand. Run it again after changing the lab's demos "
        f"(`{LAB.relative_to(COURSE_ROOT)}`, `helpers.widgets`, `helpers.surfaces`, `helpers.library_net`); with "
        f"`--check` it only says whether this file is current (`tests/test_lab_answer_key.py` does the same).",
        "",
        "The lab is not graded; this key is for the lecturer and the teaching assistants. Every number below was "
        "measured by that command with the lab's own demos, built as the lab's cells build them (the rest from "
        "`helpers.widgets`' defaults) and moved through their controls; every run's name is the one its status "
        "line gives. The demos open with these settings, and their controls offer these values:",
        "",
        *(opening_text(demo) for demo in lab.values()),
        "",
        stops_text(lab),
        "",
        *(quoted_text(demo) for demo in lab.values()),
        "",
    ]
    return "\n".join(head + body).rstrip("\n") + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 and print a diff when answer_key.md is stale")
    args = parser.parse_args(argv)
    text = generate()
    if args.check:
        current = KEY.read_text() if KEY.is_file() else ""
        if current == text:
            print(f"{KEY.relative_to(COURSE_ROOT)} is current")
            return 0
        sys.stdout.writelines(difflib.unified_diff(current.splitlines(True), text.splitlines(True),
                                                   str(KEY.relative_to(COURSE_ROOT)), "measured now"))
        print(f"\n{KEY.relative_to(COURSE_ROOT)} is stale: run `{COMMAND}`")
        return 1
    KEY.write_text(text)
    print(f"wrote {KEY.relative_to(COURSE_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
