"""Reports of a graded batch: grades.csv, one feedback page per student, and the batch summary.

Everything is rendered from the Results (autograder.grade.results) of the batch, so no hidden
test code or reference value can reach a page. This module prepares plain values (formatted numbers,
counted mistakes, the histogram figure); the pages are the autoescaped templates feedback.html.j2 and
summary.html.j2 (autograder/templates/), so student-derived text (ids, messages, diagnoses) is
HTML-escaped wherever it is rendered.
"""
import base64
import csv
import io
import json
import math
import re
import statistics
from collections import Counter
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from autograder.render import render
from autograder.harness.i18n import _
from autograder.term.calendar import describe_late_by, format_late_by, student_date

CASE_TAG = re.compile(r"\s*\[[^\[\]]*\]$")
TOP_MISTAKES = 20


def normalise_diagnosis(text):
    """A diagnosis without its trailing case tag, e.g. ' [N=3 D=4 H=2 C=5 float64 cpu]', so the same
    mistake found on different hidden cases counts as one."""
    return CASE_TAG.sub("", text.strip())


def write_grades_csv(results, path):
    """grades.csv: student_id, status, one column per part (autograded, then manual), raw_total, late_by,
    late_penalty, total, max_total.

    One row per result, sorted by student_id; manual parts are left empty until a person grades them, and so are
    the parts and totals of a `grader-error` row that the grader could not grade. `raw_total` is the autograded
    points earned, `late_by` how late the submission arrived (hours:minutes:seconds; 0:00:00 on time, empty when
    the assignment has no due date or the submission no arrival time), `late_penalty` the points the late policy
    took, and `total` what remains. A `missing` row (a student of the roster who submitted nothing) has 0.
    """
    auto, manual = _part_ids(results)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student_id", "status", *auto, *manual, "raw_total", "late_by", "late_penalty", "total",
                         "max_total"])
        for r in sorted(results, key=lambda r: r.student_id):
            scores = [number(r.parts[gid].score) if gid in r.parts else "" for gid in auto]
            late_by = format_late_by(r.late.late_by) if r.late else ""
            writer.writerow([r.student_id, r.status, *scores, *[""] * len(manual), number(r.raw_total), late_by,
                             number(r.late_penalty if r.raw_total is not None else None), number(r.total),
                             number(r.max_total)])
    return path


def write_feedback(result, path, title):
    """A self-contained HTML feedback page for one student, rendered only from `result`."""
    parts = [{"id": gid, "score": number(part.score), "max": number(part.max), "diagnoses": part.diagnoses,
              "grader_error": part.grader_error,
              "subchecks": [{"passed": s["passed"], "name": s["name"], "weight": number(s["weight"]),
                             "detail": s["detail"]} for s in part.subchecks]}
             for gid, part in result.parts.items()]
    page = render("feedback.html.j2", title=title, student_id=result.student_id, status=result.status,
                  grader_failed=result.total is None,
                  ok=result.status == "ok", message=result.message, total=number(result.total),
                  max_total=number(result.max_total), manual_points=number(sum(result.manual_parts.values())),
                  parts=parts, notes=result.notes, isolation=result.isolation or _("unknown"),
                  raw_total=number(result.raw_total), late=_lateness(result))
    return _write_page(path, page)


def _lateness(result):
    """The feedback page's lateness values (None when the assignment has no due date)."""
    late = result.late
    if late is None:
        return None
    zone = late.due.tzinfo
    return {"due": f"{student_date(late.due)} ({zone})", "extension": late.extension,
            "arrived": student_date(late.arrived.astimezone(zone), seconds=True) if late.arrived else "",
            "late_by": describe_late_by(late.late_by) if late.late_by and late.late_by.total_seconds() > 0 else "",
            "reason": late.reason[:1].upper() + late.reason[1:], "percent": number(late.percent),
            "penalty": number(result.late_penalty) if result.late_penalty else ""}


