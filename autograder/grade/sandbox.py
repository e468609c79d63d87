"""Running the harness on one submission in isolation, with limits on CPU time, wall time, memory,
file size and process count.

With bubblewrap (Debian's `bubblewrap`): a new mount, PID, network, IPC and user namespace; read-only
system, Python and virtualenv; the harness and helpers read-only; a private writable job folder that
holds only this submission; no network, no view of the course folder, gradebook, source/, autograder/
or other students; all capabilities dropped. Without it: a plain child process with the same limits
and a cleared environment, reported as weaker isolation, never silently.
"""
import functools
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import autograder.harness
import helpers

HARNESS_DIR = Path(autograder.harness.__file__).resolve().parent
HELPERS_DIR = Path(helpers.__file__).resolve().parent
PIDS_CGROUP = Path("/sys/fs/cgroup/pids")


@dataclass(frozen=True)
class Limits:
    wall_seconds: float = 300
    cpu_seconds: int = 600
    memory_mb: int = 4096
    processes: int = 64
    file_mb: int = 256

    @classmethod
    def from_manifest(cls, manifest):
        budgets = manifest.get("budgets", {})
        return cls(**{k: budgets[k] for k in ("wall_seconds", "cpu_seconds", "memory_mb", "processes") if k in budgets})


@dataclass
class Outcome:
    returncode: int | None
    timed_out: bool
    seconds: float
    stderr: str


@functools.lru_cache(maxsize=1)
def bubblewrap():
    """Path of bwrap when it exists and works here, else None."""
    path = shutil.which("bwrap")
    if not path:
        return None
    probe = subprocess.run([path, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "true"],
                           capture_output=True)
    return path if probe.returncode == 0 else None


def isolation():
    """A one-line description of the isolation this machine gives, for reports."""
    text = "bubblewrap" if bubblewrap() else "rlimits-only (bubblewrap not found: no filesystem or network isolation)"
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


def _environment():
    threads = "1"
    return {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": "/job", "PYTHONPATH": "/grader",
            "PYTHONDONTWRITEBYTECODE": "1", "MPLCONFIGDIR": "/tmp", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": threads,
            "OPENBLAS_NUM_THREADS": threads, "MKL_NUM_THREADS": threads, "COURSE_GRADING_BUDGET": "1",
            "LANG": "C.UTF-8"}


def command(job_dir):
    """The command line that runs the harness on `job_dir` (bubblewrap when available)."""
    bwrap = bubblewrap()
    python = sys.executable
    if bwrap is None:
        return [python, "-m", "harness", str(job_dir)]  # PYTHONPATH points at job_dir/grader
    args = [bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--clearenv"]
    for key, value in _environment().items():
        args += ["--setenv", key, value]
    args += ["--tmpfs", "/tmp"]  # first: binds below may live under /tmp (e.g. a kit checked out there)
    args += _system_binds()
    args += ["--ro-bind", str(HARNESS_DIR), "/grader/harness", "--ro-bind", str(HELPERS_DIR), "/grader/helpers",
             "--bind", str(job_dir), "/job", "--proc", "/proc", "--dev", "/dev", "--chdir", "/job",
             python, "-m", "harness", "/job"]
    return args


def prepare_fallback(job_dir):
    """Without bubblewrap, the job folder carries its own copies of the harness and helpers."""
    grader = Path(job_dir) / "grader"
    shutil.copytree(HARNESS_DIR, grader / "harness", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(HELPERS_DIR, grader / "helpers", ignore=shutil.ignore_patterns("__pycache__"))


def _pids_cgroup(limit):
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


def run(job_dir, limits):
    """Run the harness on `job_dir` under `limits`; returns the Outcome. Kills the whole process group
    on timeout."""
    job_dir = Path(job_dir)
    if bubblewrap() is None:
        prepare_fallback(job_dir)
        env = dict(_environment(), PYTHONPATH=str(job_dir / "grader"), HOME=str(job_dir), MPLCONFIGDIR=str(job_dir))
        cwd = job_dir
    else:
        env, cwd = {}, None
    group = _pids_cgroup(limits.processes)
    start = time.perf_counter()
    stderr_path = job_dir / "stderr.txt"
    with open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(_limited(command(job_dir), limits, group), stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=stderr, env=env or None, cwd=cwd,
                                   start_new_session=True)
        try:
            returncode, timed_out = process.wait(timeout=limits.wall_seconds), False
        except subprocess.TimeoutExpired:
            returncode, timed_out = None, True
        _kill_group(process)
    seconds = time.perf_counter() - start
    if group is not None:
        _remove_cgroup(group)
    return Outcome(returncode, timed_out, seconds, stderr_path.read_bytes()[-4000:].decode("utf-8", "replace"))


def _limited(args, limits, group):
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


def _kill_group(process):
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def _remove_cgroup(group):
    for _ in range(50):
        try:
            group.rmdir()
            return
        except OSError:
            time.sleep(0.05)
