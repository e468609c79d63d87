"""Never unsandboxed by surprise: where bubblewrap cannot start, the grader refuses the batch (exit 2), naming the
mechanism that failed and its fix, unless told `--allow-unsandboxed`, which every row's isolation then records; and
a bubblewrap that runs but does not isolate is caught by the canary, from inside its sandbox.

Each failure is made to happen: no bubblewrap at all, a real seccomp filter that denies the namespace calls (as
Docker's default profile does), and, for what this machine cannot switch (the kernel's AppArmor and user-namespace
settings, a container's masked /proc), a bubblewrap stand-in that fails with the message the real one prints there
and a /proc laid out as there."""
import dataclasses
import json
import os
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.course_dir import generate_release, scratch_course
from autograder.grade import job_template, sandbox
from autograder.grade.canary import WorkersRefused, check_workers
from autograder.grade.fingerprint import WorkerMismatch
from autograder.grade.sandbox import diagnosis
from autograder.grade.task import check_worker
from test_grader_trust import write_reference

#: Runs its arguments under a seccomp filter like Docker's default profile: unshare, and clone with any namespace
#: flag, fail with EPERM; clone3 with ENOSYS (so the C library falls back to clone).
SECCOMP_DOCKER_DEFAULT = """
import errno, os, sys
import pyseccomp as seccomp
rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
rules.add_rule(seccomp.ERRNO(errno.EPERM), "unshare")
rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
for flag in (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000):
    rules.add_rule(seccomp.ERRNO(errno.EPERM), "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
rules.load()
os.execv(sys.argv[1], sys.argv[1:])
"""
#: A bubblewrap that runs the program it is given without isolating it: its options are skipped.
NOT_ISOLATING = """#!{python}
import os, sys
arity = {{"--cap-drop": 1, "--cap-add": 1, "--uid": 1, "--gid": 1, "--tmpfs": 1, "--proc": 1, "--dev": 1,
          "--chdir": 1, "--dir": 1, "--setenv": 2, "--ro-bind": 2, "--bind": 2}}
args = sys.argv[1:]
while args and args[0].startswith("--"):
    args = args[1 + arity.get(args[0], 0):]
os.execvp(args[0], args)
"""


def standin(folder, text):
    path = Path(folder) / "bwrap"
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def failing_bwrap(folder, message):
    """A bubblewrap stand-in that fails as the real one does where it is blocked, with its `message`."""
    return standin(folder, f"#!/bin/sh\necho {shlex.quote('bwrap: ' + message)} >&2\nexit 1\n")


def fake_proc(folder, files):
    """A folder laid out like /proc with `files` ({relative path: content}); the rest as on an ordinary host."""
    files = {"self/status": "Name:\tpython\nSeccomp:\t0\n", "sys/user/max_user_namespaces": "63000", **files}
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text + "\n")
    return folder


@pytest.fixture
def bwrap_is(monkeypatch):
    """Point the grader at another bubblewrap (or none), its diagnosis probed afresh."""
    def use(program):
        monkeypatch.setenv(diagnosis.BWRAP_VARIABLE, str(program))
        sandbox.commands.problem.cache_clear()
        sandbox.warm_sandboxes.cache_clear()
    yield use
    monkeypatch.delenv(diagnosis.BWRAP_VARIABLE)
    sandbox.commands.problem.cache_clear()
    sandbox.warm_sandboxes.cache_clear()


# --- each mechanism, diagnosed -------------------------------------------------------------------------------------

def test_no_bubblewrap_is_named_with_how_to_install_it(bwrap_is, tmp_path):
    bwrap_is(tmp_path / "missing" / "bwrap")
    problem = sandbox.problem()
    assert problem.mechanism == "no-bubblewrap" and "is not a program" in problem.seen
    assert "apt-get install bubblewrap" in problem.fix and "deploy/Containerfile" in problem.fix
    assert sandbox.bubblewrap() is None


