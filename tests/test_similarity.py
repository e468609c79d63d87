"""The copying report (autograder.term.similarity): planted copies of the kit's solutions rank above every pair of
independent solutions, the page and CSV say what they should, bad input is refused, and odd notebooks are skipped."""
import argparse
import csv
import os

import nbformat
import pytest

from autograder.__main__ import main as cli
from autograder.course_dir import COURSE_ROOT, scratch_course
from autograder.notebooks import reference_answers, submission
from autograder.term import similarity
from benchmarks.similarity import ASSIGNMENT, PLANTED, batch, notebooks, ranking, write_batch


@pytest.fixture(scope="module")
def kit():
    """(release, source) notebooks of two_layer_net and the batch: notebooks, families, answers."""
    release_nb, source_nb = notebooks()
    return release_nb, source_nb, batch(release_nb, source_nb)


@pytest.fixture(scope="module")
def report(kit, tmp_path_factory):
    """The batch's report: (pairs, output folder)."""
    nbs = kit[2][0]
    folder = tmp_path_factory.mktemp("similarity")
    pairs = similarity.run(ASSIGNMENT, write_batch(nbs, folder / "batch"), folder / "out", show_progress=False)
    return pairs, folder / "out"


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_every_planted_pair_ranks_above_every_independent_pair(kit, report):
    _, families, answers = kit[2]
    planted, independent, overlapping = ranking(report[0], families, answers)
    assert len(planted) == 16 and len(independent) >= 15, (planted, independent)
    assert min(planted.values()) > similarity.DISPLAY > max(independent.values()), (planted, independent)
    # Solutions that share answer cells verbatim score by how much they share, between the two.
    assert max(independent.values()) < max(overlapping.values()) < max(planted.values())


@pytest.mark.parametrize("name", list(PLANTED))
def test_each_planted_copy_ranks_its_original_first(kit, report, name):
    """Against every other solution, a copy matches the solution it copies best, above the display threshold."""
    original, _, _, transformation = PLANTED[name]
    families = kit[2][1]
    scores = {p.student_b if p.student_a == name else p.student_a: p.score for p in report[0]
              if name in (p.student_a, p.student_b)}
    others = {other: s for other, s in scores.items() if families[other] != original}
    assert scores[original] > similarity.DISPLAY, (transformation, scores[original])
    assert scores[original] > max(others.values()), (transformation, scores[original], others)


def test_the_csv_lists_every_pair_highest_first(kit, report):
    pairs, out = report
    rows = read_csv(out / "similarity.csv")
    n = len(kit[2][0])
    assert rows[0] == ["student_a", "student_b", "score"]
    assert len(rows) - 1 == len(pairs) == n * (n - 1) // 2
    scores = [float(row[2]) for row in rows[1:]]
    assert scores == sorted(scores, reverse=True) and 0 <= scores[-1] and scores[0] <= 1
    assert all(len(row[2].split(".")[1]) == 4 for row in rows[1:])
    assert [(p.student_a, p.student_b) for p in pairs] == [tuple(row[:2]) for row in rows[1:]]
    top = {frozenset(row[:2]) for row in rows[1:4]}
    assert top == {frozenset(p) for p in [("copy-comments", "reference"), ("copy-renamed", "reference"),
                                          ("copy-comments", "copy-renamed")]}


def test_the_page_marks_the_matches_and_says_it_never_changes_a_grade(report):
    page = (report[1] / "similarity.html").read_text()
    assert similarity.NEVER_GRADES in page
    assert page.count('<h2 id="pair-') == sum(p.score > similarity.DISPLAY for p in report[0][:similarity.SHOWN])
    assert "<mark>" in page and "copy-comments" in page


def test_student_code_is_escaped_on_the_page(kit, tmp_path):
    release_nb, source_nb, _ = kit
    answers = reference_answers(source_nb)
    hostile = 'NOTE = "</pre><script>alert(1)</script>"\n'
    for sid in ("mallory", "trent"):
        nb = submission(release_nb, source_nb, answers, [("nn_forward_pass", hostile)])
        nbformat.write(nb, tmp_path / f"{sid}.ipynb")
    pairs = similarity.run(ASSIGNMENT, tmp_path, tmp_path / "out", show_progress=False)
    page = (tmp_path / "out" / "similarity.html").read_text()
    assert pairs[0].score == 1.0
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_unreadable_notebooks_are_skipped_with_a_reason(kit, tmp_path):
    release_nb, source_nb, _ = kit
    answers = reference_answers(source_nb)
    for sid in ("ada", "bob"):
        nbformat.write(submission(release_nb, source_nb, answers), tmp_path / f"{sid}.ipynb")
    nbformat.write(release_nb, tmp_path / "blank.ipynb")
    (tmp_path / "broken.ipynb").write_text("{not json")
    (tmp_path / "empty.ipynb").write_text("")
    (tmp_path / "nobook").mkdir()
    pairs = similarity.run(ASSIGNMENT, tmp_path, tmp_path / "out", show_progress=False)
    assert {frozenset((p.student_a, p.student_b)): p.score for p in pairs} == {
        frozenset(("ada", "bob")): 1.0, frozenset(("ada", "blank")): 0.0, frozenset(("bob", "blank")): 0.0}
    page = (tmp_path / "out" / "similarity.html").read_text()
    for reason in ("broken.ipynb is not valid notebook JSON", "empty.ipynb is empty", "nobook"):
        assert reason in page


