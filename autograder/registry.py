"""The course's assignments, found by scanning `assignments/*/manifest.toml`: nothing else lists them.

One folder per assignment, `assignments/<name>/`:

    manifest.toml   title, notebooks, order, data, budgets, the graded parts ([parts.<grade_id>]: names or file,
                    points, seconds) and the demo's mutants: autograder.manifest validates it
    checks.py       grader side: CHECKS {grade_id: Check(draw, run, judge)} for code parts, FILE_CHECKS
                    {grade_id: check(path, seed=None) -> Report} and REFERENCE_FILES {file: () -> path} for file parts
    harness.py      sandbox side: the `run_*` functions that call the student's code (imports only
                    autograder.harness and helpers: it is the only file of the folder the sandbox sees)
    mistakes.py     MUTANTS: the mistake catalogue (autograder.mistakes.Mutant)
    styles.py       STYLES: correct solutions in the styles students write (autograder.styles.Style)

An ungraded notebook (`graded = false`, e.g. lecture demos) needs its manifest only.

One course root: an assignment's modules are imported from its course's own `assignments/` folder, never from
whichever kit is installed. A process works on one course at a time: asking for another course's assignment rebinds
the `assignments` package to that course (`bind_course`).
"""
import importlib
import importlib.util
import sys
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

from autograder.judging import Report, new_rng
from autograder.manifest import Manifest, ManifestError, load

COURSE_ROOT = Path(__file__).resolve().parent.parent
#: Python modules an assignment folder may hold, by what they declare.
MODULES = ("checks", "harness", "mistakes", "styles")
_BINDING = threading.Lock()
__all__ = ["COURSE_ROOT", "MODULES", "Assignment", "CodePart", "FilePart", "ManifestError", "assignment",
           "assignments", "bind_course", "bound_course", "names"]


@dataclass(frozen=True)
class CodePart:
    """One graded code part: its nbgrader grade_id, the student objects it takes (`names`) and the other answer cells
    its harness runs (`reads`), how its hidden cases are drawn, the harness function that runs the student's code on
    them, its judge, its points and its time budget in the sandbox (seconds)."""
    grade_id: str
    names: tuple[str, ...]
    draw: Callable[..., Any]   # rng -> cases (plain data)
    run: Callable[..., Any]    # (*student_objects, cases) -> outputs (plain data); a function of the harness
    judge: Callable[..., Report]  # (cases, outputs, seed) -> Report
    points: float
    seconds: float
    reads: tuple[str, ...] = ()

    def check(self, *student_objects: Any, seed: int | None = None) -> Report:
        """Draw, run and judge in this process (nbgrader's hidden-test cells)."""
        rng, seed = new_rng(seed)
        cases = self.draw(rng)
        return self.judge(cases, self.run(*student_objects, cases), seed)


@dataclass(frozen=True)
class FilePart:
    """One graded part that checks a file the student submits beside the notebook (`file`)."""
    grade_id: str
    file: str
    points: float
    grade_file: Callable[..., Report]  # (path, seed=None, max_bytes=...) -> Report

    def check(self, path: Any, seed: int | None = None, **options: Any) -> Report:
        """The Report of the submitted file at `path` (`options`: the file check's own, e.g. max_bytes)."""
        return self.grade_file(path, seed=seed, **options)


