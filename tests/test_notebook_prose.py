"""What the notebooks' prose names exists: the sections of each introduction's table and every "section N" a
markdown cell refers to are headings of the notebook, each question's stated points are its answer cell's, and the
numbers quoted from the kit's own runs are the ones those runs printed."""
import json
import re

import pytest

from autograder import registry
from autograder.course import COURSE_ROOT
from autograder.notebooks import read_notebook

NOTEBOOKS = registry.names()


def markdown(assignment):
    nb = read_notebook(COURSE_ROOT / "source" / assignment / registry.assignment(assignment).notebook)
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
    assert set(registry.names(graded=True)) <= set(WITH_TABLES)


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
        m = (re.match(r"\*\*Question (\d+) \((\d+) points?\)\.\*\*", cell.source)
             if cell.cell_type == "markdown" else None)
        if m:
            answer = cells[index + 1].metadata.get("nbgrader", {})
            assert answer.get("solution") and answer.get("grade"), f"question {m.group(1)} has no answer cell after it"
            assert answer["points"] == int(m.group(2)), (m.group(0), answer)


def test_the_lab_answer_key_answers_every_question_the_lab_asks():
    """The lab's questions are not graded, but instructors get an answer to each (assignments/, never shipped)."""
    _, texts = markdown("learning_rate_lab")
    asked = [len(re.findall(r"^\d+\. ", text, re.M)) for text in texts
             if text.startswith("**Questions to think about**")]
    key = (COURSE_ROOT / "assignments" / "learning_rate_lab" / "answer_key.md").read_text()
    answered = [len(re.findall(r"^\*\*\d+\. ", part, re.M)) for part in key.split("\n## ")[1:]]
    assert answered == asked == [6, 6]



#: Where the numbers of each notebook's own runs are recorded (its manifest's `kit_runs`): the benchmark results and
#: the keys down to them.
KIT_RUNS = {a.name: [tuple(run) for run in a.manifest["kit_runs"]] for a in registry.assignments()
            if "kit_runs" in a.manifest}
NAMED_BENCHMARK = r"python -m benchmarks (\w+)"


def kit_run_sentences(texts):
    """The sentences of the markdown that quote the kit's own runs: "in the kit's run", "the kit's 5-seed ...", or
    one that names the benchmark it quotes (`python -m benchmarks tuned_accuracy`)."""
    paragraphs = (p for text in texts for p in re.split(r"\n\s*\n", text))
    sentences = (s for p in paragraphs for s in re.split(r"(?<=[.!?])\s+(?=[A-Z(*])", p))
    return [" ".join(s.split()) for s in sentences if re.search(rf"\bkit's\b|{NAMED_BENCHMARK}", s)]


def percentages(text):
    return re.findall(r"(?<![\w.])(\d+(?:\.\d+)?)%", text)


def recorded_percentages(assignment, sentence):
    """Every percentage in the recorded results of the notebook's own runs and of the benchmarks the sentence names."""
    sources = KIT_RUNS[assignment] + [(name,) for name in re.findall(NAMED_BENCHMARK, sentence)]
    found = set()
    for name, *keys in sources:
        record = json.loads((COURSE_ROOT / "benchmarks" / "results" / f"{name}.json").read_text())
        for key in keys:
            record = record[key]
        found.update(percentages(json.dumps(record)))
    return found


def unrecorded(sentence, recorded):
    """The percentages a sentence quotes that no recorded number gives when rounded to the quoted precision."""
    def found(quoted):
        decimals = len(quoted.partition(".")[2])
        return any(round(float(value), decimals) == float(quoted) for value in recorded)
    return [f"{quoted}%" for quoted in percentages(sentence) if not found(quoted)]


@pytest.mark.parametrize("assignment", sorted(KIT_RUNS))
def test_every_percentage_the_prose_quotes_from_the_kits_runs_is_one_they_printed(assignment):
    """A sentence that cites the kit's run quotes numbers that the recorded run (python -m benchmarks) printed."""
    sentences = kit_run_sentences(markdown(assignment)[1])
    assert sum(len(percentages(s)) for s in sentences) >= 3, sentences
    wrong = {s: unrecorded(s, recorded_percentages(assignment, s)) for s in sentences}
    wrong = {s: numbers for s, numbers in wrong.items() if numbers}
    assert not wrong, wrong


def test_a_quoted_number_that_no_run_printed_is_caught():
    sentence = "In the kit's run, `hidden_size 2` levels off near 45% and the net reaches 87.4%."
    assert kit_run_sentences(["Intro. " + sentence + " Next one."]) == [sentence]
    assert unrecorded(sentence, {"47.0", "87.4"}) == ["45%"]
    assert unrecorded(sentence, {"45.3", "87.41"}) == []
    assert unrecorded(sentence, {"45.3", "87.3"}) == ["87.4%"]
    named = "The solution's settings (`python -m benchmarks tuned_accuracy`) reach 90.4%."
    assert kit_run_sentences([named, "The homework reached 55.12%."]) == [named]
