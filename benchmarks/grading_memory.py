"""The batch grader's own peak memory grading a class of 50 and of 1000 submissions, side by side: files are read one window of submissions at a time, so memory should not grow with the class."""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from autograder.course import generate_release, scratch_course
from autograder.notebooks import read_notebook, reference_answers, submission
from autograder.reference_model import reference_checkpoint

ASSIGNMENT = "two_layer_net"
CLASS_SIZES = (50, 1000)
CHECKPOINT = "best_two_layer_net.pth"
#: Runs the grader in a process of its own and prints its peak resident memory (the sandboxes not included).
MEASURE = ("import json, resource, sys\nfrom autograder.grade import grade_batch\n"
           "results = grade_batch('two_layer_net', sys.argv[1], sys.argv[2], course_dir=sys.argv[3], "
           "show_progress=False)\n"
           "print(json.dumps({'rows': len(results), 'ok': sum(r['status'] == 'ok' for r in results), "
           "'peak_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))")


def run():
    figures = {}
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        tmp = Path(tmp)
        course = scratch_course(tmp / "course")
        generate_release(ASSIGNMENT, course)
        source = read_notebook(course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
        release = read_notebook(course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
        text = nbformat.writes(submission(release, source, reference_answers(source)))
        model = reference_checkpoint("fashion_mnist")
        for size in CLASS_SIZES:
            folder = tmp / f"class-{size}"
            folder.mkdir()
            for i in range(size):
                (folder / f"student-{i:04d}.ipynb").write_text(text)
                (folder / f"student-{i:04d}").mkdir()
                os.link(model, folder / f"student-{i:04d}" / CHECKPOINT)
            files_mb = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20
            done = subprocess.run([sys.executable, "-c", MEASURE, str(folder), str(tmp / f"out-{size}"), str(course)],
                                  capture_output=True, text=True, check=True)
            measured = json.loads(done.stdout.strip().splitlines()[-1])
            figures[f"class_{size}"] = {"submissions": size, "submitted_files_mb": round(files_mb, 1),
                                        "rows": measured["rows"], "ok_rows": measured["ok"],
                                        "grader_peak_mb": round(measured["peak_mb"])}
    small, large = (figures[f"class_{n}"]["grader_peak_mb"] for n in CLASS_SIZES)
    figures["peak_ratio_1000_to_50"] = round(large / small, 2)
    return figures


def summary(f):
    small, large = f[f"class_{CLASS_SIZES[0]}"], f[f"class_{CLASS_SIZES[1]}"]
    return (f"grader peak {small['grader_peak_mb']} MB for {small['submissions']} submissions "
            f"({small['submitted_files_mb']:.0f} MB of files), {large['grader_peak_mb']} MB for "
            f"{large['submissions']} ({large['submitted_files_mb']:.0f} MB): ratio {f['peak_ratio_1000_to_50']}; "
            f"{large['rows']} rows")
