"""What the notebooks' prose names exists: the sections of each introduction's table and every "section N" a
markdown cell refers to are headings of the notebook, each question's stated points are its answer cell's, the
numbers quoted from the kit's own runs are the ones those runs printed, and the numbers attributed to the homework
are the ones its list (assignments/homework.toml) gives. Each check runs on the English notebooks and on their
translations (autograder.translation), each language's phrasing read as PHRASINGS gives it."""
import dataclasses
import functools
import json
import math
import re

import pytest

from autograder import homework, registry, translation
from autograder.course_dir import COURSE_ROOT
from autograder.notebooks import read_notebook

NOTEBOOKS = registry.names()


@dataclasses.dataclass(frozen=True)
class Phrasing:
    """How a language's prose writes what the checks read."""
    section_reference: str     # names sections: group 1 holds their numbers
    section_range: str         # within that: two numbers naming every section in between
    question: str              # a question's first words: group 1 its number, group 2 its points
    kits_run: str              # a sentence quoting the kit's own runs
    the_homework: str          # a sentence quoting the homework
    box: str                   # the homework box's first line
    box_header: tuple          # its table's three column headers begin so
    sentence_end: str          # where one sentence ends and the next begins
    lab_questions: str         # the lab's list of questions begins so


PHRASINGS = {
    "en": Phrasing(r"(?i)\bsections? ((?:\d+(?:, | and | to |-|–| or ))*\d+)", r"\d+(-|–| to )\d+",
                   r"\*\*Question (\d+) \((\d+) points?\)\.\*\*", r"\bkit's\b", r"\bthe homework",
                   "### What the homework did", ("what", "the homework", "this kit's run"),
                   r"(?<=[.!?])\s+(?=[A-Z(*])", "**Questions to think about**"),
    "zh-TW": Phrasing(r"第 ?((?:\d+ ?(?:、|，|, |和|與|到|至|-|–|或) ?)*\d+) ?節", r"\d+ ?(-|–|到|至) ?\d+",
                      r"\*\*問題 (\d+)（(\d+) 分）。\*\*", r"本套件", r"原作業",
                      "### 原作業做了什麼", ("項目", "原作業", "本套件的執行"), r"(?<=[。！？])\s*",
                      "**思考問題**"),
}
LANGUAGES = list(PHRASINGS)
#: The graded notebooks whose "### What the homework did" box is still to be written: their box tests are skipped
#: while the box is missing (a box that is there is checked, listed or not). Remove a notebook once its box is written.
PENDING_BOXES = set()


@functools.cache
def notebook(assignment, language="en", kind="source"):
    """The English source (or release) notebook, or the release notebook in `language` (the markdown is the same but
    for the written answers, which the release leaves empty)."""
    name = registry.assignment(assignment).notebook
    if language == "en":
        return read_notebook(COURSE_ROOT / kind / assignment / name)
    release = read_notebook(COURSE_ROOT / "release" / assignment / name)
    return translation.translated_notebook(release, translation.load(assignment, language), language)


def markdown(assignment, language="en"):
    nb = notebook(assignment, language)
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


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("assignment", WITH_TABLES)
def test_the_introductions_table_lists_the_sections_there_are(assignment, language):
    """The same numbers, and each heading begins with the (perhaps shortened) title the table gives it."""
    _, texts = markdown(assignment, language)
    sections, listed = numbered_sections(texts), sections_listed(texts[0])
    assert sorted(listed) == sorted(sections), (listed, sections)
    assert all(sections[n].startswith(title.rstrip(".")) for n, title in listed.items()), (listed, sections)


