"""`make demo`: for each assignment of the kit, release it, run the solution notebook under stock nbgrader, then
grade a small demo batch with the batch grader and print the grade table and where the reports are.

The batch: the reference (the source's solutions, and the assignment's reference side files, e.g. two_layer_net's
best model), the untouched release, the mutants its manifest names ([demo] mutants) and a damaged file, all handed in
a day before the course calendar's due date (term.toml); and the reference again from two students who hand it in
late: `late`, and `extended`, who has an extension (extensions.csv). Everything goes to demo-output/.
"""
import datetime as dt
import shutil
import time
import warnings
from pathlib import Path

import nbformat
from sqlalchemy.exc import SAWarning

from autograder import registry
from autograder.course_dir import COURSE_ROOT, api, generate_release, scratch_course
from autograder.grade import grade_batch
from autograder.grade.canary import CanaryFailed, full_marks, reference_submission
from autograder.grade.reports import number
from autograder.grade.sandbox import isolation
from autograder.gradebook import part_grades
from autograder.notebooks import read_notebook, reference_answers, submission
from autograder.term import calendar
from autograder.term.calendar import format_late_by

#: When the demo's students hand in, after the due date (None: a day before it), and the extension of `extended`.
LATE_BY = {"late": dt.timedelta(days=1, hours=3), "extended": dt.timedelta(days=2, hours=5)}
EXTENSION_DAYS = 3

def demo_submissions(course_dir, assignment, mutants=None):
    """{student_id: (notebook, {side file name: path})} for the demo batch of `assignment`, built from `course_dir`:
    the reference, the blank release and `mutants` (default: the manifest's [demo] mutants), which hand in the
    reference's side files."""
    found = registry.assignment(assignment, course_dir)
    source = read_notebook(Path(course_dir) / "source" / assignment / found.notebook)
    release = read_notebook(Path(course_dir) / "release" / assignment / found.notebook)
    answers = reference_answers(source)
    reference, side_files = reference_submission(course_dir, assignment)
    batch = {"reference": (reference, side_files), "blank": (release, {})}
    by_name = {m.name: m for m in found.mutants}
    for name in found.demo_mutants if mutants is None else mutants:
        mutant = by_name[name]
        batch[f"mutant-{name}"] = (submission(release, source, mutant.applied_to(answers)), side_files)
    return batch


def write_submitted(course_dir, batch, assignment, arrived=None):
    """Lay the batch out as nbgrader's submitted/<student>/<assignment>/ tree; `arrived` ({student: aware
    datetime}) writes each named student's timestamp.txt as nbgrader's exchange does."""
    notebook = registry.assignment(assignment, course_dir).notebook
    for student, (nb, files) in batch.items():
        folder = Path(course_dir) / "submitted" / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / notebook)
        for name, path in files.items():
            shutil.copy(path, folder / name)
        if arrived and student in arrived:
            write_timestamp(folder, arrived[student])


def write_timestamp(folder, moment):
    """nbgrader's timestamp.txt in a submission folder, as its exchange writes it (in UTC)."""
    (Path(folder) / "timestamp.txt").write_text(f"{moment.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M:%S.%f} UTC")


def dated_course(course, assignment, students):
    """Give the demo's course the kit's calendar and an extension of EXTENSION_DAYS for `extended`; return when each
    of `students` handed in ({student: aware datetime}; LATE_BY after the due date, else a day before it), or {}
    when the kit's calendar does not date `assignment`."""
    shutil.copy(COURSE_ROOT / calendar.CALENDAR_FILE, course)
    (course / "extensions.csv").write_text(f"student_id,assignment,due,extra_days\nextended,{assignment},,"
                                           f"{EXTENSION_DAYS}\n")
    term = calendar.load(course)
    due = term.due(assignment) if term else None
    if due is None:
        return {}
    return {student: due + LATE_BY.get(student, dt.timedelta(days=-1)) for student in students}


def autograde(course_dir, students, assignment):
    """Stock `nbgrader autograde`, one student at a time; returns {student: seconds}."""
    nbgrader = api(course_dir)
    seconds = {}
    for student in students:
        start = time.perf_counter()
        result = nbgrader.autograde(assignment, student, force=True, create=True)
        if not result["success"]:
            raise RuntimeError(f"nbgrader autograde failed for {student}:\n{result.get('log', '')[-2000:]}")
        seconds[student] = time.perf_counter() - start
    return seconds


