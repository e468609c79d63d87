"""The authoring rules: what an assignment's folder and source notebook must be, checked statically (no student code
and no notebook is run), each broken rule reported with what to change. `python -m autograder check [NAME ...]`
prints them; `python -m autograder release` refuses to release an assignment that breaks one; the conformance suite
(tests/test_conformance.py) holds every assignment to `check(name) == []`.

An ungraded notebook (`graded = false`) is held to the rules UNGRADED_RULES names: its manifest and notebooks (and,
as every notebook, no cell binding a name students give their helpers).
"""
import ast
import difflib
import hashlib
import importlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterable

from nbformat import NotebookNode

from autograder import registry
from autograder.manifest import Manifest, ManifestError
from autograder.notebooks import MAGIC, SETUP, SOLUTION_MARKER, NotebookError, grade_id, read_notebook
from autograder.registry import COURSE_ROOT, Assignment

#: The first of the two lines of every hidden-test cell (the one place that spells the module it imports).
HIDDEN_TEST_IMPORT = "from autograder.hidden import hidden_test"
HIDDEN_TESTS = re.compile(r"^### BEGIN HIDDEN TESTS[ \t]*\n(.*?)^### END HIDDEN TESTS[ \t]*$", re.S | re.M)
SOLUTION_BEGIN = "### BEGIN SOLUTION"

#: Every rule `check` runs, by the name it reports, with what it asks (README.md lists them).
RULES: dict[str, str] = {
    "manifest": "assignments/<name>/manifest.toml validates (no unknown key, no wrong type)",
    "notebooks": "every notebook the manifest lists is in source/<name>/ and reads as a notebook",
    "setup-cell": "the graded notebook has a read-only set-up cell, grade_id `setup`",
    "hidden-test-cells": "one hidden-test cell (graded code cell) per part, and none the manifest does not declare",
    "hidden-test-call": "each hidden-test cell holds the two lines `from autograder.hidden import hidden_test` and "
                        "`hidden_test(\"<name>\", \"<grade_id>\", <names>)` between its HIDDEN TESTS markers",
    "answer-cells": "each part's `names` and `reads` are answer cells; each student function or class sits alone in "
                    "its answer cell (grade_id = its name), beginning with its def, its body between SOLUTION markers",
    "checks": "checks.py's CHECKS are the code parts, FILE_CHECKS the file parts, REFERENCE_FILES the side files; "
              "each code part's `run` is a function of harness.py",
    "harness-imports": "harness.py imports nothing grader side (only the standard library, torch, helpers and "
                       "autograder.harness)",
    "helper-names": "no cell outside the answers binds a name students give their own helpers (STUDENT_HELPER_NAMES)",
    "catalogues": "mistakes.py has a mistake per code part, and only those; styles.py a correct style per code part; "
                  "names unique; their cells are answer cells; [demo] mutants are catalogued",
    "budgets": "startup + one cell + the code parts' seconds (each with its grace) fit [budgets] wall_seconds",
    "requirements": "`requirements` names an importable module:function",
}
#: The rules an ungraded notebook is held to.
UNGRADED_RULES = ("manifest", "notebooks", "helper-names")

#: Names students commonly give the helpers their answers call (d2l's accuracy(), a global criterion, a train()...):
#: a notebook cell outside the answers that binds one would replace the student's helper, or be replaced by it.
STUDENT_HELPER_NAMES = frozenset({
    "accuracy", "compute_accuracy", "get_accuracy", "train", "train_step", "train_epoch", "run_epoch", "evaluate_model",
    "validate", "predict", "loss_fn", "criterion", "model", "softmax", "relu", "one_hot", "cross_entropy",
    "sample_batch", "get_batch", "forward", "backward", "step", "freeze", "unfreeze", "set_requires_grad",
    "set_bn_eval", "save_best"})


@dataclass(frozen=True)
class Problem:
    """One broken rule: the rule (a key of RULES), where (a file of the course, and the cell or key in it) and a
    message that says what to change."""
    rule: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.where}: {self.message}"


