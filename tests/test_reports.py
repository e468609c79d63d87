"""The batch reports: grades.csv, per-student feedback pages and the summary, from Results read as the result files
hold them."""
import csv
from collections import Counter
from html.parser import HTMLParser

import pytest
from jinja2 import FileSystemLoader

from autograder.grade.reports import normalise_diagnosis, write_feedback, write_grades_csv, write_summary
from autograder.grade.results import Result
from autograder.render import ENVIRONMENT

POINTS = {"test_nn_forward_pass": 4, "test_nn_forward_backward": 10, "test_nn_train": 6, "test_nn_predict": 2,
          "test_two_layer_net": 3, "test_find_best_net": 3, "test_best_model": 6}
MANUAL = {"q_loss_as_scorer": 2, "q_fitting": 4, "q_nn_vs_svm": 3}
RELU = "scores have a ReLU applied to them: drop the ReLU after the output layer"
XSS = "<script>alert(1)</script>"
# Markup, an attribute break-out and Jinja syntax: a submission may put any of them in any text it controls.
HOSTILE = f'{XSS} "><img src=x onerror=alert(1)> x{{{{ 7*7 }}}}y {{% raw %}}'
VOID = {"meta", "img", "br", "hr", "link", "input"}


def part(points, fraction=1.0, failure=""):
    """One part's result: two sub-checks, the second failing with `failure` when given."""
    subchecks = [{"name": "hidden = relu(X W1 + b1)", "weight": 0.4, "passed": True, "detail": ""},
                 {"name": "scores = relu(X W1 + b1) W2 + b2", "weight": 0.6, "passed": not failure,
                  "detail": failure}]
    return {"score": round(points * fraction, 4), "max": points, "seed": 123,
            "diagnoses": [failure] if failure else [], "subchecks": subchecks}


def result(student_id, status="ok", message="", failures=None):
    """A result file's dict; `failures` maps part ids to (fraction earned, diagnosis)."""
    failures = failures or {}
    parts = {gid: part(pts, *failures.get(gid, (1.0, ""))) for gid, pts in POINTS.items()}
    return {"student_id": student_id, "status": status, "message": message, "parts": parts,
            "manual_parts": dict(MANUAL), "total": round(sum(p["score"] for p in parts.values()), 4),
            "max_total": sum(POINTS.values()) + sum(MANUAL.values()), "seconds": 3.2,
            "isolation": "bubblewrap", "notes": ["notebook was named hw.ipynb; graded it as two_layer_net.ipynb"]}


def not_graded(student_id, status, message):
    return result(student_id, status, message, {gid: (0.0, f"not graded: {message}") for gid in POINTS})


@pytest.fixture
def results():
    return [Result.from_json(r) for r in [
        result("carol"),
        result("alice", failures={"test_nn_forward_pass": (0.4, f"{RELU} [N=3 D=4 H=2 C=5 float64 cpu]"),
                                  "test_nn_train": (2 / 3, "the loss history was not recorded")}),
        not_graded("dave", "timeout", "the notebook ran for more than 600 s and was stopped"),
        not_graded("erin", "invalid-notebook", "the notebook is not valid JSON"),
        result(f"bob{XSS}&co", failures={
            "test_nn_forward_pass": (0.4, f"{RELU} [N=7 D=2 H=9 C=3 float32 cuda]"),
            "test_nn_forward_backward": (0.5, f"nn_forward_backward raised {XSS} & more")}),
    ]]


def test_normalise_diagnosis_strips_only_a_trailing_case_tag():
    assert normalise_diagnosis(f"{RELU} [N=3 D=4 H=2 C=5 float64 cpu]") == RELU
    assert normalise_diagnosis("scores near 1e3 overflow [scores near 1e3, cpu] ") == "scores near 1e3 overflow"
    assert normalise_diagnosis("W1 has shape [3] not (4, 3)") == "W1 has shape [3] not (4, 3)"


def test_grades_csv_has_the_contract_columns_and_one_sorted_row_per_result(results, tmp_path):
    path = tmp_path / "grades.csv"
    write_grades_csv(results, path)
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["student_id", "status", *POINTS, *MANUAL, "raw_total", "late_by", "late_penalty", "total",
                       "max_total"]
    body = {row[0]: dict(zip(rows[0], row)) for row in rows[1:]}
    assert [row[0] for row in rows[1:]] == ["alice", f"bob{XSS}&co", "carol", "dave", "erin"]
    alice = body["alice"]
    assert (alice["test_nn_forward_pass"], alice["test_nn_train"], alice["test_best_model"]) == ("1.6", "4", "6")
    assert (alice["raw_total"], alice["late_by"], alice["late_penalty"]) == ("29.6", "", "0")  # no calendar here
    assert (alice["total"], alice["max_total"]) == ("29.6", "43")
    assert body["dave"]["status"] == "timeout" and body["dave"]["total"] == "0"
    assert all(body[s][q] == "" for s in body for q in MANUAL)


def test_feedback_shows_status_diagnoses_and_escapes_student_text(results, tmp_path):
    bob, dave = results[4], results[2]
    page = write_feedback(bob, tmp_path / "bob.html", "Two-layer net").read_text()
    assert RELU in page and "FAIL" in page and "1.6 / 4" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page
    assert "<script" not in page
    assert "graded separately by the instructor" in page and "bubblewrap" in page
    assert "graded it as two_layer_net.ipynb" in page

    page = write_feedback(dave, tmp_path / "dave.html", "Two-layer net").read_text()
    assert "timeout" in page and "the notebook ran for more than 600 s and was stopped" in page
    assert "0 / 43" in page


