"""Running the harness on one submission in isolation, with limits on CPU time, wall time, memory,
file size and process count.

With bubblewrap (Debian's `bubblewrap`): a new mount, PID, network, IPC and user namespace; read-only
system, Python and virtualenv; the harness and helpers read-only; a private writable job folder that
holds only this submission; no network, no view of the course folder, gradebook, source/, autograder/
or other students; all capabilities dropped. Without it: a plain child process with the same limits
and a cleared environment, reported as weaker isolation, never silently.

Warm sandboxes (where a process inside bubblewrap may create namespaces): each grading thread keeps one
bubblewrap sandbox whose interpreter has already imported torch, the harness and the helpers
(`harness.warm`), and every submission runs in a child forked from it, in namespaces of its own, seeing only
its own job folder, with the same limits (see autograder/harness/warm.py). Starting Python and importing
torch is most of a cold sandbox's cost; a fork is not. `lease` hands out a job folder and the sandbox that
runs it, warm where it can be, cold otherwise.
"""
import contextlib
import functools
import json
import os
import pkgutil
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import weakref
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


def isolation(warm=True):
    """A one-line description of the isolation this machine gives (with warm sandboxes when `warm`), for reports."""
    if warm and warm_sandboxes():
        text = "bubblewrap, warm (each submission forked from a started interpreter into namespaces of its own)"
    elif bubblewrap():
        text = "bubblewrap"
    else:
        text = "rlimits-only (bubblewrap not found: no filesystem or network isolation)"
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


def _bubblewrap(privileges, folders, python_args):
    """bubblewrap running `python <python_args>` with the read-only system, harness and helpers, the given
    capability options and folder options (binds of the job's folders), and no network."""
    args = [bubblewrap(), "--unshare-all", "--die-with-parent", "--new-session", *privileges, "--clearenv"]
    for key, value in _environment().items():
        args += ["--setenv", key, value]
    args += ["--tmpfs", "/tmp"]  # first: binds below may live under /tmp (e.g. a kit checked out there)
    args += _system_binds()
    args += ["--ro-bind", str(HARNESS_DIR), "/grader/harness", "--ro-bind", str(HELPERS_DIR), "/grader/helpers"]
    return args + folders + ["--proc", "/proc", "--dev", "/dev", "--chdir", "/job", sys.executable, *python_args]


def command(job_dir, python_args=None):
    """The command line that runs the harness on `job_dir` (bubblewrap when available), or the sandboxed
    interpreter with other arguments (`python_args`, e.g. ["-c", code])."""
    if bubblewrap() is None:  # PYTHONPATH points at job_dir/grader
        return [sys.executable, *(python_args or ["-m", "harness", str(job_dir)])]
    return _bubblewrap(["--cap-drop", "ALL"], ["--bind", str(job_dir), "/job"],
                       python_args or ["-m", "harness", "/job"])


def warm_command(spool, args):
    """The command line of a warm sandbox serving the job folders in `spool` (harness.warm's arguments `args`).

    Its interpreter keeps the capabilities of a user namespace of its own, and nothing else, so that each child
    can enter namespaces of its own; every child drops them all before it runs a submission."""
    return _bubblewrap(["--unshare-user", "--uid", "0", "--gid", "0", "--cap-add", "ALL"],
                       ["--bind", str(spool), "/spool", "--dir", "/job"], ["-m", "harness.warm", *args])


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
    """Run the harness on `job_dir` in a cold sandbox (a fresh interpreter) under `limits`, watching its progress
    file: a step that overruns its budget, or the whole run passing `wall_left` seconds, kills the sandbox's whole
    process group. Returns the Outcome."""
    job_dir = Path(job_dir)
    wall_left = limits.wall_seconds if wall_left is None else wall_left
    if bubblewrap() is None:
        prepare_fallback(job_dir)
        env = dict(_environment(), PYTHONPATH=str(job_dir / "grader"), HOME=str(job_dir), MPLCONFIGDIR=str(job_dir))
        cwd = job_dir
    else:
        env, cwd = {}, None
    group = _pids_cgroup(limits.processes)
    watch = _Progress(job_dir / "outputs" / "progress", limits)
    with open(job_dir / "stderr.txt", "wb") as stderr:
        process = subprocess.Popen(_limited(command(job_dir), limits, group), stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=stderr, env=env or None, cwd=cwd,
                                   start_new_session=True)
        returncode, timed_out = _follow(watch, wall_left, lambda timeout: _exit_code(process, timeout))
        _kill_group(process)
    if group is not None:
        _remove_cgroup(group)
    return _outcome(job_dir, returncode, timed_out, watch)