def rules(graded: bool) -> tuple[str, ...]:
    """The rules an assignment is held to: all of RULES when graded, UNGRADED_RULES otherwise."""
    return tuple(RULES) if graded else UNGRADED_RULES


def names(root: Path | str = COURSE_ROOT) -> list[str]:
    """Every assignment of the course at `root`, in course order; by folder name when a manifest does not validate
    (so that `check` can report it)."""
    try:
        return registry.names(root)
    except ManifestError:
        return sorted(folder.name for folder in Path(root).resolve().joinpath("assignments").iterdir()
                      if (folder / "manifest.toml").is_file())


def check(name: str, root: Path | str = COURSE_ROOT) -> list[Problem]:
    """Every authoring rule `name` breaks ([] when it follows them all). A manifest that does not validate is the
    only problem reported: nothing else can be read without it."""
    found, problems = _load(name, Path(root))
    if found is None:
        return problems
    source = _Source(found, Path(root))
    problems += source.problems
    if not found.graded:
        return problems + (helper_names(source) if source.graded_nb is not None else [])
    _forget_if_edited(found)
    if source.graded_nb is not None:
        problems += setup_cell(source) + hidden_test_cells(source) + hidden_test_calls(source) + answer_cells(source)
        problems += helper_names(source)
    problems += checks(source) + harness_imports(source) + catalogues(source) + budgets(source)
    problems += requirements(source)
    return problems


def check_source(name: str, root: Path | str = COURSE_ROOT) -> list[Problem]:
    """The rules a release needs (nothing of the assignment's modules is imported): the manifest validates, its
    notebooks read, and the graded one has its set-up cell and one hidden-test cell per part, no other."""
    found, problems = _load(name, Path(root))
    if found is None:
        return problems
    source = _Source(found, Path(root))
    problems += source.problems
    if found.graded and source.graded_nb is not None:
        problems += setup_cell(source) + hidden_test_cells(source)
    return problems


# --- Loading ----------------------------------------------------------------------------------------------------------

def _load(name: str, root: Path) -> tuple[Assignment | None, list[Problem]]:
    where = f"assignments/{name}/manifest.toml"
    try:
        return registry.assignment(name, root), []
    except FileNotFoundError as error:
        return None, [Problem("manifest", where, f"{error}: check the name, or make it with "
                                                 f"`python -m autograder new {name}`")]
    except ManifestError as error:
        text = str(error)
        lines = text.split("\n")
        if len(lines) > 1 and lines[0].endswith(":"):  # `path:` then one problem a line
            return None, [Problem("manifest", where, line.strip() + _fix_hint(line)) for line in lines[1:]]
        return None, [Problem("manifest", where, text.replace(str(root.resolve()) + "/", ""))]


def _fix_hint(line: str) -> str:
    return "" if "did you mean" in line or "the keys here are" in line else " (see README.md: the manifest, key by key)"


