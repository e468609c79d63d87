"""The conformance suite: the same checks for every assignment the registry finds (assignments/*/manifest.toml),
each test id naming its assignment, so an assignment is held to them as soon as its folder exists
(`pytest tests/test_conformance.py -k NAME`).

- it follows the authoring rules (autograder.authoring, `python -m autograder check`): its manifest validates, its
  source notebook matches it and calls the checks the one way, its harness imports nothing grader-side, its
  catalogues cover every part, the part budgets fit the wall limit;
- in process, on the manifest's [conformance] seeds (one under `--quick`): the reference gets full marks, the blank
  release zero, every catalogued mistake loses points in its own part only with its diagnosis, every correct style
  full marks;
- the release is what nbgrader generates and, like the student bundle, leaks nothing;
- stock `nbgrader autograde` gives the reference every autograded point, the blank release none, and costs two
  mistakes their own parts; the batch grader, through its command line, does the same for one mistake per part and
  gives every group of correct styles every point.
"""
import csv
import html
import json
import re
from functools import cache
from pathlib import Path

import nbformat
import pytest

from autograder import agreement, authoring, bundle, registry
from autograder.__main__ import main as cli
from autograder.hidden import run_code_checks
from autograder.course_dir import COURSE_ROOT, generate_release, scratch_course
from autograder.demo import autograde, demo_submissions, write_submitted
from autograder.gradebook import part_grades
from autograder.notebooks import cells_by_grade_id, exec_definitions, read_notebook, reference_answers
from autograder.styles import combine, style_notebook
from test_bundle import contents, leaks, reference_names, secret_lines

ALL = registry.names()
GRADED = registry.names(graded=True)
#: Mistakes stock nbgrader grades per assignment (each run executes the whole notebook): the manifest's first demo ones.
NBGRADER_MUTANTS = 2


@cache
def assignment(name):
    return registry.assignment(name)


@cache
def notebook(kind, name):
    return read_notebook(COURSE_ROOT / kind / name / assignment(name).notebook)


@cache
def answers(name):
    return reference_answers(notebook("source", name))


def stubs(name):
    return {gid: cell.source for gid, cell in cells_by_grade_id(notebook("release", name)).items()
            if cell.cell_type == "code" and cell.metadata["nbgrader"].get("solution")}


def reading(name, cells):
    """The code parts of `name` that read any of the answer cells `cells` (its `names`, or the manifest's `reads`)."""
    return [part for part in assignment(name).code_parts if (set(part.names) | set(part.reads)) & set(cells)]


def seeds(name, quick):
    """The seeds of a sweep: the manifest's number, or one in the fast tier (`make check`)."""
    return range(1 if quick else assignment(name).manifest.conformance.seeds)


def check_parts(parts, namespace, seed):
    return {part.grade_id: part.check(*(namespace[n] for n in part.names), seed=seed) for part in parts}


def mutated(name, mutant):
    return exec_definitions(notebook("source", name), mutant.applied_to(answers(name)))


def styled(name, style):
    return exec_definitions(notebook("source", name), style.applied_to(answers(name)))


def pairs(kind):
    """(assignment, item) params over every graded assignment's mutants or styles, with ids 'assignment-item'."""
    return [pytest.param(name, item, id=f"{name}-{item.name}")
            for name in GRADED for item in getattr(assignment(name), kind)]


# --- The folder: manifest, source notebook, checks, harness, catalogues, budgets ----------------------------------

@pytest.mark.parametrize("name", ALL)
def test_the_assignment_follows_the_authoring_rules(name):
    """Every static rule of autograder.authoring (`python -m autograder check NAME`): the manifest validates, the
    source notebook matches it and calls the checks the one way, every student function sits alone in its answer
    cell, every part has its check run in its own harness, the harness imports nothing grader side, no cell binds a
    name students give their helpers, the catalogues cover every part, the part budgets fit the wall limit and the
    requirements function exists (tests/test_authoring.py shows each rule failing)."""
    assert authoring.check(name) == []


# --- In process, over many seeds --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", GRADED)
def test_the_reference_gets_full_marks(name, quick):
    namespace = exec_definitions(notebook("source", name), answers(name))
    for seed in list(seeds(name, quick))[:3]:
        reports = run_code_checks(assignment(name), namespace, seed)
        assert {p: r.fraction for p, r in reports.items()} == {p.grade_id: 1.0 for p in assignment(name).code_parts}, \
            {p: r.summary() for p, r in reports.items() if r.fraction < 1}


