"""Warm sandboxes (where a process inside bubblewrap may create namespaces): each grading thread keeps one
bubblewrap sandbox whose interpreter has already imported torch, the harness and the helpers
(`autograder.harness.forkserver`), and every submission runs in a child forked from it, in namespaces of its own,
seeing only its own job folder, with the same limits (see autograder/harness/forkserver.py). Starting Python and
importing torch is most of a cold sandbox's cost; a fork is not.
"""
import json
import os
import pkgutil
import select
import shutil
import subprocess
import tempfile
import weakref
from typing import Any
from pathlib import Path

from autograder import registry

from .cold import follow, kill_group, outcome, run
from .commands import HELPERS_DIR, limited, pids_cgroup, remove_cgroup, warm_command
from .progress import Progress


class WarmStartError(RuntimeError):
    """A warm sandbox did not start: its runs go to cold sandboxes instead."""


class WarmSandbox:
    """One grading thread's warm sandbox: a spool folder for its job folders, and the interpreter inside
    bubblewrap that serves them (autograder.harness.forkserver), started on first use and again after a run it had
    to kill."""

    def __init__(self, limits):
        self.limits = limits
        self.spool = Path(tempfile.mkdtemp(prefix="course-kit-warm-"))
        self.starts = self.jobs = 0
        self.failed = None  # why it could not start: its runs then go to cold sandboxes
        # What the finalizer stops (it may not refer to self).
        self.running: dict[str, Any] = {"process": None, "group": None}
        weakref.finalize(self, _stop, self.running, self.spool)

    @property
    def process(self):
        return self.running["process"]

    def start(self):
        self.starts += 1
        self.running["group"] = pids_cgroup(self.limits.processes)
        log = tempfile.TemporaryFile()
        self.running["process"] = subprocess.Popen(
            limited(warm_command(self.spool, _warm_modules()), self.limits, self.running["group"]),
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
        watch = Progress(job_dir / "outputs" / "progress", limits)
        try:
            self.process.stdin.write(json.dumps({"job": job_dir.name}).encode() + b"\n")
            self.process.stdin.flush()
        except OSError:  # it has just died, not by this submission's doing: a cold sandbox runs it
            _stop(self.running)
            return run(job_dir, limits, wall_left)
        returncode, timed_out = follow(watch, wall_left, self._exit_code)
        if timed_out or self.process.poll() is not None:
            _stop(self.running)
        return outcome(job_dir, returncode, timed_out, watch)

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
        kill_group(process)
        for pipe in (process.stdin, process.stdout):
            pipe.close()
    if group is not None:
        remove_cgroup(group)
    running.update(process=None, group=None)
    if spool is not None:
        shutil.rmtree(spool, ignore_errors=True)


def _warm_modules():
    """What a warm sandbox imports before its first job: every assignment's harness module, the helpers, and
    matplotlib (set-up cells import pyplot, a stand-in in the sandbox, whose package is the real one)."""
    return ([f"assignments.{name}.harness" for name in registry.names(registry.bound_course(), graded=True)]
            + ["matplotlib", "helpers"]
            + [f"helpers.{module.name}" for module in pkgutil.iter_modules([str(HELPERS_DIR)])])
