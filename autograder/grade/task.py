"""Grading one submission: draw hidden cases, run the student's code in the sandbox, judge the plain
outputs here (a process that never runs student code), and grade the submitted files (a best model).

A failure the student's code did not cause (the sandbox dying before any student code ran, outputs the harness
could not record, a best model that cannot be evaluated because the data set is missing) is the grader's: that part
is not graded (score None, its cause kept) and the row's status is `grader-error`, never a zero with a diagnosis
meant for the student.

`grade_submission` takes a Job and returns a Result (plain dataclasses), so it can run on any Dask worker that has
the kit.
"""
import contextlib
import json
import os
import signal
import socket
import time
from pathlib import Path

import torch

from autograder import registry
from autograder.hidden import not_defined
from autograder.judging import Report, new_rng
from autograder.grade import cells, fingerprint, sandbox
from autograder.grade.results import Job, JobTemplate, PartResult, Result
from autograder.harness import transport
from autograder.harness.i18n import _
from autograder.notebooks import MAGIC, NotebookError, notebook_from_bytes


def timed_out(seconds):
    """Why a step stopped at its time budget of `seconds`, said of the code that ran in it."""
    return _("did not return within {seconds} s, its time budget: it was stopped").format(seconds=f"{seconds:g}")


def graded_assignment(template: JobTemplate) -> registry.Assignment:
    """The assignment a job grades, from its course's own folder (`template.course_root`); a worker that does not
    share that folder grades with its own kit's copy of the course (the canary checks that it grades alike)."""
    root = Path(template.course_root)
    return registry.assignment(template.assignment, root if (root / "assignments").is_dir() else registry.COURSE_ROOT)


def grade_submission(job: Job) -> Result:
    """Grade one submission described by `job` (see autograder.grade.plan_job). A worker whose kit or course
    settings differ from the client's refuses it (fingerprint.WorkerMismatch), and so does one without a sandbox
    unless the batch allows it (sandbox.SandboxUnavailable): the row becomes a `grader-error`."""
    start = time.perf_counter()
    # Jobs run side by side, one per Dask thread (one per core): each judges on its own core.
    torch.set_num_threads(1)
    template, notes, sandboxed = job.template, list(job.notes), {}
    check_worker(template)
    reports, faults, problem = {}, {}, job.problem
    stages: dict[str, float] = {}
    if problem is None:
        try:
            with clock(stages, "read"):
                nb = notebook_from_bytes(job.notebook, job.notebook_name)
                code_cells, cell_notes = cells.plan(nb, template.answer_cells)
            notes += cell_notes
        except NotebookError as error:
            problem = ("invalid-notebook", str(error))
    if problem is None:
        with sandbox.lease(template.limits, f"grade-{job.student_id}-", template.warm,
                           template.allow_unsandboxed) as box:
            reports, faults, incidents, sandboxed["part_seconds"], sandboxed["step_seconds"] = _run_code_parts(
                job, code_cells, box, stages)
            with clock(stages, "best_model"):
                _file_parts(job, box.job_dir, reports, faults)
            sandboxed["sandbox"] = box.describe()
        sandboxed["stage_seconds"] = stages
        notes += [note for cell in code_cells for note in cell.notes]
        if incidents:
            problem = (incidents[0][0], _("; ").join(text for _status, text in incidents))
    if problem is None and any("MemoryError" in d or "can't allocate memory" in d
                               for r in reports.values() for d in r.diagnoses):
        problem = ("memory-limit", _("ran out of its {megabytes} MB of memory in a part; that part scores zero, the "
                                     "others are graded").format(megabytes=template.limits.memory_mb))
    if faults:
        causes = _("; ").join(f"{grade_id} {cause}" for grade_id, cause in faults.items())
        problem = ("grader-error", _("not graded because the grader failed, not the student's code: {causes}").format(
            causes=causes) + (_(" (also: {problem})").format(problem=problem[1]) if problem else ""))
    status, message = problem or ("ok", "")
    parts = {grade_id: PartResult.grader_failed(points, faults[grade_id]) if grade_id in faults else
             PartResult.from_report(reports.get(grade_id) or _not_graded(grade_id, message or _("not graded")),
                                    points)
             for grade_id, points in template.points.items()}
    return Result(job.student_id, status, message, parts, dict(template.manual_parts), notes,
                  sandbox.isolation(template.warm), seconds=round(time.perf_counter() - start, 3),
                  worker=f"{socket.gethostname()}:{os.getpid()}", **sandboxed)


