"""The course's assignments, found by scanning `assignments/*/manifest.toml`: nothing else lists them.

One folder per assignment, `assignments/<name>/`:

    manifest.toml   title, notebooks, order, data, budgets, the graded parts ([parts.<grade_id>]: names or file,
                    points, seconds) and the demo's mutants
    checks.py       grader side: CHECKS {grade_id: Check(draw, run, judge)} for code parts, FILE_CHECKS
                    {grade_id: check(path, seed=None) -> Report} and REFERENCE_FILES {file: () -> path} for file parts
    harness.py      sandbox side: the `run_*` functions that call the student's code (imports only
                    autograder.harness and helpers: it is the only file of the folder the sandbox sees)
    mistakes.py     MUTANTS: the mistake catalogue (autograder.mistakes.Mutant)
    styles.py       STYLES: correct solutions in the styles students write (autograder.styles.Style)

An ungraded notebook (`graded = false`, e.g. lecture demos) needs its manifest only.
"""
import importlib
import importlib.util
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from autograder.checks.core import Part

COURSE_ROOT = Path(__file__).resolve().parent.parent
#: Python modules an assignment folder may hold, by what they declare.
MODULES = ("checks", "harness", "mistakes", "styles")


class ManifestError(ValueError):
    """A manifest that cannot be used as written: the message names the file and what is wrong."""


@dataclass(frozen=True)
class PartSpec:
    """One graded part as its manifest declares it: code (`names`: the student objects its check is given) or a
    submitted file (`file`), worth `points`, with a time budget of `seconds` in the sandbox (code parts). `reads`:
    answer cells besides `names` whose code the part's harness uses (the conformance suite checks it)."""
    grade_id: str
    points: float
    names: tuple = ()
    file: str | None = None
    seconds: float | None = None
    reads: tuple = ()


@dataclass(frozen=True, eq=False)
class Assignment:
    """An assignment folder: its manifest, read once, and its modules, imported when first asked for (grading one
    assignment does not import the others' libraries)."""
    name: str
    folder: Path
    manifest: dict

    @property
    def title(self):
        return self.manifest.get("title", self.name)

    @property
    def notebooks(self):
        return list(self.manifest["notebooks"])

    @property
    def notebook(self):
        """The graded notebook's file name (the first the manifest lists)."""
        return self.notebooks[0]

    @property
    def graded(self):
        return self.manifest.get("graded", True)

    @property
    def budgets(self):
        return dict(self.manifest.get("budgets", {}))

    @cached_property
    def parts(self):
        """Every graded part, in the manifest's order: tuple of PartSpec."""
        specs = []
        for grade_id, table in self.manifest.get("parts", {}).items():
            if ("names" in table) == ("file" in table) or "points" not in table:
                raise ManifestError(f"{self.folder / 'manifest.toml'}: [parts.{grade_id}] needs `points` and either "
                                    "`names` (a code part) or `file` (a submitted file)")
            specs.append(PartSpec(grade_id, table["points"], tuple(table.get("names", ())), table.get("file"),
                                  table.get("seconds"), tuple(table.get("reads", ()))))
        return tuple(specs)

    @property
    def points(self):
        """{grade_id: points} of every autograded part."""
        return {spec.grade_id: spec.points for spec in self.parts}

    @property
    def side_files(self):
        """Files a student submits beside the notebook: those of the file parts."""
        return [spec.file for spec in self.parts if spec.file]

    @property
    def demo_mutants(self):
        return tuple(self.manifest.get("demo", {}).get("mutants", ()))

    def module(self, kind):
        """assignments.<name>.<kind> (one of MODULES), imported."""
        return importlib.import_module(f"assignments.{self.name}.{kind}")

    @cached_property
    def code_parts(self):
        """The code parts, each with its check (autograder.checks.core.Part), in the manifest's order."""
        checks = getattr(self.module("checks"), "CHECKS", {})
        parts = []
        for spec in self.parts:
            if spec.file:
                continue
            if spec.grade_id not in checks:
                raise ManifestError(f"{self.name}: part {spec.grade_id} has no check (CHECKS in assignments/"
                                    f"{self.name}/checks.py)")
            check = checks[spec.grade_id]
            parts.append(Part(spec.grade_id, spec.names, check.draw, check.run, check.judge, spec.points,
                              spec.seconds))
        return tuple(parts)

    @cached_property
    def file_parts(self):
        """{grade_id: (file name, check(path, seed=None) -> Report)} of the parts that grade a submitted file."""
        checks = getattr(self.module("checks"), "FILE_CHECKS", {})
        return {spec.grade_id: (spec.file, checks[spec.grade_id]) for spec in self.parts if spec.file}

    def part(self, grade_id):
        """The code Part, or the (file, check) of the file part, named `grade_id`."""
        for part in self.code_parts:
            if part.grade_id == grade_id:
                return part
        if grade_id in self.file_parts:
            return self.file_parts[grade_id]
        raise KeyError(f"{self.name} has no graded part {grade_id!r} (its parts: {', '.join(self.points)})")

    def reference_files(self):
        """{file name: path} of the reference submission's side files (made, or found in a cache, now)."""
        makers = getattr(self.module("checks"), "REFERENCE_FILES", {}) if self.side_files else {}
        return {name: makers[name]() for name in self.side_files}

    @property
    def mutants(self):
        return self.module("mistakes").MUTANTS

    @property
    def styles(self):
        return self.module("styles").STYLES

    @property
    def harness_file(self):
        """The sandbox-side file: the only file of this folder mounted into the sandbox."""
        return Path(importlib.util.find_spec(f"assignments.{self.name}.harness").origin)


def _read(folder):
    path = folder / "manifest.toml"
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as error:
        raise ManifestError(f"{path} is not valid TOML: {error}") from None


def assignments(root=COURSE_ROOT, graded=None):
    """Every assignment of the course at `root`, in course order (the manifests' `order`, then name); only the
    graded (or ungraded) ones when `graded` is given. Returns a list of Assignment."""
    found = [Assignment(folder.name, folder, _read(folder))
             for folder in sorted(Path(root, "assignments").iterdir()) if (folder / "manifest.toml").is_file()]
    found.sort(key=lambda a: (a.manifest.get("order", float("inf")), a.name))
    return [a for a in found if graded is None or a.graded == graded]


def names(root=COURSE_ROOT, graded=None):
    """The names of `assignments(root, graded)`."""
    return [a.name for a in assignments(root, graded)]


def assignment(name, root=COURSE_ROOT):
    """The assignment called `name`; FileNotFoundError naming the manifest it looked for, and those there are."""
    folder = Path(root) / "assignments" / name
    if not (folder / "manifest.toml").is_file():
        known = ", ".join(names(root)) or "none"
        raise FileNotFoundError(f"no assignment {name!r}: {folder / 'manifest.toml'} is missing (assignments here: "
                                f"{known})")
    return Assignment(name, folder, _read(folder))