def grade_table(grades):
    """Rows of student, then one column per part, then total / max total (written answers pending)."""
    parts = list(next(iter(grades.values())))
    rows = []
    for student, by_part in grades.items():
        auto = [by_part[p][0] for p in parts]
        total = sum(s for s in auto if s is not None)
        max_total = sum(by_part[p][1] for p in parts)
        rows.append([student] + ["-" if s is None else f"{s:g}" for s in auto] + [f"{total:g}", f"{max_total:g}"])
    return ["student_id"] + parts + ["total", "max_total"], rows


def print_table(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    for row in [header] + rows:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)))


def short(part):
    return part.removeprefix("test_").removeprefix("nn_")


def main(out=COURSE_ROOT / "demo-output"):
    warnings.filterwarnings("ignore", category=SAWarning)  # nbgrader's own session warnings
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    graded = registry.names(graded=True)
    for index, assignment in enumerate(graded, 1):
        print(f"\n=== Assignment {index} of {len(graded)}: {assignment} ===")
        # A course of its own per assignment: its submitted/ tree then holds this assignment's demo batch only.
        demo_assignment(assignment, scratch_course(out / assignment / "course", [assignment]),
                        out / assignment / "grading")


def demo_assignment(assignment, course, out):
    """Release `assignment`, autograde its reference with stock nbgrader, grade the demo batch, print the table."""
    print(f"1/4 Regenerating release/{assignment} from source/ with nbgrader")
    generate_release(assignment)
    generate_release(assignment, course)
    found = registry.assignment(assignment, course)
    mutants = found.demo_mutants
    side_files = f" (with {', '.join(found.side_files)}: made once, then cached)" if found.side_files else ""
    print(f"2/4 Building the demo batch: reference{side_files}, blank release, {len(mutants)} catalogued mistakes, "
          f"a damaged file; the reference again, handed in late by `late` and by `extended` (who has a "
          f"{EXTENSION_DAYS}-day extension)")
    batch = demo_submissions(course, assignment)
    batch.update({student: batch["reference"] for student in LATE_BY})
    arrived = dated_course(course, assignment, batch)
    write_submitted(course, batch, assignment, arrived)
    print("3/4 Stock nbgrader executes the solution notebook (grading budget on):")
    seconds = autograde(course, ["reference"], assignment)["reference"]
    header, rows = grade_table(part_grades(course, assignment, ["reference"]))
    print(f"    reference: {rows[0][-2]} / {rows[0][-1]} points in {seconds:.1f} s (written answers pending)")
    broken = course / "submitted" / "damaged-file" / assignment
    broken.mkdir(parents=True)
    (broken / found.notebook).write_text('{"cells": [')
    if arrived:
        write_timestamp(broken, arrived["reference"])
    print(f"4/4 The batch grader (sandboxed: {isolation()}; parallel on Dask) grades the reference first (the canary), "
          f"then all {len(batch) + 1}:")
    start = time.perf_counter()
    try:
        results = grade_batch(assignment, course / "submitted", out, course_dir=course)
    except CanaryFailed as failure:
        raise SystemExit(f"make demo failed: {failure}") from None
    elapsed = time.perf_counter() - start
    parts = list(results[0].parts)
    header = ["student_id", "status"] + [short(p) for p in parts] + ["raw", "late_by", "penalty", "total", "max"]
    rows = [[r.student_id, r.status] + [number(r.parts[p].score) or "-" for p in parts]
            + [number(r.raw_total) or "-", format_late_by(r.late.late_by) if r.late else "-",
               number(r.late_penalty) or "-", number(r.total) or "-", number(r.max_total)] for r in results]
    print_table(header, rows)
    for r in results:
        if r.student_id in LATE_BY and r.late:
            extension = f" ({r.late.extension})" if r.late.extension else ""
            arrived = r.late.arrived.astimezone(r.late.due.tzinfo)
            print(f"  {r.student_id}: due {r.late.due:%d %b %H:%M}{extension}, arrived {arrived:%d %b %H:%M} "
                  f"(its timestamp.txt): {r.late.reason}")
    print(f"\n{len(results)} submissions in {elapsed:.1f} s ({60 * len(results) / elapsed:.0f} per minute); "
          "written answers (max includes them) are graded by hand in formgrader.")
    print(f"Reports: {out / 'grades.csv'}\n         {out / 'summary.html'}\n"
          f"         {out / 'feedback'}/<student_id>.html")
    reference = next(r for r in results if r.student_id == "reference")
    if not full_marks(reference) or any(r.status == "grader-error" for r in results):
        raise SystemExit(f"make demo failed: the reference solution got {number(reference.total) or 'no grade'} "
                         f"(status {reference.status}), not every autograded point, or the grader failed on a "
                         "submission: see the table above")