def _exit_code(process, timeout):
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


def _follow(watch, wall_left, exit_code):
    """Wait for a run to end (`exit_code(timeout)` gives its exit code, or None while it runs), following its
    progress; (exit code, timed_out), the code None when the run overran a step's budget or `wall_left`."""
    while True:
        returncode = exit_code(0.05)
        if returncode is not None:
            return returncode, False
        watch.poll()
        if watch.overdue() or watch.elapsed() > wall_left:
            return None, True


def _outcome(job_dir, returncode, timed_out, watch):
    watch.poll()
    stderr = read_regular(job_dir / "stderr.txt", 2**20)[-4000:].decode("utf-8", "replace")
    return Outcome(returncode, timed_out, watch.elapsed(), stderr, watch.step, watch.budget,
                   [tuple(s[:3]) for s in watch.steps])


def read_regular(path, max_bytes, offset=0):
    """At most `max_bytes` of the regular file `path` from `offset`; b"" for anything else (a missing file, a
    symbolic link, a FIFO or device a submission left in its job folder: reading them could block or leak)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return b""
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return b""
        f.seek(offset)
        return f.read(max_bytes)


class WarmStartError(RuntimeError):
    """A warm sandbox did not start: its runs go to cold sandboxes instead."""


class _WarmSandbox:
    """One grading thread's warm sandbox: a spool folder for its job folders, and the interpreter inside
    bubblewrap that serves them (harness.warm), started on first use and again after a run it had to kill."""

    def __init__(self, limits):
        self.limits = limits
        self.spool = Path(tempfile.mkdtemp(prefix="course-kit-warm-"))
        self.starts = self.jobs = 0
        self.failed = None  # why it could not start: its runs then go to cold sandboxes
        self.running = {"process": None, "group": None}  # what the finalizer stops (it may not refer to self)
        weakref.finalize(self, _stop, self.running, self.spool)

    @property
    def process(self):
        return self.running["process"]

    def start(self):
        self.starts += 1
        self.running["group"] = _pids_cgroup(self.limits.processes)
        log = tempfile.TemporaryFile()
        self.running["process"] = subprocess.Popen(
            _limited(warm_command(self.spool, _warm_modules()), self.limits, self.running["group"]),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, start_new_session=True)
        reply = self._reply(self.limits.startup_seconds)
        if reply != {"ready": True}:
            _stop(self.running)
            log.seek(0)
            raise WarmStartError(f"the warm sandbox did not start ({log.read()[-2000:].decode('utf-8', 'replace')})")
        log.close()

    def run(self, job_dir, limits, wall_left):
        """Like `run`, in a child of the warm interpreter; a run that overruns its budget takes the whole warm
        sandbox down with it (the next run starts a new one)."""
        if self.failed is None and (self.process is None or self.process.poll() is not None):
            try:
                self.start()
            except WarmStartError as error:
                self.failed = str(error)
        if self.failed is not None:
            return run(job_dir, limits, wall_left)
        self.jobs += 1
        watch = _Progress(job_dir / "outputs" / "progress", limits)
        try:
            self.process.stdin.write(json.dumps({"job": job_dir.name}).encode() + b"\n")
            self.process.stdin.flush()
        except OSError:  # it has just died, not by this submission's doing: a cold sandbox runs it
            _stop(self.running)
            return run(job_dir, limits, wall_left)
        returncode, timed_out = _follow(watch, wall_left, self._exit_code)
        if timed_out or self.process.poll() is not None:
            _stop(self.running)
        return _outcome(job_dir, returncode, timed_out, watch)

    def _exit_code(self, timeout):
        reply = self._reply(timeout)
        if reply is None:
            return None
        if "exit" not in reply:
            raise RuntimeError(f"the warm sandbox answered {reply!r}")
        return reply["exit"]

    def _reply(self, timeout):
        """The interpreter's next answer, None while there is none after `timeout` seconds; {"exit": its code}
        when it has died."""
        stdout = self.process.stdout
        if not select.select([stdout], [], [], timeout)[0]:
            return None
        line = stdout.readline()
        if not line:
            return {"exit": self.process.wait()}
        return json.loads(line)

    def describe(self):
        if self.failed is not None:
            return {"kind": "cold", "why": self.failed}
        return {"kind": "warm", "sandbox": f"{os.getpid()}:{id(self):x}", "start": self.starts, "job": self.jobs}


def _stop(running, spool=None):
    process, group = running["process"], running["group"]
    if process is not None:
        _kill_group(process)
        for pipe in (process.stdin, process.stdout):
            pipe.close()
    if group is not None:
        _remove_cgroup(group)
    running.update(process=None, group=None)
    if spool is not None:
        shutil.rmtree(spool, ignore_errors=True)


def _warm_modules():
    """What a warm sandbox imports before its first job: every assignment's harness module, the helpers, and
    matplotlib (set-up cells import pyplot, a stand-in in the sandbox, whose package is the real one)."""
    from autograder.checks import ASSIGNMENTS
    return ([f"harness.{assignment}" for assignment in ASSIGNMENTS] + ["matplotlib", "helpers"]
            + [f"helpers.{module.name}" for module in pkgutil.iter_modules([str(HELPERS_DIR)])])


_threads = threading.local()


@dataclass
class Lease:
    """A fresh job folder and the sandbox that runs the harness on it (warm, or cold when `warm` is None)."""
    job_dir: Path
    warm: _WarmSandbox | None

    def run(self, limits, wall_left=None):
        wall_left = limits.wall_seconds if wall_left is None else wall_left
        if self.warm is None:
            return run(self.job_dir, limits, wall_left)
        return self.warm.run(self.job_dir, limits, wall_left)

    def describe(self):
        return {"kind": "cold"} if self.warm is None else self.warm.describe()


@contextlib.contextmanager
def lease(limits, prefix="job-", warm=True):
    """A Lease for one submission: warm when `warm` and `warm_sandboxes()` (this thread's own warm sandbox, one per
    set of resource limits), cold otherwise. The job folder and all it holds are removed afterwards."""
    if warm and warm_sandboxes():
        key = (limits.cpu_seconds, limits.memory_mb, limits.file_mb, limits.processes, limits.startup_seconds)
        sandboxes = _threads.__dict__.setdefault("warm", {})
        warm = sandboxes.get(key) or sandboxes.setdefault(key, _WarmSandbox(limits))
    else:
        warm = None
    with tempfile.TemporaryDirectory(prefix=prefix, dir=warm.spool if warm else None) as job_dir:
        yield Lease(Path(job_dir), warm)


class _Progress:
    """Follows the harness's progress file: the current step, when it began (by this process's clock) and its
    budget. Malformed lines are ignored; at most 1 MB is read."""

    def __init__(self, path, limits):
        self.path, self.limits, self.offset = path, limits, 0
        self.start = self.step_start = time.perf_counter()
        self.step, self.budget = ("start", None), limits.startup_seconds
        self.steps = [["start", None, None, self.start]]  # [kind, id, seconds, began]; both clocks are monotonic

    def poll(self):
        data = read_regular(self.path, 2**20 - self.offset, self.offset) if self.offset < 2**20 else b""
        complete = data[:data.rfind(b"\n") + 1]
        self.offset += len(complete)
        for line in complete.splitlines():
            try:
                event = json.loads(line)
                kind, step_id = str(event["step"]), event.get("id")
            except (ValueError, KeyError, TypeError):
                continue
            now, stamp = time.perf_counter(), event.get("t")
            last = self.steps[-1]  # the harness's own clock times steps finer than this polling does
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