class _Source:
    """An assignment with its source notebooks read once: the graded one (None when it cannot be read) and the
    cells rules look at."""

    def __init__(self, found: Assignment, root: Path) -> None:
        self.found, self.root, self.name = found, root, found.name
        self.problems: list[Problem] = []
        self.graded_nb: NotebookNode | None = None
        for i, notebook in enumerate(found.notebooks):
            path = root / "source" / found.name / notebook
            try:
                nb = read_notebook(path)
            except NotebookError as error:
                self.problems.append(Problem(
                    "notebooks", self.rel(path), f"{error}: write it there, or fix `notebooks` in "
                                                 f"assignments/{found.name}/manifest.toml"))
                continue
            if i == 0:
                self.graded_nb = nb
        self.notebook_where = f"source/{found.name}/{found.notebook}"

    @property
    def manifest(self) -> Manifest:
        return self.found.manifest

    @property
    def manifest_where(self) -> str:
        return f"assignments/{self.name}/manifest.toml"

    def rel(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(path)

    def cell_where(self, grade_id_: str) -> str:
        return f"{self.notebook_where}, cell {grade_id_}"

    @property
    def cells(self) -> list[NotebookNode]:
        return list(self.graded_nb.cells) if self.graded_nb is not None else []

    def answer_cells(self) -> dict[str, NotebookNode]:
        """{grade_id: cell} of the code answer cells (nbgrader solution cells) of the graded notebook."""
        return {gid: c for c in self.cells if c.cell_type == "code" and _nbgrader(c).get("solution")
                and (gid := grade_id(c))}

    def test_cells(self) -> dict[str, list[NotebookNode]]:
        """{grade_id: [cells]} of the graded code cells (hidden-test cells) of the graded notebook."""
        found: dict[str, list[NotebookNode]] = {}
        for c in self.cells:
            if c.cell_type == "code" and _nbgrader(c).get("grade") and not _nbgrader(c).get("solution"):
                found.setdefault(str(grade_id(c)), []).append(c)
        return found

    def module(self, kind: str) -> tuple[ModuleType | None, list[Problem]]:
        """assignments.<name>.<kind> of this course, or a problem saying why it does not import."""
        where = f"assignments/{self.name}/{kind}.py"
        if not (self.found.folder / f"{kind}.py").is_file():
            return None, [Problem(_rule_of(kind), where, f"is missing: a graded assignment needs {kind}.py (see "
                                                         "`python -m autograder new` for a working one)")]
        try:
            return self.found.module(kind), []
        except Exception as error:  # noqa: BLE001 - any error in the author's module is reported, not raised
            return None, [Problem(_rule_of(kind), where, f"does not import ({type(error).__name__}: {error}): fix it")]


#: {assignment folder: {file: sha1}} of the Python files of each assignment `check` imported in this process.
_IMPORTED: dict[Path, dict[str, str]] = {}


def _forget_if_edited(found: Assignment) -> None:
    """Make `check` import the assignment's modules afresh when its files changed since it last did in this process
    (an author who edits and checks again in one session), and only then."""
    importlib.invalidate_caches()  # a folder written since this process last imported from it
    files = {path.name: hashlib.sha1(path.read_bytes()).hexdigest() for path in sorted(found.folder.glob("*.py"))}
    if _IMPORTED.get(found.folder, files) != files:
        package = f"assignments.{found.name}"
        for module in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
            del sys.modules[module]
    _IMPORTED[found.folder] = files


def _rule_of(kind: str) -> str:
    return {"checks": "checks", "harness": "checks", "mistakes": "catalogues", "styles": "catalogues"}.get(kind, kind)


def _nbgrader(cell: NotebookNode) -> dict[str, Any]:
    metadata = cell.get("metadata", {}).get("nbgrader")
    return metadata if isinstance(metadata, dict) else {}


def _nearest(word: str, candidates: Iterable[str]) -> str:
    """` (did you mean `x`?)` for the nearest of `candidates`, or nothing."""
    nearest = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean `{nearest[0]}`?)" if nearest else ""


def _listed(items: Iterable[str]) -> str:
    return ", ".join(sorted(items)) or "none"


# --- The notebook -----------------------------------------------------------------------------------------------------

def setup_cell(source: _Source) -> list[Problem]:
    cell = next((c for c in source.cells if grade_id(c) == SETUP), None)
    if cell is None or cell.cell_type != "code":
        return [Problem("setup-cell", source.notebook_where,
                        f"no set-up cell: give its first code cell (the imports) nbgrader grade_id {SETUP!r}, "
                        "read-only (locked), so the grader can run it before the student's cells")]
    if _nbgrader(cell).get("solution") or _nbgrader(cell).get("grade") or not _nbgrader(cell).get("locked"):
        return [Problem("setup-cell", source.cell_where(SETUP),
                        "the set-up cell must be read-only (nbgrader: locked, neither an answer nor graded): "
                        "students must not change what the grader runs first")]
    return []


