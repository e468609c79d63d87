"""The batch grader's own peak memory grading a class of 50 and of 1000 submissions, side by side: files are read one
window of submissions at a time, so memory should not grow with the class."""
import os

import nbformat

from autograder import registry
from autograder.demo import demo_submissions
from benchmarks.grader_process import grade_in_own_process, released_course

ASSIGNMENT = "two_layer_net"
CHECKPOINT, = registry.assignment(ASSIGNMENT).side_files  # the best model each submission hands in
CLASS_SIZES = (50, 1000)


def run():
    figures = {}
    with released_course("bench-memory-") as (tmp, course):
        notebook, side_files = demo_submissions(course, ASSIGNMENT, mutants=())["reference"]
        text, model = nbformat.writes(notebook), side_files[CHECKPOINT]
        for size in CLASS_SIZES:
            folder = tmp / f"class-{size}"
            folder.mkdir()
            for i in range(size):
                (folder / f"student-{i:04d}.ipynb").write_text(text)
                (folder / f"student-{i:04d}").mkdir()
                os.link(model, folder / f"student-{i:04d}" / CHECKPOINT)
            files_mb = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20
            graded = grade_in_own_process(folder, tmp / f"out-{size}", course)
            figures[f"class_{size}"] = {"submissions": size, "submitted_files_mb": round(files_mb, 1),
                                        "rows": len(graded["rows"]), "seconds": graded["seconds"],
                                        "ok_rows": sum(r["status"] == "ok" for r in graded["rows"].values()),
                                        "grader_peak_mb": graded["grader_peak_mb"]}
    small, large = (figures[f"class_{n}"]["grader_peak_mb"] for n in CLASS_SIZES)
    figures["peak_ratio_1000_to_50"] = round(large / small, 2)
    return figures


def summary(f):
    small, large = f[f"class_{CLASS_SIZES[0]}"], f[f"class_{CLASS_SIZES[1]}"]
    return (f"grader peak {small['grader_peak_mb']} MB for {small['submissions']} submissions "
            f"({small['submitted_files_mb']:.0f} MB of files), {large['grader_peak_mb']} MB for "
            f"{large['submissions']} ({large['submitted_files_mb']:.0f} MB): ratio {f['peak_ratio_1000_to_50']}; "
            f"{large['rows']} rows")
