"""The student bundle (`make student-bundle`): it holds exactly the student's files and nothing an instructor keeps,
two builds are byte-identical, its pins are the kit's, and its notebook runs from the unzipped folder in a fresh
kernel, naming each function that is not written yet instead of failing with a long traceback."""
import ast
import hashlib
import os
import re
import zipfile

import nbformat
import pytest
import yaml
from nbclient import NotebookClient
from nbgrader.utils import is_solution

from autograder import bundle, registry
from autograder.__main__ import main
from autograder.course_dir import COURSE_ROOT
from autograder.term import calendar
from autograder.notebooks import answer_cells, grade_id, read_notebook, reference_answers
from test_dependencies import parse_pins, pyproject_requirements

GRADED = registry.names(graded=True)
ASSIGNMENTS = registry.names()
#: Shorter lines (`return loss, grads`, `### END SOLUTION`) also occur in code that gives nothing away.
SECRET_LINE_CHARS = 25
#: Solution lines that the helpers may hold too, each with the reason it gives nothing away.
SHARED_IDIOMS = {
    "X_batch, y_batch = X[idx], y[idx]": "helpers.batched trains many nets at once (vmap over the student's own "
                                         "nn_forward_backward) and draws its minibatches the usual way",
    "for images, labels in loader:": "helpers.transfer.predictions walks a loader the usual way to collect the "
                                     "labels a trained network predicts (the notebook's evaluate does more)",
}
#: Regions nbgrader strips from the release: solutions (code and written answers) and hidden tests.
SECRET_REGION = re.compile(r"BEGIN (SOLUTION|HIDDEN TESTS)[^\n]*\n(.*?)END \1", re.S)
#: Instructor-only paths. The TOML files students get are the course's settings, helpers/course.toml (which transfer
#: experiment the class runs), and the glossaries of helpers/locale; any other (an assignment's manifest, its
#: notebook translations) is forbidden.
FORBIDDEN_PATH = re.compile(r"(^|/)(autograder|source|assignments)/|\.(pth|db)$|"
                            r"(?<!/helpers/course)(?<!/helpers/locale/zh_TW/glossary)\.toml$")
NOT_IMPLEMENTED = re.compile(r"(\w+(?:\.\w+)*) is not implemented yet")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
CELL_TIMEOUT = 300          # seconds; the slowest cell is transfer_learning's first training of its source network


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """{assignment: path of its bundle}, built once for the module."""
    out = tmp_path_factory.mktemp("dist")
    return {name: bundle.build(name, out) for name in ASSIGNMENTS}


