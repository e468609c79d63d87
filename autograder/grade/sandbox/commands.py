"""The command lines a sandbox runs, and the isolation and resource limits they impose.

With bubblewrap (Debian's `bubblewrap`): a new mount, PID, network, IPC and user namespace; read-only
system, Python and virtualenv; the harness (autograder/harness/ and each graded assignment's harness.py, nothing
else of autograder/ or assignments/) and the helpers read-only; a private writable job folder that holds only this
submission; no network, no view of the course folder, gradebook, source/, checks or other students; all
capabilities dropped. Without it (autograder.grade.sandbox.diagnosis says why) the grader refuses to grade, unless
told `--allow-unsandboxed`: then a plain child process with the same limits and a cleared environment runs each
submission, and every row's `isolation` says so.

CPU time, memory, file size and (not as root) process count are rlimits set by util-linux prlimit; as root,
a pids cgroup of its own caps the process count where this machine lets us make one.
"""
import functools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import autograder.harness
import helpers
from autograder import registry
from helpers.i18n import LANGUAGE_ENV, language

from .diagnosis import bwrap_program, diagnose

HARNESS_DIR = Path(autograder.harness.__file__).resolve().parent
LOCALE_DIR = HARNESS_DIR.parent / "locale"  # the autograder's message catalogues (autograder.harness.i18n)
HELPERS_DIR = Path(helpers.__file__).resolve().parent
#: Where the sandbox finds what it may import: /grader is its PYTHONPATH.
GRADER = "/grader"
PIDS_CGROUP = Path("/sys/fs/cgroup/pids")


def mounts():
    """{path under /grader: path here} of everything the sandbox may import: the harness core as
    autograder/harness (and the autograder's message catalogues beside it as autograder/locale), each graded
    assignment's harness.py (of the course this process grades: registry.bound_course()) as
    assignments/<name>/harness.py (namespace packages there: no other file of autograder/ or assignments/ is
    inside), and the helpers."""
    found = {"autograder/harness": HARNESS_DIR, "autograder/locale": LOCALE_DIR, "helpers": HELPERS_DIR}
    for assignment in registry.assignments(registry.bound_course(), graded=True):
        found[f"assignments/{assignment.name}/harness.py"] = assignment.harness_file
    return found


@functools.lru_cache(maxsize=1)
def problem():
    """Why bubblewrap cannot isolate submissions here (a diagnosis.SandboxProblem), or None when it can (probed
    once)."""
    return diagnose()


def bubblewrap():
    """Path of bwrap when it exists and works here, else None."""
    return None if problem() else bwrap_program()


@functools.lru_cache(maxsize=1)
def warm_sandboxes():
    """True when warm sandboxes work here: a child forked inside bubblewrap can isolate itself (probed once)."""
    if bubblewrap() is None:
        return False
    with tempfile.TemporaryDirectory(prefix="course-kit-probe-") as spool:
        (Path(spool) / "probe").mkdir()
        try:
            probe = subprocess.run(warm_command(spool, ["--probe", "probe"]), capture_output=True, timeout=60)
        except subprocess.TimeoutExpired:
            return False
        return probe.returncode == 0 and (Path(spool) / "probe" / "isolated").is_file()


#: How an unsandboxed row's isolation begins: reports and the canary look for it.
UNSANDBOXED = "UNSANDBOXED"


def isolation(warm=True):
    """A one-line description of the isolation this machine gives (with warm sandboxes when `warm`), for reports."""
    if warm and warm_sandboxes():
        text = "bubblewrap, warm (each submission forked from a started interpreter into namespaces of its own)"
    elif bubblewrap():
        text = "bubblewrap"
    else:
        text = (f"{UNSANDBOXED} (--allow-unsandboxed): rlimits only, no filesystem or network isolation "
                f"({problem().mechanism}: {problem().seen})")
    if os.geteuid() == 0 and not os.access(PIDS_CGROUP, os.W_OK):
        text += "; no process-count limit (running as root without a writable pids cgroup)"
    return text


def _system_binds():
    binds = []
    for path in ("/usr", "/bin", "/lib", "/lib64", "/lib32", "/etc/ld.so.cache", "/etc/ld.so.conf",
                 "/etc/ld.so.conf.d", "/etc/localtime", sys.base_prefix, sys.prefix):
        if os.path.exists(path):
            binds += ["--ro-bind", path, path]
    return binds


