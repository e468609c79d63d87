"""Grading on workers that share nothing with the client: a Dask scheduler and workers started each from its own
copy of the kit, at its own path, with its own home and temporary folder, and unable to see the client's folder
(course, submissions, reports: hidden by a mount namespace of its own). Every file a job needs travels with it.

- A mixed batch (the reference, a blank notebook, catalogued mistakes, correct styles, hostile cases) graded
  through `--scheduler` gets the grades a local run gives, while one worker is killed (SIGKILL) in the middle: its
  submissions are graded on the other, and every student appears exactly once in grades.csv.
- The canary refuses, before grading, a worker whose kit or course settings differ from the client's.
"""
import concurrent.futures
import contextlib
import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time

import nbformat
import pytest

from autograder.course_dir import generate_release
from autograder.grade import grade_batch
from autograder.grade.canary import WorkersRefused
from autograder.hostile import HANG
from autograder.notebooks import submission
from autograder.styles import combine, style_notebook
from assignments.two_layer_net.mistakes import MUTANTS
from assignments.two_layer_net.styles import STYLES
from test_grader_trust import kit_copy, write_reference

pytestmark = [pytest.mark.xdist_group("reference_model"), pytest.mark.slow]
ASSIGNMENT = "two_layer_net"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def cluster(kits, hidden):
    """A scheduler on loopback and one worker per kit folder in `kits`, each run from its own kit with its own
    home and temporary folder, and with `hidden` (the client's folder) covered by an empty one; yields (address,
    {kit: worker process})."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                  "--port", str(port), "--no-dashboard"], stderr=subprocess.DEVNULL)
    workers = {}
    for kit in kits:
        own = {"home": kit.parent / f"{kit.name}-home", "tmp": kit.parent / f"{kit.name}-tmp"}
        for folder in own.values():
            folder.mkdir()
        env = {"PATH": os.environ["PATH"], "HOME": str(own["home"]), "TMPDIR": str(own["tmp"]),
               "PYTHONPATH": str(kit), "DASK_DISTRIBUTED__ADMIN__LOW_LEVEL_LOG_LENGTH": "0"}
        workers[kit] = subprocess.Popen(
            ["bwrap", "--dev-bind", "/", "/", "--tmpfs", str(hidden), "--die-with-parent", "--",
             str(kit / ".venv" / "bin" / "python"), "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
             "--no-nanny", "--no-dashboard", "--name", kit.name, "--local-directory", str(own["tmp"])],
            cwd=kit, env=env, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        from dask.distributed import Client
        with Client(address, timeout=60) as client:
            client.wait_for_workers(len(kits), timeout=120)
        yield address, workers
    finally:
        for process in workers.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # the worker, and its sandboxes
        scheduler.terminate()
        for process in [*workers.values(), scheduler]:
            process.wait(timeout=30)


@pytest.fixture(scope="module")
def client_side(tmp_path_factory, reference_model, source_nb, release_nb, answers):
    """The client's folder: the instructor's copy of the kit, which is the course, released, and a mixed batch of
    submissions."""
    client = tmp_path_factory.mktemp("client")
    course = kit_copy(client / "course")
    generate_release(ASSIGNMENT, course)
    folder = write_reference(client / "submissions", ASSIGNMENT, "alice", course)
    notebooks = {"blank": release_nb, "hangs": submission(release_nb, source_nb, {
        "nn_forward_pass": "def nn_forward_pass(params, X):" + HANG})}
    notebooks.update({f"mistake-{m.name}": submission(release_nb, source_nb, m.applied_to(answers))
                      for m in MUTANTS[:3]})
    notebooks.update({f"style-{i}": style_notebook(release_nb, source_nb, answers, group)
                      for i, group in enumerate(combine(STYLES)[:2])})
    for student, notebook in notebooks.items():
        nbformat.write(notebook, folder / f"{student}.ipynb")
    (folder / "corrupt.ipynb").write_text("{ this is not a notebook")
    return client, course, folder


def kits(base, names):
    base.mkdir()
    return [kit_copy(base / name) for name in names]


def by_student(results):
    return {r.student_id: (r.status, {p: v.score for p, v in r.parts.items()}) for r in results}


def test_workers_that_share_nothing_grade_as_a_local_run_and_a_killed_worker_loses_nothing(client_side,
                                                                                            tmp_path):
    client, course, folder = client_side
    local = grade_batch(ASSIGNMENT, folder, client / "local", course_dir=course, workers=2, show_progress=False,
                        record=False)
    worker_a, worker_b = kits(tmp_path / "elsewhere", ["worker a", "worker-b"])
    out = client / "remote"
    with cluster([worker_a, worker_b], hidden=client) as (address, workers):
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            grading = pool.submit(grade_batch, ASSIGNMENT, folder, out, course_dir=course, scheduler=address,
                                  show_progress=False, record=False)
            while len(list((out / "results").glob("*.json"))) < 2 and not grading.done():
                time.sleep(0.2)
            os.killpg(workers[worker_a].pid, signal.SIGKILL)  # in the middle of the batch
            graded_before = len(list((out / "results").glob("*.json")))
            graded = {"results": grading.result(timeout=600)}
    assert graded_before < len(local), "the worker was killed after the batch was graded"
    looks = json.loads((out / "canary.json").read_text())["workers"]
    assert sorted(look["kit"] for look in looks.values()) == sorted(map(str, [worker_a, worker_b]))
    assert all(look["course"] in map(str, [worker_a, worker_b]) and not look["faults"] for look in looks.values())
    assert by_student(graded["results"]) == by_student(local)
    with open(out / "grades.csv") as f:
        students = [row["student_id"] for row in csv.DictReader(f)]
    assert sorted(students) == sorted(set(students)) == sorted(r.student_id for r in local)
    statuses = {r.student_id: r.status for r in graded["results"]}
    assert statuses["alice"] == "ok" and statuses["corrupt"] == "invalid-notebook" and statuses["hangs"] == "timeout"
    assert "grader-error" not in statuses.values()


def test_the_canary_refuses_workers_whose_kit_or_course_settings_differ(client_side, tmp_path):
    client, course, folder = client_side
    same, other_kit, other_course = kits(tmp_path / "elsewhere", ["same", "other-kit", "other-course"])
    judging = other_kit / "autograder" / "judging.py"
    judging.write_text(judging.read_text() + "\n# a patched grader\n")
    manifest = other_course / "assignments" / ASSIGNMENT / "manifest.toml"
    manifest.write_text(manifest.read_text().replace("cell_seconds = 30", "cell_seconds = 45"))
    out = client / "refused"
    with cluster([same, other_kit, other_course], hidden=client) as (address, _):
        with pytest.raises(WorkersRefused) as refused:
            grade_batch(ASSIGNMENT, folder, out, course_dir=course, scheduler=address, show_progress=False,
                        record=False)
    looks = json.loads((out / "canary.json").read_text())["workers"]
    names = {look["kit"]: worker for worker, look in looks.items()}
    assert set(refused.value.reasons) == {names[str(other_kit)], names[str(other_course)]}
    assert "its kit is" in " ".join(refused.value.reasons[names[str(other_kit)]])
    assert "its course is" in " ".join(refused.value.reasons[names[str(other_course)]])
    assert not list(out.glob("results/*.json"))
