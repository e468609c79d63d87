"""The transfer_learning assignment end to end: stock `nbgrader autograde` and our batch grader
(`python -m autograder grade transfer_learning ...`) agree: the reference gets every point, the blank release
none, and each catalogued mistake loses points in its own part only, with its diagnosis."""
import csv
import html

import nbformat
import pytest

from autograder.__main__ import main as cli
from autograder.course import generate_release, scratch_course
from autograder.demo import autograde, demo_submissions, write_submitted
from autograder.gradebook import part_grades
from autograder.mistakes.transfer_learning import MUTANTS
from autograder.notebooks import read_notebook, reference_answers
from autograder.styles import combine, style_notebook
from autograder.styles.transfer_learning import STYLES

pytestmark = pytest.mark.xdist_group("transfer_learning_grading")  # one worker builds the module's fixtures
ASSIGNMENT = "transfer_learning"
PARTS = {"test_make_model": 4, "test_trainable_parameters": 2, "test_train_one_epoch": 4, "test_evaluate": 3,
         "test_fit": 5}
WRITTEN = {"q_frozen_vs_finetune": 4, "q_callbacks": 3, "q_source_distance": 3}
#: Graded by stock nbgrader (each runs the whole notebook, about half a minute).
NBGRADER_MUTANTS = ("head_frozen_too", "state_dict_not_copied")
#: Graded by the batch grader: one mistake per part.
BATCH_MUTANTS = ("head_frozen_too", "optimiser_gets_frozen_parameters", "gradients_accumulate", "accuracy_in_percent",
                 "state_dict_not_copied", "batchnorm_updates_when_frozen")
BY_NAME = {m.name: m for m in MUTANTS}


def released_course(tmp_path_factory):
    course = scratch_course(tmp_path_factory.mktemp("course"), [ASSIGNMENT])
    generate_release(ASSIGNMENT, course)
    return course


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The course stock nbgrader grades."""
    return released_course(tmp_path_factory)


@pytest.fixture(scope="module")
def batch_course(tmp_path_factory):
    """A course of its own for our grader, which writes autograded/ too: the stock results stay as nbgrader wrote them."""
    return released_course(tmp_path_factory)


@pytest.fixture(scope="module")
def stock(course):
    """Stock nbgrader grades the reference, the blank release and two mutants."""
    batch = demo_submissions(course, mutants=NBGRADER_MUTANTS, assignment=ASSIGNMENT)
    write_submitted(course, batch, ASSIGNMENT)
    autograde(course, batch, ASSIGNMENT)
    return part_grades(course, ASSIGNMENT, batch)


@pytest.fixture(scope="module")
def batch_graded(batch_course, tmp_path_factory):
    """Our grader, through its command line, on a folder of notebooks: the demo batch and every correct style."""
    folder = tmp_path_factory.mktemp("submissions")
    for student, (nb, _) in demo_submissions(batch_course, mutants=BATCH_MUTANTS, assignment=ASSIGNMENT).items():
        nbformat.write(nb, folder / f"{student}.ipynb")
    source = read_notebook(batch_course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    release = read_notebook(batch_course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    for i, group in enumerate(combine(STYLES)):
        nbformat.write(style_notebook(release, source, reference_answers(source), group), folder / f"styles-{i}.ipynb")
    out = tmp_path_factory.mktemp("grading")
    assert cli(["grade", ASSIGNMENT, str(folder), "--out", str(out), "--course", str(batch_course)]) == 0
    with open(out / "grades.csv") as f:
        return {row["student_id"]: row for row in csv.DictReader(f)}, out


def autograded_text(course, student):
    notebook = nbformat.read(course / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    return notebook, "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []))


def test_reference_gets_every_point_under_nbgrader_and_its_visible_checks_pass(course, stock):
    ref = stock["reference"]
    assert {part: ref[part] for part in PARTS} == {part: (points, points) for part, points in PARTS.items()}
    assert all(ref[q] == (None, points) for q, points in WRITTEN.items())  # answered: graded by hand
    notebook, text = autograded_text(course, "reference")
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors and "look again" not in text
    assert text.count("->  pass") >= 10
    assert "frozen" in text and "from scratch" in text and "test acc" in text  # the results table ran
    for ran in ("largest difference from block(x): 0.0e+00", "labels/class", "nearest class mean",
                "fashion_mixed: ResNet-18 trained on Fashion-MNIST classes A (T-shirt/top, Trouser, Pullover, Sandal",
                "augmentation + dropout"):
        assert ran in text, ran  # the residual block by hand, the label budgets, features, sources, Keras tools


def test_blank_release_gets_zero_under_nbgrader(stock):
    assert all(score == 0 for score, _ in stock["blank"].values()), stock["blank"]


@pytest.mark.parametrize("name", NBGRADER_MUTANTS)
def test_mutant_loses_its_own_part_under_nbgrader(course, stock, name):
    mutant = BY_NAME[name]
    lost = {part for part in PARTS if stock[f"mutant-{name}"][part][0] < stock["reference"][part][0]}
    assert lost == {mutant.part}, stock[f"mutant-{name}"]
    assert mutant.feedback in autograded_text(course, f"mutant-{name}")[1]


def test_batch_grader_gives_the_reference_every_point_and_the_blank_release_none(batch_graded):
    grades, _ = batch_graded
    assert grades["reference"]["status"] == "ok"
    assert {part: float(grades["reference"][part]) for part in PARTS} == {p: float(v) for p, v in PARTS.items()}
    assert float(grades["reference"]["max_total"]) == sum(PARTS.values()) + sum(WRITTEN.values())
    assert all(float(grades["blank"][part]) == 0 for part in PARTS)


@pytest.mark.parametrize("name", BATCH_MUTANTS)
def test_batch_grader_costs_each_mistake_its_own_part_only_with_its_diagnosis(batch_graded, name):
    grades, out = batch_graded
    mutant, row = BY_NAME[name], grades[f"mutant-{name}"]
    lost = {part for part in PARTS if float(row[part]) < PARTS[part]}
    assert lost == {mutant.part}, row
    feedback = (out / "feedback" / f"mutant-{name}.html").read_text()
    assert mutant.feedback in html.unescape(feedback)


@pytest.mark.parametrize("group", range(len(combine(STYLES))))
def test_batch_grader_gives_every_style_of_correct_code_every_point(batch_graded, group):
    grades, _ = batch_graded
    row = grades[f"styles-{group}"]
    assert row["status"] == "ok" and {p: float(row[p]) for p in PARTS} == {p: float(v) for p, v in PARTS.items()}, \
        ([s.name for s in combine(STYLES)[group]], row)
