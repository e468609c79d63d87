"""What the homework the kit follows did: its figures, from `assignments/homework.toml`, the one list of them.

One table per notebook (`[two_layer_net]`, `[transfer_learning]`); each figure is a sub-table with `value` (a
number), `unit` ("%", "px", "epochs", "" for a plain number, ...) and `what` (what it is and where in the homework it
appears). A notebook table's plain keys are words (its data set, framework, what its text lists), read by facts().
tests/test_notebook_prose.py checks that the notebooks quote the homework with these numbers and no others.

    >>> figures("two_layer_net")["best_test_accuracy"]
    Figure(value=55.12, unit='%', what='test accuracy of the winning setting (hyper-parameter search)')
"""
import tomllib
from dataclasses import dataclass

from autograder.registry import COURSE_ROOT

HOMEWORK_FILE = COURSE_ROOT / "assignments" / "homework.toml"


class HomeworkError(ValueError):
    """A homework file that cannot be used as written: the message names the file and what is wrong."""


@dataclass(frozen=True)
class Figure:
    """One figure of the homework: `value` (int or float) in `unit`, and `what` it is (and where it appears)."""
    value: float
    unit: str
    what: str


def read(path=HOMEWORK_FILE):
    """The whole file: {notebook: table}, as TOML reads it."""
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as error:
        raise HomeworkError(f"{path} is not valid TOML: {error}") from None


def _table(assignment, path):
    tables = read(path)
    if assignment not in tables:
        raise HomeworkError(f"{path} has no table [{assignment}] (its tables: {', '.join(tables) or 'none'})")
    return tables[assignment]


def figures(assignment, path=HOMEWORK_FILE):
    """{name: Figure} of the homework's figures for the notebook of `assignment`, in the file's order. HomeworkError
    for a missing table or a figure without a numeric `value`, a `unit` or a `what`."""
    found = {}
    for name, entry in _table(assignment, path).items():
        if not isinstance(entry, dict):
            continue
        value, unit, what = entry.get("value"), entry.get("unit"), entry.get("what")
        if (isinstance(value, bool) or not isinstance(value, int | float) or not isinstance(unit, str)
                or not isinstance(what, str) or not what or set(entry) != {"value", "unit", "what"}):
            raise HomeworkError(f"{path}: [{assignment}.{name}] needs exactly a numeric `value`, a `unit` (text, \"\" "
                                f"for a plain number) and a `what` (text); it has {entry}")
        found[name] = Figure(value, unit, what)
    return found


def facts(assignment, path=HOMEWORK_FILE):
    """{key: text or list of texts} of what the homework's notebook table says in words (data set, framework, ...)."""
    return {key: entry for key, entry in _table(assignment, path).items() if not isinstance(entry, dict)}
