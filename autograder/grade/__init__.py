"""Batch grading: `python -m autograder grade ASSIGNMENT SUBMISSIONS --out DIR`.

intake (with each submission's arrival time) -> Dask (a LocalCluster sized to the machine, or an existing
cluster) -> the canary (every worker checked: same kit and course settings, a sandbox that isolates; then the
reference solution graded first on each; autograder.grade.canary) -> one job per submission -> sandboxed run +
judging on the workers (autograder.grade.task) -> results/<student>.json (autograder.grade.results) -> lateness
under the course calendar (autograder.term.calendar) and a `missing` row for each student of the roster without a
submission -> grades.csv, feedback/<student>.html, summary.html -> the
nbgrader gradebook (late penalties included).
Every submission found gets a row; a grader failure on one becomes that row's status (`grader-error`, its parts
not graded), never a lost row and never a zero: such rows are left out of the gradebook until regraded. A worker
lost in the middle of a batch loses nothing: Dask runs its jobs again on the others.
Without a working sandbox nothing is graded (sandbox.SandboxUnavailable), unless `allow_unsandboxed`.
"""
import contextlib
import datetime as dt
import importlib
import json
import os
import sys
import tempfile
import zipfile
from pathlib import Path

import dask
from dask.distributed import Client, LocalCluster, as_completed
from nbgrader.utils import is_grade
from tqdm.auto import tqdm

from autograder import autograded
from autograder import registry
from autograder.course_dir import COURSE_ROOT
from autograder.grade import canary, fingerprint, intake, reports, sandbox
from autograder.grade.results import Job, JobTemplate, Result
from autograder.grade.sandbox import Limits
from autograder.grade.task import clock, grade_submission, worker_report
from autograder.harness.i18n import _
from autograder.gradebook import ensure_assignment, record_results
from autograder.notebooks import answer_cells, grade_id, read_notebook, setup_cell
from autograder.term import calendar


def job_template(assignment, course_dir=COURSE_ROOT, warm=True, allow_unsandboxed=False):
    """What every job of this assignment needs, read from the manifest (the autograded parts, their points and
    budgets) and the source notebook (its set-up cell, answer cells and written questions), with this kit's and
    course's fingerprint. `warm=False` runs its submissions in cold sandboxes only."""
    found = registry.assignment(assignment, course_dir)
    if not found.graded:
        raise intake.IntakeError(f"{assignment} is not graded (graded = false in assignments/{assignment}/"
                                 "manifest.toml): there is nothing to grade")
    source = read_notebook(Path(course_dir) / "source" / assignment / found.notebook)
    written = [c for c in source.cells if is_grade(c) and c.cell_type != "code"]
    return JobTemplate(assignment=assignment, title=found.title, notebook_file=found.notebook,
                       setup=setup_cell(source, found.notebook).source, answer_cells=answer_cells(source),
                       points=found.points,
                       manual_parts={grade_id(c): c.metadata["nbgrader"]["points"] for c in written},
                       side_file_names=found.side_files, limits=Limits.from_manifest(found.manifest),
                       course_root=str(found.course_root), warm=warm, allow_unsandboxed=allow_unsandboxed,
                       fingerprint=fingerprint.of(found))


class MissingRequirement(FileNotFoundError):
    """The grading machine lacks what the course's settings need for this assignment (data, weights)."""


def check_requirements(assignment, course_dir=COURSE_ROOT):
    """Run the manifest's `requirements` check (a 'module:function' raising FileNotFoundError with what is missing and
    how to get it), so that a batch is refused up front rather than graded on a machine that cannot run it."""
    check = registry.assignment(assignment, course_dir).manifest.requirements
    if not check:
        return
    module, function = check.split(":")
    try:
        getattr(importlib.import_module(module), function)()
    except FileNotFoundError as missing:
        raise MissingRequirement(f"this machine cannot run {assignment} as the course has set it up: {missing}") \
            from None


def plan_job(template, sub, seed=None):
    """The Job of one submission: the template plus the student's notebook and side files, read now (their
    declared sizes checked against the manifest's budgets first; an oversized notebook makes a `too-large` row)."""
    limits, notebook, side_files, problem, notes = template.limits, None, {}, sub.problem, list(sub.notes)
    if problem is None:
        try:
            notebook = sub.notebook.read(limits.notebook_mb * 2**20)
            notes += filter(None, [sub.notebook.changed_note(notebook)])
        except intake.TooLarge as error:
            problem = ("too-large", str(error))
        except (OSError, zipfile.BadZipFile) as error:
            problem = ("invalid-notebook", _("{notebook} could not be read ({error})").format(
                notebook=sub.notebook_name, error=error))
    for name in template.side_file_names:
        file = sub.side_files.get(name)
        if file is None or problem is not None:  # a submission with a problem is not graded
            continue
        try:
            side_files[name] = file.read(limits.side_file_mb * 2**20)
            notes += filter(None, [file.changed_note(side_files[name])])
        except (intake.TooLarge, OSError, zipfile.BadZipFile) as error:
            side_files[name] = {"refused": str(error)}
    return Job(template, sub.student_id, notebook, sub.notebook_name, side_files, problem, notes, seed)


