"""What every part check shares: results, diagnoses, safe calls into student code, tensor comparison.

A part check is three steps kept apart so that student code and judging never have to share a
process: `make_cases(rng)` draws hidden inputs, `run(student, case)` calls the student's code and
returns plain data only, and `judge(case, outputs)` compares with the reference and diagnoses.
`check(...)` chains them in one process for nbgrader's hidden-test cells.
"""
import contextlib
import io
import random
import secrets
import sys
import traceback
import warnings
from dataclasses import dataclass, field

import torch

from helpers.grad import rel_error


@dataclass
class SubCheck:
    """One weighted criterion of a part, e.g. 'loss value' worth 0.3 of the part."""
    name: str
    weight: float
    passed: bool
    detail: str = ""


@dataclass
class Report:
    """The outcome of one part check: weighted sub-checks and the diagnoses a student should read."""
    part: str
    seed: int
    subchecks: list = field(default_factory=list)

    def add(self, name, weight, passed, detail=""):
        self.subchecks.append(SubCheck(name, weight, bool(passed), detail))

    @property
    def fraction(self):
        total = sum(s.weight for s in self.subchecks)
        return sum(s.weight for s in self.subchecks if s.passed) / total if total else 0.0

    @property
    def diagnoses(self):
        """Unique failure details, in order."""
        seen = []
        for s in self.subchecks:
            if not s.passed and s.detail and s.detail not in seen:
                seen.append(s.detail)
        return seen

    def summary(self):
        lines = [f"{self.part}: {100 * self.fraction:.0f}% (hidden cases, seed {self.seed})"]
        for s in self.subchecks:
            lines.append(f"  [{'pass' if s.passed else 'FAIL'}] {s.name}" + ("" if s.passed else f": {s.detail}"))
        return "\n".join(lines)

    def award(self, points):
        """Print the summary and return the points earned (nbgrader reads the cell's value as partial
        credit); raise AssertionError with the diagnoses when nothing is earned."""
        print(self.summary())
        if self.fraction == 0:
            raise AssertionError(f"{self.part}: " + " | ".join(self.diagnoses or ["no sub-check passed"]))
        return round(points * self.fraction, 4)


def new_rng(seed=None):
    """A fresh random.Random and its seed (drawn from the OS unless given, so cases differ per run)."""
    seed = secrets.randbits(31) if seed is None else seed
    return random.Random(seed), seed


def torch_gen(rng):
    """A torch CPU generator seeded from `rng`: reference cases are drawn on the CPU, then moved."""
    return torch.Generator().manual_seed(rng.randrange(2**31))


def devices():
    """Devices to test on: the CPU, and CUDA when present."""
    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


class StudentError(Exception):
    """Student code raised; `text` is a one-line description safe to show."""

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
    except Exception as error:  # noqa: BLE001 - every student failure is reported, none escapes
        raise StudentError(describe_exception(error)) from None


def describe_exception(error):
    if isinstance(error, NotImplementedError):
        return "raised NotImplementedError: the cell still holds the stub; write your code in place of it"
    frames = traceback.extract_tb(error.__traceback__)
    where = f" (line {frames[-1].lineno}: {frames[-1].line})" if frames and frames[-1].line else ""
    return f"raised {type(error).__name__}: {error}{where}"


def as_plain_tensor(value, name):
    """Return `value` as a plain, detached torch.Tensor on the CPU, or raise StudentError.

    Tensor subclasses and objects that merely claim equality are refused: only real tensors are compared.
    """
    if isinstance(value, torch.nn.Parameter):
        value = value.detach()
    if type(value) is not torch.Tensor:
        raise StudentError(f"{name} should be a torch.Tensor, got {type(value).__name__}")
    return value.detach().to("cpu", copy=True)


def close(actual, expected, tol):
    """True when shapes match and rel_error is within `tol` (no NaN/inf allowed)."""
    return (actual.shape == expected.shape and bool(torch.isfinite(actual).all())
            and rel_error(actual, expected) <= tol)


def match_mistake(actual, variants, tol):
    """Name of the first known-mistake variant that `actual` matches, else None.

    `variants` maps a diagnosis text to the tensor that mistake would produce on this case.
    """
    for diagnosis, value in variants.items():
        if value is not None and close(actual, value, tol):
            return diagnosis
    return None


def compare(actual, expected, name, tol, variants=None, nonfinite_hint=""):
    """Compare one output with its reference; returns (passed, detail) with a specific diagnosis.

    `variants` maps diagnoses to what known mistakes would give; `nonfinite_hint` explains NaN/inf.
    """
    if actual.shape != expected.shape:
        return False, f"{name} has shape {tuple(actual.shape)}, expected {tuple(expected.shape)}"
    if not torch.isfinite(actual).all():
        return False, f"{name} contains NaN or inf{nonfinite_hint}"
    if close(actual, expected, tol):
        return True, ""
    mistake = match_mistake(actual, variants or {}, tol)
    error = rel_error(actual, expected)
    return False, mistake or f"{name} is wrong (relative error {error:.1e}, allowed {tol:.0e})"


@contextlib.contextmanager
def patched_names(namespace, **replacements):
    """Temporarily bind names in the namespace student code runs in (the notebook's globals), so a
    part is tested with correct versions of the functions it calls: one mistake costs one part."""
    missing = object()
    saved = {name: namespace.get(name, missing) for name in replacements}
    namespace.update(replacements)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = value


def namespace_of(obj):
    """The global namespace a student function or class was defined in (a class: that of its methods)."""
    if hasattr(obj, "__globals__"):
        return obj.__globals__
    for member in vars(obj).values():
        if hasattr(member, "__globals__"):
            return member.__globals__
    return vars(sys.modules[obj.__module__])