def sections_named(texts, phrasing):
    """The numbers of every section the prose refers to."""
    named = set()
    for text in texts:
        for m in re.finditer(phrasing.section_reference, " ".join(text.split())):
            bounds = [int(n) for n in re.findall(r"\d+", m.group(1))]
            if re.search(phrasing.section_range, m.group(1)):  # a range names every section in between
                bounds = list(range(bounds[0], bounds[-1] + 1))
            named.update(bounds)
    return named


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("assignment", NOTEBOOKS)
def test_every_section_the_prose_names_exists(assignment, language):
    _, texts = markdown(assignment, language)
    sections = numbered_sections(texts)
    named = sections_named(texts, PHRASINGS[language])
    assert named <= set(sections), f"named but missing: {sorted(named - set(sections))}; sections: {sections}"


def test_the_translations_refer_to_the_sections_the_english_does():
    assert sections_named(markdown("two_layer_net")[1], PHRASINGS["en"])
    for assignment in NOTEBOOKS:
        english = [sections_named([t], PHRASINGS["en"]) for t in markdown(assignment)[1]]
        for language in LANGUAGES[1:]:
            translated = [sections_named([t], PHRASINGS[language]) for t in markdown(assignment, language)[1]]
            source = [c for c in notebook(assignment).cells if c.cell_type == "markdown"]
            mismatched = [(s.source[:60], e, t) for s, e, t in zip(source, english, translated) if e != t
                          and not s.metadata.get("nbgrader", {}).get("solution")]
            assert not mismatched, (assignment, language, mismatched)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("assignment", NOTEBOOKS)
def test_each_questions_points_are_its_answer_cells(assignment, language):
    nb, texts = markdown(assignment, language)
    cells = nb.cells
    asked = sum(len(re.findall(PHRASINGS[language].question, text)) for text in texts)
    assert asked == sum(len(re.findall(PHRASINGS["en"].question, text)) for text in markdown(assignment)[1])
    for index, cell in enumerate(cells):
        m = (re.match(PHRASINGS[language].question, cell.source)
             if cell.cell_type == "markdown" else None)
        if m:
            answer = cells[index + 1].metadata.get("nbgrader", {})
            assert answer.get("solution") and answer.get("grade"), f"question {m.group(1)} has no answer cell after it"
            assert answer["points"] == int(m.group(2)), (m.group(0), answer)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_lab_answer_key_answers_every_question_the_lab_asks(language):
    """The lab's questions are not graded, but instructors get an answer to each (assignments/, never shipped)."""
    _, texts = markdown("learning_rate_lab", language)
    asked = [len(re.findall(r"^\d+\. ", text, re.M)) for text in texts
             if text.startswith(PHRASINGS[language].lab_questions)]
    key = (COURSE_ROOT / "assignments" / "learning_rate_lab" / "answer_key.md").read_text()
    answered = [len(re.findall(r"^\*\*\d+\. ", part, re.M)) for part in key.split("\n## ")[1:]]
    assert answered == asked == [6, 6]



#: Where the numbers of each notebook's own runs are recorded (its manifest's `kit_runs`): the benchmark results and
#: the keys down to them.
KIT_RUNS = {a.name: [tuple(run) for run in a.manifest.kit_runs] for a in registry.assignments()
            if a.manifest.kit_runs}
NAMED_BENCHMARK = r"python -m benchmarks (\w+)"


def sentences(texts, language="en"):
    """The sentences of the markdown, each on one line."""
    paragraphs = (p for text in texts for p in re.split(r"\n\s*\n", text))
    return [" ".join(s.split()) for p in paragraphs for s in re.split(PHRASINGS[language].sentence_end, p)
            if s.strip()]


def kit_run_sentences(texts, language="en"):
    """The sentences of the markdown that quote the kit's own runs: "in the kit's run", "the kit's 5-seed ...", or
    one that names the benchmark it quotes (`python -m benchmarks tuned_accuracy`)."""
    return [s for s in sentences(texts, language) if re.search(rf"{PHRASINGS[language].kits_run}|{NAMED_BENCHMARK}", s)]