@pytest.mark.parametrize("name", GRADED)
def test_the_blank_release_gets_zero(name):
    reports = run_code_checks(assignment(name), exec_definitions(notebook("release", name), stubs(name)), seed=5)
    assert set(reports) == {part.grade_id for part in assignment(name).code_parts}
    for part, report in reports.items():
        assert report.fraction == 0, (part, report.summary())
        with pytest.raises(AssertionError, match="NotImplementedError"):
            report.award(points=3)


@pytest.mark.parametrize("name, cell", [pytest.param(name, cell, id=f"{name}-{cell}")
                                        for name in GRADED for cell in sorted(answers(name))])
def test_each_part_reads_only_the_cells_its_manifest_declares(name, cell):
    """A stub in one answer cell costs points only in the parts that read it (names, or `reads`): which licenses
    running only those parts for a style or a mistake below."""
    namespace = exec_definitions(notebook("source", name), {**answers(name), cell: stubs(name)[cell]})
    lost = {p for p, r in run_code_checks(assignment(name), namespace, seed=3).items() if r.fraction < 1}
    assert lost and lost <= {part.grade_id for part in reading(name, [cell])}, lost


@pytest.mark.parametrize("name, mutant", pairs("mutants"))
def test_every_catalogued_mistake_loses_points_in_its_own_part_only(name, mutant, quick):
    namespace = mutated(name, mutant)
    reports = check_parts(reading(name, [mutant.cell]), namespace, seed=11)
    assert {p for p, r in reports.items() if r.fraction < 1} == {mutant.part}, \
        {p: r.summary() for p, r in reports.items() if r.fraction < 1}
    part = next(p for p in assignment(name).code_parts if p.grade_id == mutant.part)
    for seed in seeds(name, quick):
        report = check_parts([part], namespace, seed)[mutant.part]
        assert report.fraction < 1 and any(mutant.feedback in d for d in report.diagnoses), (seed, report.summary())


@pytest.mark.parametrize("name, style", pairs("styles"))
def test_every_correct_style_gets_full_marks(name, style, quick):
    namespace, parts = styled(name, style), reading(name, style.answers)
    assert parts, f"{style.name} changes no graded cell"
    for seed in seeds(name, quick):
        failed = {p: r.summary() for p, r in check_parts(parts, namespace, seed).items() if r.fraction < 1}
        assert not failed, (seed, failed)


# --- The screen tells the grade: visible checks against hidden tests (autograder.agreement) ----------------------

def visible_orders(name, quick):
    """The sampling orders a visible check is run on: the manifest's [conformance] visible_orders, one under --quick."""
    return range(1 if quick else agreement.orders(assignment(name)))


def student_functions(name):
    return sorted({n for part in assignment(name).code_parts for n in part.names})


@pytest.mark.slow  # runs the notebook's check cells
@pytest.mark.parametrize("name, mutant", pairs("mutants"))
def test_every_catalogued_mistake_fails_its_visible_check_unless_listed_as_unseen(name, mutant, quick):
    """A student who sees "pass" keeps the points: every mistake the hidden test catches (the test above) makes its
    function's visible check fail, on every sampling order; the exceptions say why, and are real."""
    nb = notebook("source", name)
    assert agreement.cells_checking(nb, mutant.cell), f"{mutant.cell} has no visible check"
    verdicts = {order: agreement.visible_status(nb, mutant.applied_to(answers(name)), mutant.cell, order)
                for order in visible_orders(name, quick)}
    passed = [order for order, (status, _) in verdicts.items() if status == "pass"]
    if mutant.visible_blind:
        assert passed, f"{mutant.name}'s visible check now fails it: remove its visible_blind reason"
    else:
        assert not passed, {order: verdicts[order][1] for order in passed}


@pytest.mark.slow  # runs the notebook's check cells
@pytest.mark.parametrize("name, function", [pytest.param(name, function, id=f"{name}-{function}")
                                            for name in GRADED for function in student_functions(name)])
def test_the_reference_passes_every_visible_check(name, function, quick):
    nb = notebook("source", name)
    for order in visible_orders(name, quick):
        status, cells = agreement.visible_status(nb, answers(name), function, order)
        assert status == "pass", (order, cells)


