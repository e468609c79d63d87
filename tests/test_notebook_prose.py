"""What the notebooks' prose names exists: the sections of each introduction's table and every "section N" a
markdown cell refers to are headings of the notebook, and each question's stated points are its answer cell's."""
import re

import pytest

from autograder.course import COURSE_ROOT
from autograder.notebooks import read_notebook

NOTEBOOKS = sorted(path.parent.name for path in (COURSE_ROOT / "source").glob("*/*.ipynb"))


def markdown(assignment):
    nb = read_notebook(COURSE_ROOT / "source" / assignment / f"{assignment}.ipynb")
    return nb, [c.source for c in nb.cells if c.cell_type == "markdown"]


def numbered_sections(texts):
    """{number: title} of the notebook's '## N. Title' headings."""
    return {int(m.group(1)): m.group(2).strip() for text in texts
            for m in re.finditer(r"^## (\d+)\. (.+)$", text, re.M)}


def sections_listed(text):
    """{number: title} of the rows '| N. Title | ...' of an introduction's table of sections."""
    return {int(m.group(1)): m.group(2).strip() for m in re.finditer(r"^\| (\d+)\. ([^|]+)\|", text, re.M)}


#: The notebooks whose introduction has a table of sections (the lab's has none).
WITH_TABLES = [a for a in NOTEBOOKS if sections_listed(markdown(a)[1][0])]


def test_the_graded_notebooks_introduce_their_sections_in_a_table():
    assert {"two_layer_net", "transfer_learning"} <= set(WITH_TABLES)


@pytest.mark.parametrize("assignment", WITH_TABLES)
def test_the_introductions_table_lists_the_sections_there_are(assignment):
    """The same numbers, and each heading begins with the (perhaps shortened) title the table gives it."""
    _, texts = markdown(assignment)
    sections, listed = numbered_sections(texts), sections_listed(texts[0])
    assert sorted(listed) == sorted(sections), (listed, sections)
    assert all(sections[n].startswith(title.rstrip(".")) for n, title in listed.items()), (listed, sections)


@pytest.mark.parametrize("assignment", NOTEBOOKS)
def test_every_section_the_prose_names_exists(assignment):
    _, texts = markdown(assignment)
    sections = numbered_sections(texts)
    named = set()
    for text in texts:
        for m in re.finditer(r"\bsections? ((?:\d+(?:, | and | to |-|–| or ))*\d+)", text):
            bounds = [int(n) for n in re.findall(r"\d+", m.group(1))]
            if re.search(r"\d+(-|–| to )\d+", m.group(1)):  # a range names every section in between
                bounds = list(range(bounds[0], bounds[-1] + 1))
            named.update(bounds)
    assert named <= set(sections), f"named but missing: {sorted(named - set(sections))}; sections: {sections}"


@pytest.mark.parametrize("assignment", NOTEBOOKS)
def test_each_questions_points_are_its_answer_cells(assignment):
    nb, _ = markdown(assignment)
    cells = nb.cells
    for index, cell in enumerate(cells):
        m = re.match(r"\*\*Question (\d+) \((\d+) points?\)\.\*\*", cell.source) if cell.cell_type == "markdown" else None
        if m:
            answer = cells[index + 1].metadata.get("nbgrader", {})
            assert answer.get("solution") and answer.get("grade"), f"question {m.group(1)} has no answer cell after it"
            assert answer["points"] == int(m.group(2)), (m.group(0), answer)


def test_the_lab_answer_key_answers_every_question_the_lab_asks():
    """The lab's questions are not graded, but instructors get an answer to each (assignments/, never shipped)."""
    _, texts = markdown("learning_rate_lab")
    asked = [len(re.findall(r"^\d+\. ", text, re.M)) for text in texts
             if text.startswith("**Questions to think about**")]
    key = (COURSE_ROOT / "assignments" / "learning_rate_lab_answer_key.md").read_text()
    answered = [len(re.findall(r"^\*\*\d+\. ", part, re.M)) for part in key.split("\n## ")[1:]]
    assert answered == asked == [6, 6]