def contents(zip_path):
    with zipfile.ZipFile(zip_path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def notebooks(kind, name):
    return [read_notebook(COURSE_ROOT / kind / name / nb) for nb in registry.assignment(name).notebooks]


def secret_lines(name):
    """Lines of the source notebooks' solution, mark-scheme and hidden-test regions that the release does not show
    (not even inside a line of its own, e.g. a hint in prose)."""
    shown = "\n".join(cell.source for nb in notebooks("release", name) for cell in nb.cells)
    secrets = set()
    for nb in notebooks("source", name):
        for cell in nb.cells:
            regions = [match.group(2) for match in SECRET_REGION.finditer(cell.source)]
            if cell.cell_type == "markdown" and is_solution(cell) and not regions:
                regions = [cell.source]  # a written answer's mark scheme: nbgrader replaces the whole cell
            secrets |= {line.strip() for region in regions for line in region.splitlines()}
    return sorted(line for line in secrets if len(line) >= SECRET_LINE_CHARS and line not in shown)


def reference_names():
    """Names of the reference implementations defined in assignments/*/checks.py (reference_forward, ...)."""
    return sorted({node.name for path in (COURSE_ROOT / "assignments").glob("*/checks.py")
                   for node in ast.walk(ast.parse(path.read_text()))
                   if isinstance(node, ast.FunctionDef) and node.name.startswith("reference_")})


def imports_autograder(source):
    for node in ast.walk(ast.parse(source)):
        modules = ([a.name for a in node.names] if isinstance(node, ast.Import)
                   else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        if any(m == "autograder" or m.startswith("autograder.") for m in modules):
            return True
    return False


def searchable_text(path, content):
    """A file's text; for a notebook, also its cells' sources as written (JSON escapes quotes and newlines)."""
    text = content.decode("utf-8")
    if path.endswith(".ipynb"):
        text += "\n" + "\n".join(cell.source for cell in nbformat.reads(text, as_version=4).cells)
    return text


def leaks(files, secrets, references):
    """Every way the bundle's `files` ({path: bytes}) give away what only instructors may see."""
    found = [f"forbidden file {path}" for path in files if FORBIDDEN_PATH.search(path)]
    for path, content in files.items():
        text = searchable_text(path, content)
        found += [f"{path} holds the secret line {line!r}" for line in secrets if line in text
                  and not (line in SHARED_IDIOMS and "/helpers/" in path)]
        found += [f"{path} names {name}" for name in references if name in text]
        if "/helpers/" in path and path.endswith(".py") and imports_autograder(text):
            found.append(f"{path} imports autograder")
    return found


def expected_files(name):
    helpers = sorted(p.relative_to(COURSE_ROOT).as_posix() for p in (COURSE_ROOT / "helpers").rglob("*.py")
                     if "__pycache__" not in p.parts)
    locale = sorted(p.relative_to(COURSE_ROOT).as_posix() for p in (COURSE_ROOT / "helpers" / "locale").rglob("*")
                    if p.is_file())
    return sorted(f"{name}/{path}" for path in [*registry.assignment(name).notebooks, *helpers, "helpers/course.toml",
                                                *locale, "environment.yml",
                                                "requirements.txt", "README.md"])


def test_the_leak_check_catches_each_kind_of_leak(built):
    files = contents(built["two_layer_net"])
    secret = secret_lines("two_layer_net")[0]
    planted = {**files,
               "two_layer_net/autograder/judging.py": b"",
               "two_layer_net/best_two_layer_net.pth": b"",
               "two_layer_net/assignments/two_layer_net/manifest.toml": b"",  # only helpers/course.toml may ship
               "two_layer_net/helpers/extra.py": f"import autograder.hidden\n# {secret}\nreference_forward\n".encode()}
    found = leaks(planted, secret_lines("two_layer_net"), reference_names())
    for kind in ("forbidden file two_layer_net/autograder/", "forbidden file two_layer_net/best_two_layer_net.pth",
                 "forbidden file two_layer_net/assignments/two_layer_net/manifest.toml",
                 "helpers/extra.py holds the secret line", "helpers/extra.py names reference_forward",
                 "helpers/extra.py imports autograder"):
        assert any(kind in problem for problem in found), (kind, found)
    imports = {"x/helpers/a.py": b"from autograder import checks\n"}
    assert leaks(imports, [], []) == ["x/helpers/a.py imports autograder"]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f'print("{secret}")')])
    assert leaks({"x/x.ipynb": nbformat.writes(notebook).encode()}, [f'print("{secret}")'], []) != []


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_bundle_is_reproducible_and_holds_exactly_the_student_files(built, name, tmp_path):
    first = built[name].read_bytes()
    assert bundle.build(name, tmp_path).read_bytes() == first
    files = contents(built[name])
    assert sorted(files) == expected_files(name)
    for nb in registry.assignment(name).notebooks:
        assert files[f"{name}/{nb}"] == (COURSE_ROOT / "release" / name / nb).read_bytes()
    with zipfile.ZipFile(built[name]) as archive:
        assert {info.date_time for info in archive.infolist()} == {bundle.TIMESTAMP}


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_dependency_files_keep_the_kits_pins_for_students(built, name):
    files = contents(built[name])
    kit = parse_pins(pyproject_requirements())
    expected = {package: pin for package, pin in kit.items() if package not in bundle.INSTRUCTOR_ONLY}
    assert set(bundle.INSTRUCTOR_ONLY) <= set(kit) and {"nbgrader", "nbclient", "nbformat", "torch"} <= set(expected)
    requirements = files[f"{name}/requirements.txt"].decode().splitlines()
    assert parse_pins([line for line in requirements if line and not line.startswith("#")]) == expected
    environment_text = files[f"{name}/environment.yml"].decode()
    environment = yaml.safe_load(environment_text)
    (pip,) = [entry["pip"] for entry in environment["dependencies"] if isinstance(entry, dict)]
    assert parse_pins(pip) == expected
    assert "pip" in environment["dependencies"] and any(d.startswith("python") for d in environment["dependencies"]
                                                         if isinstance(d, str))
    assert not re.search(r"(^|\s)-e\s", environment_text) and "pip install" not in environment_text


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_readme_says_what_the_student_needs(built, name):
    found = registry.assignment(name)
    text = contents(built[name])[f"{name}/README.md"].decode()
    assert text.startswith(f"# {found.title}\n")
    assert "pip install -r requirements.txt" in text and "conda env create -f environment.yml" in text
    assert "Colab" in text and "JupyterHub" in text and "{{" not in text and "{%" not in text
    due = calendar.load(COURSE_ROOT).due(name)
    if due is None:  # an ungraded notebook: nothing to hand in
        assert "**Due:" not in text
    else:
        assert f"**Due: {due:%A %d %B %Y, %H:%M} (Europe/London).**" in text
    submits = f"python -m helpers.submit {found.notebook} --student YOUR_ID" in text
    assert submits == (name in GRADED)
    assert all(side_file in text for side_file in found.side_files)


