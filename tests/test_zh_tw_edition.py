"""The zh-TW edition end to end, on a copy of the kit whose course settings say `language = "zh-TW"`: `make release`
(generate_release) writes Chinese notebooks that nbgrader validates, the student bundle leaks nothing and runs from
the top in Chinese, and grading is language-blind: the batch grader and stock nbgrader give the zh-TW release's
reference and catalogued mistakes the English release's per-part scores, with the diagnoses in Chinese."""
import csv
import html
import json
import os
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbgrader.validator import Validator

from autograder import bundle, judging, registry, translation
from autograder.__main__ import main as cli
from autograder.course_dir import COURSE_ROOT, ReleaseError, generate_release, scratch_course
from autograder.demo import autograde, demo_submissions, write_submitted
from autograder.grade import task
from autograder.gradebook import part_grades
from autograder.notebooks import grade_id, read_notebook, reference_answers
from helpers import i18n
from test_browser import SCREENSHOTS, browser, jupyter_server, open_notebook  # noqa: F401 - browser: a fixture
from test_bundle import contents, errors, leaks, output_text, reference_names, run_unzipped, secret_lines

ALL, GRADED = registry.names(), registry.names(graded=True)
LANGUAGE = "zh-TW"
SEED = 2026  # of the hidden cases, in both languages' batches
#: Every test here releases the course with nbgrader first (about a minute): not in `make check`'s fast tier, where
#: tests/test_translations.py checks the translations themselves.
pytestmark = pytest.mark.slow


