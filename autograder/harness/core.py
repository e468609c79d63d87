"""Calling untrusted student code: silenced, exceptions turned into one-line descriptions, outputs
reduced to plain tensors; the namespace a student's function runs in (names are rebound there with
helpers.spies.patched_names)."""
import contextlib
import io
import linecache
import sys
import traceback
import warnings

import numpy as np
import torch

from .hints import hint, is_student_code
from .i18n import _


class StudentError(Exception):
    """Student code raised or returned something unusable; `text` is a one-line description safe to show."""

    def __init__(self, text):
        super().__init__(text)
        self.text = text


def call_student(fn, *args, **kwargs):
    """Call student code with its printing, warnings and stderr silenced (nbgrader zeroes a test cell
    that writes to stderr). Any exception becomes a StudentError naming the exception and its line."""
    try:
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()), \
                contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)
    except StudentError:
        raise
    except Exception as error:  # noqa: BLE001 - every student failure is reported, none escapes
        raise StudentError(describe_exception(error)) from None


def compile_cell(code, filename):
    """`code` compiled as a cell named `filename` (e.g. "<nn_train>"), its source kept in linecache so that errors
    name the line that raised them and hints can read the code."""
    linecache.cache[filename] = (len(code), None, code.splitlines(keepends=True), filename)
    return compile(code, filename, "exec")


def describe_exception(error):
    """One line: the exception, its message and the student's line that raised it (the last line of the student's
    code in the traceback, else the last line), then a hint where the error has a usual cause in student code
    (autograder.harness.hints)."""
    if isinstance(error, NotImplementedError):
        return _("raised NotImplementedError: the cell still holds the stub; write your code in place of it")
    frames = list(traceback.extract_tb(error.__traceback__))
    frames = [frame for frame in frames if is_student_code(frame.filename)] or frames
    where = _(" (line {line}: {code})").format(line=frames[-1].lineno, code=frames[-1].line) \
        if frames and frames[-1].line else ""
    advice = hint(error)
    return (_("raised {error}: {message}{where}").format(error=type(error).__name__, message=str(error)[:300],
                                                        where=where)
            + (_("; hint: {hint}").format(hint=advice) if advice else ""))


def as_plain_tensor(value, name):
    """`value` as a plain, detached CPU torch.Tensor; StudentError for anything else.

    Tensor subclasses and objects that merely claim equality are refused: only real tensors are compared.
    """
    if isinstance(value, torch.nn.Parameter):
        value = value.detach()
    if type(value) is not torch.Tensor:
        raise StudentError(_("{name} should be a torch.Tensor, got {type}").format(name=name,
                                                                                  type=type(value).__name__))
    return value.detach().to("cpu", copy=True)


def plain_float(value, name):
    """A Python float from a number (numpy's scalars included: `np.mean` returns one), or a one-element tensor;
    StudentError otherwise (booleans and strings too)."""
    if type(value) in (int, float) or (isinstance(value, (np.floating, np.integer)) and type(float(value)) is float):
        return float(value)
    if torch.is_tensor(value) and value.numel() == 1:
        return float(as_plain_tensor(value, name).reshape(()).item())
    raise StudentError(_("{name} should be a number, got {type}").format(name=name, type=type(value).__name__))


def namespace_of(obj):
    """The global namespace a student function or class was defined in (a class: that of its methods)."""
    if hasattr(obj, "__globals__"):
        return obj.__globals__
    for member in vars(obj).values():
        if hasattr(member, "__globals__"):
            return member.__globals__
    return vars(sys.modules[obj.__module__])


def device_for(name):
    """The case's device when this machine has it, else the CPU (cases are portable)."""
    return name if name == "cpu" or (name.startswith("cuda") and torch.cuda.is_available()) else "cpu"
