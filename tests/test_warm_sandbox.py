"""Warm sandboxes: submissions graded one after the other in the same warm sandbox share nothing.

Two intruders, graded on the same worker (one grading thread, so one warm sandbox) with honest submissions
between them, each look for the other's traces when their answer cell runs, then leave everything they can
behind: files in /tmp, /dev/shm, the spool of job folders and their job folder, a System V shared-memory
segment, and a process that outlives them, listening on an abstract socket, killing every process that appears
after it and overwriting every job's outputs it can see. Each intruder's `nn_forward_pass` fails if it found any
trace of the other, `nn_forward_backward` fails if it holds any capability or can mount, and `nn_predict`
reports the traces it can see of itself (proof that the attack ran and that the search would find them).
"""
import shutil

import nbformat
import pytest

from autograder.course_dir import generate_release, scratch_course
from autograder.grade import grade_batch
from autograder.grade import sandbox
from autograder.grade.sandbox import Limits, bubblewrap, warm_sandboxes
from autograder.notebooks import submission

pytestmark = [pytest.mark.xdist_group("reference_model"), pytest.mark.slow]  # sandboxes and notebooks: `make test` only
CHECKPOINT = "best_two_layer_net.pth"
FULL, PREDICT_POINTS = 34.0, 2
INTRUDERS = ("a", "b")

INTRUDER = '''
import ctypes, os, signal, socket, time
from pathlib import Path

ME, OTHER = {me!r}, {other!r}
SHM_KEY = {{"a": 0x5EC1, "b": 0x5EC2}}
FOLDERS = ("/tmp", "/dev/shm", "/dev", "/spool", "/job", "/", "/grader", "/etc")
libc = ctypes.CDLL(None, use_errno=True)


def traces(name):
    """Every trace of intruder `name` visible from here."""
    found = [str(path) for folder in FOLDERS
             for path in Path(folder).glob(f"intruder-{{name}}*")]
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() == f"intruder-{{name}}":
                found.append(f"process {{comm.parent.name}}")
        except OSError:
            pass
    try:
        keys = [line.split()[0] for line in Path("/proc/sysvipc/shm").read_text().splitlines()[1:]]
        found += [f"shm {{key}}" for key in keys if int(key) == SHM_KEY[name]]
    except OSError:
        pass
    probe = socket.socket(socket.AF_UNIX)
    try:
        probe.connect(f"\\0intruder-{{name}}")
        found.append(f"socket intruder-{{name}}")
    except OSError:
        pass
    finally:
        probe.close()
    return found


def privileges():
    """Capabilities this process holds, and whether it can mount."""
    status = dict(line.split(":\\t", 1) for line in Path("/proc/self/status").read_text().splitlines()
                  if ":\\t" in line)
    held = [f"{{key}} {{status[key].strip()}}" for key in ("CapEff", "CapPrm", "CapInh", "CapBnd", "CapAmb")
            if int(status[key], 16)]
    if libc.mount(b"tmpfs", b"/tmp", b"tmpfs", 0, None) == 0:
        held.append("mounted a tmpfs")
    return held


def outlive():
    """A process that outlives this submission: it listens, forges the outputs of every job it can see and
    stops and kills every process that appears after it."""
    if os.fork():
        return
    os.setsid()
    if os.fork():
        os._exit(0)
    libc.prctl(15, f"intruder-{{ME}}".encode(), 0, 0, 0)  # PR_SET_NAME
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(f"\\0intruder-{{ME}}")
    listener.listen()
    mine = {{p.name for p in Path("/proc").glob("[0-9]*")}}
    until = time.monotonic() + 120
    while time.monotonic() < until:
        strangers = [pid for pid in Path("/proc").glob("[0-9]*") if pid.name not in mine]
        outputs = [*Path("/spool").glob("*/outputs/*.safetensors"),
                   *(output for pid in strangers for output in pid.glob("root/job/outputs/*.safetensors"))]
        for output in outputs:
            try:
                output.write_bytes(b"forged")
            except OSError:
                pass
        for pid in strangers:
            for sig in (signal.SIGSTOP, signal.SIGKILL):
                try:
                    os.kill(int(pid.name), sig)
                except OSError:
                    pass
        time.sleep(0.05)


CROSSED = traces(OTHER)
PRIVILEGES = privileges()
for folder in FOLDERS:
    try:
        Path(folder, f"intruder-{{ME}}").write_text(ME)
    except OSError:
        pass
libc.shmget(SHM_KEY[ME], 4096, 0o1666)  # IPC_CREAT | 0666
for pid in (1, -1):
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
outlive()


def nn_forward_pass(params, X):
    if CROSSED:
        raise RuntimeError(f"found the other intruder: {{CROSSED}}")
    hidden = (X @ params["W1"] + params["b1"]).clamp(min=0)
    return hidden @ params["W2"] + params["b2"], hidden
'''

PRIVILEGED_CHECK = '''
_solution_forward_backward = nn_forward_backward


def nn_forward_backward(params, X, y=None, reg=0.0):
    if PRIVILEGES:
        raise RuntimeError(f"privileged: {PRIVILEGES}")
    return _solution_forward_backward(params, X, y, reg)
'''

SELF_CHECK = '''
def nn_predict(params, loss_func, X):
    time.sleep(0.5)  # the process it left behind has started listening by now
    raise RuntimeError(f"traces of myself: {traces(ME)}")
'''