def zh_tw_kit(target):
    """A copy of the kit's files (those git tracks or would) at `target` whose course settings choose zh-TW."""
    tracked = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=COURSE_ROOT,
                             capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        if (COURSE_ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(COURSE_ROOT / name, target / name)
    settings = target / "helpers" / "course.toml"
    settings.write_text(settings.read_text().replace('language = "en"', f'language = "{LANGUAGE}"', 1))
    return target


class Language:
    """The course's language for this process (and the kernels and sandboxes it starts) while in the block."""

    def __init__(self, settings):
        self.settings = str(settings)

    def __enter__(self):
        self.saved = {key: os.environ.get(key) for key in ("COURSE_SETTINGS", i18n.LANGUAGE_ENV)}
        os.environ["COURSE_SETTINGS"] = self.settings
        os.environ.pop(i18n.LANGUAGE_ENV, None)
        assert i18n.language() == LANGUAGE

    def __exit__(self, *exc):
        for key, value in self.saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    """(the zh-TW kit copy with its releases generated, {assignment: its student bundle})."""
    root = zh_tw_kit(tmp_path_factory.mktemp("zh-tw-kit"))
    out = tmp_path_factory.mktemp("zh-tw-dist")
    with Language(root / "helpers" / "course.toml"):
        for name in ALL:
            generate_release(name, root)
        bundles = {name: bundle.build(name, out, root) for name in ALL}
    return root, bundles


def without_checksum(metadata):
    nbgrader = {k: v for k, v in metadata.get("nbgrader", {}).items() if k != "checksum"}
    return {**metadata, "nbgrader": nbgrader} if "nbgrader" in metadata else dict(metadata)


def release(root, name):
    return read_notebook(root / "release" / name / registry.assignment(name).notebook)


@pytest.mark.parametrize("name", ALL)
def test_the_release_is_in_chinese_and_nbgrader_validates_it(kit, name):
    root, _ = kit
    english, chinese = read_notebook(COURSE_ROOT / "release" / name / registry.assignment(name).notebook), \
        release(root, name)
    assert chinese.metadata["course_kit"]["language"] == LANGUAGE
    assert [c.id for c in chinese.cells] == [c.id for c in english.cells]
    for before, after in zip(english.cells, chinese.cells):
        assert without_checksum(after.metadata) == without_checksum(before.metadata)  # checksums: recomputed
        if after.cell_type == "markdown" and after.source.strip() != "YOUR ANSWER HERE":
            assert translation.CJK.search(after.source), after.source[:80]
        if after.cell_type == "code":
            assert translation._code_shape(after.source) == translation._code_shape(before.source)
    # The blank release passes nbgrader's own validation: no read-only cell reads as changed.
    path = root / "release" / name / registry.assignment(name).notebook
    found = Validator().validate(str(path))
    assert not found.get("changed"), found["changed"]


def test_a_stale_translation_stops_the_release_and_the_last_release_stays(kit, tmp_path):
    root, _ = kit
    course = scratch_course(tmp_path / "course", ["two_layer_net"])
    path = course / "release" / "two_layer_net" / "two_layer_net.ipynb"
    with Language(root / "helpers" / "course.toml"):
        generate_release("two_layer_net", course)
        released = path.read_bytes()
        source = course / "source" / "two_layer_net" / "two_layer_net.ipynb"
        nb = read_notebook(source)
        cell = next(c for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("## 3. "))
        cell.source = cell.source.replace("\n\n", "\n\nA sentence the translation has not followed.\n\n", 1)
        nbformat.write(nb, source)
        with pytest.raises(ReleaseError, match=rf"stale: cell {cell.id} .*changed after its zh-TW translation"):
            generate_release("two_layer_net", course)
    assert path.read_bytes() == released


@pytest.mark.parametrize("name", ALL)
def test_the_chinese_bundle_leaks_nothing_and_carries_the_catalogues(kit, name):
    _, bundles = kit
    files = contents(bundles[name])
    assert leaks(files, secret_lines(name), reference_names()) == []
    assert f'language = "{LANGUAGE}"' in files[f"{name}/helpers/course.toml"].decode()
    assert f"{name}/helpers/locale/zh_TW/LC_MESSAGES/helpers.po" in files
    assert f"{name}/helpers/locale/zh_TW/glossary.toml" in files
    readme = files[f"{name}/README.md"].decode()
    assert translation.CJK.search(readme), readme[:300]
    if name in GRADED:
        assert "YOUR CODE HERE" in readme  # nbgrader's marker, as the notebook shows it


#: The README's picture of the zh-TW edition (docs/): copied from SCREENSHOTS by hand when the notebook changes.
README_SCREENSHOT = "zh-TW-two_layer_net.png"


def screenshot(chromium, folder, nb, name):
    """The executed notebook `nb`, opened in JupyterLab from the bundle's folder, from the last check cell before
    its first plot down to that plot (the prose between them included): a screenshot in
    SCREENSHOTS/README_SCREENSHOT; returns the text shown there."""
    nb.cells = nb.cells[1:]  # the probe run_unzipped added
    path = folder / registry.assignment(name).notebook
    nbformat.write(nb, path)
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    plot = next(i for i in code if any("image/png" in o.get("data", {}) for o in nb.cells[i].get("outputs", [])))
    check = max(i for i in code if i < plot and (grade_id(nb.cells[i]) or "").startswith("check_"))
    with jupyter_server("lab", folder) as server:
        lab = open_notebook(chromium, server, "lab", path)
        lab.page.set_viewport_size({"width": 1400, "height": 3000})
        cells = lab.page.locator(".jp-Notebook .jp-Cell")
        cells.nth(plot).scroll_into_view_if_needed()
        cells.nth(check).evaluate("cell => cell.scrollIntoView({block: 'start'})")
        lab.page.wait_for_timeout(1500)
        top, bottom = cells.nth(check).bounding_box(), cells.nth(plot).bounding_box()
        height = min(3000, int(bottom["y"] + bottom["height"] - top["y"] + top["y"] + 40))
        lab.page.set_viewport_size({"width": 1400, "height": height})
        cells.nth(check).evaluate("cell => cell.scrollIntoView({block: 'start'})")
        lab.page.wait_for_timeout(1000)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        lab.page.screenshot(path=str(SCREENSHOTS / README_SCREENSHOT))
        return "\n".join(cells.nth(i).inner_text() for i in range(check, plot + 1))


@pytest.mark.parametrize("name", ALL)  # runs the notebook, answered
def test_the_chinese_bundle_runs_from_the_top_and_speaks_chinese(kit, name, tmp_path, browser):  # noqa: F811
    _, bundles = kit
    source = read_notebook(COURSE_ROOT / "source" / name / registry.assignment(name).notebook)
    # The bundle's own course settings say zh-TW: the kernel reads them, not this process's. Figures are drawn as
    # in Jupyter (inline), so the screenshot shows them.
    folder, nb = run_unzipped(bundles[name], tmp_path, answers=reference_answers(source),
                              env={"COURSE_SETTINGS": "", i18n.LANGUAGE_ENV: "",
                                   "MPLBACKEND": "module://matplotlib_inline.backend_inline"})
    failed = [(grade_id(cell), output_text(cell)[-600:]) for cell in nb.cells if errors(cell)]
    assert failed == []
    text = "\n".join(output_text(cell) for cell in nb.cells)
    assert "Glyph" not in text and "missing from font" not in text
    if name in GRADED:
        assert any("image/png" in o.get("data", {}) for cell in nb.cells for o in cell.get("outputs", []))
        checks = [output_text(c) for c in nb.cells if (grade_id(c) or "").startswith("check_")]
        assert checks and all("->  通過" in out and "->  pass" not in out for out in checks), checks
    if name == "two_layer_net":
        shown = screenshot(browser, folder, nb, name)
        assert "通過" in shown and translation.CJK.search(shown)


# --- Grading is language-blind --------------------------------------------------------------------------------

def mistakes_batch(course, name):
    """The reference, the blank release and every catalogued mistake, from `course`'s release."""
    return demo_submissions(course, name, mutants=[m.name for m in registry.assignment(name).mutants])


def batch_grades(course, name, folder, out):
    """grade_submission through the command line: ({student: grades.csv row}, the output folder)."""
    for student, (nb, side_files) in mistakes_batch(course, name).items():
        nbformat.write(nb, folder / f"{student}.ipynb")
        for file, path in side_files.items():
            (folder / student).mkdir(exist_ok=True)
            (folder / student / file).write_bytes(Path(path).read_bytes())
    assert cli(["grade", name, str(folder), "--out", str(out), "--course", str(course)]) == 0
    with open(out / "grades.csv") as f:
        return {row["student_id"]: row for row in csv.DictReader(f)}


def diagnoses(out, student):
    return [d for part in json.loads((out / "results" / f"{student}.json").read_text())["parts"].values()
            for d in part.get("diagnoses", [])]


# Grades every catalogued mistake twice, and runs stock nbgrader on both releases.
@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.xdist_group(f"zh-tw-grading-{n}")) for n in GRADED])
def test_grading_is_language_blind(kit, name, tmp_path, monkeypatch):
    root, _ = kit
    # Hidden cases are drawn afresh per run, so a mistake with partial credit can score differently in two runs of
    # one language: both languages' batches draw every part's cases from the same seed.
    monkeypatch.setattr(task, "new_rng", lambda seed=None: judging.new_rng(SEED if seed is None else seed))
    english = scratch_course(tmp_path / "en", [name])
    generate_release(name, english)
    points = registry.assignment(name).points
    (tmp_path / "en-in").mkdir()
    en_rows = batch_grades(english, name, tmp_path / "en-in", tmp_path / "en-out")
    with Language(root / "helpers" / "course.toml"):
        chinese = scratch_course(tmp_path / "zh", [name])
        generate_release(name, chinese)
        (tmp_path / "zh-in").mkdir()
        zh_rows = batch_grades(chinese, name, tmp_path / "zh-in", tmp_path / "zh-out")
    assert set(zh_rows) == set(en_rows)
    assert any(part["seed"] == SEED for part in json.loads(
        (tmp_path / "en-out" / "results" / "reference.json").read_text())["parts"].values())
    for student, row in en_rows.items():
        assert zh_rows[student]["status"] == row["status"] == "ok", (student, zh_rows[student])
        seeds = [{grade_id: part["seed"] for grade_id, part in json.loads(
            (tmp_path / out / "results" / f"{student}.json").read_text())["parts"].items()}
            for out in ("en-out", "zh-out")]
        drawn = [{grade_id for grade_id, seed in run.items() if seed == SEED} for run in seeds]
        assert drawn[0] == drawn[1], seeds  # (the best model's evaluation draws nothing)
        assert {p: float(zh_rows[student][p]) for p in points} == {p: float(row[p]) for p in points}, student
    for mutant in registry.assignment(name).mutants:
        student = f"mutant-{mutant.name}"
        en_page = html.unescape((tmp_path / "en-out" / "feedback" / f"{student}.html").read_text())
        zh_page = html.unescape((tmp_path / "zh-out" / "feedback" / f"{student}.html").read_text())
        assert mutant.feedback in en_page
        assert translation.CJK.search(" ".join(diagnoses(tmp_path / "zh-out", student))), mutant.name
        assert len(diagnoses(tmp_path / "zh-out", student)) == len(diagnoses(tmp_path / "en-out", student))
        assert translation.CJK.search(zh_page)
    # Stock nbgrader: the reference and the manifest's first demo mistake, in each language.
    stock = {}
    for language, course in (("en", english), (LANGUAGE, chinese)):
        batch = demo_submissions(course, name, mutants=registry.assignment(name).demo_mutants[:1])
        write_submitted(course, batch, name)
        if language == LANGUAGE:
            with Language(root / "helpers" / "course.toml"):
                autograde(course, batch, name)
        else:
            autograde(course, batch, name)
        stock[language] = part_grades(course, name, batch)
    # (Stock nbgrader draws its own cases in the kernel: the mistake's partial credit may differ between any two
    # runs, so its parts that lose points are compared, and every other score exactly.)
    assert stock[LANGUAGE]["reference"] == stock["en"]["reference"] and stock[LANGUAGE]["blank"] == stock["en"]["blank"]
    assert {p: stock["en"]["reference"][p] for p in points} == {p: (v, v) for p, v in points.items()}
    for student in set(stock["en"]) - {"reference", "blank"}:
        lost = {language: {p for p in points if grades[student][p][0] < points[p]}
                for language, grades in stock.items()}
        assert lost[LANGUAGE] == lost["en"] != set(), (student, stock[LANGUAGE][student], stock["en"][student])
        kept = set(points) - lost["en"]
        assert {p: stock[LANGUAGE][student][p] for p in kept} == {p: stock["en"][student][p] for p in kept}