def check_worker(template: JobTemplate) -> None:
    """Raise fingerprint.WorkerMismatch when this worker's kit or course settings differ from the client's."""
    if not template.fingerprint:
        return
    mine = fingerprint.of(graded_assignment(template))
    differ = [f"{what} {mine[what]} (the client's: {template.fingerprint.get(what)})" for what in sorted(mine)
              if mine[what] != template.fingerprint.get(what)]
    if differ:
        raise fingerprint.WorkerMismatch(f"worker {socket.gethostname()}:{os.getpid()} grades with another "
                                         f"{' and another '.join(differ)}: start it from the same kit and course "
                                         "as the client")


def worker_report(template: JobTemplate) -> dict:
    """What this worker would grade with, for the canary's first look before any grading: its kit and course
    settings, its isolation, why it has no sandbox (if so) and what a sandbox lacks, checked from the inside."""
    assignment = graded_assignment(template)
    problem = sandbox.problem()
    root = assignment.course_root
    hidden = [path for path in (root / "source", root / "assignments", root / "submitted", root / "autograded",
                                root / "gradebook.db") if path.exists()]
    return {"worker": f"{socket.gethostname()}:{os.getpid()}", "kit": str(registry.COURSE_ROOT),
            "course": str(root), "fingerprint": fingerprint.of(assignment),
            "isolation": sandbox.isolation(template.warm), "problem": str(problem) if problem else None,
            "faults": sandbox.isolation_faults(template.limits, hidden)}


def _not_graded(grade_id, why):
    report = Report(grade_id, 0)
    report.add(_("graded"), 1.0, False, _("not graded: {why}").format(why=why))
    return report


@contextlib.contextmanager
def clock(stages, stage):
    """Add the seconds the block takes to `stages[stage]`."""
    start = time.perf_counter()
    try:
        yield
    finally:
        stages[stage] = round(stages.get(stage, 0.0) + time.perf_counter() - start, 4)


