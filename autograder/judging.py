"""What every part check shares: weighted results, case seeding, tensor comparison and diagnosis.

A part check (`Check`, one per code part in an assignment's checks.py) is three steps kept apart so that student
code and judging never have to share a process: `draw(rng)` draws hidden inputs, a function of the assignment's
harness runs the student's code on them and returns plain data only, and `judge(cases, outputs, seed)` compares
with the reference and diagnoses.
autograder.registry.CodePart chains the three in one process for nbgrader's hidden-test cells.
"""
import random
import secrets
from dataclasses import dataclass, field
from typing import Callable

import torch

from autograder.harness.i18n import _
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
        lines = [_("{part}: {percent}% (hidden cases, seed {seed})").format(
            part=self.part, percent=f"{100 * self.fraction:.0f}", seed=self.seed)]
        for s in self.subchecks:
            verdict = _("pass") if s.passed else _("FAIL")
            lines.append(f"  [{verdict}] {s.name}" + ("" if s.passed else f": {s.detail}"))
        return "\n".join(lines)

    def award(self, points):
        """Print the summary and return the points earned (nbgrader reads the cell's value as partial
        credit); raise AssertionError with the diagnoses when nothing is earned."""
        print(self.summary())
        if self.fraction == 0:
            raise AssertionError(f"{self.part}: " + " | ".join(self.diagnoses or [_("no sub-check passed")]))
        return round(points * self.fraction, 4)


def add_all(report, name, weight, results):
    """One sub-check that passes only when every case passed; its detail is the first failure.

    `results` holds one (passed, detail) pair per hidden case."""
    failures = [detail for ok, detail in results if not ok]
    report.add(name, weight, bool(results) and not failures, failures[0] if failures else "")


class SubChecks:
    """A part's weighted sub-checks judged case by case, then added to its Report as one sub-check each that passes
    only when every case passed (`add_all`).

    `subchecks` maps a key to (name, weight), in report order; `add(key, (passed, detail))` records one case;
    `fail(detail, keys)` fails every sub-check (or those `keys`) for a case whose run gave nothing to judge (the
    student's code raised, or returned something unusable)."""

    def __init__(self, subchecks):
        self.subchecks = dict(subchecks)
        self.results: dict[str, list[tuple[bool, str]]] = {key: [] for key in self.subchecks}

    def add(self, key, result):
        self.results[key].append(result)

    def fail(self, detail, keys=None):
        for key in self.subchecks if keys is None else keys:
            self.results[key].append((False, detail))

    def into(self, report):
        """Add every sub-check to `report` and return it."""
        for key, (name, weight) in self.subchecks.items():
            add_all(report, name, weight, self.results[key])
        return report


def new_rng(seed=None):
    """A fresh random.Random and its seed (drawn from the OS unless given, so cases differ per run)."""
    seed = secrets.randbits(31) if seed is None else seed
    return random.Random(seed), seed


@dataclass(frozen=True)
class Check:
    """How one code part is graded: `draw(rng) -> cases` (plain data), `run(*student_objects, cases) -> outputs`
    (plain data; a function of the assignment's harness, so the sandbox can call it by name) and
    `judge(cases, outputs, seed) -> Report`."""
    draw: Callable
    run: Callable
    judge: Callable


def torch_gen(rng):
    """A torch CPU generator seeded from `rng`: reference cases are drawn on the CPU, then moved."""
    return torch.Generator().manual_seed(rng.randrange(2**31))


def devices():
    """Devices to test on: the CPU, and CUDA when present."""
    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


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

    `variants` maps diagnoses to what known mistakes would give, or is a function returning that map (called only
    for an output that is wrong: computing them costs reference runs); `nonfinite_hint` explains NaN/inf.
    """
    if actual.shape != expected.shape:
        return False, _("{name} has shape {shape}, expected {expected}").format(
            name=name, shape=tuple(actual.shape), expected=tuple(expected.shape))
    if not torch.isfinite(actual).all():
        return False, _("{name} contains NaN or inf{hint}").format(name=name, hint=nonfinite_hint)
    if close(actual, expected, tol):
        return True, ""
    if callable(variants):
        variants = variants()
    mistake = match_mistake(actual, variants or {}, tol)
    error = rel_error(actual, expected)
    return False, mistake or _("{name} is wrong (relative error {error}, allowed {tolerance})").format(
        name=name, error=f"{error:.1e}", tolerance=f"{tol:.0e}")