def hidden_test_cells(source: _Source) -> list[Problem]:
    tests, parts = source.test_cells(), source.manifest.parts
    undeclared = [gid for gid in tests if gid not in parts]
    problems = [Problem("hidden-test-cells", source.notebook_where,
                        f"part {gid} has no hidden-test cell: add a locked, graded code cell with grade_id {gid} "
                        f"(nbgrader \"Autograder tests\"){_nearest(gid, undeclared)}, or remove [parts.{gid}] from "
                        f"{source.manifest_where}")
                for gid in parts if gid not in tests]
    problems += [Problem("hidden-test-cells", source.cell_where(gid),
                         f"a graded code cell that {source.manifest_where} does not declare: add [parts.{gid}] "
                         f"(names or file, points){_nearest(gid, [g for g in parts if g not in tests])}, or make the "
                         "cell ungraded")
                 for gid in undeclared]
    problems += [Problem("hidden-test-cells", source.cell_where(gid),
                         f"{len(cells)} graded cells have this grade_id: keep one (grade ids are unique)")
                 for gid, cells in tests.items() if len(cells) > 1]
    return problems


def hidden_test_line(assignment: str, grade_id_: str, arguments: str) -> str:
    """The second line of a hidden-test cell: the call of the part's check."""
    return f'hidden_test("{assignment}", "{grade_id_}", {arguments})'


def hidden_test_calls(source: _Source) -> list[Problem]:
    problems = []
    tests = source.test_cells()
    for gid, part in source.manifest.parts.items():
        if gid not in tests:
            continue
        arguments = ", ".join(part.names) if part.names else "<path of the submitted file>"
        expected = [HIDDEN_TEST_IMPORT, hidden_test_line(source.name, gid, arguments)]
        fix = "write exactly these two lines between `### BEGIN HIDDEN TESTS` and `### END HIDDEN TESTS`: " + \
              " / ".join(f"`{line}`" for line in expected)
        block = HIDDEN_TESTS.search(tests[gid][0].source)
        if block is None:
            problems.append(Problem("hidden-test-call", source.cell_where(gid), f"no HIDDEN TESTS block: {fix}"))
            continue
        lines = block.group(1).splitlines()
        call = lines[1] if len(lines) == 2 else ""
        pattern = (re.escape(expected[1]) if part.names else
                   rf'hidden_test\("{re.escape(source.name)}", "{re.escape(gid)}", .+\)')
        if len(lines) != 2 or lines[0] != HIDDEN_TEST_IMPORT or not re.fullmatch(pattern, call):
            problems.append(Problem("hidden-test-call", source.cell_where(gid),
                                    f"the hidden test reads {' / '.join(f'`{line}`' for line in lines) or 'nothing'}:"
                                    f" {fix}"))
    return problems


def _defines(code: str) -> tuple[list[ast.stmt] | None, str]:
    """The top-level statements of a cell's code, or None and why it does not parse."""
    try:
        return ast.parse(MAGIC.sub("", code)).body, ""
    except SyntaxError as error:
        return None, f"line {error.lineno}: {error.msg}"