@pytest.mark.parametrize("case", ["ubuntu-24.04", "container-profile"])
def test_apparmor_is_named_with_the_bwrap_profile(monkeypatch, bwrap_is, tmp_path, case):
    if case == "ubuntu-24.04":  # the host restricts unprivileged user namespaces; bwrap has no profile
        proc = {"sys/kernel/apparmor_restrict_unprivileged_userns": "1"}
        message, fix = "setting up uid map: Permission denied", "sudo apparmor_parser -r deploy/apparmor-bwrap"
    else:  # Docker's own profile confines the grader, and denies bubblewrap's mounts
        proc = {"self/attr/apparmor/current": "docker-default (enforce)"}
        message, fix = "Failed to make / slave: Permission denied", "--security-opt apparmor=course-kit-bwrap"
    monkeypatch.setattr(diagnosis, "PROC", fake_proc(tmp_path / "proc", proc))
    bwrap_is(failing_bwrap(tmp_path, message))
    problem = sandbox.problem()
    assert problem.mechanism == "apparmor" and message in problem.seen, problem
    assert fix in problem.fix, problem


@pytest.mark.parametrize("setting, value", [("sys/kernel/unprivileged_userns_clone", "0"),
                                            ("sys/user/max_user_namespaces", "0")])
def test_a_sysctl_that_turns_user_namespaces_off_is_named(monkeypatch, bwrap_is, tmp_path, setting, value):
    monkeypatch.setattr(diagnosis, "PROC", fake_proc(tmp_path / "proc", {setting: value}))
    monkeypatch.setattr(diagnosis.os, "geteuid", lambda: 1000)  # the Debian switch binds users other than root
    bwrap_is(failing_bwrap(tmp_path, "No permissions to creating new namespace, likely because the kernel does not "
                                     "allow non-privileged user namespaces."))
    problem = sandbox.problem()
    name = setting.split("/", 1)[1].replace("/", ".")
    assert problem.mechanism == "sysctl" and f"{name} = 0" in problem.seen, problem
    assert f"sudo sysctl -w {name}=" in problem.fix and "/etc/sysctl.d/" in problem.fix


def test_a_container_that_masks_proc_is_named(monkeypatch, bwrap_is, tmp_path):
    monkeypatch.setattr(diagnosis, "PROC", fake_proc(tmp_path / "proc", {}))
    bwrap_is(failing_bwrap(tmp_path, "Can't mount proc on /newroot/proc: Operation not permitted"))
    problem = sandbox.problem()
    assert problem.mechanism == "proc" and "systempaths=unconfined" in problem.fix, problem


def test_an_unexplained_failure_keeps_bubblewraps_own_message(monkeypatch, bwrap_is, tmp_path):
    monkeypatch.setattr(diagnosis, "PROC", fake_proc(tmp_path / "proc", {}))
    bwrap_is(failing_bwrap(tmp_path, "execvp true: No such file or directory"))
    problem = sandbox.problem()
    assert problem.mechanism == "unknown" and "execvp true: No such file or directory" in problem.seen


def test_the_working_bubblewrap_here_has_no_problem():
    assert sandbox.problem() is None and sandbox.bubblewrap()


# --- the command line refuses, and grades only when told to --------------------------------------------------------

