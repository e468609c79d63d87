"""End to end with stock nbgrader: release, submit, autograde, read the gradebook."""
import nbformat
import pytest

from autograder.course import generate_release, scratch_course
from autograder.demo import autograde, demo_submissions, grade_table, write_submitted
from autograder.gradebook import part_grades
from autograder.mistakes.two_layer_net import MUTANTS
from autograder.notebooks import read_notebook, reference_answers
from autograder.styles import combine, style_notebook
from autograder.styles.two_layer_net import STYLES

pytestmark = pytest.mark.xdist_group("reference_model")
AUTO_PARTS = {"test_nn_forward_pass", "test_nn_forward_backward", "test_nn_train", "test_nn_predict",
              "test_two_layer_net", "test_find_best_net", "test_best_model"}
WRITTEN = {"q_loss_as_scorer", "q_fitting", "q_nn_vs_svm"}
GRADED_MUTANTS = ("softmax_unstable", "decay_never")


@pytest.fixture(scope="module")
def graded(tmp_path_factory, reference_model):
    course = scratch_course(tmp_path_factory.mktemp("course"))
    generate_release("two_layer_net", course)
    batch = demo_submissions(course, mutants=GRADED_MUTANTS)
    source = read_notebook(course / "source" / "two_layer_net" / "two_layer_net.ipynb")
    release = read_notebook(course / "release" / "two_layer_net" / "two_layer_net.ipynb")
    for i, group in enumerate(combine(STYLES)):
        batch[f"styles-{i}"] = (style_notebook(release, source, reference_answers(source), group),
                                batch["reference"][1])
    write_submitted(course, batch)
    autograde(course, batch)
    return course, part_grades(course, "two_layer_net", batch)


def visible_check_complaints(course, student):
    """(grade_id, what) for every cell of the student's autograded notebook that raised or printed 'look again'."""
    notebook = nbformat.read(course / "autograded" / student / "two_layer_net" / "two_layer_net.ipynb", 4)
    return [(cell.metadata.get("nbgrader", {}).get("grade_id"), output.get("ename") or output.get("text"))
            for cell in notebook.cells for output in cell.get("outputs", [])
            if output.get("output_type") == "error" or "look again" in output.get("text", "")]


def test_reference_gets_every_autograded_point_and_awaits_written_grading(graded):
    course, grades = graded
    assert not visible_check_complaints(course, "reference")
    ref = grades["reference"]
    assert set(ref) == AUTO_PARTS | WRITTEN
    for part in AUTO_PARTS:
        assert ref[part][0] == ref[part][1] > 0, (part, ref[part])
    assert all(ref[q][0] is None for q in WRITTEN)  # answered: a person grades them in formgrader


@pytest.mark.parametrize("group", range(len(combine(STYLES))))
def test_every_style_of_correct_code_gets_every_point_and_passes_the_visible_checks(graded, group):
    course, grades = graded
    got = grades[f"styles-{group}"]
    lost = {part: got[part] for part in AUTO_PARTS if got[part][0] != got[part][1]}
    assert not lost, ([s.name for s in combine(STYLES)[group]], lost)
    assert not visible_check_complaints(course, f"styles-{group}"), [s.name for s in combine(STYLES)[group]]


def test_untouched_release_scores_zero_on_every_part(graded):
    _, grades = graded
    assert all(score == 0 for score, _ in grades["blank"].values()), grades["blank"]


@pytest.mark.parametrize("name", GRADED_MUTANTS)
def test_mutant_loses_points_in_its_own_part_only(graded, name):
    course, grades = graded
    mutant = next(m for m in MUTANTS if m.name == name)
    ref, got = grades["reference"], grades[f"mutant-{name}"]
    lost = {part for part in AUTO_PARTS if got[part][0] < ref[part][0]}
    assert lost == {mutant.part}, got
    notebook = nbformat.read(course / "autograded" / f"mutant-{name}" / "two_layer_net" / "two_layer_net.ipynb", 4)
    feedback = "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []))
    assert mutant.feedback in feedback


def test_grade_table_totals(graded):
    _, grades = graded
    header, rows = grade_table(grades)
    assert header[0] == "student_id" and header[-2:] == ["total", "max_total"]
    by_student = {row[0]: row for row in rows}
    assert by_student["blank"][-2:] == ["0", "43"]
    assert float(by_student["reference"][-2]) == sum(grades["reference"][p][1] for p in AUTO_PARTS)