def percentages(text):
    return re.findall(r"(?<![A-Za-z0-9_.])(\d+(?:\.\d+)?)%", text)


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


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("assignment", sorted(KIT_RUNS))
def test_every_percentage_the_prose_quotes_from_the_kits_runs_is_one_they_printed(assignment, language):
    """A sentence that cites the kit's run quotes numbers that the recorded run (python -m benchmarks) printed. (The
    homework box's table, whose columns are checked one by one, is not prose.)"""
    sentences = kit_run_sentences(prose(markdown(assignment, language)[1], language), language)
    if language == "en":  # a translation's cells quote the English cells' numbers (below)
        assert sum(len(percentages(s)) for s in sentences) >= 3, sentences
    wrong = {s: unrecorded(s, recorded_percentages(assignment, s)) for s in sentences}
    wrong = {s: numbers for s, numbers in wrong.items() if numbers}
    assert not wrong, wrong


@pytest.mark.parametrize("language", LANGUAGES[1:])
@pytest.mark.parametrize("assignment", NOTEBOOKS)
def test_each_translated_cell_quotes_the_percentages_of_its_english(assignment, language):
    """So each number a translation quotes is checked where the English one is (the runs', or the homework's)."""
    english = [c.source for c in notebook(assignment, kind="release").cells if c.cell_type == "markdown"]
    differ = [(e[:60], sorted(percentages(e)), sorted(percentages(t)))
              for e, t in zip(english, markdown(assignment, language)[1])
              if sorted(percentages(e)) != sorted(percentages(t))]
    assert differ == []


WORD_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                "ten": 10, "hundred": 100, "thousand": 1000}


def numbers_said(english):
    """The values an English cell gives, in digits or in words; "2.8 million" also as 280 (萬, ten thousands)."""
    values = {float(n.replace(",", "")) for n in numbers(translation.INLINE_CODE.sub(" ", english))}
    values |= {float(v) for w, v in WORD_NUMBERS.items() if re.search(rf"\b{w}\b", english, re.I)}
    values |= {round(float(m) * 100, 6) for m in re.findall(r"(\d+(?:\.\d+)?) million", english)}
    return values


@pytest.mark.parametrize("language", LANGUAGES[1:])
@pytest.mark.parametrize("assignment", NOTEBOOKS)
def test_every_number_a_translated_cell_writes_is_one_its_english_gives(assignment, language):
    english = [c.source for c in notebook(assignment, kind="release").cells if c.cell_type == "markdown"]
    wrong = [(e[:60], [n for n in numbers(translation.INLINE_CODE.sub(" ", t))
                       if float(n.replace(",", "")) not in numbers_said(e)])
             for e, t in zip(english, markdown(assignment, language)[1])]
    assert [(cell, found) for cell, found in wrong if found] == []


def test_a_number_the_english_does_not_give_is_caught():
    said = numbers_said("The head adds 2.8 million parameters over ten epochs at `lr=0.5`.")
    assert {2.8, 280.0, 10.0} <= said and 0.5 not in said
    assert [n for n in numbers("分類頭在 10 個 epoch 中多了 290 萬個參數") if float(n) not in said] == ["290"]


def test_a_quoted_number_that_no_run_printed_is_caught():
    sentence = "In the kit's run, `hidden_size 2` levels off near 45% and the net reaches 87.4%."
    assert kit_run_sentences(["Intro. " + sentence + " Next one."]) == [sentence]
    assert unrecorded(sentence, {"47.0", "87.4"}) == ["45%"]
    assert unrecorded(sentence, {"45.3", "87.41"}) == []
    assert unrecorded(sentence, {"45.3", "87.3"}) == ["87.4%"]
    named = "The solution's settings (`python -m benchmarks tuned_accuracy`) reach 90.4%."
    assert kit_run_sentences([named, "The homework reached 55.12%."]) == [named]


#: The markdown cell, first line exactly this, that sets the homework's figures beside the kit's: a table of three
#: columns, what | the homework (its data set) | this kit's run (its data set) (PHRASINGS gives each language's).
HOMEWORK_BOX = PHRASINGS["en"].box
#: A number written in digits and not part of a name (CIFAR-10, ResNet50): "3,000", "0.25", "1e-7", "9.77" of "9.77%",
#: both 1s of "1x1".
NUMBER = r"(?<![A-Za-wyz_.\d])(?<![A-Za-z]-)\d+(?:,\d{3})*(?:\.\d+)?(?:e[-+]?\d+)?"
#: The notebooks the homework's list has a table for.
WITH_HOMEWORK = sorted(homework.read())


