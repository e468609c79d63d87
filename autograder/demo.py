"""`make demo`: for each assignment of the kit, release it, run the solution notebook under stock nbgrader, then
grade a small demo batch with the batch grader and print the grade table and where the reports are.

The batch: the reference (the source's solutions, and for two_layer_net the instructor's reference model), the
untouched release, a few mutants from the mistake catalogue and a damaged file. Everything goes to demo-output/.
"""
import shutil
import time
import warnings
from pathlib import Path

import nbformat
from sqlalchemy.exc import SAWarning

from autograder.checks import ASSIGNMENTS
from autograder.course import COURSE_ROOT, api, generate_release, manifest, scratch_course
from autograder.grade import grade_batch
from autograder.grade.canary import CanaryFailed, full_marks, reference_submission
from autograder.grade.reports import number
from autograder.grade.sandbox import isolation
from autograder.gradebook import part_grades
from autograder.mistakes import catalogue
from autograder.notebooks import read_notebook, reference_answers, submission

DEMO_MUTANTS = {"two_layer_net": ("relu_on_scores", "loss_summed", "decay_every_iteration", "argmax_wrong_axis"),
                "transfer_learning": ("head_frozen_too", "batchnorm_updates_when_frozen", "eval_mode_forgotten",
                                      "state_dict_not_copied")}


def demo_submissions(course_dir, mutants=None, assignment="two_layer_net"):
    """{student_id: (notebook, {side file name: path})} for the demo batch, built from `course_dir`."""
    notebook = f"{assignment}.ipynb"
    source = read_notebook(Path(course_dir) / "source" / assignment / notebook)
    release = read_notebook(Path(course_dir) / "release" / assignment / notebook)
    answers = reference_answers(source)
    reference, model = reference_submission(course_dir, assignment, notebook)
    batch = {"reference": (reference, model), "blank": (release, {})}
    by_name = {m.name: m for m in catalogue(assignment)}
    for name in DEMO_MUTANTS[assignment] if mutants is None else mutants:
        mutant = by_name[name]
        batch[f"mutant-{name}"] = (submission(release, source, {**answers, mutant.cell: mutant.apply(answers[mutant.cell])}),
                                   model)
    return batch


def write_submitted(course_dir, batch, assignment="two_layer_net"):
    """Lay the batch out as nbgrader's submitted/<student>/<assignment>/ tree."""
    for student, (nb, files) in batch.items():
        folder = Path(course_dir) / "submitted" / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / f"{assignment}.ipynb")
        for name, path in files.items():
            shutil.copy(path, folder / name)


def autograde(course_dir, students, assignment="two_layer_net"):
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
    for number, assignment in enumerate(ASSIGNMENTS, 1):
        print(f"\n=== Assignment {number} of {len(ASSIGNMENTS)}: {assignment} ===")
        # A course of its own per assignment: its submitted/ tree then holds this assignment's demo batch only.
        demo_assignment(assignment, scratch_course(out / assignment / "course", [assignment]), out / assignment / "grading")


def demo_assignment(assignment, course, out):
    """Release `assignment`, autograde its reference with stock nbgrader, grade the demo batch, print the table."""
    print(f"1/4 Regenerating release/{assignment} from source/ with nbgrader")
    generate_release(assignment)
    generate_release(assignment, course)
    mutants = DEMO_MUTANTS[assignment]
    print(f"2/4 Building the demo batch: reference{' (model trained once, then cached)' if manifest(assignment).get('side_files') else ''}, "
          f"blank release, {len(mutants)} catalogued mistakes, a damaged file")
    batch = demo_submissions(course, assignment=assignment)
    write_submitted(course, batch, assignment)
    print("3/4 Stock nbgrader executes the solution notebook (grading budget on):")
    seconds = autograde(course, ["reference"], assignment)["reference"]
    header, rows = grade_table(part_grades(course, assignment, ["reference"]))
    print(f"    reference: {rows[0][-2]} / {rows[0][-1]} points in {seconds:.1f} s (written answers pending)")
    broken = course / "submitted" / "damaged-file" / assignment
    broken.mkdir(parents=True)
    (broken / f"{assignment}.ipynb").write_text('{"cells": [')
    print(f"4/4 The batch grader (sandboxed: {isolation()}; parallel on Dask) grades the reference first (the canary), "
          f"then all {len(batch) + 1}:")
    start = time.perf_counter()
    try:
        results = grade_batch(assignment, course / "submitted", out, course_dir=course)
    except CanaryFailed as failure:
        raise SystemExit(f"make demo failed: {failure}") from None
    elapsed = time.perf_counter() - start
    parts = list(results[0]["parts"])
    header = ["student_id", "status"] + [short(p) for p in parts] + ["total", "max"]
    rows = [[r["student_id"], r["status"]] + [number(r["parts"][p]["score"]) or "-" for p in parts]
            + [number(r["total"]) or "-", number(r["max_total"])] for r in results]
    print_table(header, rows)
    print(f"\n{len(results)} submissions in {elapsed:.1f} s ({60 * len(results) / elapsed:.0f} per minute); "
          "written answers (max includes them) are graded by hand in formgrader.")
    print(f"Reports: {out / 'grades.csv'}\n         {out / 'summary.html'}\n         {out / 'feedback'}/<student_id>.html")
    reference = next(r for r in results if r["student_id"] == "reference")
    if not full_marks(reference) or any(r["status"] == "grader-error" for r in results):
        raise SystemExit(f"make demo failed: the reference solution got {number(reference['total']) or 'no grade'} "
                         f"(status {reference['status']}), not every autograded point, or the grader failed on a "
                         "submission: see the table above")
