"""Where one sandboxed submission's time goes, cold (a fresh interpreter per submission) and warm (forked from an
interpreter that has already imported everything): starting bubblewrap and Python, importing torch, the harness and the
helpers, the set-up cell, the student's cells, the graded parts, and the grader's own side (drawing hidden cases,
judging, the best model)."""
import statistics
import subprocess
import tempfile
import time
from dataclasses import replace

from autograder import registry
from autograder.grade import sandbox
from autograder.grade.task import grade_submission
from benchmarks.grader_process import reference_job

RUNS = 5  # after one run that is not counted (it starts the warm sandbox, and fills the file cache)
STEPS = ("start", "setup", "cell", "part")
IMPORTS = {  # cumulative: each line's time includes the lines above it
    "bubblewrap + python": "pass",
    "+ import torch": "import torch",
    "+ harness and helpers": "import torch, helpers, " + ", ".join(f"assignments.{a}.harness"
                                                                     for a in registry.names(graded=True)),
}


def run():
    figures = {"isolation": sandbox.isolation(), "runs": RUNS, "cold_start_seconds": _cold_start()}
    for assignment in registry.names(graded=True):
        with reference_job("bench-breakdown-", assignment) as job:
            figures[assignment] = {mode: _breakdown(replace(job, template=replace(job.template, warm=mode == "warm")))
                                   for mode in ("cold", "warm")}
            cold, warm = (figures[assignment][mode]["submission_seconds"] for mode in ("cold", "warm"))
            figures[assignment]["cold_over_warm"] = round(cold / warm, 2)
    return figures


def _cold_start():
    """Median seconds of a bare sandboxed interpreter, then with torch, then with the harness and helpers."""
    with tempfile.TemporaryDirectory(prefix="bench-start-") as job_dir:
        if sandbox.bubblewrap() is None:
            sandbox.prepare_fallback(job_dir)
        seconds = {}
        for label, code in IMPORTS.items():
            times = []
            for _ in range(RUNS):
                start = time.perf_counter()
                subprocess.run(sandbox.command(job_dir, ["-c", code]), check=True, capture_output=True)
                times.append(time.perf_counter() - start)
            seconds[label] = round(statistics.median(times), 3)
    return seconds


def _breakdown(job):
    first, *runs = [grade_submission(job) for _ in range(RUNS + 1)]
    assert all(r.status == "ok" for r in runs), [r.message for r in runs]
    steps = {kind: round(statistics.median(r.step_seconds.get(kind, 0.0) for r in runs), 3) for kind in STEPS}
    grader_side = statistics.median(r.seconds - sum(r.step_seconds.values()) for r in runs)
    return {"submission_seconds": round(statistics.median(r.seconds for r in runs), 3),
            "first_submission_seconds": round(first.seconds, 3), "sandbox_steps_seconds": steps,
            "grader_side_seconds": round(grader_side, 3), "sandbox": first.sandbox["kind"]}


def summary(f):
    parts = []
    for assignment in registry.names(graded=True):
        cold, warm = f[assignment]["cold"], f[assignment]["warm"]
        parts.append(f"{assignment}: cold {cold['submission_seconds']} s "
                     f"(start {cold['sandbox_steps_seconds']['start']} s) vs warm {warm['submission_seconds']} s "
                     f"(start {warm['sandbox_steps_seconds']['start']} s),"
                     f" x{f[assignment]['cold_over_warm']}")
    start = f["cold_start_seconds"]
    return "; ".join(parts) + "; cold start: " + ", ".join(f"{k} {v} s" for k, v in start.items())
