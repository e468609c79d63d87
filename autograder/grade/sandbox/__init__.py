"""Running the harness on one submission in isolation, with limits on CPU time, wall time, memory,
file size and process count.

- `limits`: `Limits`, the per-submission limits from the manifest's budgets, and `PART_GRACE_SECONDS`;
- `commands`: the isolation (bubblewrap; a plain child process where there is none, only when the grader is told
  `--allow-unsandboxed`; `isolation()` says which for reports), the command lines of cold and warm sandboxes, and
  their rlimits and pids cgroup;
- `diagnosis`: why bubblewrap cannot start here (`problem()`), and the fix;
- `inside`: the isolation a sandbox gets, checked from the inside (`isolation_faults`, for the canary);
- `progress`: `read_regular`, reading what a submission left in its job folder, and `Progress`, following the
  harness's progress file step by step against each step's budget;
- `cold`: `run`, one submission in a fresh interpreter, and the `Outcome` of a run;
- `warm`: a grading thread's warm sandbox, whose started interpreter forks a child for each submission.

`lease` hands out a job folder and the sandbox that runs it, warm where it can be, cold otherwise.
"""
import contextlib
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from autograder import registry

from .cold import Outcome, run
from .commands import (HARNESS_DIR, HELPERS_DIR, UNSANDBOXED, bubblewrap, command, isolation, prepare_fallback,
                       problem, warm_command, warm_sandboxes)
from .inside import isolation_faults
from .limits import PART_GRACE_SECONDS, Limits
from .progress import read_regular
from .warm import WarmSandbox, WarmStartError

__all__ = ["HARNESS_DIR", "HELPERS_DIR", "PART_GRACE_SECONDS", "UNSANDBOXED", "Lease", "Limits", "Outcome",
           "SandboxUnavailable", "WarmStartError", "bubblewrap", "command", "isolation", "isolation_faults", "lease",
           "prepare_fallback", "problem", "read_regular", "run", "warm_command", "warm_sandboxes"]

_threads = threading.local()


class SandboxUnavailable(RuntimeError):
    """No sandbox can start here and the grader was not told `--allow-unsandboxed`: nothing is graded."""

    def __init__(self, problem):
        self.problem = problem
        super().__init__(f"{problem}. The grader refuses to run student code without a sandbox; to grade anyway, "
                         "with student code running with the grader's own rights, pass --allow-unsandboxed.")


@dataclass
class Lease:
    """A fresh job folder and the sandbox that runs the harness on it (warm, or cold when `warm` is None)."""
    job_dir: Path
    warm: WarmSandbox | None

    def run(self, limits, wall_left=None):
        wall_left = limits.wall_seconds if wall_left is None else wall_left
        if self.warm is None:
            return run(self.job_dir, limits, wall_left)
        return self.warm.run(self.job_dir, limits, wall_left)

    def describe(self):
        return {"kind": "cold"} if self.warm is None else self.warm.describe()


@contextlib.contextmanager
def lease(limits, prefix="job-", warm=True, allow_unsandboxed=False):
    """A Lease for one submission: warm when `warm` and `warm_sandboxes()` (this thread's own warm sandbox, one per
    set of resource limits and course), cold otherwise. The job folder and all it holds are removed afterwards.
    SandboxUnavailable where bubblewrap cannot start, unless `allow_unsandboxed`."""
    if problem() and not allow_unsandboxed:
        raise SandboxUnavailable(problem())
    if warm and warm_sandboxes():
        key = (limits.cpu_seconds, limits.memory_mb, limits.file_mb, limits.processes, limits.startup_seconds,
               registry.bound_course())  # it mounts that course's harness files
        sandboxes = _threads.__dict__.setdefault("warm", {})
        warm = sandboxes.get(key) or sandboxes.setdefault(key, WarmSandbox(limits))
    else:
        warm = None
    with tempfile.TemporaryDirectory(prefix=prefix, dir=warm.spool if warm else None) as job_dir:
        yield Lease(Path(job_dir), warm)