def _run_code_parts(job, code_cells, box, stages):
    """Sandboxed runs of every code part; returns ({grade_id: Report}, {grade_id: why the grader could not grade it},
    [(status, message)] of what went wrong, {grade_id: seconds the part ran}, {step kind ("start", "setup", "cell",
    "part"): seconds in all}).

    A part that hangs past its budget or brings the sandbox down scores zero with the reason, and the parts after
    it run in a fresh sandbox; a cell that does so is run with less of it (cells.Cell.degrade). Each rerun drops
    at least one part or degrades one cell, and `wall_seconds` caps them all. A sandbox that fails before any
    student code ran (while starting, or in the trusted set-up cell), and parts whose outputs the harness could not
    record, are the grader's failures.
    """
    parts = {part.grade_id: part for part in graded_assignment(job.template).code_parts}
    limits, drawn, scratch = job.template.limits, {}, box.job_dir
    (scratch / "cases").mkdir()
    with clock(stages, "draw"):
        for grade_id, part in parts.items():
            rng, seed = new_rng(job.seed)
            drawn[grade_id] = (part.draw(rng), seed)
            transport.save(drawn[grade_id][0], scratch / "cases" / f"{grade_id}.safetensors")
    pending, reports, faults, incidents, seconds = list(parts), {}, {}, [], {}
    steps: dict[str, float] = {}
    began = time.perf_counter()
    while pending:
        left = limits.wall_seconds - (time.perf_counter() - began)
        if left < 1:
            incidents.append(("timeout", _("used up its {seconds} s of wall time before {parts} could run").format(
                seconds=f"{limits.wall_seconds:g}", parts=", ".join(pending))))
            break
        with clock(stages, "sandbox"):
            outcome, cell_errors = _sandbox_run(job, code_cells, [parts[g] for g in pending], box, left)
        seconds.update({step_id: took for kind, step_id, took in outcome.steps
                        if kind == "part" and step_id in parts and took is not None})
        for kind, _step_id, took in outcome.steps:
            steps[kind] = round(steps.get(kind, 0.0) + (took or 0.0), 4)
        for grade_id in list(pending):
            if (scratch / "outputs" / f"{grade_id}.safetensors").is_file():
                pending.remove(grade_id)
                with clock(stages, "judge"):
                    reports[grade_id], incident = _judge(parts[grade_id], drawn[grade_id], scratch, cell_errors, job,
                                                         code_cells)
                incidents += [incident] if incident else []
            elif (scratch / "outputs" / f"{grade_id}.grader-error").is_file():
                pending.remove(grade_id)
                faults[grade_id] = sandbox.read_regular(scratch / "outputs" / f"{grade_id}.grader-error",
                                                        2000).decode("utf-8", "replace")
        if outcome.complete:
            faults.update({grade_id: _("was not recorded by the harness, which finished without an error")
                           for grade_id in pending})
            break
        status, why = _failure(outcome, limits, left)
        kind, step_id = outcome.step
        cell = next((c for c in code_cells if c.id == step_id), None)
        if kind in ("start", "setup"):  # no student code has run yet
            cause = (_("could not run: the sandbox {why} while starting") if kind == "start" else
                     _("could not run: the sandbox {why} in the set-up cell")).format(why=why)
            faults.update({grade_id: cause + _last_line(outcome.stderr) for grade_id in pending})
            break
        if kind == "part" and step_id in pending:
            pending.remove(step_id)
            reports[step_id] = _not_graded(step_id, f"{', '.join(parts[step_id].names)} {why}")
            incidents.append((status, _("{part} {why} and scores zero; the parts after it ran in a fresh "
                                        "sandbox").format(part=step_id, why=why)))
        elif kind == "cell" and cell is not None and cell.degrade(why):
            if not cell.added:
                incidents.append((status, f"{cell.label} {why}"))
        else:
            incidents.append((status, _("the sandbox {why} before {parts} could run").format(
                why=why, parts=", ".join(pending))))
            break
    return reports, faults, incidents, seconds, steps


def _last_line(stderr):
    """': <the last line the sandbox wrote to stderr>', or '' when it wrote nothing."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return f": {lines[-1][:300]}" if lines else ""


def _sandbox_run(job, code_cells, parts, box, wall_left):
    """One sandbox run of `parts` after the submission's cells; returns (Outcome, {cell id: error})."""
    scratch = box.job_dir
    template = job.template
    harness_job = {"assignment": template.assignment, "setup": MAGIC.sub("", template.setup),
                   "cells": [{"id": c.id, "chunks": c.chunks} for c in code_cells if c.chunks],
                   "parts": [{"grade_id": p.grade_id, "names": list(p.names), "run": p.run.__name__,
                              "seconds": template.limits.part_budget(p.grade_id)} for p in parts]}
    (scratch / "job.json").write_text(json.dumps(harness_job))
    for stale in ("progress", "cell_errors.json"):
        (scratch / "outputs" / stale).unlink(missing_ok=True)
    outcome = box.run(template.limits, wall_left)
    cell_errors = _read_json(scratch / "outputs" / "cell_errors.json")
    cell_errors = cell_errors if isinstance(cell_errors, dict) else {}
    for cell in code_cells:
        note = _("{cell}: a definition {error}; it was left out").format(cell=cell.id, error=cell_errors.get(cell.id))
        if cell.added and isinstance(cell_errors.get(cell.id), str) and note not in cell.notes:
            cell.notes.append(note)
    return outcome, cell_errors