def grade_batch(assignment, submissions, out, course_dir=COURSE_ROOT, student=None, scheduler=None, workers=None,
                show_progress=True, record=True, window=None, warm=True, canary=True, allow_unsandboxed=False):
    """Grade every submission (or only `student`) and write the reports; returns the Results, by student id.

    Without a working sandbox on this machine (a local cluster) the batch is refused (sandbox.SandboxUnavailable,
    naming the mechanism that failed and its fix) unless `allow_unsandboxed`. With `canary`, every Dask worker is
    checked first (canary.WorkersRefused: another kit or course settings, no sandbox, a sandbox that leaks), then
    the reference solution is graded on each, through the same path, and the batch is refused
    (canary.CanaryFailed, nothing graded or written but DIR/canary.json) unless it gets every autograded point. A
    machine without what the course's settings need is refused first (MissingRequirement), and so is a course
    calendar, extensions file or roster that cannot be read (calendar.CalendarError, RosterError).
    Late work is charged by the calendar's policy from the time each submission reached the course.
    At most `window` submissions (default: twice the worker threads) are read into memory and in
    flight at once, so the grader's memory does not grow with the size of the class. `warm=False` runs every
    submission in a cold sandbox (a fresh interpreter) even where warm ones work. Rows whose status is
    `grader-error` are not recorded in the gradebook (their earlier grades, if any, stay).
    """
    out, batch = Path(out), dict[str, float]()
    registry.bind_course(course_dir)  # the harness files its sandboxes mount are this course's
    template = job_template(assignment, course_dir, warm, allow_unsandboxed)
    if scheduler is None and sandbox.problem() and not allow_unsandboxed:
        raise sandbox.SandboxUnavailable(sandbox.problem())
    check_requirements(assignment, course_dir)
    term = calendar.load(course_dir)
    roster = term.students if term else None
    with clock(batch, "intake"):
        subs = intake.collect(submissions, assignment, template.notebook_file, term.zone if term else None)
    if roster is not None and show_progress:
        strangers = [sub.student_id for sub in subs if sub.student_id not in roster]
        if strangers:
            print(f"warning: not on the roster: {', '.join(strangers[:20])}"
                  f"{', ...' if len(strangers) > 20 else ''}", file=sys.stderr)
    if student is not None:
        subs = [s for s in subs if s.student_id == student]
        if not subs:
            raise intake.IntakeError(f"no submission from {student!r} in {submissions}")
    results_dir = out / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    arrivals = {sub.student_id: sub for sub in subs}
    with clock(batch, "cluster"), _client(scheduler, workers) as client:
        threads = sum(client.nthreads().values())
        if canary:
            with clock(batch, "canary"):
                _canary(client, template, course_dir, out, show_progress)
        with clock(batch, "grading"):
            for result in _dispatch(client, template, subs, window or 2 * threads, show_progress):
                sub = arrivals[result.student_id]
                result.arrived = sub.arrived.isoformat() if sub.arrived else None
                result.arrived_from = sub.arrived_from or None
                (results_dir / f"{result.student_id}.json").write_text(json.dumps(result.to_json(), indent=1))
    # Re-runs (e.g. --student) rewrite the reports from every result kept in DIR/results, with the calendar (and its
    # extensions) as they are now.
    with clock(batch, "reports"):
        results = class_results(template, out, term)
        reports.write_grades_csv(results, out / "grades.csv")
        for result in results:
            if result.status != "missing":
                reports.write_feedback(result, out / "feedback" / f"{result.student_id}.html", template.title)
        reports.write_summary(results, out, template.title)
    if record:  # as `nbgrader autograde` would: this run's submissions into autograded/ and the gradebook
        with clock(batch, "gradebook"):
            release = read_notebook(ensure_assignment(course_dir, assignment, template.notebook_file))
            now = [r for r in results if r.student_id in arrivals and r.status != "grader-error"]
            submitted = {r.student_id: autograded.write_one(course_dir, template, release, arrivals[r.student_id], r)
                         for r in now}
            record_results(course_dir, assignment, template.notebook_file, now, submitted, term)
    reports.write_profile(out / "profile.json", batch, [r for r in results if r.student_id in arrivals], threads)
    return results


def _assess(result, template, term):
    """Set `result.late`: its lateness under `term` (a calendar.Term), or None (no calendar: nothing is late)."""
    arrived = dt.datetime.fromisoformat(result.arrived) if result.arrived else None
    result.late = term.lateness(result.student_id, template.assignment, arrived) if term else None


def class_results(template, out, term=None):
    """Every Result kept in DIR/results (sorted by student id), each assessed for lateness under `term` (a
    calendar.Term, or None: nothing is late), with a `missing` row for each student of its roster without one."""
    results = [Result.from_json(json.loads(p.read_text())) for p in (Path(out) / "results").glob("*.json")]
    for result in results:
        _assess(result, template, term)
    found = {result.student_id for result in results}
    roster = (term.students if term else None) or {}
    results += [Result.missing(template, student) for student in roster if student not in found]
    return sorted(results, key=lambda r: r.student_id)