def homework_box(texts, language="en"):
    """The notebook's "What the homework did" cell, or None."""
    first_line = PHRASINGS[language].box
    boxes = [text for text in texts if text.split("\n", 1)[0].rstrip() == first_line]
    assert len(boxes) <= 1, f"{len(boxes)} cells begin with {first_line!r}"
    return boxes[0] if boxes else None


def box_table(box):
    """(header, rows) of the box's table, each a list of its cells' texts (the separator row left out)."""
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in box.splitlines() if line.lstrip().startswith("|")]
    assert len(rows) > 2 and all(set(cell) <= set("-: ") for cell in rows[1]), f"no table in the box:\n{box}"
    return rows[0], rows[2:]


def prose(texts, language="en"):
    """The markdown with the homework box's table left out (its columns are checked one by one, not as sentences)."""
    box = homework_box(texts, language)
    return ["\n".join(line for line in text.splitlines() if not line.lstrip().startswith("|")) if text is box
            else text for text in texts]


def numbers(text):
    """Every number `text` writes in digits, as written ("3,000", "1e-7")."""
    return re.findall(NUMBER, text)


def is_figure(quoted, figures):
    """Whether a number as written is the value of one of the figures (compared as numbers: "3,000" is 3000)."""
    value = float(quoted.replace(",", ""))
    return any(math.isclose(value, figure.value, rel_tol=1e-9, abs_tol=0.0) for figure in figures.values())


def not_the_homeworks(text, figures):
    """The numbers `text` writes that are no figure of the homework's."""
    return [quoted for quoted in numbers(text) if not is_figure(quoted, figures)]


def left_out(text, figures):
    """The names of the homework's percentages (figures with unit "%") that `text` does not quote."""
    quoted = numbers(text)
    return [name for name, figure in figures.items()
            if figure.unit == "%" and not any(is_figure(q, {name: figure}) for q in quoted)]


def box_or_skip(assignment, language="en"):
    """(header, rows) of the notebook's homework box; the test is skipped while PENDING_BOXES lists the notebook and
    its box is not written yet."""
    box = homework_box(markdown(assignment, language)[1], language)
    if box is None and assignment in PENDING_BOXES:
        pytest.skip(f"{assignment}'s {HOMEWORK_BOX!r} box is not written yet (PENDING_BOXES)")
    assert box is not None, f"{assignment} has no markdown cell beginning with {HOMEWORK_BOX!r}"
    return box_table(box)


def test_every_graded_notebook_has_a_table_in_the_homeworks_list():
    assert set(registry.names(graded=True)) <= set(WITH_HOMEWORK)
    assert all(homework.figures(a) for a in WITH_HOMEWORK)


def test_a_malformed_figure_in_the_homeworks_list_is_refused(tmp_path):
    path = tmp_path / "homework.toml"
    path.write_text('[two_layer_net]\ndataset = "CIFAR-10"\n[two_layer_net.best_test_accuracy]\nvalue = "55.12"\n'
                    'unit = "%"\nwhat = "test accuracy"\n')
    assert homework.facts("two_layer_net", path) == {"dataset": "CIFAR-10"}
    with pytest.raises(homework.HomeworkError, match=r"best_test_accuracy\] needs exactly a numeric `value`"):
        homework.figures("two_layer_net", path)
    with pytest.raises(homework.HomeworkError, match=r"no table \[transfer_learning\]"):
        homework.figures("transfer_learning", path)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("assignment", registry.names(graded=True))