def test_the_calendar_stays_with_the_instructor(built):
    """term.toml (with the extensions and roster beside it) is the instructor's: only its due date reaches the
    bundle, in the README."""
    for name, zip_path in built.items():
        names = {path.rsplit("/", 1)[-1] for path in contents(zip_path)}
        assert not names & {"term.toml", "extensions.csv", "roster.csv"}, name


def test_unknown_assignment_is_refused(tmp_path, capsys):
    assert main(["bundle", "no_such_assignment", "--out", str(tmp_path)]) == 2
    assert "unknown assignment 'no_such_assignment'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_makefile_builds_bundles_after_setup():
    text = (COURSE_ROOT / "Makefile").read_text()
    assert re.search(r"^\.PHONY:.*\bstudent-bundle\b", text, re.M)
    assert re.search(r"^student-bundle:.*\bsetup\b", text, re.M)
    assert "-m autograder bundle $(ASSIGNMENT)" in text


def run_unzipped(zip_path, tmp_path, answers=None, env=None):
    """Unzip the bundle and run its notebook in a fresh kernel under the grading budget, errors allowed; first a probe
    cell prints where `helpers` is imported from. `answers` ({grade_id: code}) fill the answer cells; `env` adds to
    the kernel's environment. Returns (the bundle's folder, the executed notebook)."""
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(tmp_path)
    name = zip_path.name.removesuffix("-student.zip")
    folder = (tmp_path / name).resolve()
    nb = nbformat.read(folder / registry.assignment(name).notebook, as_version=4)
    for cell in nb.cells:
        cell.source = (answers or {}).get(grade_id(cell), cell.source)
    nb.cells.insert(0, nbformat.v4.new_code_cell("import os, helpers\nprint(os.path.realpath(helpers.__file__))"))
    kernel_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NBGRADER_EXECUTION")}
    kernel_env.update({"COURSE_GRADING_BUDGET": "1", "OMP_NUM_THREADS": "2", "MPLBACKEND": "agg", **(env or {})})
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(folder)}})
    client.execute(env=kernel_env)
    return folder, nb


def output_text(cell):
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        if output.get("output_type") == "error":
            parts += [output["ename"], output["evalue"], *output["traceback"]]
    return ANSI.sub("", "\n".join(parts))


def errors(cell):
    return [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]


