"""A cold sandbox: a fresh interpreter for each submission, followed step by step and killed, its whole process
group, when a step overruns its budget or the submission its wall time."""
import os
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .commands import bubblewrap, command, environment, limited, pids_cgroup, prepare_fallback, remove_cgroup
from .progress import Progress, read_regular


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


def run(job_dir, limits, wall_left=None):
    """Run the harness on `job_dir` in a cold sandbox (a fresh interpreter) under `limits`, watching its progress
    file: a step that overruns its budget, or the whole run passing `wall_left` seconds, kills the sandbox's whole
    process group. Returns the Outcome."""
    job_dir = Path(job_dir)
    wall_left = limits.wall_seconds if wall_left is None else wall_left
    if bubblewrap() is None:
        prepare_fallback(job_dir)
        env = dict(environment(), PYTHONPATH=str(job_dir / "grader"), HOME=str(job_dir), MPLCONFIGDIR=str(job_dir))
        cwd = job_dir
    else:
        env, cwd = {}, None
    group = pids_cgroup(limits.processes)
    watch = Progress(job_dir / "outputs" / "progress", limits)
    with open(job_dir / "stderr.txt", "wb") as stderr:
        process = subprocess.Popen(limited(command(job_dir), limits, group), stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=stderr, env=env or None, cwd=cwd,
                                   start_new_session=True)
        returncode, timed_out = follow(watch, wall_left, lambda timeout: _exit_code(process, timeout))
        kill_group(process)
    if group is not None:
        remove_cgroup(group)
    return outcome(job_dir, returncode, timed_out, watch)


def _exit_code(process, timeout):
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


def follow(watch, wall_left, exit_code):
    """Wait for a run to end (`exit_code(timeout)` gives its exit code, or None while it runs), following its
    progress; (exit code, timed_out), the code None when the run overran a step's budget or `wall_left`."""
    while True:
        returncode = exit_code(0.05)
        if returncode is not None:
            return returncode, False
        watch.poll()
        if watch.overdue() or watch.elapsed() > wall_left:
            return None, True


def outcome(job_dir, returncode, timed_out, watch):
    """The Outcome of a run that has ended, from its progress (`watch`, a Progress) and the job's stderr.txt."""
    watch.poll()
    stderr = read_regular(job_dir / "stderr.txt", 2**20)[-4000:].decode("utf-8", "replace")
    return Outcome(returncode, timed_out, watch.elapsed(), stderr, watch.step, watch.budget,
                   [tuple(s[:3]) for s in watch.steps])


def kill_group(process):
    """Kill the sandbox's whole process group (it runs in a session of its own) and reap it."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
