"""One batch of mixed submissions graded by stock nbgrader autograde (sequential) and by the kit's batch grader
(sandboxed, parallel; warm sandboxes, and cold ones for comparison), with their agreement."""
import os
import statistics
import tempfile
import time
import warnings
from pathlib import Path

from sqlalchemy.exc import SAWarning

from autograder.course_dir import generate_release, scratch_course
from autograder.demo import autograde, demo_submissions, write_submitted
from autograder.grade import grade_batch
from autograder.grade.sandbox import isolation
from autograder.gradebook import part_grades
from assignments.two_layer_net.mistakes import MUTANTS

ASSIGNMENT = "two_layer_net"
REFERENCE_COPIES = 2  # extra copies of the reference under other ids, on top of reference, blank and every mutant
TARGET_RATIO = 10
TARGET_PER_MINUTE = 60


def run():
    warnings.filterwarnings("ignore", category=SAWarning)  # nbgrader's own session warnings
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        tmp = Path(tmp)
        # One course per grader, so their gradebooks never meet; both get the very same submissions.
        stock_course, our_course, cold_course = (scratch_course(tmp / name, [ASSIGNMENT])
                                                 for name in ("stock", "ours", "cold"))
        for course in (stock_course, our_course, cold_course):
            generate_release(ASSIGNMENT, course)
        batch = demo_submissions(stock_course, ASSIGNMENT, mutants=[m.name for m in MUTANTS])
        for i in range(1, REFERENCE_COPIES + 1):
            batch[f"reference-copy-{i}"] = batch["reference"]
        for course in (stock_course, our_course, cold_course):
            write_submitted(course, batch, ASSIGNMENT)
        students = sorted(batch)

        # Other work on the machine slows either grader: the load when each starts goes into the record.
        load = {"stock": round(os.getloadavg()[0], 2)}
        start = time.perf_counter()
        stock_seconds = autograde(stock_course, students, ASSIGNMENT)
        stock_wall = time.perf_counter() - start
        stock_parts = part_grades(stock_course, ASSIGNMENT, students)

        load["ours"] = round(os.getloadavg()[0], 2)
        start = time.perf_counter()
        results = grade_batch(ASSIGNMENT, our_course / "submitted", tmp / "grading", course_dir=our_course,
                              show_progress=False, canary=False)
        our_wall = time.perf_counter() - start

        load["ours_cold"] = round(os.getloadavg()[0], 2)
        start = time.perf_counter()
        cold_results = grade_batch(ASSIGNMENT, cold_course / "submitted", tmp / "grading-cold", course_dir=cold_course,
                                   show_progress=False, canary=False, warm=False)
        cold_wall = time.perf_counter() - start

    ours = {r.student_id: r for r in results}
    disagreements = compare(stock_parts, ours)
    n = len(students)
    statuses = {}
    for r in results:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    auto_parts = list(results[0].parts)  # the autograded parts; written answers are graded by hand
    return {"submissions": n, "mutants": len(MUTANTS), "reference_copies": REFERENCE_COPIES,
            "isolation": isolation(), "workers": "default (one per CPU)",
            "stock_seconds": round(stock_wall, 1), "ours_seconds": round(our_wall, 1),
            "ours_cold_seconds": round(cold_wall, 1), "cold_over_warm": round(cold_wall / our_wall, 2),
            "stock_over_ours": round(stock_wall / our_wall, 2),
            "stock_per_minute": round(60 * n / stock_wall, 1), "ours_per_minute": round(60 * n / our_wall, 1),
            "target_ratio": TARGET_RATIO, "target_ours_per_minute": TARGET_PER_MINUTE,
            "stock_submission_seconds": _spread(stock_seconds.values()),
            "ours_submission_seconds_in_worker": _spread([r.seconds for r in results]),
            "load_average_1min_at_start": load, "ours_statuses": statuses, "ours_count": len(results),
            "parts_compared": sum(len(set(ours[s].parts) & set(stock_parts[s])) for s in students if s in ours),
            "full_marks_disagreements": len(disagreements), "disagreement_details": disagreements,
            "warm_cold_disagreements": compare(_scores(cold_results), ours),
            "cold_not_ok": {r.student_id: f"{r.status}: {r.message}" for r in cold_results if r.status != "ok"},
            "lost_parts_stock": _lost(students, auto_parts, lambda s, p: stock_parts[s].get(p, (None, None))),
            "lost_parts_ours": _lost(students, auto_parts,
                                     lambda s, p: (ours[s].parts[p].score, ours[s].parts[p].max)
                                     if s in ours and p in ours[s].parts else (None, None))}


def _scores(results):
    """{student: {part: (score, max)}}, as part_grades gives them from a gradebook."""
    return {r.student_id: {p: (v.score, v.max) for p, v in r.parts.items()} for r in results}


def _full(score, maximum):
    return score is not None and maximum is not None and score >= maximum - 1e-6


def compare(stock_parts, ours):
    """(student, part) pairs where one grader gives full marks and the other does not (autograded parts only)."""
    out = []
    for student, by_part in sorted(stock_parts.items()):
        result = ours.get(student)
        if result is None:
            out.append({"student": student, "part": "*", "stock": "graded", "ours": "missing"})
            continue
        for part, (score, maximum) in by_part.items():
            if part not in result.parts:
                continue  # written answers: graded by hand, not by either autograder
            mine = result.parts[part]
            if _full(score, maximum) != _full(mine.score, mine.max):
                out.append({"student": student, "part": part, "stock": [score, maximum],
                            "ours": [round(mine.score, 3), mine.max]})
    return out


def _lost(students, parts, score_of):
    """{student: [autograded parts short of full marks]}, for the reference, blank and mutant submissions."""
    return {s: [p for p in parts if not _full(*score_of(s, p))] for s in students if not s.startswith("reference-copy")}


def _spread(values):
    values = sorted(values)
    return {"min": round(values[0], 1), "median": round(statistics.median(values), 1), "max": round(values[-1], 1)}


def summary(f):
    return (f"{f['submissions']} submissions: stock nbgrader {f['stock_seconds']:.0f} s "
            f"({f['stock_per_minute']:.1f}/min) vs batch grader ({f['isolation']}) {f['ours_seconds']:.0f} s "
            f"({f['ours_per_minute']:.1f}/min), x{f['stock_over_ours']:.1f} (targets x{f['target_ratio']}, "
            f"{f['target_ours_per_minute']}/min), {f['full_marks_disagreements']} part disagreements; cold sandboxes "
            f"{f['ours_cold_seconds']:.0f} s (warm x{f['cold_over_warm']:.1f} faster, "
            f"{len(f['warm_cold_disagreements'])} disagreements)")
