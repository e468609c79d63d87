"""The learning-rate lab's answer key (assignments/learning_rate_lab/answer_key.md) is the one its generator measures
from the lab's own demos, states the demos' opening settings and ranges as the widgets define them, and asks a
student only for settings the demos' controls can take."""
import difflib
import math
import re

import ipywidgets as widgets
import pytest

from assignments.learning_rate_lab import answer_key


@pytest.fixture(scope="module")
def demos():
    """The lab's two demos, built as its cells build them."""
    with answer_key.one_thread():
        return answer_key.build_demos()


def quoted_settings(text):
    """{builder: {control description: [values as written]}} from the key's list of the settings it quotes."""
    return {builder: {name: values.rstrip(".; ").split(", ")
                      for name, values in re.findall(r"\*([^*]+)\* ([^;]+)", rest)}
            for builder, rest in re.findall(r"^- `(\w+)`: (\*.+)$", text, re.M)}


def takes(control, written, opening):
    """Whether a student can set ``control`` to the value written (to 3 significant digits for a log slider): on
    its range and on its step grid, or the value the demo opens with. Worked out from the control's own min, max,
    step, base or options, independently of the generator."""
    if hasattr(control, "options") and not isinstance(control, widgets.SelectionSlider):
        return written in control.options
    if isinstance(control, widgets.SelectionSlider):
        return written in [str(option) for option in control.options]
    value = float(written)
    if math.isclose(value, opening, rel_tol=5e-3):
        return True
    if isinstance(control, widgets.FloatLogSlider):
        position = (math.log(value, control.base) - control.min) / control.step
        on_range = control.min - 1e-3 <= math.log(value, control.base) <= control.max + 1e-3
        return on_range and abs(position - round(position)) < 0.03  # 3 digits: within 0.5% of a stop
    position = (value - control.min) / control.step
    return control.min - 1e-9 <= value <= control.max + 1e-9 and abs(position - round(position)) < 1e-6


def test_the_answer_key_is_the_one_the_lab_demos_give():
    """Regenerates the key (about 30 s on 2 cores): a change of a demo's default, range or behaviour shows here."""
    fresh, on_disk = answer_key.generate(), answer_key.KEY.read_text()
    diff = "".join(difflib.unified_diff(on_disk.splitlines(True), fresh.splitlines(True), "answer_key.md on disk",
                                        "measured now", n=0))
    assert fresh == on_disk, f"the lab's answer key is stale: run `{answer_key.COMMAND}`\n{diff[:4000]}"


def test_the_key_states_the_demos_opening_settings_and_ranges(demos):
    key = answer_key.KEY.read_text()
    for demo in demos.values():
        assert answer_key.opening_text(demo) in key, f"rerun `{answer_key.COMMAND}`: the key misstates {demo.call}"
    surface, toy = demos["descent_demo"].widget, demos["toy_net_demo"].widget
    assert f"*steps* {surface.steps.value} ({surface.steps.min} to {surface.steps.max} by {surface.steps.step})" in key
    assert f"{toy.num_iters} iterations of {toy.batch_size} points, weights std {toy.std:g}, seed {toy.seed}" in key


def test_every_setting_the_key_quotes_is_one_its_control_can_take(demos):
    quoted = quoted_settings(answer_key.KEY.read_text())
    assert set(quoted) == set(demos)
    for builder, controls in quoted.items():
        demo = demos[builder]
        by_description = {control.description: name for name, control in demo.controls.items()}
        assert set(controls) <= set(by_description), (builder, controls)
        for description, values in controls.items():
            name = by_description[description]
            control, opening = demo.controls[name], demo.opening[name]
            wrong = [v for v in values if not takes(control, v, opening if isinstance(opening, float) else math.nan)]
            assert not wrong, f"{builder}: {description!r} cannot take {wrong} (its range: {demo.range_text(name)})"
    assert quoted["descent_demo"]["decay / step"] and quoted["toy_net_demo"]["regularisation"]


def test_the_generator_refuses_a_setting_no_student_can_make(demos):
    surface = demos["descent_demo"]
    assert 0.1 in surface.stops("learning_rate") and 0.125893 in surface.stops("learning_rate")
    for name, value in [("learning_rate", 0.099), ("learning_rate", 0.101), ("decay", 0.8), ("steps", 1000),
                        ("momentum", 0.905)]:
        assert not surface.settable(name, value)
        with pytest.raises(ValueError, match="cannot"):
            surface.run(**{name: value})
        with pytest.raises(ValueError, match="cannot"):
            surface.quote(name, value)
    assert surface.settable("learning_rate", surface.opening["learning_rate"])  # 0.03 opens the demo, off the stops
    toy = demos["toy_net_demo"]
    assert toy.settable("hidden_size", 256) and not toy.settable("hidden_size", 100)
    assert toy.text("reg", 1e-6) == "1e-6" and surface.text("learning_rate", 0.0794328) == "0.0794"


def test_takes_rejects_values_off_the_sliders(demos):
    surface = demos["descent_demo"].controls
    assert takes(surface["learning_rate"], "0.0794", math.nan) and takes(surface["decay"], "0.958", math.nan)
    assert not takes(surface["learning_rate"], "0.099", math.nan)
    assert not takes(surface["learning_rate"], "0.101", math.nan)
    assert not takes(surface["decay"], "0.8", math.nan) and not takes(surface["decay"], "0.959", math.nan)
    assert takes(surface["learning_rate"], "0.03", 0.03)
