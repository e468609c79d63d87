"""`make demo`: release the assignment, run the solution notebook under stock nbgrader, then grade a
small demo batch with the batch grader and print the grade table and where the reports are.

The batch: the reference (the source's solutions and the instructor's reference model), the untouched
release, a few mutants from the mistake catalogue and a damaged file. Everything goes to demo-output/.
"""
import shutil
import time
import warnings
from pathlib import Path

import nbformat
from sqlalchemy.exc import SAWarning

from autograder.course import COURSE_ROOT, api, generate_release, scratch_course
from autograder.grade import grade_batch
from autograder.grade.sandbox import isolation
from autograder.gradebook import part_grades
from autograder.mistakes.two_layer_net import MUTANTS
from autograder.notebooks import read_notebook, reference_answers, submission, written_answers
from autograder.reference_model import reference_checkpoint

ASSIGNMENT = "two_layer_net"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
CHECKPOINT = "best_two_layer_net.pth"
DEMO_MUTANTS = ("relu_on_scores", "loss_summed", "decay_every_iteration", "argmax_wrong_axis")


def demo_submissions(course_dir, mutants=DEMO_MUTANTS):
    """{student_id: (notebook, {side file name: path})} for the demo batch, built from `course_dir`."""
    source = read_notebook(Path(course_dir) / "source" / ASSIGNMENT / NOTEBOOK)
    release = read_notebook(Path(course_dir) / "release" / ASSIGNMENT / NOTEBOOK)
    answers = reference_answers(source)
    model = {CHECKPOINT: reference_checkpoint("fashion_mnist")}
    batch = {"reference": (submission(release, source, {**answers, **written_answers(source)}), model),
             "blank": (release, {})}
    by_name = {m.name: m for m in MUTANTS}
    for name in mutants:
        mutant = by_name[name]
        batch[f"mutant-{name}"] = (submission(release, source, {**answers, mutant.cell: mutant.apply(answers[mutant.cell])}),
                                   model)
    return batch


def write_submitted(course_dir, batch):
    """Lay the batch out as nbgrader's submitted/<student>/<assignment>/ tree."""
    for student, (nb, side_files) in batch.items():
        folder = Path(course_dir) / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / NOTEBOOK)
        for name, path in side_files.items():
            shutil.copy(path, folder / name)


def autograde(course_dir, students):
    """Stock `nbgrader autograde`, one student at a time; returns {student: seconds}."""
    nbgrader = api(course_dir)
    seconds = {}
    for student in students:
        start = time.perf_counter()
        result = nbgrader.autograde(ASSIGNMENT, student, force=True, create=True)
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
    print(f"1/4 Regenerating release/{ASSIGNMENT} from source/ with nbgrader")
    generate_release(ASSIGNMENT)
    if out.exists():
        shutil.rmtree(out)
    course = scratch_course(out / "course")
    generate_release(ASSIGNMENT, course)
    print("2/4 Building the demo batch: reference (model trained once, then cached), blank release, "
          f"{len(DEMO_MUTANTS)} catalogued mistakes, a damaged file")
    batch = demo_submissions(course)
    write_submitted(course, batch)
    print("3/4 Stock nbgrader executes the solution notebook (grading budget on):")
    seconds = autograde(course, ["reference"])["reference"]
    header, rows = grade_table(part_grades(course, ASSIGNMENT, ["reference"]))
    print(f"    reference: {rows[0][-2]} / {rows[0][-1]} points in {seconds:.1f} s (written answers pending)")
    broken = course / "submitted" / "damaged-file" / ASSIGNMENT
    broken.mkdir(parents=True)
    (broken / NOTEBOOK).write_text('{"cells": [')
    print(f"4/4 The batch grader (sandboxed: {isolation()}; parallel on Dask) grades all {len(batch) + 1}:")
    start = time.perf_counter()
    results = grade_batch(ASSIGNMENT, course / "submitted", out / "grading", course_dir=course)
    elapsed = time.perf_counter() - start
    parts = list(results[0]["parts"])
    header = ["student_id", "status"] + [short(p) for p in parts] + ["total", "max"]
    rows = [[r["student_id"], r["status"]] + [f"{r['parts'][p]['score']:g}" for p in parts]
            + [f"{r['total']:g}", f"{r['max_total']:g}"] for r in results]
    print_table(header, rows)
    print(f"\n{len(results)} submissions in {elapsed:.1f} s ({60 * len(results) / elapsed:.0f} per minute); "
          "written answers (max includes them) are graded by hand in formgrader.")
    print(f"Reports: {out / 'grading' / 'grades.csv'}\n         {out / 'grading' / 'summary.html'}\n"
          f"         {out / 'grading' / 'feedback'}/<student_id>.html")
