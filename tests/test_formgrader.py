"""After `python -m autograder grade` into a course, nbgrader's own tools see everything: autograded/ notebooks
with the students' answers and our results (never a hidden test), written answers pending in the gradebook,
manual scores entered as formgrader does (and in formgrader itself, in Chromium), `nbgrader generate_feedback`
and `nbgrader export`."""
import csv
import re
import shutil
import subprocess
import sys
import time

import nbformat
import pytest

from autograder.__main__ import main as cli
from autograder.autograded import safe_markdown
from autograder.course_dir import api, generate_release, scratch_course
from autograder.gradebook import part_grades
from autograder.notebooks import grade_id, read_notebook, submission
from test_browser import browser, jupyter_server  # noqa: F401 (browser: the Chromium fixture)

pytestmark = [pytest.mark.xdist_group("reference_model"), pytest.mark.slow]  # sandboxes and notebooks: `make test` only
ASSIGNMENT = NOTEBOOK = "two_layer_net"
WRITTEN = {"q_loss_as_scorer": 2, "q_fitting": 4, "q_nn_vs_svm": 3}
SCRIPT = "<script>document.title = 'pwned'</script>"
ANSWERS = {"q_loss_as_scorer": "The loss is lowest where the true class scores highest, so it ranks answers.",
           "q_fitting": "Training accuracy far above validation accuracy is overfitting: regularise more.",
           "q_nn_vs_svm": "The linear model keeps one template per class; the hidden layer learns many."}
HTML_ANSWER = f"A lower loss means a <b>better fit</b> to the labels. {SCRIPT} [more](javascript:alert(1))"


def hidden_test_lines(source_nb):
    """Every line between BEGIN and END HIDDEN TESTS in the source notebook."""
    lines = []
    for cell in source_nb.cells:
        hidden = re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", cell.source, re.S)
        lines += [line.strip() for block in hidden for line in block.splitlines() if line.strip()]
    assert len(lines) >= 7, lines
    return lines


