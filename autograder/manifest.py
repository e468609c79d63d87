"""The manifest of an assignment (`assignments/<name>/manifest.toml`), as typed, validated classes.

Each key's type, default and one-line description is written here once: the README's manifest reference is generated
from these classes (`reference()`), and `python -m autograder check` refuses a manifest that does not validate, naming
the key and, for an unknown one, the nearest valid name.
"""
import difflib
import tomllib
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class ManifestError(ValueError):
    """A manifest that cannot be used as written: the message names the file, the key and what is wrong."""


#: Seconds and points: a whole number stays one (4 points, not 4.0, in grades.csv and nbgrader's metadata).
Number = int | float


class Section(BaseModel):
    """A table of the manifest: unknown keys are refused, values are never coerced silently."""
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Budgets(Section):
    """[budgets]: how long the notebook takes, and the limits the batch grader runs one submission under."""
    grading_seconds: Number | None = Field(
        None, gt=0, description="Whole notebook under nbgrader (NBGRADER_EXECUTION set): seconds on 2 CPU cores.")
    student_seconds: Number | None = Field(
        None, gt=0, description="Whole notebook for a student on a laptop CPU: seconds.")
    wall_seconds: Number = Field(
        300, gt=0, description="Wall time of one submission in the batch grader, restarts included: seconds.")
    cpu_seconds: int = Field(600, gt=0, description="CPU time of one sandbox: seconds.")
    memory_mb: int = Field(4096, gt=0, description="Memory of one sandbox: MiB.")
    processes: int = Field(64, gt=0, description="Processes (and threads) of one sandbox.")
    file_mb: int = Field(256, gt=0, description="Largest file a sandbox may write: MiB.")
    startup_seconds: Number = Field(
        60, gt=0, description="Wall time for the sandbox's harness to start: seconds.")
    cell_seconds: Number = Field(
        30, gt=0, description="Wall time of the set-up cell, and of each cell of the student's own: seconds.")
    notebook_mb: int = Field(20, gt=0, description="Largest submitted notebook the grader reads, unpacked: MiB.")
    side_file_mb: int = Field(
        256, gt=0, description="Largest submitted side file (a best-model checkpoint) the grader reads, unpacked: MiB.")


class Part(Section):
    """[parts.<grade_id>]: one autograded part, named by the grade_id of the notebook's hidden-test cell."""
    points: Number = Field(gt=0, description="What the part is worth. Release writes it into the notebook.")
    names: list[str] = Field(
        [], description="A code part: the student objects (answer cells' grade ids) its check is given, in order.")
    file: str | None = Field(
        None, description="A file part: the file the student submits beside the notebook, which its check grades.")
    seconds: Number = Field(
        60, gt=0, description="A code part's time budget in the sandbox: seconds (then it is stopped and scores zero).")
    reads: list[str] = Field(
        [], description="Answer cells besides `names` whose code the part's harness also runs.")

    @model_validator(mode="after")
    def _code_or_file(self) -> "Part":
        if bool(self.names) == (self.file is not None):
            raise ValueError("needs either `names` (a code part) or `file` (a file part), not both")
        if self.file is not None and self.reads:
            raise ValueError("`reads` is for code parts; a file part grades its `file` only")
        return self


class Conformance(Section):
    """[conformance]: how hard the conformance suite (tests/test_conformance.py) sweeps the assignment."""
    seeds: int = Field(
        5, gt=0, description="Seeds on which every correct style and catalogued mistake is graded in process.")
    visible_orders: int = Field(
        3, gt=0, description="Sampling orders on which each visible check must fail each mistake and pass each style.")


class Demo(Section):
    """[demo]: what `make demo` grades besides the reference and the blank release."""
    mutants: list[str] = Field([], description="Catalogued mistakes (mistakes.py) graded in the demo's batch.")