def write_summary(results, out_dir, title):
    """summary.html (with the figure embedded), summary.png and common_mistakes.csv in `out_dir`: the scores and
    mistakes of the submissions (a `missing` row, a student of the roster who submitted nothing, is listed, not
    counted in them).

    Returns the paths written.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    everyone, results = results, [r for r in results if r.status != "missing"]
    auto = _part_ids(results)[0]
    png = out_dir / "summary.png"
    png.write_bytes(_histograms(results, auto, title))
    mistakes = _common_mistakes(results)
    csv_path = out_dir / "common_mistakes.csv"
    with csv_path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["part", "diagnosis", "count", "share"])
        writer.writerows([part, diagnosis, count, number(count / len(results))]
                         for (part, diagnosis), count in mistakes)  # a mistake: at least one submission

    scores = [{"part": gid, "max": number(_part_max(results, gid)), **_mean_median(_part_scores(results, gid))}
              for gid in auto]
    total = {"max": number(_autograded_max(results, auto)), **_mean_median(_totals(results))}
    common = [{"part": part, "diagnosis": diagnosis, "submissions": count,
               "share": f"{100 * count / len(results):.0f}%"}
              for (part, diagnosis), count in mistakes[:TOP_MISTAKES]]
    not_ok = [{"student_id": r.student_id, "status": r.status, "message": r.message}
              for r in sorted(everyone, key=lambda r: (r.status != "grader-error", r.student_id))
              if r.status != "ok"]
    grader_failed = [row for row in not_ok if row["status"] == "grader-error"]
    page = render("summary.html.j2", title=title, submissions=len(results), grader_failed=grader_failed,
                  statuses=sorted(Counter(r.status for r in everyone).items()), scores=scores, total=total,
                  image=base64.b64encode(png.read_bytes()).decode("ascii"), top=TOP_MISTAKES, mistakes=common,
                  not_ok=not_ok)
    html_path = _write_page(out_dir / "summary.html", page)
    return [html_path, png, csv_path]


def _common_mistakes(results):
    """[((part, normalised diagnosis), count)], most common first; each counted once per student and part."""
    counts: Counter[tuple[str, str]] = Counter()
    for r in results:
        for gid, part in r.parts.items():
            counts.update((gid, d) for d in {normalise_diagnosis(d) for d in part.diagnoses})
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _part_ids(results):
    """Autograded and manual part ids, in the order of the first result."""
    if not results:
        return [], []
    return list(results[0].parts), list(results[0].manual_parts)


def _part_scores(results, gid):
    """The scores of part `gid`, leaving out the submissions the grader could not grade there."""
    return [r.parts[gid].score for r in results if gid in r.parts and r.parts[gid].score is not None]


def _totals(results):
    return [r.total for r in results if r.total is not None]


def _part_max(results, gid):
    return next(r.parts[gid].max for r in results if gid in r.parts)


def _autograded_max(results, auto):
    return sum(_part_max(results, gid) for gid in auto)


def _histograms(results, auto, title):
    """PNG bytes of one histogram per autograded part, plus one of the autograded totals."""
    panels = [(gid, _part_scores(results, gid), _part_max(results, gid)) for gid in auto]
    panels.append(("autograded total", _totals(results), _autograded_max(results, auto)))
    cols = min(3, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig = Figure(figsize=(4.5 * cols, 3.2 * rows), layout="constrained")
    FigureCanvasAgg(fig)
    for i, (name, scores, top) in enumerate(panels):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.hist(scores, bins=10, range=(0, top or 1), color="#4c72b0", edgecolor="white")
        ax.set_title(f"{name} (out of {number(top)})", fontsize=10)
        ax.set_xlabel("score")
        ax.set_ylabel("submissions")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(f"{title}: score distributions ({len(results)} submissions)")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _mean_median(values):
    """{"mean", "median"} of `values`, formatted; empty strings when there are none."""
    if not values:
        return {"mean": "", "median": ""}
    return {"mean": number(statistics.mean(values)), "median": number(statistics.median(values))}


def number(x):
    """Up to 4 decimals, without trailing zeros: 1.6, 4, 0.3333; "" for None (not graded)."""
    return "" if x is None else f"{x:.4f}".rstrip("0").rstrip(".")


def _write_page(path, page):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


def write_profile(path, batch, results, threads):
    """DIR/profile.json: where a batch's time went. `batch` holds the seconds of its stages (intake; cluster, which
    holds the canary and grading; reports; gradebook); each graded row adds its seconds on the worker, by stage
    (Result.stage_seconds; `other` is the rest: leasing the job folder, Dask) and by step inside the sandbox
    (Result.step_seconds), given here as means per submission."""
    graded = [r for r in results if r.stage_seconds is not None]
    stages: Counter[str] = Counter()
    steps: Counter[str] = Counter()
    for result in graded:
        stages.update(result.stage_seconds)
        stages["other"] += result.seconds - sum(result.stage_seconds.values())
        steps.update(result.step_seconds or {})
    wall = sum(batch.get(stage, 0.0) for stage in ("intake", "cluster", "reports", "gradebook"))
    mean = (lambda counter: {k: round(v / len(graded), 4) for k, v in sorted(counter.items())}) if graded else dict
    profile = {"submissions": len(results), "sandboxed": len(graded), "threads": threads,
               "batch_seconds": {stage: round(seconds, 2) for stage, seconds in batch.items()},
               "seconds": round(wall, 2), "per_minute": round(60 * len(results) / wall, 1) if wall else None,
               "worker_seconds_per_submission": round(sum(r.seconds for r in graded) / len(graded), 4) if graded
               else None,
               "stage_seconds_per_submission": mean(stages), "sandbox_step_seconds_per_submission": mean(steps)}
    Path(path).write_text(json.dumps(profile, indent=1))
    return profile