def _judge(part, drawn, scratch, cell_errors, job, code_cells):
    """The part's Report from its outputs, and (status, message) when it was stopped at its time budget."""
    cases, seed = drawn
    try:
        outputs = transport.load(scratch / "outputs" / f"{part.grade_id}.safetensors")
        if "missing" in outputs:
            why = _cell_error(outputs["missing"], cell_errors, job.template.answer_cells, code_cells)
            return not_defined(part, outputs["missing"], seed, why), None
        if "timed_out" in outputs:
            why = timed_out(job.template.limits.part_budget(part.grade_id))
            return (_not_graded(part.grade_id, f"{', '.join(part.names)} {why}"),
                    ("timeout", _("{part} {why} and scores zero").format(part=part.grade_id, why=why)))
        if "harness_error" in outputs:
            return _not_graded(part.grade_id, _("the code {error}").format(error=outputs["harness_error"])), None
        return part.judge(cases, outputs, seed), None
    except Exception as error:  # noqa: BLE001 - malformed or forged outputs earn nothing
        return _not_graded(part.grade_id, _("its outputs could not be judged ({error})").format(error=error)), None


def _cell_error(missing, cell_errors, answer_cells, code_cells):
    """Why a missing name is missing, when its answer cell failed to run or was left out; else None."""
    for name in missing:
        cell_id = next((cell for cell, names in answer_cells.items() if name in names), None)
        cell = next((c for c in code_cells if c.id == cell_id), None)
        if cell is not None and cell.mode != cells.FULL:
            return cell.notes[-1]
        if cell_id in cell_errors:
            return _("the answer cell {cell} {error}").format(cell=cell_id, error=cell_errors[cell_id])
    return None


def _failure(outcome, limits, wall_left):
    """(status, why) for a sandbox run that did not complete, said of the step it stopped in."""
    if outcome.timed_out and outcome.seconds >= wall_left:
        return "timeout", _("was stopped when the submission's {seconds} s of wall time ran out").format(
            seconds=f"{limits.wall_seconds:g}")
    if outcome.timed_out:
        kind, step_id = outcome.step
        return "timeout", timed_out(limits.part_budget(step_id) if kind == "part" else outcome.budget)
    text = outcome.stderr
    if "MemoryError" in text or "can't allocate memory" in text or "Cannot allocate memory" in text:
        return "memory-limit", _("ran out of its {megabytes} MB of memory").format(megabytes=limits.memory_mb)
    signal_number = outcome.signal
    if signal_number == signal.SIGXCPU:
        return "timeout", _("used up its {seconds} s of CPU time").format(seconds=limits.cpu_seconds)
    if signal_number is not None:
        return "crashed", _("killed the interpreter ({signal})").format(signal=signal.Signals(signal_number).name)
    return "crashed", _("stopped the interpreter (exit code {code})").format(code=outcome.returncode)


def _file_parts(job, scratch, reports, faults):
    """Grade each submitted file (e.g. a best-model checkpoint) in this (trusted) process, into `reports`. Each
    file part's check reads its file with a safe loader, which checks the sizes the file declares before it
    inflates anything, and turns any fault of the file into a diagnosis itself: an error it raises is the grader's
    (e.g. the data set to evaluate on is missing), into `faults`."""
    for part in graded_assignment(job.template).file_parts:
        grade_id, name = part.grade_id, part.file
        content = job.side_files.get(name)
        if content is None:
            reports[grade_id] = _not_graded(grade_id, _("{file} was not submitted with the notebook").format(file=name))
        elif isinstance(content, dict):  # refused at intake: too large, or unreadable
            reports[grade_id] = _not_graded(grade_id, content["refused"])
        else:
            path = scratch / name
            path.write_bytes(content)
            try:
                reports[grade_id] = part.check(path, max_bytes=job.template.limits.side_file_mb * 2**20)
            except Exception as error:  # noqa: BLE001 - the grader's failure: this part is not graded
                faults[grade_id] = _("could not be evaluated ({error})").format(
                    error=f"{type(error).__name__}: {error}")


def _read_json(path):
    try:
        return json.loads(sandbox.read_regular(path, 2**20))
    except ValueError:
        return {}