def answer_cells(source: _Source) -> list[Problem]:
    problems = []
    answers = source.answer_cells()
    graded = {gid for c in source.cells if (gid := grade_id(c)) and _nbgrader(c).get("grade")}
    functions: list[str] = []
    for gid, part in source.manifest.parts.items():
        for key, listed in (("names", part.names), ("reads", part.reads)):
            for name in listed:
                if name in answers:
                    if key == "names" and name not in functions:
                        functions.append(name)
                    continue
                problems.append(Problem(
                    "answer-cells", f"{source.manifest_where} [parts.{gid}] {key}",
                    f"`{name}` is no answer cell of {source.notebook_where}{_nearest(name, answers)}: the notebook "
                    f"defines no answer cell (an nbgrader solution code cell) with grade_id {name}. Fix `{key}`, or "
                    f"give the answer cell that defines {name} that grade_id (answer cells: {_listed(answers)})"))
    for function in functions:
        cell, where = answers[function], source.cell_where(function)
        if function in graded:
            problems.append(Problem("answer-cells", where, "an answer cell of a code part must not be graded itself "
                                                           "(nbgrader \"Autograded answer\": solution, not grade)"))
        body, error = _defines(cell.source)
        if body is None:
            problems.append(Problem("answer-cells", where, f"does not parse ({error}): fix the solution's code"))
            continue
        defined = [s.name for s in body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
        if defined != [function] or len(body) != 1 or not re.match(rf"(def|class) {function}\b", cell.source):
            others = " and other statements" if len(body) > len(defined) else ""
            problems.append(Problem(
                "answer-cells", where,
                f"defines {', '.join(defined) or 'nothing'}{others}: the cell must hold `{function}` alone, beginning "
                f"with `def {function}` (or `class {function}`); move anything else to a cell of its own"))
        elif SOLUTION_BEGIN not in cell.source:
            problems.append(Problem(
                "answer-cells", where,
                f"has no `{SOLUTION_BEGIN}` / `### END SOLUTION` markers: put them around the body of {function}, so "
                "the release keeps its def line and docstring and replaces only the solution"))
    return problems


def names_bound(code: str) -> set[str]:
    """The names a cell's code binds in the notebook's namespace: assignments, loop and with targets, definitions,
    imports (not the local names inside the functions it defines)."""
    bound = set()
    for statement in ast.parse(MAGIC.sub("", code)).body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(statement.name)
            continue
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                bound.add(node.id)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                bound |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    return bound


def helper_names(source: _Source) -> list[Problem]:
    problems = []
    for index, cell in enumerate(source.cells):
        if cell.cell_type != "code" or _nbgrader(cell).get("solution"):
            continue
        where = source.cell_where(grade_id(cell) or f"#{index + 1} (id {cell.get('id', '?')})")
        try:
            clashes = names_bound(cell.source) & STUDENT_HELPER_NAMES
        except SyntaxError as error:
            problems.append(Problem("helper-names", where,
                                    f"does not parse (line {error.lineno}: {error.msg}): fix it"))
            continue
        if clashes:
            problems.append(Problem(
                "helper-names", where,
                f"binds {', '.join(f'`{n}`' for n in sorted(clashes))}, a name students give their own helpers: the "
                "student's helper would replace it, or it the student's; rename it"))
    return problems


# --- The folder's modules ---------------------------------------------------------------------------------------------

def checks(source: _Source) -> list[Problem]:
    module, problems = source.module("checks")
    if module is None:
        return problems
    where = f"assignments/{source.name}/checks.py"
    parts = source.manifest.parts
    code_parts = [gid for gid, part in parts.items() if part.names]
    file_parts = [gid for gid, part in parts.items() if part.file is not None]
    side_files = source.found.side_files
    tables: list[tuple[str, list[str], str, str]] = [
        ("CHECKS", code_parts, "code part", "Check(draw, run, judge)"),
        ("FILE_CHECKS", file_parts, "file part", "a function (path, seed=None) -> Report"),
        ("REFERENCE_FILES", side_files, "side file", "a function () -> the reference file's path")]
    for table, expected, kind, value in tables:
        declared = getattr(module, table, {})
        if not isinstance(declared, dict):
            problems.append(Problem("checks", f"{where} {table}", f"is a {type(declared).__name__}: make it a dict "
                                                                  f"{{{kind}: {value}}}"))
            continue
        missing = [key for key in expected if key not in declared]
        extra = [str(key) for key in declared if key not in expected]
        for key in extra:
            hint = _nearest(key, missing)
            problems.append(Problem(
                "checks", f"{where} {table}",
                f"{table}[{key!r}] is no {kind} of {source.manifest_where}{hint}: rename the key to the {kind}'s "
                f"name" + (f" ({kind}s: {_listed(expected)})" if not hint else "") +
                (f", or declare [parts.{key}]" if table != "REFERENCE_FILES" else ", or remove it")))
        for key in missing:
            problems.append(Problem("checks", f"{where} {table}",
                                    f"the {kind} {key} has no entry: add {table}[{key!r}] = {value}"))
    code_checks = getattr(module, "CHECKS", {})
    if isinstance(code_checks, dict) and any(gid in code_checks for gid in code_parts):
        harness, harness_problems = source.module("harness")
        problems += harness_problems
        if harness is not None:
            problems += _runs_in_harness(source, {gid: code_checks[gid] for gid in code_parts if gid in code_checks},
                                         harness)
    return problems


def _runs_in_harness(source: _Source, code_checks: dict[str, Any], harness: ModuleType) -> list[Problem]:
    """Each check's `run` is found by name in the harness module: the sandbox calls it so."""
    problems = []
    for gid, found in code_checks.items():
        where = f"assignments/{source.name}/checks.py CHECKS[{gid!r}]"
        run = getattr(found, "run", None)
        if not callable(run):
            problems.append(Problem("checks", where, "has no `run`: make it Check(draw, run, judge) with `run` a "
                                                     "function of harness.py"))
            continue
        name, module = getattr(run, "__name__", "?"), getattr(run, "__module__", "?")
        by_name = getattr(harness, name, None)
        if module != harness.__name__ or by_name is None or (getattr(by_name, "__name__", None), getattr(
                by_name, "__module__", None)) != (name, module):
            problems.append(Problem(
                "checks", where, f"runs {module}.{name}, which is not a function of "
                                 f"assignments/{source.name}/harness.py found by its name: the sandbox calls `run` by "
                                 f"name in the harness, so define {name} there (a plain def, named as it is called)"))
    return problems


def grader_side_imports(path: Path | str) -> list[str]:
    """Imports of `path` that the sandbox does not have: any of autograder or assignments but autograder.harness,
    and relative imports (the sandbox mounts an assignment's harness.py alone)."""
    found = []
    for node in ast.walk(ast.parse(Path(path).read_text())):
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, ast.ImportFrom) and node.level and "assignments" in Path(path).parts:
            found.append(f"line {node.lineno}: relative import")
        modules = ([a.name for a in node.names] if isinstance(node, ast.Import)
                   else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
        found += [f"line {node.lineno}: {m}" for m in modules if m.split(".")[0] in ("autograder", "assignments")
                  and not (m == "autograder.harness" or m.startswith("autograder.harness."))]
    return found


def harness_imports(source: _Source) -> list[Problem]:
    path = source.found.harness_file
    where = f"assignments/{source.name}/harness.py"
    if not path.is_file():
        return [Problem("harness-imports", where, "is missing: a graded assignment's `run_*` functions live there")]
    try:
        imports = grader_side_imports(path)
    except SyntaxError as error:
        return [Problem("harness-imports", where, f"does not parse (line {error.lineno}: {error.msg}): fix it")]
    return [Problem("harness-imports", where,
                    f"{found} is grader side: the sandbox mounts harness.py alone, with the standard library, torch, "
                    "helpers and autograder.harness; move what needs it to checks.py") for found in imports]


def catalogues(source: _Source) -> list[Problem]:
    mistakes, problems = source.module("mistakes")
    styles_module, style_problems = source.module("styles")
    problems += style_problems
    if mistakes is None or styles_module is None:
        return problems
    mutants, styles = list(getattr(mistakes, "MUTANTS", ())), list(getattr(styles_module, "STYLES", ()))
    code_parts = {gid: part for gid, part in source.manifest.parts.items() if part.names}
    answers = source.answer_cells()
    solutions = {gid: _solution(cell.source) for gid, cell in answers.items()}
    mistakes_where, styles_where = f"assignments/{source.name}/mistakes.py", f"assignments/{source.name}/styles.py"
    catalogued = {m.part for m in mutants}
    problems += [Problem("catalogues", mistakes_where,
                         f"code part {gid} has no catalogued mistake: add to MUTANTS a Mutant(name, cell, \"{gid}\", "
                         "edits, feedback) of a mistake students make in it") for gid in code_parts
                 if gid not in catalogued]
    for mutant in mutants:
        where = f"{mistakes_where} Mutant {mutant.name!r}"
        if mutant.part not in code_parts:
            problems.append(Problem("catalogues", where, f"its part {mutant.part!r} is no code part of "
                                                         f"{source.manifest_where}{_nearest(mutant.part, code_parts)}"
                                                         f": set it to the part that must lose points"))
        if source.graded_nb is None:  # the cells are the notebooks rule's to report
            continue
        if mutant.cell not in answers:
            problems.append(Problem("catalogues", where, f"its cell {mutant.cell!r} is no answer cell of "
                                                         f"{source.notebook_where}{_nearest(mutant.cell, answers)}: "
                                                         "set it to the grade_id of the answer it edits"))
        else:
            try:
                mutant.apply(solutions[mutant.cell])
            except ValueError as error:
                problems.append(Problem("catalogues", where, f"{error}: copy the text to replace from the solution"))
    problems += _duplicates(mistakes_where, "MUTANTS", [m.name for m in mutants])
    problems += _duplicates(styles_where, "STYLES", [s.name for s in styles])
    if not styles:
        problems.append(Problem("catalogues", styles_where, "STYLES is empty: add a correct solution written another "
                                                            "way for each code part"))
    grade_ids = {gid for c in source.cells if (gid := grade_id(c))}
    for style in styles if source.graded_nb is not None else ():
        where = f"{styles_where} Style {style.name!r}"
        problems += [Problem("catalogues", where, f"rewrites {cell!r}, which is no answer cell of "
                                                  f"{source.notebook_where}{_nearest(cell, answers)}")
                     for cell in style.answers if cell not in answers]
        problems += [Problem("catalogues", where, f"adds a cell before {before!r}, which is no cell of "
                                                  f"{source.notebook_where}{_nearest(before, grade_ids)}")
                     for before, _ in style.added_cells if before not in grade_ids]
    restyled = {cell for style in styles for cell in style.answers}
    problems += [Problem("catalogues", styles_where,
                         f"code part {gid} has no correct style of its own: add to STYLES a Style rewriting one of "
                         f"{', '.join(part.names)} the way a student would") for gid, part in code_parts.items()
                 if not set(part.names) & restyled and styles]
    known = [m.name for m in mutants]
    problems += [Problem("catalogues", f"{source.manifest_where} [demo] mutants",
                         f"`{mutant}` is no catalogued mistake of {mistakes_where}{_nearest(mutant, known)}: fix the "
                         "name, or remove it") for mutant in source.manifest.demo.mutants if mutant not in known]
    return problems


def _solution(code: str) -> str:
    return "\n".join(line for line in code.splitlines() if not SOLUTION_MARKER.match(line))


def _duplicates(where: str, table: str, items: list[str]) -> list[Problem]:
    twice = sorted({item for item in items if items.count(item) > 1})
    return [Problem("catalogues", where, f"{table} has two entries named {item!r}: names must be unique (they name "
                                         "the tests and the demo's submissions)") for item in twice]


def budgets(source: _Source) -> list[Problem]:
    """Every code part hanging to its budget and the grace beyond, after the start and a set-up cell, still leaves the
    submission inside its wall time."""
    from autograder.grade.sandbox.limits import PART_GRACE_SECONDS, Limits  # imports autograder.grade (dask): lazily
    limits = Limits.from_manifest(source.manifest)
    code_parts = [gid for gid, part in source.manifest.parts.items() if part.names]
    worst = limits.startup_seconds + limits.cell_seconds + sum(
        limits.part_budget(gid) + PART_GRACE_SECONDS for gid in code_parts)
    if worst <= limits.wall_seconds:
        return []
    return [Problem("budgets", f"{source.manifest_where} [budgets] wall_seconds",
                    f"is {limits.wall_seconds:g} s, but a submission whose every part runs to its budget takes "
                    f"{worst:g} s (startup_seconds {limits.startup_seconds:g} + cell_seconds {limits.cell_seconds:g} "
                    f"+ {len(code_parts)} parts' seconds, each with {PART_GRACE_SECONDS:g} s grace): raise "
                    f"wall_seconds to at least {worst:g}, or lower the parts' `seconds`")]


def requirements(source: _Source) -> list[Problem]:
    requirement = source.manifest.requirements
    if requirement is None:
        return []
    where = f"{source.manifest_where} requirements"
    module_name, function = requirement.split(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # noqa: BLE001 - any import error is the author's to fix
        return [Problem("requirements", where, f"module {module_name} does not import ({type(error).__name__}: "
                                               f"{error}): name an importable module:function")]
    found: Callable[..., Any] | None = getattr(module, function, None)
    if not callable(found):
        defined = [n for n in dir(module) if callable(getattr(module, n)) and not n.startswith("_")]
        return [Problem("requirements", where, f"{module_name} has no function {function}"
                                               f"{_nearest(function, defined)}: name a function of it")]
    return []
