"""What the screen says against what the grade says: each catalogued mistake's visible-check verdict beside its
hidden test's.

A notebook's visible checks are its cells that run ``with visible_check("<function>"):`` (or
``"<function> and <function>"``); they name the functions they check. A mistake in a function must make at least one
of that function's check cells fail (or stop with an error), on every sampling order: a student who sees "pass" keeps
the points. A mistake the visible checks cannot see with the data a student has says why in its `visible_blind`
(autograder.mistakes.Mutant); `table()` lists both kinds, and the conformance suite keeps the table true.

Each check cell runs on its own (a fresh namespace holding only the set-up cell and the answers), as it must for a
student who reruns it after fixing a function.
"""
import contextlib
import io
import re

from autograder.notebooks import MAGIC, cells_by_grade_id, exec_definitions, source_text

VISIBLE_CHECK = re.compile(r'^with visible_check\("([^"]+)"\):', re.M)


def check_cells(nb):
    """[(grade_id, names of the functions it checks, code)] of every visible-check cell, in notebook order."""
    found = []
    for grade_id, cell in cells_by_grade_id(nb).items():
        match = VISIBLE_CHECK.search(source_text(cell.source)) if cell.cell_type == "code" else None
        if match:
            found.append((grade_id, tuple(re.split(r",\s*|\s+and\s+", match.group(1))), source_text(cell.source)))
    return found


def cells_checking(nb, function):
    """The grade_ids of the visible-check cells that check `function`."""
    return [grade_id for grade_id, names, _ in check_cells(nb) if function in names]


def visible_status(nb, answers, function, order=0):
    """The verdict a student sees for `function` when the notebook's answers are `answers`: "pass" only when every
    check cell of `function` passes. `order` shifts every seed the cells set (0: the notebook's own draws), so that
    a check can be run on other sampling orders. Returns (status, {cell: status or the error it stopped with})."""
    import torch

    from helpers import utils, visible

    namespace = exec_definitions(nb, answers)
    namespace["reset_seed"] = lambda seed=0: utils.reset_seed(seed + order)
    # Figures are not verdicts: the plotting helpers the cells call draw nothing here.
    for name, value in list(namespace.items()):
        if callable(value) and getattr(value, "__module__", None) == "helpers.vis":
            namespace[name] = _draw_nothing
    namespace["display"] = _draw_nothing
    by_cell = {}
    for grade_id, names, code in check_cells(nb):
        if function not in names:
            continue
        utils.reset_seed(order)
        first = len(visible.recorded())
        try:
            with contextlib.redirect_stdout(io.StringIO()), torch.random.fork_rng():
                exec(compile(MAGIC.sub("", code), f"<{grade_id}>", "exec"), namespace)
            statuses = [record["status"] for record in visible.recorded()[first:]]
            by_cell[grade_id] = min(statuses, key=visible.WORST_FIRST.index) if statuses else visible.NO_VERDICT
        except Exception as error:  # noqa: BLE001 - the student's code may raise anything: the cell shows an error
            by_cell[grade_id] = f"error: {type(error).__name__}: {str(error)[:120]}"
        finally:
            _close_figures()
    if not by_cell:
        return "no visible check", by_cell
    return ("pass" if all(status == visible.PASS for status in by_cell.values()) else "fail"), by_cell


def _draw_nothing(*args, **kwargs):
    return None


def _close_figures():
    import matplotlib.pyplot as plt
    plt.close("all")


def orders(assignment):
    """How many sampling orders the conformance suite runs an assignment's visible checks on: its manifest's
    [conformance] visible_orders (default 3)."""
    return assignment.manifest.conformance.visible_orders


def table(assignments):
    """The agreement table in Markdown: one row per catalogued mistake of each assignment (registry.Assignment),
    its part, what the hidden test does (loses points in that part on every seed of the conformance suite), and what
    its visible check does on the assignment's `orders` (the conformance suite checks both claims)."""
    rows = ["| assignment | mistake | graded part | hidden test | visible check |", "| --- | --- | --- | --- | --- |"]
    for found in assignments:
        seeds = found.manifest.conformance.seeds
        for mutant in found.mutants:
            visible = (f"fails, {orders(found)} of {orders(found)} sampling orders" if not mutant.visible_blind
                       else f"**passes**: {mutant.visible_blind}")
            rows.append(f"| {found.name} | `{mutant.name}` | {mutant.part} | loses points, {seeds} of {seeds} seeds "
                        f"| {visible} |")
    return "\n".join(rows)