def test_the_homework_box_sets_the_homeworks_column_beside_the_kits(assignment, language):
    header, rows = box_or_skip(assignment, language)
    what, homeworks, kits = PHRASINGS[language].box_header
    assert len(header) == 3 and header[0] == what, header
    assert header[1].startswith(homeworks) and header[2].startswith(kits), header
    assert all(len(row) == 3 for row in rows), rows
    assert len(rows) == len(box_or_skip(assignment)[1])


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("assignment", registry.names(graded=True))
def test_every_number_of_the_boxs_homework_column_is_in_the_homeworks_list(assignment, language):
    """The second column quotes the homework: each number it writes is a figure of homework.toml's table for the
    notebook, and each of the table's percentages is written there."""
    _, rows = box_or_skip(assignment, language)
    figures = homework.figures(assignment)
    wrong = {row[0]: not_the_homeworks(row[1], figures) for row in rows}
    wrong = {what: found for what, found in wrong.items() if found}
    assert not wrong, f"not in assignments/homework.toml [{assignment}]: {wrong}"
    missing = left_out(" ".join(row[1] for row in rows), figures)
    assert not missing, f"the homework's percentages missing from the box: {missing}"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("assignment", registry.names(graded=True))
def test_every_percentage_of_the_boxs_kit_column_is_one_the_kits_runs_printed(assignment, language):
    _, rows = box_or_skip(assignment, language)
    wrong = {row[0]: unrecorded(row[2], recorded_percentages(assignment, row[2])) for row in rows}
    wrong = {what: found for what, found in wrong.items() if found}
    assert not wrong, wrong


def homework_percentages(assignment):
    """The homework's percentages for the notebook, as recorded_percentages gives the kit's (text)."""
    return {str(figure.value) for figure in homework.figures(assignment).values() if figure.unit == "%"}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("assignment", WITH_HOMEWORK)
def test_every_percentage_a_sentence_on_the_homework_quotes_is_the_homeworks_or_the_kits(assignment, language):
    """A sentence that names the homework quotes percentages of the homework's list, or of the kit's recorded runs
    (set beside the homework's): nothing else, such as another course's figure, shares a sentence with it."""
    quoting = [s for s in sentences(prose(markdown(assignment, language)[1], language), language)
               if re.search(PHRASINGS[language].the_homework, s, re.I)]
    wrong = {s: unrecorded(s, homework_percentages(assignment) | recorded_percentages(assignment, s))
             for s in quoting}
    wrong = {s: found for s, found in wrong.items() if found}
    assert not wrong, wrong


def test_a_number_the_homework_did_not_show_is_caught():
    figures = homework.figures("two_layer_net")
    assert numbers("hidden 36, reg 1e-7, 3,000 iterations of CIFAR-10 on ResNet50 with 1x1 kernels: 9.77%.") == [
        "36", "1e-7", "3,000", "1", "1", "9.77"]
    assert not_the_homeworks("learning rate 1, hidden 128, reg 0, 3,000 iterations: 53.18% validation", figures) == []
    assert not_the_homeworks("learning rate 1, reg 1e-6, 2,000 iterations: 53.2% validation", figures) == [
        "1e-6", "2,000", "53.2"]
    box = (f"{HOMEWORK_BOX}\n\nWhat it did.\n\n| what | the homework (CIFAR-10) | this kit's run |\n"
           "| --- | --- | --- |\n| the default network | 9.77% validation | 9.52% validation |\n")
    header, rows = box_table(box)
    assert header == ["what", "the homework (CIFAR-10)", "this kit's run"]
    assert rows == [["the default network", "9.77% validation", "9.52% validation"]]
    missing = left_out(rows[0][1], figures)
    assert "best_test_accuracy" in missing and "default_val_accuracy" not in missing
    assert prose(["Intro.", box]) == ["Intro.", f"{HOMEWORK_BOX}\n\nWhat it did.\n"]
    sentence = "On CIFAR-10, the homework's best network reached 55.21% on the test set and 55.7% on validation."
    assert unrecorded(sentence, homework_percentages("two_layer_net")) == ["55.21%"]
