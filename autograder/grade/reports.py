"""Reports of a graded batch: grades.csv, one feedback page per student, and the batch summary.

Everything is rendered from the result dicts of autograder.grade.task.grade_submission, so no hidden
test code or reference value can reach a page. Student-derived text (ids, messages, diagnoses) is
HTML-escaped wherever it is rendered.
"""
import base64
import csv
import html
import io
import math
import re
import statistics
from collections import Counter
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

CASE_TAG = re.compile(r"\s*\[[^\[\]]*\]$")
TOP_MISTAKES = 20

CSS = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; line-height: 1.45; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
.pass { color: #1a7f37; font-weight: bold; } .fail { color: #c62828; font-weight: bold; }
.status-ok { color: #1a7f37; } .status-bad { color: #c62828; }
.muted { color: #666; font-size: 0.9rem; }
img { max-width: 100%; }
"""


def normalise_diagnosis(text):
    """A diagnosis without its trailing case tag, e.g. ' [N=3 D=4 H=2 C=5 float64 cpu]', so the same
    mistake found on different hidden cases counts as one."""
    return CASE_TAG.sub("", text.strip())


def write_grades_csv(results, path):
    """grades.csv: student_id, status, one column per part (autograded, then manual), total, max_total.

    One row per result, sorted by student_id; manual parts are left empty until a person grades them.
    """
    auto, manual = _part_ids(results)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student_id", "status", *auto, *manual, "total", "max_total"])
        for r in sorted(results, key=lambda r: r["student_id"]):
            scores = [_number(r["parts"][gid]["score"]) if gid in r["parts"] else "" for gid in auto]
            writer.writerow([r["student_id"], r["status"], *scores, *[""] * len(manual),
                             _number(r["total"]), _number(r["max_total"])])
    return path


def write_feedback(result, path, title):
    """A self-contained HTML feedback page for one student, rendered only from `result`."""
    e = _escape
    manual_points = sum(result["manual_parts"].values())
    css_class = "status-ok" if result["status"] == "ok" else "status-bad"
    status = f'<span class="{css_class}">{e(result["status"])}</span>'
    if result["status"] != "ok":
        status += f" &mdash; {e(result['message'])}"
    body = [f"<h1>{e(title)}: feedback for {e(result['student_id'])}</h1>",
            f"<p><b>Status:</b> {status}</p>",
            f"<p><b>Autograded score:</b> {_number(result['total'])} / {_number(result['max_total'])}"
            f' <span class="muted">(the maximum includes {_number(manual_points)} points of written answers)'
            "</span></p>",
            "<p>Written answers are graded separately by the instructor; their points are not included above yet.</p>"]
    for gid, part in result["parts"].items():
        body.append(f"<h2>{e(gid)}: {_number(part['score'])} / {_number(part['max'])}</h2>")
        rows = [[f'<span class="{"pass" if s["passed"] else "fail"}">{"pass" if s["passed"] else "FAIL"}</span>',
                 e(s["name"]), _number(s["weight"]), e(s["detail"])] for s in part["subchecks"]]
        body.append(_table(["result", "check", "weight", "detail"], rows))
        if part["diagnoses"]:
            body.append("<p>What to look at:</p>" + _list(part["diagnoses"]))
    if result["notes"]:
        body.append("<h2>Notes</h2>" + _list(result["notes"]))
    body.append(f"<p class=\"muted\">Your code ran in isolation: {e(result['isolation'] or 'unknown')}.</p>")
    return _write_page(path, f"{title}: {result['student_id']}", body)


def write_summary(results, out_dir, title):
    """summary.html (with the figure embedded), summary.png and common_mistakes.csv in `out_dir`.

    Returns the paths written.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    auto, _ = _part_ids(results)
    png = out_dir / "summary.png"
    png.write_bytes(_histograms(results, auto, title))
    mistakes = _common_mistakes(results)
    csv_path = out_dir / "common_mistakes.csv"
    with csv_path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["part", "diagnosis", "count", "share"])
        writer.writerows([part, diagnosis, count, _number(count / len(results))]
                         for (part, diagnosis), count in mistakes)

    e = _escape
    statuses = Counter(r["status"] for r in results)
    stats_rows = [[e(gid), _number(_part_max(results, gid)), *_mean_median([r["parts"][gid]["score"]
                  for r in results if gid in r["parts"]])] for gid in auto]
    stats_rows.append(["<b>total</b>", _number(_autograded_max(results, auto)),
                       *_mean_median([r["total"] for r in results])])
    mistake_rows = [[e(part), e(diagnosis), count, f"{100 * count / len(results):.0f}%"]
                    for (part, diagnosis), count in mistakes[:TOP_MISTAKES]]
    failed = [[e(r["student_id"]), f'<span class="status-bad">{e(r["status"])}</span>', e(r["message"])]
              for r in sorted(results, key=lambda r: r["student_id"]) if r["status"] != "ok"]
    image = base64.b64encode(png.read_bytes()).decode("ascii")
    body = [f"<h1>{e(title)}: batch summary</h1>",
            f"<p>{len(results)} submissions graded. Written answers are graded separately in formgrader.</p>",
            "<h2>Submissions by status</h2>",
            _table(["status", "submissions"], [[e(s), n] for s, n in sorted(statuses.items())]),
            "<h2>Autograded scores</h2>", _table(["part", "max", "mean", "median"], stats_rows),
            f'<img alt="Histograms of the scores of each autograded part and of the totals" '
            f'src="data:image/png;base64,{image}">',
            f"<h2>Most common mistakes (top {TOP_MISTAKES})</h2>",
            _table(["part", "diagnosis", "submissions", "share"], mistake_rows) if mistake_rows
            else "<p>No mistakes diagnosed.</p>",
            "<h2>Submissions not graded normally (status other than ok)</h2>",
            _table(["student", "status", "message"], failed) if failed else "<p>None.</p>"]
    html_path = _write_page(out_dir / "summary.html", f"{title}: summary", body)
    return [html_path, png, csv_path]


def _common_mistakes(results):
    """[((part, normalised diagnosis), count)], most common first; each counted once per student and part."""
    counts = Counter()
    for r in results:
        for gid, part in r["parts"].items():
            counts.update((gid, d) for d in {normalise_diagnosis(d) for d in part["diagnoses"]})
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _part_ids(results):
    """Autograded and manual part ids, in the order of the first result."""
    if not results:
        return [], []
    return list(results[0]["parts"]), list(results[0]["manual_parts"])


def _part_max(results, gid):
    return next(r["parts"][gid]["max"] for r in results if gid in r["parts"])


def _autograded_max(results, auto):
    return sum(_part_max(results, gid) for gid in auto)


def _histograms(results, auto, title):
    """PNG bytes of one histogram per autograded part, plus one of the autograded totals."""
    panels = [(gid, [r["parts"][gid]["score"] for r in results if gid in r["parts"]], _part_max(results, gid))
              for gid in auto]
    panels.append(("autograded total", [r["total"] for r in results], _autograded_max(results, auto)))
    cols = min(3, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig = Figure(figsize=(4.5 * cols, 3.2 * rows), layout="constrained")
    FigureCanvasAgg(fig)
    for i, (name, scores, top) in enumerate(panels):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.hist(scores, bins=10, range=(0, top or 1), color="#4c72b0", edgecolor="white")
        ax.set_title(f"{name} (out of {_number(top)})", fontsize=10)
        ax.set_xlabel("score")
        ax.set_ylabel("submissions")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(f"{title}: score distributions ({len(results)} submissions)")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _mean_median(values):
    if not values:
        return ["", ""]
    return [_number(statistics.mean(values)), _number(statistics.median(values))]


def _number(x):
    """Up to 4 decimals, without trailing zeros: 1.6, 4, 0.3333."""
    return f"{x:.4f}".rstrip("0").rstrip(".")


def _escape(text):
    return html.escape(str(text))


def _list(items):
    return "<ul>" + "".join(f"<li>{_escape(item)}</li>" for item in items) + "</ul>"


def _table(header, rows):
    """An HTML table; the cells must already be escaped."""
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _write_page(path, title, body):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                    f"<title>{_escape(title)}</title><style>{CSS}</style></head>\n<body>\n"
                    + "\n".join(body) + "\n</body></html>\n", encoding="utf-8")
    return path