def test_summary_writes_png_html_and_counts_mistakes_across_students(results, tmp_path):
    html_path, png, mistakes_path = write_summary(results, tmp_path / "out", "Two-layer net")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = html_path.read_text()
    assert "data:image/png;base64,iVBORw0KGgo" in page
    assert "<script" not in page

    with mistakes_path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    counts = {(r["part"], r["diagnosis"]): (r["count"], r["share"]) for r in rows}
    assert counts[("test_nn_forward_pass", RELU)] == ("2", "0.4")
    assert counts[("test_nn_train", "the loss history was not recorded")] == ("1", "0.2")
    assert counts[("test_best_model", "not graded: the notebook is not valid JSON")] == ("1", "0.2")
    assert (rows[0]["part"], rows[0]["diagnosis"]) == ("test_nn_forward_pass", RELU)

    non_ok = page.split("status other than ok")[1]
    assert "dave" in non_ok and "the notebook ran for more than 600 s and was stopped" in non_ok
    assert "erin" in non_ok and "invalid-notebook" in non_ok and "the notebook is not valid JSON" in non_ok
    assert "alice" not in non_ok and "carol" not in non_ok


class Page(HTMLParser):
    """A parsed page: its doctype, start and end tags (with attributes), and its text as a reader sees it."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.doctype, self.starts, self.ends, self.attrs, self.chunks = "", Counter(), Counter(), [], []
        self.title, self._in_title = "", False
        self.feed(text)
        self.close()
        self.text = "".join(self.chunks)

    def handle_decl(self, decl):
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        self.starts[tag] += 1
        self.attrs.append((tag, dict(attrs)))
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        self.ends[tag] += 1
        self._in_title = False

    def handle_data(self, data):
        self.chunks.append(data)
        if self._in_title:
            self.title += data


def hostile(field):
    """HOSTILE, tagged with the field it was put in, so the test can tell which field was shown."""
    return f"{field}:{HOSTILE}"


@pytest.fixture
def hostile_result():
    r = result(hostile("student_id"), status=hostile("status"), message=hostile("message"),
               failures={"test_nn_forward_pass": (0.4, hostile("diagnosis"))})
    check = r["parts"]["test_nn_train"]["subchecks"][1]
    check.update(name=hostile("name"), detail=hostile("detail"), passed=False)
    r["notes"], r["isolation"] = [hostile("note")], hostile("isolation")
    return Result.from_json(r)


def assert_only_escaped(page, fields, images):
    """Every hostile field is shown as text, and none of it became an element, an attribute or a Jinja value."""
    parsed = Page(page)
    assert parsed.starts["script"] == 0
    assert parsed.starts["img"] == len(images)
    assert [a["src"][:22] for tag, a in parsed.attrs if tag == "img"] == images
    assert not [name for _, a in parsed.attrs for name in a if name.startswith("on")]
    for field in fields:
        assert hostile(field) in parsed.text, field
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "x{{ 7*7 }}y" in parsed.text and "{% raw %}" in parsed.text and "x49y" not in page


def test_feedback_shows_hostile_student_text_only_escaped(hostile_result, tmp_path):
    page = write_feedback(hostile_result, tmp_path / "hostile.html", "Two-layer net").read_text()
    assert_only_escaped(page, ["student_id", "status", "message", "diagnosis", "name", "detail", "note", "isolation"],
                        images=[])


def test_summary_shows_hostile_student_text_only_escaped(hostile_result, results, tmp_path):
    html_path, _, _ = write_summary([*results, hostile_result], tmp_path / "out", "Two-layer net")
    assert_only_escaped(html_path.read_text(), ["student_id", "status", "message", "diagnosis"],
                        images=["data:image/png;base64,"])


def test_html_templates_are_autoescaped_and_text_templates_are_not(tmp_path):
    names = ENVIRONMENT.list_templates()
    assert {"page.html.j2", "feedback.html.j2", "summary.html.j2"} <= set(names)
    for name in names:
        assert ENVIRONMENT.autoescape(name) is name.endswith((".html", ".html.j2")), name
    # The same Environment reading template files: the file name alone decides.
    for name in ("note.html.j2", "README.md.j2"):
        (tmp_path / name).write_text("{{ text }}")
    files = ENVIRONMENT.overlay(loader=FileSystemLoader(tmp_path))
    assert files.get_template("note.html.j2").render(text=XSS) == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert files.get_template("README.md.j2").render(text=XSS) == XSS


def test_pages_are_well_formed_and_titled(results, tmp_path):
    title = "Two-layer net & CIFAR <10>"
    pages = [write_feedback(r, tmp_path / f"{i}.html", title) for i, r in enumerate(results)]
    pages.append(write_summary(results, tmp_path / "out", title)[0])
    for path in pages:
        parsed = Page(path.read_text())
        assert parsed.doctype.lower() == "doctype html"
        assert ("html", {"lang": "en"}) in parsed.attrs and parsed.starts["title"] == 1
        assert parsed.title.startswith(f"{title}: ")
        assert parsed.starts["table"] > 0 and parsed.starts["tr"] > parsed.starts["table"]
        assert {t: n for t, n in parsed.starts.items() if t not in VOID} == dict(parsed.ends), path.name