class Manifest(Section):
    """The top level of manifest.toml: what students get and submit, and how grading is budgeted."""
    title: str | None = Field(None, description="The assignment's title (default: its folder's name).")
    notebooks: list[str] = Field(
        min_length=1, description="Notebook files in source/<name>/; the first is the graded one.")
    order: int | None = Field(
        None, description="Its place in the course: listed, demonstrated and bundled in this order.")
    graded: bool = Field(True, description="false: an ungraded notebook (lecture demos): released, never graded.")
    data: list[str] = Field([], description="Data sets the notebook can use (the course picks one).")
    requirements: str | None = Field(
        None, pattern=r"^[\w.]+:\w+$",
        description="`module:function` run before a batch; raises FileNotFoundError naming what the machine lacks.")
    kit_runs: list[list[str]] = Field(
        [], description="Benchmark results the prose quotes: [benchmark, key, ...] down to the recorded figures.")
    budgets: Budgets = Field(default_factory=Budgets, description="See [budgets].")
    parts: dict[str, Part] = Field({}, description="See [parts.<grade_id>].")
    conformance: Conformance = Field(default_factory=Conformance, description="See [conformance].")
    demo: Demo = Field(default_factory=Demo, description="See [demo].")


#: The tables of a manifest, by the TOML path students of the format write.
TABLES: dict[str, type[Section]] = {"": Manifest, "budgets": Budgets, "parts.<grade_id>": Part,
                                    "conformance": Conformance, "demo": Demo}


def load(path: Path) -> Manifest:
    """The manifest at `path`, validated; ManifestError naming the file, the key and what is wrong."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as error:
        raise ManifestError(f"{path} is not valid TOML: {error}") from None
    return parse(data, path)


def parse(data: dict[str, Any], path: Path | str = "manifest.toml") -> Manifest:
    """`data` (a manifest's parsed TOML) as a Manifest; ManifestError listing every problem."""
    try:
        return Manifest.model_validate(data)
    except ValidationError as error:
        problems = [_describe(problem) for problem in error.errors()]
        raise ManifestError(f"{path}:\n  " + "\n  ".join(problems)) from None


def _describe(problem: Any) -> str:
    """One pydantic error as the author reads it: `[table] key: what is wrong` (and the nearest valid key)."""
    location = [str(step) for step in problem["loc"]]
    if problem["type"] == "value_error":  # a table's own rule (e.g. a part's names or file): said of the table
        return f"{_table(location)}: {problem['msg'].removeprefix('Value error, ')}"
    table, key = location[:-1], location[-1]
    if problem["type"] == "extra_forbidden" and location == ["due"]:
        return "top level `due`: dates belong to the course calendar (term.toml at the course root), not the manifest"
    if problem["type"] == "extra_forbidden":
        model = Part if table[:1] == ["parts"] else TABLES.get(".".join(table), Manifest)
        nearest = difflib.get_close_matches(key, list(model.model_fields), n=1, cutoff=0.6)
        hint = f"did you mean `{nearest[0]}`?" if nearest else f"the keys here are {', '.join(model.model_fields)}"
        return f"{_table(table)} `{key}`: unknown key; {hint}"
    return f"{_table(table)} `{key}`: {problem['msg']} (got {problem.get('input')!r})"


def _table(location: list[str]) -> str:
    return f"[{'.'.join(location)}]" if location else "top level"


def reference() -> str:
    """The README's manifest reference: every table and key with its type, default and description (markdown)."""
    lines = []
    for table, model in TABLES.items():
        lines += ["", f"**{f'[{table}]' if table else 'Top level'}**: {(model.__doc__ or '').split(': ', 1)[-1]}", "",
                  "| key | type | default | meaning |", "| --- | --- | --- | --- |"]
        for key, field in model.model_fields.items():
            if isinstance(field.annotation, type) and issubclass(field.annotation, Section):
                continue
            if key == "parts":
                continue
            default = "required" if field.is_required() else (
                "{}" if field.default_factory else f"`{_toml(field.default)}`" if field.default is not None else "none")
            bound = next((f" > {m.gt}" for m in field.metadata if getattr(m, "gt", None) is not None), "")
            lines.append(f"| `{key}` | {_type_name(field.annotation, bound)} | {default} | {field.description} |")
    return "\n".join(lines[1:])


def _toml(value: Any) -> str:
    return "true" if value is True else "false" if value is False else repr(value).replace("'", '"')


def _type_name(annotation: Any, bound: str = "") -> str:
    """A field's type as the README shows it: `list of str`, `float > 0 (optional)`."""
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) in (Union, UnionType):
        optional = " (optional)" if type(None) in get_args(annotation) else ""
        return ("number" + bound if set(args) == {int, float} else _type_name(args[0], bound)) + optional
    if get_origin(annotation) is list:
        return f"list of {_type_name(args[0])}"
    return getattr(annotation, "__name__", str(annotation)) + bound