def _canary(client, template, course_dir, out, show_progress):
    """Check every worker of `client` (canary.WorkersRefused), then grade the reference solution on each; raise
    canary.CanaryFailed unless each run gets every autograded point. The workers' reports and the results go to
    DIR/canary.json, never to the batch's reports."""
    workers = sorted(client.scheduler_info()["workers"])
    looks = {worker: client.submit(worker_report, template, workers=[worker], allow_other_workers=False, pure=False)
             for worker in workers}
    seen = {}
    for worker, look in looks.items():
        try:
            seen[worker] = look.result()
        except Exception as error:  # noqa: BLE001 - a worker that cannot say what it grades with is refused
            seen[worker] = {"error": f"{type(error).__name__}: {error}"}
    (Path(out) / "canary.json").write_text(json.dumps({"workers": seen}, indent=1))
    canary.check_workers(template.assignment, seen, template.fingerprint, template.allow_unsandboxed)
    if not (Path(course_dir) / "release" / template.assignment / template.notebook_file).is_file():
        ensure_assignment(course_dir, template.assignment, template.notebook_file)  # the reference is built on it
    with tempfile.TemporaryDirectory(prefix="course-kit-canary-") as folder:
        job = plan_job(template, canary.canary_submission(course_dir, template, folder))
    futures = {worker: client.submit(grade_submission, job, workers=[worker], allow_other_workers=False, pure=False)
               for worker in workers}
    results = {}
    for worker, future in futures.items():
        try:
            results[worker] = future.result()
        except Exception as error:  # noqa: BLE001 - a worker that cannot grade fails the canary, with the cause
            results[worker] = Result.grader_error(template, job.student_id, job.notes, error)
    (Path(out) / "canary.json").write_text(json.dumps(
        {"workers": seen, "results": {worker: result.to_json() for worker, result in results.items()}}, indent=1))
    canary.check(template.assignment, results)
    if show_progress:
        seconds = max(result.seconds for result in results.values())
        print(f"Canary: the reference solution got every autograded point on {len(results)} worker"
              f"{'s' if len(results) > 1 else ''} ({seconds:.1f} s), each with the client's kit and course "
              f"settings ({template.fingerprint['kit']}, course {template.fingerprint['course']})")
        for isolation in sorted({look["isolation"] for look in seen.values()}):
            leaks = sorted({fault for look in seen.values() if look["isolation"] == isolation
                            for fault in look["faults"]})
            print(f"Canary: isolation {isolation}: " + (f"checked from the inside, it {'; '.join(leaks)}" if leaks
                                                        else "checked from the inside"))


@contextlib.contextmanager
def _client(scheduler, workers):
    """A Dask client: of the cluster at `scheduler`, or of a LocalCluster of `workers` threads (default: one per
    core) for the duration."""
    # Dask keeps its last 1000 task messages, arguments included, for debugging: each job carries a notebook and a
    # checkpoint, so that log alone would hold a whole class's files in memory. (Set it on remote workers too.)
    with dask.config.set({"distributed.admin.low-level-log-length": 0}):
        if scheduler:
            client, cluster = Client(scheduler), None
        else:
            # Threads suffice: student code runs in sandbox subprocesses, and judging releases the GIL in torch.
            cluster = LocalCluster(n_workers=1, threads_per_worker=workers or os.cpu_count(),
                                   processes=False, dashboard_address=":0")
            client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


def _dispatch(client, template, subs, window, show_progress):
    """Read and submit each submission's job once fewer than `window` are in flight; yield results as they finish."""
    if not subs:
        return
    in_flight = as_completed()
    planned: dict[str, tuple[str, list[str]]] = {}
    bar = tqdm(total=len(subs), desc="grading", unit="submission", disable=not show_progress)
    for sub in subs:
        while in_flight.count() >= window:
            yield _result(next(in_flight), planned, template)
            bar.update()
        try:
            job = plan_job(template, sub)
        except Exception as error:  # noqa: BLE001 - one unreadable submission must not lose the batch
            yield Result.grader_error(template, sub.student_id, sub.notes, error)
            bar.update()
            continue
        future = client.submit(grade_submission, job, pure=False)
        planned[future.key] = (job.student_id, job.notes)  # not the job: its files would stay in memory
        in_flight.add(future)
    for future in in_flight:
        yield _result(future, planned, template)
        bar.update()
    bar.close()


def _result(future, planned, template):
    """A finished future's Result (and its memory released); a grader failure becomes that student's row."""
    student_id, notes = planned.pop(future.key)
    try:
        return future.result()
    except Exception as error:  # noqa: BLE001 - one failure must not lose the batch
        return Result.grader_error(template, student_id, notes, error)
    finally:
        future.release()