@pytest.fixture(scope="module")
def course(tmp_path_factory, source_nb, release_nb, answers, reference_model):
    """A scratch course graded by `python -m autograder grade` from its submitted/ tree: a solved notebook with
    written answers, the blank release, a student whose written answer holds HTML and a script and who
    rewrote one test cell and deleted another, and a file that is not a notebook."""
    course = scratch_course(tmp_path_factory.mktemp("course"), ["two_layer_net"])
    generate_release(ASSIGNMENT, course)
    release = read_notebook(course / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    solved = submission(release, source_nb, {**answers, **ANSWERS})
    html = submission(release, source_nb, {**answers, "q_loss_as_scorer": HTML_ANSWER})
    forged = next(c for c in html.cells if grade_id(c) == "test_nn_forward_pass")
    forged.source, forged.metadata.nbgrader["points"] = "print('all tests passed')", 100
    forged.outputs = [nbformat.v4.new_output("stream", name="stdout", text="all tests passed\n")]
    html.cells = [c for c in html.cells if grade_id(c) != "test_nn_predict"]
    for student, nb in {"solved": solved, "blank": release, "html": html, "broken": None}.items():
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        (folder / "timestamp.txt").write_text("2026-11-20 09:00:00.000000 UTC")
        if nb is None:
            (folder / f"{NOTEBOOK}.ipynb").write_text("{ not json")
            continue
        nbformat.write(nb, folder / f"{NOTEBOOK}.ipynb")
        if student != "blank":
            shutil.copy(reference_model, folder / "best_two_layer_net.pth")
    assert cli(["grade", ASSIGNMENT, str(course / "submitted"), "--out", str(course / "grading"),
                "--course", str(course), "--workers", "2"]) == 0
    return course


def autograded(course, student):
    return nbformat.read(course / "autograded" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb", 4)


def cell_text(nb, gid):
    cell = next(c for c in nb.cells if grade_id(c) == gid)
    return cell.source, "".join(o.get("text", "") for o in cell.get("outputs", []))


def test_autograded_notebooks_hold_the_answers_and_our_results_and_no_hidden_test(course, source_nb, answers):
    assert sorted(p.name for p in (course / "autograded").iterdir()) == ["blank", "html", "solved"]  # not broken
    hidden = hidden_test_lines(source_nb)
    for student in ("solved", "blank", "html"):
        text = nbformat.writes(autograded(course, student))
        leaked = [line for line in hidden if line in text]
        assert not leaked, (student, leaked)
        assert "BEGIN HIDDEN" not in text
    solved = autograded(course, "solved")
    assert cell_text(solved, "nn_forward_pass")[0] == answers["nn_forward_pass"]
    assert cell_text(solved, "q_fitting")[0] == ANSWERS["q_fitting"]
    source, output = cell_text(solved, "test_nn_forward_backward")
    assert source.startswith("# Graded: nn_forward_backward (10 points)")
    assert "test_nn_forward_backward: 10 / 10 points" in output and "FAIL" not in output
    assert "test_best_model: 6 / 6 points" in cell_text(solved, "test_best_model")[1]
    blank = autograded(course, "blank")
    output = cell_text(blank, "test_nn_forward_pass")[1]
    assert "test_nn_forward_pass: 0 / 4 points" in output and "FAIL" in output and "NotImplementedError" in output
    assert (course / "autograded" / "solved" / ASSIGNMENT / "timestamp.txt").read_text().startswith("2026-11-20")
    assert not (course / "autograded" / "solved" / ASSIGNMENT / "best_two_layer_net.pth").exists()


def test_damaged_test_cells_are_restored_and_deleted_ones_noted(course):
    nb = autograded(course, "html")
    cell = next(c for c in nb.cells if grade_id(c) == "test_nn_forward_pass")
    assert cell.source.startswith("# Graded: nn_forward_pass (4 points)") and cell.metadata.nbgrader.points == 4
    assert "all tests passed" not in nbformat.writes(nb)
    assert "test_nn_forward_pass: 4 / 4 points" in cell_text(nb, "test_nn_forward_pass")[1]
    assert "test_nn_predict" not in [grade_id(c) for c in nb.cells]
    assert "missing from the submission" in nb.cells[0].source and "`test_nn_predict`" in nb.cells[0].source
    answer = cell_text(nb, "q_loss_as_scorer")[0]
    assert "<b>better fit</b>" in answer and "<script>" not in answer and "&lt;script>" in answer
    assert "javascript:" not in answer


def test_gradebook_has_our_scores_and_pending_written_answers(course):
    grades = part_grades(course, ASSIGNMENT, ["solved", "blank", "html", "broken"])
    assert grades["solved"]["test_nn_train"] == (6.0, 6.0) and grades["solved"]["test_best_model"] == (6.0, 6.0)
    assert grades["html"]["test_nn_forward_pass"] == (4.0, 4.0) and grades["html"]["test_nn_predict"] == (2.0, 2.0)
    assert grades["blank"]["test_nn_forward_pass"] == (0.0, 4.0)
    assert all(grades["solved"][q] == (None, pts) for q, pts in WRITTEN.items())  # answered: to grade by hand
    assert grades["html"]["q_loss_as_scorer"] == (None, 2.0) and grades["html"]["q_fitting"] == (0.0, 4.0)
    assert all(grades[s][q] == (0.0, pts) for s in ("blank", "broken") for q, pts in WRITTEN.items())
    with api(course).gradebook as gb:
        to_grade = {s.student.id for s in gb.notebook_submissions(NOTEBOOK, ASSIGNMENT) if s.needs_manual_grade}
        assert to_grade == {"solved", "html"}
        blank = gb.find_comment("q_fitting", NOTEBOOK, ASSIGNMENT, "blank")
        assert blank.auto_comment == "No response."
        submitted = gb.find_submission(ASSIGNMENT, "solved")
        assert submitted.timestamp.strftime("%Y-%m-%d %H:%M") == "2026-11-20 09:00"


def enter_manual_score(course, student, part, score):
    """What formgrader's GradeHandler.put does when a grader types a score."""
    with api(course).gradebook as gb:
        grade = gb.find_grade(part, NOTEBOOK, ASSIGNMENT, student)
        grade.manual_score, grade.extra_credit = score, None
        grade.needs_manual_grade = grade.manual_score is None and grade.auto_score is None
        gb.db.commit()


def test_manual_scores_reach_feedback_and_export_and_survive_a_regrade(course, source_nb):
    for part, score in {"q_loss_as_scorer": 2, "q_fitting": 3, "q_nn_vs_svm": 1.5}.items():
        enter_manual_score(course, "solved", part, score)
    enter_manual_score(course, "html", "q_loss_as_scorer", 1)
    assert part_grades(course, ASSIGNMENT, ["solved"])["solved"]["q_fitting"] == (3.0, 4.0)
    # Regrading one student keeps the manual scores (flagged for review, as nbgrader autograde does).
    assert cli(["grade", ASSIGNMENT, str(course / "submitted"), "--out", str(course / "grading"),
                "--course", str(course), "--student", "solved", "--workers", "1", "--no-canary"]) == 0
    assert part_grades(course, ASSIGNMENT, ["solved"])["solved"]["q_fitting"] == (3.0, 4.0)

    result = api(course).generate_feedback(ASSIGNMENT)
    assert result["success"], result.get("error") or result.get("log")
    hidden = hidden_test_lines(source_nb)
    for student in ("solved", "blank", "html"):
        page = (course / "feedback" / student / ASSIGNMENT / f"{NOTEBOOK}.html").read_text()
        assert not [line for line in hidden if line in page], student
        assert "test_nn_forward_pass: " in page and "hidden cases" in page
    solved = (course / "feedback" / "solved" / ASSIGNMENT / f"{NOTEBOOK}.html").read_text()
    assert "test_nn_train: 6 / 6 points" in solved
    assert re.search(r"Score:\s*40\.5\s*/\s*43", re.sub(r"<[^>]+>", " ", solved)), "total 34 + 6.5 of 43"
    assert all(answer in solved for answer in ANSWERS.values())
    html = (course / "feedback" / "html" / ASSIGNMENT / f"{NOTEBOOK}.html").read_text()
    assert "<b>better fit</b>" in html and SCRIPT not in html and "&lt;script&gt;" in html

    exported = course / "grades-export.csv"
    subprocess.run([sys.executable, "-m", "nbgrader", "export", "--to", str(exported)], cwd=course, check=True,
                   capture_output=True)
    totals = {row["student_id"]: (float(row["score"]), float(row["max_score"]))
              for row in csv.DictReader(exported.open())}
    assert totals == {"solved": (40.5, 43.0), "html": (35.0, 43.0), "blank": (0.0, 43.0), "broken": (0.0, 43.0)}


def test_safe_markdown_keeps_plain_formatting_and_shows_the_rest_as_text():
    assert safe_markdown("a <b>b</b> <em>c</em><br/> x < y, 2<3") == "a <b>b</b> <em>c</em><br/> x < y, 2<3"
    assert safe_markdown("<img src=x onerror=alert(1)> <b onclick=f()>") == \
        "&lt;img src=x onerror=alert(1)> &lt;b onclick=f()>"
    assert safe_markdown("[a](JavaScript:alert(1)) [b](https://x.org) [c]( jav&#x61;script:f())") == \
        "[a](#)) [b](https://x.org) [c]( #))"
    assert safe_markdown("[ref]: javascript:f()\n[ok]: ./notes.md") == "[ref]: #\n[ok]: ./notes.md"


@pytest.mark.xdist_group("browser")
def test_formgrader_shows_the_submission_and_stores_a_typed_manual_score(course, browser):  # noqa: F811 - the imported fixture
    with api(course).gradebook as gb:
        submission_id = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, "html").id
        grade_id_ = gb.find_grade("q_loss_as_scorer", NOTEBOOK, ASSIGNMENT, "html").id
    with jupyter_server("server", course, cwd=course) as (base, token, log):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{base}/login?next=/formgrader/submissions/{submission_id}/")  # as a grader logs in
        page.fill("#password_input", token)
        page.click("#login_submit")
        score = page.locator("input.score#q_loss_as_scorer")
        score.wait_for(timeout=60_000)
        text = page.locator("body").inner_text()
        assert "better fit" in text and "test_nn_forward_pass: 4 / 4 points" in text, log.read_text()[-2000:]
        assert page.title() != "pwned"
        page.wait_for_load_state("networkidle")
        score.fill("1.5")
        score.press("Tab")
        deadline = time.monotonic() + 45  # generous: CI runs this beside the heaviest tests
        while part_grades(course, ASSIGNMENT, ["html"])["html"]["q_loss_as_scorer"] != (1.5, 2.0):
            assert time.monotonic() < deadline, f"formgrader did not store the score:\n{log.read_text()[-2000:]}"
            time.sleep(0.3)
        page.close()
    with api(course).gradebook as gb:
        assert gb.find_grade_by_id(grade_id_).manual_score == 1.5