def test_known_solutions_are_compared_with_students_but_not_with_each_other(kit, tmp_path):
    release_nb, source_nb, (nbs, _, _) = kit
    write_batch({sid: nbs[sid] for sid in ("reference", "style-1", "style-2")}, tmp_path / "class")
    known = tmp_path / "known"
    (known / "repo-b" / "hw").mkdir(parents=True)
    (known / "copied.py").write_text("\n\n".join(reference_answers(source_nb).values()))
    nbformat.write(nbs["style-2"], known / "repo-b" / "hw" / "two_layer_net.ipynb")
    stripped = nbformat.from_dict(nbs["style-1"])  # saved by a tool that drops nbgrader's metadata: every cell read
    for cell in stripped.cells:
        cell.metadata.pop("nbgrader", None)
    nbformat.write(stripped, known / "stripped.ipynb")
    (known / "unrelated.py").write_text("def greet(name):\n    return 'hello ' + name + ', welcome to the course'\n")
    (known / "empty-repo").mkdir()
    (known / "notes.txt").write_text("not code")
    pairs = similarity.run(ASSIGNMENT, tmp_path / "class", tmp_path / "out", against=known, show_progress=False)
    scores = {(p.student_a, p.student_b): p.score for p in pairs}
    assert len(pairs) == 3 + 3 * 4  # three student pairs, each student against four known sources
    assert all(not a.startswith(similarity.KNOWN) for a, _ in scores)
    copied = {("reference", "known:copied.py"), ("style-2", "known:repo-b"), ("style-1", "known:stripped.ipynb")}
    # A .py file of the answers, and a notebook without nbgrader metadata, differ a little at the seams between cells.
    assert scores["style-2", "known:repo-b"] == 1.0 and scores["reference", "known:copied.py"] > 0.95
    assert min(scores[pair] for pair in copied) > 0.8 > max(s for pair, s in scores.items() if pair not in copied)
    assert scores["reference", "known:unrelated.py"] == scores["style-1", "known:unrelated.py"] == 0
    assert "no .py or .ipynb file" in (tmp_path / "out" / "similarity.html").read_text()


def namespace(**given):
    values = {"assignment": ASSIGNMENT, "submissions": None, "against": None, "out": None, "course": None}
    return argparse.Namespace(**{**values, **given})


@pytest.mark.parametrize("given, message", [
    ({"submissions": "no-such-folder"}, "no-such-folder does not exist"),
    ({"assignment": "no_such_assignment", "submissions": "."}, "no assignment 'no_such_assignment'"),
    ({"submissions": ".", "against": "no-such-known"}, "no-such-known is not a folder of known solutions"),
])
def test_bad_input_exits_2_with_an_error(tmp_path, monkeypatch, capsys, given, message):
    monkeypatch.chdir(tmp_path)
    assert similarity.command(namespace(**given)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert not (tmp_path / "similarity-output").exists()


def test_the_command_writes_to_the_default_folder_and_touches_no_grade(kit, tmp_path, monkeypatch, capsys):
    nbs = kit[2][0]
    write_batch({sid: nbs[sid] for sid in ("reference", "copy-renamed", "style-1")}, tmp_path / "subs")
    monkeypatch.chdir(tmp_path)
    gradebook = COURSE_ROOT / "gradebook.db"
    before = gradebook.stat().st_mtime_ns if gradebook.exists() else None
    assert cli(["similarity", ASSIGNMENT, "subs"]) == 0  # as the instructor types it
    out = capsys.readouterr().out
    assert "never changes a grade" in out and "Compared 3 pairs: 1 score above" in out
    assert read_csv(tmp_path / "similarity-output" / ASSIGNMENT / "similarity.csv")[1][:2] == [
        "copy-renamed", "reference"]
    assert (gradebook.stat().st_mtime_ns if gradebook.exists() else None) == before


@pytest.mark.slow
def test_a_course_without_its_release_gets_it_built(kit, tmp_path):
    """The starter code is the release notebook: a course that has not released yet has it built first."""
    course = scratch_course(tmp_path / "course", [ASSIGNMENT])
    nbs = kit[2][0]
    write_batch({sid: nbs[sid] for sid in ("reference", "copy-helper")}, tmp_path / "subs")
    pairs = similarity.run(ASSIGNMENT, tmp_path / "subs", tmp_path / "out", course_dir=course, show_progress=False)
    assert (course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file()
    assert pairs[0].score > similarity.DISPLAY
    assert set(os.listdir(tmp_path / "out")) == {"similarity.csv", "similarity.html"}