def environment():
    """The sandboxed interpreter's whole environment (inside bubblewrap; the fallback overrides its paths), in the
    course's language."""
    threads = "1"
    return {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": "/job", "PYTHONPATH": "/grader",
            "PYTHONDONTWRITEBYTECODE": "1", "MPLCONFIGDIR": "/tmp", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": threads,
            "OPENBLAS_NUM_THREADS": threads, "MKL_NUM_THREADS": threads, "COURSE_GRADING_BUDGET": "1",
            "LANG": "C.UTF-8", LANGUAGE_ENV: language()}


def _bubblewrap(privileges, folders, python_args):
    """bubblewrap running `python <python_args>` with the read-only system, harness and helpers, the given
    capability options and folder options (binds of the job's folders), and no network."""
    args = [bubblewrap(), "--unshare-all", "--die-with-parent", "--new-session", *privileges, "--clearenv"]
    for key, value in environment().items():
        args += ["--setenv", key, value]
    args += ["--tmpfs", "/tmp"]  # first: binds below may live under /tmp (e.g. a kit checked out there)
    args += _system_binds()
    for inside, outside in mounts().items():
        args += ["--ro-bind", str(outside), f"{GRADER}/{inside}"]
    return args + folders + ["--proc", "/proc", "--dev", "/dev", "--chdir", "/job", sys.executable, *python_args]


def command(job_dir, python_args=None):
    """The command line that runs the harness on `job_dir` (bubblewrap when available), or the sandboxed
    interpreter with other arguments (`python_args`, e.g. ["-c", code])."""
    if bubblewrap() is None:  # PYTHONPATH points at job_dir/grader
        return [sys.executable, *(python_args or ["-m", "autograder.harness", str(job_dir)])]
    return _bubblewrap(["--cap-drop", "ALL"], ["--bind", str(job_dir), "/job"],
                       python_args or ["-m", "autograder.harness", "/job"])


def warm_command(spool, args):
    """The command line of a warm sandbox serving the job folders in `spool` (harness.forkserver's arguments `args`).

    Its interpreter keeps the capabilities of a user namespace of its own, and nothing else, so that each child
    can enter namespaces of its own; every child drops them all before it runs a submission."""
    return _bubblewrap(["--unshare-user", "--uid", "0", "--gid", "0", "--cap-add", "ALL"],
                       ["--bind", str(spool), "/spool", "--dir", "/job"],
                       ["-m", "autograder.harness.forkserver", *args])


def prepare_fallback(job_dir):
    """Without bubblewrap, the job folder carries its own copies of the harness and helpers."""
    grader = Path(job_dir) / "grader"
    if grader.is_dir():  # a rerun of the same job
        return
    for inside, outside in mounts().items():
        if outside.is_dir():
            shutil.copytree(outside, grader / inside, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (grader / inside).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(outside, grader / inside)


def limited(args, limits, group):
    """`args` under resource limits (util-linux prlimit; no preexec_fn, so it is safe from threads), in
    the pids cgroup `group` when there is one."""
    mb = 2**20
    limited = ["prlimit", f"--cpu={limits.cpu_seconds}:{limits.cpu_seconds + 5}", f"--data={limits.memory_mb * mb}",
               f"--fsize={limits.file_mb * mb}", "--core=0"]
    if os.geteuid() != 0:  # root is exempt from RLIMIT_NPROC: the pids cgroup limits it instead
        limited.append(f"--nproc={limits.processes}")
    limited += ["--"] + args
    if group is None:
        return limited
    return ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', str(group)] + limited


def pids_cgroup(limit):
    """A fresh pids cgroup capped at `limit` processes when this machine lets us make one (root only)."""
    if os.geteuid() != 0 or not os.access(PIDS_CGROUP, os.W_OK):
        return None
    group = PIDS_CGROUP / f"course-kit-{os.getpid()}-{time.monotonic_ns()}"
    try:
        group.mkdir()
        (group / "pids.max").write_text(str(limit))
        return group
    except OSError:
        return None


def remove_cgroup(group):
    """Remove the pids cgroup `group` once its processes are gone (retrying for a few seconds)."""
    for _ in range(50):
        try:
            group.rmdir()
            return
        except OSError:
            time.sleep(0.05)
