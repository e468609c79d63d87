"""Running the harness on one submission in isolation, with limits on CPU time, wall time, memory,
file size and process count.

With bubblewrap (Debian's `bubblewrap`): a new mount, PID, network, IPC and user namespace; read-only
system, Python and virtualenv; the harness and helpers read-only; a private writable job folder that
holds only this submission; no network, no view of the course folder, gradebook, source/, autograder/
or other students; all capabilities dropped. Without it: a plain child process with the same limits
and a cleared environment, reported as weaker isolation, never silently.
"""
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import autograder.harness
import helpers

HARNESS_DIR = Path(autograder.harness.__file__).resolve().parent
HELPERS_DIR = Path(helpers.__file__).resolve().parent
PIDS_CGROUP = Path("/sys/fs/cgroup/pids")
#: Beyond a part's budget, before the sandbox is killed from outside (code that blocks the harness's interruption).
PART_GRACE_SECONDS = 3


@dataclass(frozen=True)
class Limits:
    """Per-submission limits. Wall time is budgeted per step: the harness's start, the set-up cell, each of the
    student's cells, and each part (`part_seconds`, by grade_id; the manifest's [budgets.parts]); `wall_seconds`
    caps the whole submission, restarts included. CPU time, memory, file size and processes are per sandbox.
    `notebook_mb` and `side_file_mb` bound what a submitted notebook and best-model file may be, unpacked."""
    wall_seconds: float = 300
    cpu_seconds: int = 600
    memory_mb: int = 4096
    processes: int = 64
    file_mb: int = 256
    startup_seconds: float = 60
    cell_seconds: float = 30
    part_seconds: dict = field(default_factory=dict)
    default_part_seconds: float = 60
    notebook_mb: int = 20
    side_file_mb: int = 256

    @classmethod
    def from_manifest(cls, manifest):
        budgets = dict(manifest.get("budgets", {}))
        return cls(part_seconds=dict(budgets.get("parts", {})),
                   **{k: budgets[k] for k in ("wall_seconds", "cpu_seconds", "memory_mb", "processes",
                                              "startup_seconds", "cell_seconds", "notebook_mb", "side_file_mb")
                      if k in budgets})

    def part_budget(self, grade_id):
        """Seconds the part's code may run; the harness interrupts it then."""
        return self.part_seconds.get(grade_id, self.default_part_seconds)

    def step_seconds(self, kind, step_id=None):
        """How long one step of the harness may take before the sandbox is killed: a part gets a grace period
        beyond its budget for the harness's own interruption to take effect."""
        if kind == "part":
            return self.part_budget(step_id) + PART_GRACE_SECONDS
        return self.cell_seconds if kind in ("setup", "cell") else self.startup_seconds


@dataclass
class Outcome:
    """How one sandbox run ended. `step` is the (kind, id) the harness was in when it ended: ("done", None) after
    a complete run, else the step that hung or crashed; `steps` lists (kind, id, seconds) of every step begun."""
    returncode: int | None
    timed_out: bool
    seconds: float
    stderr: str
    step: tuple = ("start", None)
    budget: float = 0.0
    steps: list = field(default_factory=list)

    @property
    def complete(self):
        return self.step[0] == "done" and self.returncode == 0

    @property
    def signal(self):
        """The signal that killed the harness, or None (bubblewrap reports it as exit code 128 + signal)."""
        if self.returncode is not None and self.returncode < 0:
            return -self.returncode
        if bubblewrap() and self.returncode is not None and 128 < self.returncode < 128 + 65:
            return self.returncode - 128
        return None


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
    if grader.is_dir():  # a rerun of the same job
        return
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


def run(job_dir, limits, wall_left=None):
    """Run the harness on `job_dir` under `limits`, watching its progress file: a step that overruns its budget,
    or the whole run passing `wall_left` seconds, kills the sandbox's whole process group. Returns the Outcome."""
    job_dir = Path(job_dir)
    wall_left = limits.wall_seconds if wall_left is None else wall_left
    if bubblewrap() is None:
        prepare_fallback(job_dir)
        env = dict(_environment(), PYTHONPATH=str(job_dir / "grader"), HOME=str(job_dir), MPLCONFIGDIR=str(job_dir))
        cwd = job_dir
    else:
        env, cwd = {}, None
    group = _pids_cgroup(limits.processes)
    stderr_path = job_dir / "stderr.txt"
    watch = _Progress(job_dir / "outputs" / "progress", limits)
    with open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(_limited(command(job_dir), limits, group), stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=stderr, env=env or None, cwd=cwd,
                                   start_new_session=True)
        returncode, timed_out = None, False
        while returncode is None:
            try:
                returncode = process.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                watch.poll()
                timed_out = watch.overdue() or watch.elapsed() > wall_left
                if timed_out:
                    break
        _kill_group(process)
    watch.poll()
    if group is not None:
        _remove_cgroup(group)
    return Outcome(returncode, timed_out, watch.elapsed(), stderr_path.read_bytes()[-4000:].decode("utf-8", "replace"),
                   watch.step, watch.budget, [tuple(s[:3]) for s in watch.steps])


class _Progress:
    """Follows the harness's progress file: the current step, when it began (by this process's clock) and its
    budget. Malformed lines are ignored; at most 1 MB is read."""

    def __init__(self, path, limits):
        self.path, self.limits, self.offset = path, limits, 0
        self.start = self.step_start = time.perf_counter()
        self.step, self.budget, self.steps = ("start", None), limits.startup_seconds, []

    def poll(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read(2**20 - self.offset) if self.offset < 2**20 else b""
        except OSError:
            return
        complete = data[:data.rfind(b"\n") + 1]
        self.offset += len(complete)
        for line in complete.splitlines():
            try:
                event = json.loads(line)
                kind, step_id = str(event["step"]), event.get("id")
            except (ValueError, KeyError, TypeError):
                continue
            now, stamp = time.perf_counter(), event.get("t")
            if self.steps:  # the harness's own clock times steps finer than this polling does
                last = self.steps[-1]
                clocked = isinstance(stamp, float) and isinstance(last[3], float)
                last[2] = round(stamp - last[3] if clocked else now - self.step_start, 4)
            self.step, self.step_start, self.budget = (kind, step_id), now, self.limits.step_seconds(kind, step_id)
            self.steps.append([kind, step_id, None, stamp])

    def overdue(self):
        return time.perf_counter() - self.step_start > self.budget

    def elapsed(self):
        return time.perf_counter() - self.start


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