@pytest.mark.slow  # runs the notebook's check cells
@pytest.mark.parametrize("name, style", pairs("styles"))
def test_every_correct_style_passes_its_visible_checks(name, style, quick):
    """Visible checks are fair too: a correct solution written another way sees "pass" on every sampling order."""
    nb = notebook("source", name)
    styled_answers = style.applied_to(answers(name))
    for function in sorted(set(style.answers) & set(student_functions(name))):
        for order in visible_orders(name, quick):
            status, cells = agreement.visible_status(nb, styled_answers, function, order)
            assert status == "pass", (function, order, cells)


def test_the_readme_holds_the_agreement_table():
    """The README's table of what each catalogued mistake shows on screen and costs at grading is the catalogue's."""
    table = agreement.table(registry.assignments(graded=True))
    assert table in (COURSE_ROOT / "README.md").read_text(), (
        "README.md's agreement table differs from the catalogues: paste `python -m autograder agreement`'s output")


# --- Release and bundle ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ALL)
def test_the_release_is_what_nbgrader_generates(tmp_path, name):
    course = scratch_course(tmp_path / "course", [name])
    release = generate_release(name, course)
    for nb in assignment(name).notebooks:
        committed = json.loads((COURSE_ROOT / "release" / name / nb).read_text())
        assert json.loads((release / nb).read_text()) == committed, \
            "release/ is stale: run `make release` and commit the result"
    assert sorted(p.name for p in release.iterdir()) == sorted(assignment(name).notebooks)


@pytest.mark.parametrize("name", GRADED)
def test_the_release_leaks_nothing(name):
    source, release = notebook("source", name), notebook("release", name)
    text = nbformat.writes(release)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "autograder", "hidden_test", "Mark scheme",
                   "MARK SCHEME"):
        assert marker not in text, marker
    code = "\n".join(c.source for c in release.cells if c.cell_type == "code")
    solution_only = set()
    for cell in source.cells:
        for block in re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", cell.source, re.S):
            solution_only |= {line.strip() for line in block.splitlines() if len(line.strip()) > 12}
    assert solution_only, "the source notebook should hold solutions"
    assert [line for line in solution_only if line in code] == []


@pytest.mark.parametrize("name", ALL)
def test_the_student_bundle_leaks_nothing(name, tmp_path):
    secrets, references = secret_lines(name), reference_names()
    if name in GRADED:
        assert len(secrets) >= 3, "the source notebook should hold solutions and hidden tests"
        assert any("hidden_test" in line for line in secrets), "hidden-test lines should be among the secrets"
    assert leaks(contents(bundle.build(name, tmp_path)), secrets, references) == []


# --- Stock nbgrader and the batch grader, on a scratch course ---------------------------------------------------

def released_course(tmp_path_factory, name):
    course = scratch_course(tmp_path_factory.mktemp(f"course-{name}"), [name])
    generate_release(name, course)
    return course


def grouped(kind):
    """Tests parametrized by graded assignment, each assignment's in an xdist group of its own: one worker builds
    its course and grades its batch once (the session's `graded` cache)."""
    return pytest.mark.parametrize("name", [pytest.param(name, id=name, marks=[
        pytest.mark.xdist_group(f"{kind}-{name}"), pytest.mark.slow]) for name in GRADED])


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    """`graded(kind, name)`: what `build_<kind>` gives for assignment `name`, built once per worker and kept for the
    session (a parametrized module fixture would be rebuilt whenever tests of two assignments interleave)."""
    built = {}

    def get(kind, name):
        if (kind, name) not in built:
            built[kind, name] = {"stock": build_stock, "batch": build_batch}[kind](tmp_path_factory, name)
        return built[kind, name]
    return get


def build_stock(tmp_path_factory, name):
    """Stock nbgrader grades the reference, the blank release and the first demo mistakes: (course, grades)."""
    course = released_course(tmp_path_factory, name)
    batch = demo_submissions(course, name, mutants=assignment(name).demo_mutants[:NBGRADER_MUTANTS])
    write_submitted(course, batch, name)
    autograde(course, batch, name)
    return course, part_grades(course, name, batch)


def autograded_text(course, name, student):
    nb = nbformat.read(course / "autograded" / student / name / assignment(name).notebook, 4)
    return nb, "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))