def grade_cli(submissions, out, course, *extra, env=None, wrapper=()):
    return subprocess.run([*wrapper, sys.executable, "-m", "autograder", "grade", "two_layer_net", str(submissions),
                           "--out", str(out), "--course", str(course), "--workers", "1", *extra],
                          capture_output=True, text=True, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = scratch_course(tmp_path_factory.mktemp("course"), ["two_layer_net"])
    generate_release("two_layer_net", course)
    return course


@pytest.fixture
def one_submission(tmp_path, course):
    return write_reference(tmp_path / "submissions", "two_layer_net", "alice", course)


def assert_refused(done, out, *named):
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    for text in named + ("--allow-unsandboxed",):
        assert text in done.stderr, done.stderr
    assert not list(Path(out).glob("results/*.json")) and not (Path(out) / "grades.csv").exists()


@pytest.mark.slow
def test_a_seccomp_filter_that_denies_namespaces_refuses_the_batch(tmp_path, course, one_submission):
    wrapper = (sys.executable, "-c", SECCOMP_DOCKER_DEFAULT)
    check = subprocess.run([*wrapper, "/bin/grep", "Seccomp:", "/proc/self/status"], capture_output=True, text=True)
    assert check.stdout.split() == ["Seccomp:", "2"], check  # the filter is real, and inherited
    done = grade_cli(one_submission, tmp_path / "out", course, wrapper=wrapper)
    assert_refused(done, tmp_path / "out", "seccomp filter", "--security-opt seccomp=deploy/seccomp-bwrap.json")


@pytest.mark.slow
def test_no_bubblewrap_refuses_the_batch(tmp_path, course, one_submission):
    done = grade_cli(one_submission, tmp_path / "out", course,
                     env={diagnosis.BWRAP_VARIABLE: str(tmp_path / "missing" / "bwrap")})
    assert_refused(done, tmp_path / "out", "is not a program", "apt-get install bubblewrap")
    assert "Isolation:" not in done.stdout


@pytest.mark.slow
@pytest.mark.xdist_group("reference_model")
def test_allow_unsandboxed_grades_and_every_row_says_so(tmp_path, course, reference_model, one_submission):
    write_reference(one_submission, "two_layer_net", "bob", course)
    done = grade_cli(one_submission, tmp_path / "out", course, "--allow-unsandboxed",
                     env={diagnosis.BWRAP_VARIABLE: str(tmp_path / "missing" / "bwrap")})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "warning: --allow-unsandboxed" in done.stderr and "Isolation: UNSANDBOXED" in done.stdout
    rows = [json.loads(p.read_text()) for p in (tmp_path / "out" / "results").glob("*.json")]
    assert sorted(r["student_id"] for r in rows) == ["alice", "bob"]
    assert all(r["isolation"].startswith("UNSANDBOXED (--allow-unsandboxed)") and "no-bubblewrap" in r["isolation"]
               and r["status"] == "ok" for r in rows), rows
    # The canary looked from the inside and recorded what such a run leaks.
    look, = json.loads((tmp_path / "out" / "canary.json").read_text())["workers"].values()
    assert "shares the worker's mnt namespace" in look["faults"] and f"can see {course / 'source'}" in look["faults"]


@pytest.mark.slow
def test_a_bubblewrap_that_does_not_isolate_is_refused_by_the_canary(tmp_path, course, one_submission):
    program = standin(tmp_path, NOT_ISOLATING.format(python=sys.executable))
    done = grade_cli(one_submission, tmp_path / "out", course, env={diagnosis.BWRAP_VARIABLE: str(program)})
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    for fault in ("its sandbox shares the worker's user namespace", "its sandbox shares the worker's net namespace",
                  f"its sandbox can see {course / 'source'}"):
        assert fault in done.stderr, done.stderr
    assert not list((tmp_path / "out").glob("results/*.json"))


# --- each worker refuses on its own (one that joins after the canary, or a batch graded with --no-canary) ----------

def test_a_worker_refuses_a_job_without_a_sandbox_unless_the_batch_allows_it(bwrap_is, tmp_path):
    bwrap_is(tmp_path / "missing" / "bwrap")
    limits = sandbox.Limits()
    with pytest.raises(sandbox.SandboxUnavailable, match="--allow-unsandboxed"):
        with sandbox.lease(limits):
            pass
    with sandbox.lease(limits, allow_unsandboxed=True) as box:
        assert box.describe() == {"kind": "cold"}


def test_a_worker_refuses_a_job_from_a_client_with_another_kit_or_course():
    template = job_template("two_layer_net")
    check_worker(template)  # this process is the client: the same
    for what in ("kit", "course"):
        other = dataclasses.replace(template, fingerprint={**template.fingerprint, what: "0.0.0+elsewhere"})
        with pytest.raises(WorkerMismatch, match=f"another {what} .*the client's: 0.0.0\\+elsewhere"):
            check_worker(other)


def test_the_canary_refuses_a_worker_that_cannot_say_what_it_grades_with():
    expected = {"kit": "0.1.0+abc", "course": "def"}
    good = {"fingerprint": expected, "problem": None, "faults": [], "isolation": "bubblewrap"}
    with pytest.raises(WorkersRefused) as refused:
        check_workers("two_layer_net", {"tcp://a": good, "tcp://b": {"error": "AttributeError: no worker_report"}},
                      expected, allow_unsandboxed=False)
    assert list(refused.value.reasons) == ["tcp://b"] and "no worker_report" in refused.value.reasons["tcp://b"][0]
    leaky = {**good, "faults": ["shares the worker's net namespace"]}
    with pytest.raises(WorkersRefused, match="its sandbox shares the worker's net namespace"):
        check_workers("two_layer_net", {"tcp://a": leaky}, expected, allow_unsandboxed=False)
    check_workers("two_layer_net", {"tcp://a": leaky}, expected, allow_unsandboxed=True)  # recorded, not refused
