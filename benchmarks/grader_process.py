"""Scratch courses for the grading benchmarks: a released course, the reference solution's grading job, and
`python -m autograder grade` run in a process of its own to measure what the grader itself uses."""
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from autograder.course_dir import generate_release, scratch_course
from autograder.demo import demo_submissions
from autograder.grade import intake, job_template, plan_job
from autograder.grade.results import Result

#: The command line, then the grader's own peak resident memory (its sandboxes not included) as a last line.
MEASURE = ("import json, resource, sys\nfrom autograder.__main__ import main\ncode = main(sys.argv[1:])\n"
           "print(json.dumps({'exit': code, 'peak_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))")


@contextlib.contextmanager
def reference_job(prefix, assignment="two_layer_net"):
    """The grading job of the reference solution (no best-model file) on a released scratch course."""
    with released_course(prefix, assignment) as (tmp, course):
        folder = tmp / "submissions"
        folder.mkdir()
        nbformat.write(demo_submissions(course, assignment, mutants=())["reference"][0],
                       folder / "reference.ipynb")
        template = job_template(assignment, course)
        yield plan_job(template, intake.collect(folder, assignment, template.notebook_file)[0])


@contextlib.contextmanager
def released_course(prefix, assignment="two_layer_net"):
    """A scratch nbgrader course with `assignment` released, in a temporary folder; yields (folder, course)."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        course = scratch_course(Path(tmp) / "course", [assignment])
        generate_release(assignment, course)
        yield Path(tmp), course


def grade_in_own_process(submissions, out, course, assignment="two_layer_net", kit=None):
    """Grade `submissions` with the CLI in a fresh process (of the kit in folder `kit`, default this one). Returns
    exit code, seconds, the grader's peak memory in MB, the load average when it started and {student_id: {status,
    total, seconds, lost: {part: first diagnosis}}} from its results."""
    load = round(os.getloadavg()[0], 2)
    env = None if kit is None else {**os.environ, "PYTHONPATH": str(kit)}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", MEASURE, "grade", assignment, str(submissions), "--out", str(out),
                           "--course", str(course)], capture_output=True, text=True, env=env, cwd=kit)
    seconds = time.perf_counter() - start
    lines = done.stdout.strip().splitlines()
    measured = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {"exit": done.returncode,
                                                                                   "peak_mb": None}
    rows = {}
    for path in sorted(Path(out, "results").glob("*.json")):
        r = Result.from_json(json.loads(path.read_text()))
        rows[r.student_id] = {"status": r.status, "total": r.total, "seconds": r.seconds,
                              "lost": {p: v.diagnoses[0][:160] for p, v in r.parts.items()
                                       if v.score < v.max and v.diagnoses}}
    return {"exit": measured["exit"], "seconds": round(seconds, 1), "load": load,
            "grader_peak_mb": measured["peak_mb"] and round(measured["peak_mb"]), "rows": rows,
            "error": done.stderr.strip().splitlines()[-1] if done.returncode and done.stderr.strip() else ""}
