"""Grading one submission: draw hidden cases, run the student's code in the sandbox, judge the plain
outputs here (a process that never runs student code), and evaluate the submitted best model.

`grade_submission` takes and returns plain data only, so it can run on any Dask worker that has the kit.
"""
import json
import os
import socket
import tempfile
import time
from pathlib import Path

from autograder.checks import BEST_MODEL, PARTS, not_defined
from autograder.checks.core import Report, new_rng
from autograder.grade import sandbox
from autograder.harness import transport
from autograder.notebooks import MAGIC, NotebookError, find_answers, notebook_from_bytes

MAX_SIDE_FILE_BYTES = 200 * 2**20


def grade_submission(job):
    """Grade one submission described by `job` (see autograder.grade.plan_job); returns its result dict."""
    start = time.perf_counter()
    result = {"student_id": job["student_id"], "status": "ok", "message": "", "parts": {},
              "manual_parts": dict(job["manual_parts"]), "notes": list(job["notes"]), "isolation": sandbox.isolation()}
    reports, status = {}, job.get("problem")
    if status is None:
        try:
            nb = notebook_from_bytes(job["notebook"], job["notebook_name"])
            answers, notes = find_answers(nb, job["answer_cells"])
            result["notes"] += notes
        except NotebookError as error:
            status = ("invalid-notebook", str(error))
    if status is None:
        with tempfile.TemporaryDirectory(prefix=f"grade-{job['student_id']}-") as scratch:
            reports, status = _run_code_parts(job, answers, Path(scratch))
            reports.update(_best_model(job, Path(scratch)))
    if status is None and any("MemoryError" in d or "can't allocate memory" in d
                              for r in reports.values() for d in r.diagnoses):
        status = ("memory-limit", f"ran out of its {job['limits'].memory_mb} MB of memory in a part; that part "
                                  "scores zero, the others are graded")
    if status is not None:
        result["status"], result["message"] = status
    for grade_id, points in job["points"].items():
        report = reports.get(grade_id) or _not_graded(grade_id, result["message"] or "not graded")
        result["parts"][grade_id] = report.to_dict(points)
    result["total"] = round(sum(p["score"] for p in result["parts"].values()), 4)
    result["max_total"] = sum(job["points"].values()) + sum(job["manual_parts"].values())
    result["seconds"] = round(time.perf_counter() - start, 3)
    result["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    return result


def _not_graded(grade_id, why):
    report = Report(grade_id, 0)
    report.add("graded", 1.0, False, f"not graded: {why}")
    return report


def _run_code_parts(job, answers, scratch):
    """Sandboxed run of every code part; returns ({grade_id: Report}, (status, message) or None)."""
    parts = PARTS[job["assignment"]]
    drawn = {}
    (scratch / "cases").mkdir()
    for part in parts:
        rng, seed = new_rng(job.get("seed"))
        drawn[part.grade_id] = (part.draw(rng), seed)
        transport.save(drawn[part.grade_id][0], scratch / "cases" / f"{part.grade_id}.safetensors")
    spec = {"assignment": job["assignment"], "setup": MAGIC.sub("", job["setup"]), "answers": answers,
            "parts": [{"grade_id": p.grade_id, "names": list(p.names), "run": p.run.__name__} for p in parts]}
    (scratch / "job.json").write_text(json.dumps(spec))
    outcome = sandbox.run(scratch, job["limits"])
    reports = {}
    cell_errors = _read_json(scratch / "outputs" / "cell_errors.json")
    for part in parts:
        cases, seed = drawn[part.grade_id]
        path = scratch / "outputs" / f"{part.grade_id}.safetensors"
        if not path.is_file():
            continue
        try:
            outputs = transport.load(path)
            if "missing" in outputs:
                why = _cell_error(outputs["missing"], cell_errors, job["answer_cells"])
                reports[part.grade_id] = not_defined(part, outputs["missing"], seed, why)
            elif "harness_error" in outputs:
                reports[part.grade_id] = _not_graded(part.grade_id, f"the code {outputs['harness_error']}")
            else:
                reports[part.grade_id] = part.judge(cases, outputs, seed)
        except Exception as error:  # noqa: BLE001 - malformed or forged outputs earn nothing
            reports[part.grade_id] = _not_graded(part.grade_id, f"its outputs could not be judged ({error})")
    return reports, _status(outcome, scratch / "outputs" / "done", job["limits"])


def _cell_error(missing, cell_errors, answer_cells):
    """Why a missing name is missing, when its answer cell failed to run (e.g. a syntax error); else None."""
    for name in missing:
        cell = next((cell for cell, names in answer_cells.items() if name in names), None)
        if cell in cell_errors:
            return f"the answer cell {cell} {cell_errors[cell]}"
    return None


def _status(outcome, done, limits):
    if outcome.timed_out:
        return "timeout", f"stopped after {limits.wall_seconds:g} s of wall time; parts finished before then are graded"
    if done.is_file() and outcome.returncode == 0:
        return None
    text = outcome.stderr
    if "MemoryError" in text or "can't allocate memory" in text or "Cannot allocate memory" in text:
        return "memory-limit", f"ran out of its {limits.memory_mb} MB of memory; parts finished before then are graded"
    if outcome.returncode is not None and outcome.returncode < 0:
        signal_number = -outcome.returncode
        if signal_number in (9, 24):  # SIGKILL / SIGXCPU from the CPU-time limit
            return "timeout", f"used up its {limits.cpu_seconds} s of CPU time; parts finished before then are graded"
        return "crashed", f"the interpreter was killed by signal {signal_number}; parts finished before then are graded"
    return "crashed", (f"the interpreter exited (code {outcome.returncode}) before grading finished; parts finished "
                       "before then are graded")


def _best_model(job, scratch):
    """Evaluate the submitted checkpoint in this (trusted) process with the safe loader."""
    if job["assignment"] not in BEST_MODEL:
        return {}
    grade_id, check = BEST_MODEL[job["assignment"]]
    name = job["best_model_file"]
    content = job["side_files"].get(name)
    if content is None:
        return {grade_id: _not_graded(grade_id, f"{name} was not submitted with the notebook")}
    if len(content) > MAX_SIDE_FILE_BYTES:
        return {grade_id: _not_graded(grade_id, f"{name} is larger than {MAX_SIDE_FILE_BYTES // 2**20} MB")}
    path = scratch / name
    path.write_bytes(content)
    return {grade_id: check(path)}


def _read_json(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