@pytest.mark.slow  # runs each notebook
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_unzipped_notebook_runs_and_names_unwritten_functions(built, name, tmp_path):
    folder, nb = run_unzipped(built[name], tmp_path)
    probe = nb.cells[0]
    assert not errors(probe), output_text(probe)
    assert output_text(probe).strip().startswith(str(folder / "helpers") + "/"), \
        f"helpers imported from outside the bundle: {output_text(probe)}"
    code_cells = [(index, cell) for index, cell in enumerate(nb.cells[1:], 1) if cell.cell_type == "code"]
    if name not in GRADED:
        assert [(index, output_text(cell)) for index, cell in code_cells if errors(cell)] == []
        return
    solution = read_notebook(COURSE_ROOT / "source" / name / registry.assignment(name).notebook)
    student_functions = {f for names in answer_cells(solution).values() for f in names}
    checks = [cell for _, cell in code_cells if (grade_id(cell) or "").startswith("check_")]
    assert checks, "the notebook should have visible checks"
    setup = next(cell for _, cell in code_cells if grade_id(cell) == "setup")
    assert not errors(setup), output_text(setup)
    for cell in checks:
        assert not errors(cell), (grade_id(cell), output_text(cell))
        assert "is not implemented yet" in output_text(cell), (grade_id(cell), output_text(cell))
    failed = [(index, cell) for index, cell in code_cells if cell not in checks and errors(cell)]
    assert failed, "a blank notebook must stop at the first cell that calls an unwritten function"
    # Run All stops at the first failed cell: it names the unwritten function in one plain line. The run here goes
    # on (errors allowed): every cell that reaches a stub says the same, and cells that use what a failed cell never
    # made fail with Python's usual NameError.
    unclear = []
    for position, (index, cell) in enumerate(failed):
        (error,) = errors(cell)
        if error["ename"] == "NameError" and position > 0:
            continue
        named = {n.split(".")[0] for n in NOT_IMPLEMENTED.findall(output_text(cell))}
        if error["ename"] != "NotImplementedError" or not named or not named <= student_functions \
                or len(error["traceback"]) > 1:
            unclear.append(f"cell {index} ({grade_id(cell)}): {len(error['traceback'])} traceback entries, "
                           f"{error['ename']}: {ANSI.sub('', error['evalue'])[:200]}")
    assert not unclear, "errors that do not name an unwritten function in one line:\n" + "\n".join(unclear)


@pytest.mark.slow  # runs each graded notebook, answered, downloading its data
@pytest.mark.parametrize("name", GRADED)
def test_an_answered_bundle_runs_from_the_top_on_a_machine_without_the_data(built, name, tmp_path):
    """A student off Debian (no dataset-fashion-mnist, nothing cached, no COURSE_DATA), online: the data comes down
    through torchvision from its mirror (here a loopback server, tests/loopback_mirror) and the notebook, answered,
    runs from the top under the grading budget without an error."""
    from test_download import FASHION_DIR, FILES, Mirror
    fashion_gz = {file: (FASHION_DIR / file).read_bytes() for file in FILES}  # what dataset-fashion-mnist installs
    source = read_notebook(COURSE_ROOT / "source" / name / registry.assignment(name).notebook)
    mirror = Mirror(fashion_gz)
    try:
        folder, nb = run_unzipped(built[name], tmp_path, answers=reference_answers(source), env={
            "PYTHONPATH": str(COURSE_ROOT / "tests" / "loopback_mirror"), "FASHION_MNIST_MIRROR": mirror.url,
            "FASHION_MNIST_MD5": ",".join(f"{n}={hashlib.md5(body).hexdigest()}" for n, body in fashion_gz.items()),
            "HOME": str(tmp_path / "home"), "COURSE_CACHE": str(tmp_path / "cache"), "COURSE_DATA": "",
            "no_proxy": "127.0.0.1,localhost", "NO_PROXY": "127.0.0.1,localhost"})
    finally:
        mirror.close()
    failed = [(grade_id(cell), output_text(cell)[-600:]) for cell in nb.cells if errors(cell)]
    assert failed == []
    assert sorted({path.lstrip("/") for path in mirror.requests}) == sorted(fashion_gz), mirror.requests
    assert (tmp_path / "cache" / "data" / "FashionMNIST" / "raw").is_dir()
    assert str(folder / "helpers") in output_text(nb.cells[0])