@dataclass(frozen=True, eq=False)
class Assignment:
    """An assignment folder: its manifest, read and validated once, and its modules, imported from the folder's own
    course when first asked for (grading one assignment does not import the others' libraries)."""
    name: str
    folder: Path
    manifest: Manifest

    @property
    def course_root(self) -> Path:
        return self.folder.parent.parent

    @property
    def title(self) -> str:
        return self.manifest.title or self.name

    @property
    def notebooks(self) -> list[str]:
        return list(self.manifest.notebooks)

    @property
    def notebook(self) -> str:
        """The graded notebook's file name (the first the manifest lists)."""
        return self.notebooks[0]

    @property
    def graded(self) -> bool:
        return self.manifest.graded

    @property
    def points(self) -> dict[str, float]:
        """{grade_id: points} of every autograded part, in the manifest's order."""
        return {grade_id: part.points for grade_id, part in self.manifest.parts.items()}

    @property
    def side_files(self) -> list[str]:
        """Files a student submits beside the notebook: those of the file parts."""
        return [part.file for part in self.manifest.parts.values() if part.file is not None]

    @property
    def demo_mutants(self) -> tuple[str, ...]:
        return tuple(self.manifest.demo.mutants)

    def module(self, kind: str) -> ModuleType:
        """assignments.<name>.<kind> (one of MODULES), imported from this assignment's own folder."""
        bind_course(self.course_root)
        return importlib.import_module(f"assignments.{self.name}.{kind}")

    @cached_property
    def parts(self) -> tuple["CodePart | FilePart", ...]:
        """Every graded part with its check, in the manifest's order; ManifestError for a part with no check."""
        checks = self.module("checks")
        code_checks, file_checks = getattr(checks, "CHECKS", {}), getattr(checks, "FILE_CHECKS", {})
        built: list[CodePart | FilePart] = []
        for grade_id, part in self.manifest.parts.items():
            table = "FILE_CHECKS" if part.file is not None else "CHECKS"
            found = (file_checks if part.file is not None else code_checks).get(grade_id)
            if found is None:
                raise ManifestError(f"{self.name}: part {grade_id} has no check ({table} in assignments/{self.name}"
                                    "/checks.py)")
            if part.file is not None:
                built.append(FilePart(grade_id, part.file, part.points, found))
            else:
                built.append(CodePart(grade_id, tuple(part.names), found.draw, found.run, found.judge, part.points,
                                      part.seconds, tuple(part.reads)))
        return tuple(built)

    @property
    def code_parts(self) -> tuple[CodePart, ...]:
        """The code parts, each with its check, in the manifest's order."""
        return tuple(part for part in self.parts if isinstance(part, CodePart))

    @property
    def file_parts(self) -> tuple[FilePart, ...]:
        """The parts that grade a submitted file, in the manifest's order."""
        return tuple(part for part in self.parts if isinstance(part, FilePart))

    def part(self, grade_id: str) -> "CodePart | FilePart":
        """The part named `grade_id`; KeyError naming the parts there are."""
        for part in self.parts:
            if part.grade_id == grade_id:
                return part
        raise KeyError(f"{self.name} has no graded part {grade_id!r} (its parts: {', '.join(self.points)})")

    def reference_files(self) -> dict[str, Path]:
        """{file name: path} of the reference submission's side files (made, or found in a cache, now)."""
        makers = getattr(self.module("checks"), "REFERENCE_FILES", {}) if self.side_files else {}
        return {name: makers[name]() for name in self.side_files}

    @property
    def mutants(self) -> list[Any]:
        """The mistake catalogue: autograder.mistakes.Mutant, one per mistake."""
        return list(self.module("mistakes").MUTANTS)

    @property
    def styles(self) -> list[Any]:
        """The correct styles: autograder.styles.Style, one per way of writing a correct answer."""
        return list(self.module("styles").STYLES)

    @property
    def harness_file(self) -> Path:
        """The sandbox-side file: the only file of this folder mounted into the sandbox."""
        return self.folder / "harness.py"


def bind_course(root: Path | str) -> None:
    """Make `assignments` the package of the course at `root` in this process (its modules are imported from
    `root/assignments/`, whatever kit is installed); a different course bound before is unbound, its modules
    forgotten."""
    folder = (Path(root) / "assignments").resolve()
    with _BINDING:
        _bind(folder)


def bound_course() -> Path:
    """The course whose `assignments` package this process has imported (the kit's own until another is bound)."""
    loaded = sys.modules.get("assignments")
    paths = list(getattr(loaded, "__path__", [])) if loaded is not None else []
    return Path(paths[0]).resolve().parent if paths else COURSE_ROOT


def _bind(folder: Path) -> None:
    loaded = sys.modules.get("assignments")
    if loaded is not None and [str(Path(p).resolve()) for p in getattr(loaded, "__path__", [])] == [str(folder)]:
        return
    for module in [m for m in sys.modules if m == "assignments" or m.startswith("assignments.")]:
        del sys.modules[module]
    spec = importlib.util.spec_from_file_location("assignments", folder / "__init__.py",
                                                  submodule_search_locations=[str(folder)])
    if spec is None or spec.loader is None or not (folder / "__init__.py").is_file():
        raise ManifestError(f"{folder} is not a course's assignments package (it has no __init__.py)")
    package = importlib.util.module_from_spec(spec)
    sys.modules["assignments"] = package
    spec.loader.exec_module(package)


def assignments(root: Path | str = COURSE_ROOT, graded: bool | None = None) -> list[Assignment]:
    """Every assignment of the course at `root`, in course order (the manifests' `order`, then name); only the
    graded (or ungraded) ones when `graded` is given."""
    folders = sorted(Path(root).resolve().joinpath("assignments").iterdir())
    found = [Assignment(folder.name, folder, load(folder / "manifest.toml"))
             for folder in folders if (folder / "manifest.toml").is_file()]
    found.sort(key=lambda a: (a.manifest.order if a.manifest.order is not None else float("inf"), a.name))
    return [a for a in found if graded is None or a.graded == graded]


def names(root: Path | str = COURSE_ROOT, graded: bool | None = None) -> list[str]:
    """The names of `assignments(root, graded)`."""
    return [a.name for a in assignments(root, graded)]


def assignment(name: str, root: Path | str = COURSE_ROOT) -> Assignment:
    """The assignment called `name`; FileNotFoundError naming the manifest it looked for, and those there are;
    ManifestError when its manifest does not validate."""
    folder = Path(root).resolve() / "assignments" / name
    if not (folder / "manifest.toml").is_file():
        known = ", ".join(names(root)) or "none"
        raise FileNotFoundError(f"no assignment {name!r}: {folder / 'manifest.toml'} is missing (assignments here: "
                                f"{known})")
    return Assignment(name, folder, load(folder / "manifest.toml"))
