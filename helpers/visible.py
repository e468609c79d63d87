"""Visible checks: the verdicts a notebook prints after each function, recorded for the self-check.

A check cell runs inside ``with visible_check("nn_forward_pass"):``. Each `report_check` / `report_match` in it
prints a verdict and records it. A function that still raises NotImplementedError (the stub) makes the cell print
"nn_forward_pass is not implemented yet: ..." instead of a traceback, and the cell finishes, so a notebook runs
from the top before every function is written. `summary()` gives each check's outcome: `python -m helpers.submit`
reads it after rerunning the notebook.
"""
import contextlib
import sys

from helpers.i18n import _

PASS, FAIL, NOT_IMPLEMENTED, ERROR, NO_VERDICT = "pass", "fail", "not implemented", "error", "no verdict"
WORST_FIRST = (ERROR, NOT_IMPLEMENTED, FAIL, NO_VERDICT, PASS)

_records = []  # one dict per visible check run in this kernel, in order
_active = []   # the check whose cell is running (a stack, so nested checks attribute verdicts correctly)


@contextlib.contextmanager
def visible_check(name):
    """Run a visible check of function `name`: record its verdicts; report an unwritten function plainly."""
    record = {"check": name, "status": NO_VERDICT, "verdicts": []}
    _records.append(record)
    _active.append(record)
    try:
        yield record
    except NotImplementedError as error:
        record["status"] = NOT_IMPLEMENTED
        print(not_implemented_message(error, name))
        return
    except BaseException as error:
        record["status"], record["error"] = ERROR, f"{type(error).__name__}: {error}"
        raise
    finally:
        _active.remove(record)
    if record["verdicts"]:
        record["status"] = PASS if all(v["passed"] for v in record["verdicts"]) else FAIL


def recorded():
    """Every visible check run so far, in order: [{"check", "status", "verdicts"[, "error"]}]."""
    return [dict(r) for r in _records]


def summary():
    """{check name: its worst status over every cell that ran it}: a function with two check cells (the loss, then
    the gradients) passes only when both do. Meant for a fresh run, where each cell runs once."""
    worst = {}
    for record in _records:
        previous = worst.get(record["check"], PASS)
        worst[record["check"]] = min(previous, record["status"], key=WORST_FIRST.index)
    return worst


def report_check(label, value, tolerance):
    """Print a visible check's measured value with a plain verdict; return True when it passes.

    ``report_check('W1 max relative error', 3e-9, 1e-6)`` prints
    ``W1 max relative error: 3.00e-09  ->  pass``.
    """
    passed = bool(value <= tolerance)  # False for NaN
    verdict = _("pass") if passed else _("look again (should be at most {tolerance})").format(
        tolerance=f"{tolerance:.0e}")
    print(_("{label}: {value}  ->  {verdict}").format(label=label, value=f"{value:.2e}", verdict=verdict))
    _record(label, passed)
    return passed


def report_match(label, value, expected):
    """Print a visible check's value beside the correct one with a plain verdict; return True when they are equal.

    ``report_match('Trainable parameters', 1539, 1539)`` prints
    ``Trainable parameters: 1539 (correct: 1539)  ->  pass``.
    """
    passed = bool(value == expected)
    verdict = _("pass") if passed else _("look again")
    print(_("{label}: {value} (correct: {expected})  ->  {verdict}").format(label=label, value=value, expected=expected,
                                                                           verdict=verdict))
    _record(label, passed)
    return passed


def _record(label, passed):
    if _active:
        _active[-1]["verdicts"].append({"label": label, "passed": passed})


def loss_before_gradients(loss_function, *args, **kwargs):
    """The loss `loss_function(*args, **kwargs)` computes, even while its gradient block still raises.

    A finished nn_forward_backward returns (loss, grads), and the loss is taken from that. One whose gradient block
    is still the stub has computed its local variable `loss` before raising NotImplementedError: the loss is read
    from where the error stopped it. When the loss itself is not written yet, the NotImplementedError goes on (the
    check cell reports it plainly).
    """
    try:
        return loss_function(*args, **kwargs)[0]
    except NotImplementedError as error:
        tb = error.__traceback__
        while tb is not None and tb.tb_frame.f_code is not loss_function.__code__:
            tb = tb.tb_next
        loss = None if tb is None else tb.tb_frame.f_locals.get("loss")
        if loss is None:
            raise
        return loss


def not_implemented_message(error, fallback="this function"):
    """'nn_train is not implemented yet: ...', naming the function that raised `error` (the innermost frame)."""
    tb = error.__traceback__
    name = fallback
    while tb is not None:
        if tb.tb_frame.f_code.co_name != "<module>":
            name = tb.tb_frame.f_code.co_qualname
        tb = tb.tb_next
    detail = f" ({error})" if str(error) else ""
    return _("{name} is not implemented yet{detail}: write it where its cell says YOUR CODE HERE, run that cell, "
             "then run this one again.").format(name=name, detail=detail)


def _show_not_implemented(shell, etype, value, tb, tb_offset=None):
    """IPython's handler for NotImplementedError: one plain line instead of a traceback through the helpers.

    IPython does not show what a custom handler returns when the error comes from running a cell, so the handler
    shows it (as an error output: the cell still fails, and Run All stops there)."""
    short = [f"NotImplementedError: {not_implemented_message(value)}"]
    shell._showtraceback(etype, value, short)
    return short


def install_notebook_hooks():
    """In a Jupyter/IPython kernel, show an unwritten function's NotImplementedError as one plain line."""
    if "IPython" not in sys.modules:  # not running under IPython: nothing to install
        return
    shell = sys.modules["IPython"].get_ipython()
    if shell is not None:
        shell.set_custom_exc((NotImplementedError,), _show_not_implemented)