@grouped("stock")
def test_stock_nbgrader_gives_the_reference_every_point_and_its_visible_checks_pass(graded, name):
    course, grades = graded("stock", name)
    ref = grades["reference"]
    assert {p: ref[p] for p in assignment(name).points} == {p: (v, v) for p, v in assignment(name).points.items()}
    written = set(ref) - set(assignment(name).points)
    assert all(ref[q][0] is None for q in written)  # answered: a person grades them in formgrader
    nb, text = autograded_text(course, name, "reference")
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert "look again" not in text


@grouped("stock")
def test_stock_nbgrader_gives_the_blank_release_zero(graded, name):
    _, grades = graded("stock", name)
    assert all(score == 0 for score, _ in grades["blank"].values()), grades["blank"]


@grouped("stock")
def test_stock_nbgrader_costs_each_mistake_its_own_part_only(graded, name):
    course, grades = graded("stock", name)
    for mutant_name in assignment(name).demo_mutants[:NBGRADER_MUTANTS]:
        mutant = next(m for m in assignment(name).mutants if m.name == mutant_name)
        got = grades[f"mutant-{mutant_name}"]
        assert {p for p in assignment(name).points if got[p][0] < grades["reference"][p][0]} == {mutant.part}, got
        assert mutant.feedback in autograded_text(course, name, f"mutant-{mutant_name}")[1]


def one_mistake_per_part(name):
    """The first catalogued mistake of each code part (the manifest's demo ones first)."""
    ordered = sorted(assignment(name).mutants, key=lambda m: m.name not in assignment(name).demo_mutants)
    return list({m.part: m for m in reversed(ordered)}.values())


def build_batch(tmp_path_factory, name):
    """The batch grader, through its command line, on a folder of submissions: the reference, the blank release, one
    mistake per part and every group of correct styles. ({student: grades.csv row}, output folder)."""
    course = released_course(tmp_path_factory, name)
    folder = tmp_path_factory.mktemp(f"submissions-{name}")
    mutants = [m.name for m in one_mistake_per_part(name)]
    submissions = demo_submissions(course, name, mutants=mutants)
    source, release = notebook("source", name), read_notebook(course / "release" / name / assignment(name).notebook)
    for i, group in enumerate(combine(assignment(name).styles)):
        submissions[f"styles-{i}"] = (style_notebook(release, source, answers(name), group),
                                      submissions["reference"][1])
    for student, (nb, side_files) in submissions.items():
        nbformat.write(nb, folder / f"{student}.ipynb")
        for file, path in side_files.items():
            (folder / student).mkdir(exist_ok=True)
            (folder / student / file).write_bytes(Path(path).read_bytes())
    out = tmp_path_factory.mktemp(f"grading-{name}")
    assert cli(["grade", name, str(folder), "--out", str(out), "--course", str(course)]) == 0
    with open(out / "grades.csv") as f:
        return {row["student_id"]: row for row in csv.DictReader(f)}, out


@grouped("batch")
def test_the_batch_grader_gives_the_reference_every_point_and_the_blank_release_none(graded, name):
    grades, _ = graded("batch", name)
    points = assignment(name).points
    assert grades["reference"]["status"] == "ok"
    assert {p: float(grades["reference"][p]) for p in points} == {p: float(v) for p, v in points.items()}
    assert all(float(grades["blank"][p]) == 0 for p in points)
    assert float(grades["reference"]["max_total"]) >= sum(points.values())


@grouped("batch")
def test_the_batch_grader_costs_each_mistake_its_own_part_only_with_its_diagnosis(graded, name):
    grades, out = graded("batch", name)
    points = assignment(name).points
    for mutant in one_mistake_per_part(name):
        row = grades[f"mutant-{mutant.name}"]
        assert {p for p in points if float(row[p]) < points[p]} == {mutant.part}, (mutant.name, row)
        assert mutant.feedback in html.unescape((out / "feedback" / f"mutant-{mutant.name}.html").read_text())


@grouped("batch")
def test_the_batch_grader_gives_every_group_of_correct_styles_every_point(graded, name):
    grades, _ = graded("batch", name)
    points = assignment(name).points
    for i, group in enumerate(combine(assignment(name).styles)):
        row = grades[f"styles-{i}"]
        assert row["status"] == "ok" and {p: float(row[p]) for p in points} == {
            p: float(v) for p, v in points.items()}, ([s.name for s in group], row)