GRAB = '''
import os
from pathlib import Path
Path("/job/stderr.txt").unlink()
os.mkfifo("/job/stderr.txt")
Path("/job/outputs/cell_errors.json").unlink(missing_ok=True)
Path("/job/outputs/cell_errors.json").symlink_to("/dev/zero")
'''


@pytest.fixture(scope="module")
def graded(tmp_path_factory, source_nb, release_nb, answers, reference_model):
    course = scratch_course(tmp_path_factory.mktemp("course"), ["two_layer_net"])
    generate_release("two_layer_net", course)
    folder = tmp_path_factory.mktemp("submissions")

    def add(student, **overrides):
        (folder / f"{student}.ipynb").write_text(nbformat.writes(submission(release_nb, source_nb,
                                                                            {**answers, **overrides})))
        (folder / student).mkdir()
        shutil.copy(reference_model, folder / student / CHECKPOINT)

    for i, me in enumerate(INTRUDERS):
        add(f"{i}-honest")
        add(f"{i}-intruder-{me}", nn_forward_pass=INTRUDER.format(me=me, other=INTRUDERS[1 - i]),
            nn_forward_backward=answers["nn_forward_backward"] + PRIVILEGED_CHECK, nn_predict=SELF_CHECK)
    add("2-honest")
    add("3-leaves-a-fifo-and-a-link", nn_forward_pass=answers["nn_forward_pass"] + GRAB)
    results = grade_batch("two_layer_net", folder, tmp_path_factory.mktemp("out"), course_dir=course, workers=1,
                          show_progress=False, canary=False)
    return {r.student_id: r for r in results}


def diagnoses(result, part):
    return " ".join(result.parts[part].diagnoses)


@pytest.mark.skipif(not bubblewrap(), reason="sandboxes need bubblewrap")
def test_one_warm_sandbox_graded_the_whole_batch_without_a_restart(graded):
    kinds = {(r.sandbox["kind"], r.sandbox.get("sandbox"), r.sandbox.get("start")) for r in graded.values()}
    if warm_sandboxes():
        assert len(kinds) == 1 and next(iter(kinds))[::2] == ("warm", 1), kinds
        assert sorted(r.sandbox["job"] for r in graded.values()) == list(range(1, len(graded) + 1))
    else:
        assert kinds == {("cold", None, None)}


@pytest.mark.skipif(not bubblewrap(), reason="sandboxes need bubblewrap")
@pytest.mark.parametrize("me", INTRUDERS)
def test_an_intruder_finds_nothing_of_the_other_and_holds_no_privilege(graded, me):
    result = graded[f"{INTRUDERS.index(me)}-intruder-{me}"]
    assert result.status == "ok", result.message
    assert result.parts["test_nn_forward_pass"].score == 4, diagnoses(result, "test_nn_forward_pass")
    assert result.parts["test_nn_forward_backward"].score == 10, diagnoses(result, "test_nn_forward_backward")
    assert result.total == FULL - PREDICT_POINTS


@pytest.mark.skipif(not bubblewrap(), reason="sandboxes need bubblewrap")
@pytest.mark.parametrize("me", INTRUDERS)
def test_an_intruder_sees_all_it_left_while_it_runs(graded, me):
    seen = diagnoses(graded[f"{INTRUDERS.index(me)}-intruder-{me}"], "test_nn_predict")
    for trace in (f"/tmp/intruder-{me}", f"/dev/shm/intruder-{me}", f"/job/intruder-{me}", "process ",
                  "shm ", f"socket intruder-{me}"):
        assert trace in seen, seen
    for read_only in ("/spool/", "/dev/", "'/", "/grader/", "/etc/"):
        assert f"{read_only}intruder-{me}" not in seen, seen


@pytest.mark.skipif(not bubblewrap(), reason="sandboxes need bubblewrap")
def test_honest_submissions_between_and_after_the_intruders_are_untouched(graded):
    for student in ("0-honest", "1-honest", "2-honest"):
        assert graded[student].status == "ok" and graded[student].total == FULL, graded[student]


@pytest.mark.skipif(not bubblewrap(), reason="sandboxes need bubblewrap")
def test_a_fifo_and_a_link_in_the_job_folder_neither_block_nor_leak_into_the_grader(graded):
    result = graded["3-leaves-a-fifo-and-a-link"]
    assert result.status == "ok" and result.total == FULL, result


@pytest.mark.skipif(not warm_sandboxes(), reason="warm sandboxes need bubblewrap with user namespaces")
def test_a_warm_sandbox_that_cannot_start_sends_its_runs_to_cold_sandboxes_and_says_why(monkeypatch):
    monkeypatch.setattr(sandbox.warm, "_warm_modules", lambda: ["no_such_module"])
    limits = Limits(processes=61, startup_seconds=20)  # limits of its own: a warm sandbox of its own
    for _ in range(2):
        with sandbox.lease(limits) as box:
            (box.job_dir / "job.json").write_text("{}")  # no assignment: the harness stops at once
            outcome = box.run(limits)
            assert box.describe()["kind"] == "cold" and "no_such_module" in box.describe()["why"]
            assert not outcome.complete and "KeyError: 'assignment'" in outcome.stderr
            assert box.warm.starts == 1  # it was tried once, not again for every run
