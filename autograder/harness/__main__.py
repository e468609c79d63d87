"""Sandbox entry point: `python -m autograder.harness JOB_DIR`.

JOB_DIR/job.json names the assignment, the trusted set-up code, the student's code cells to run (in notebook
order, each a list of pieces run one after the other) and the parts to run; JOB_DIR/cases/<part>.safetensors
hold each part's hidden cases. A part's code is interrupted when its time budget ("seconds") runs out, and the
next part runs in the same process. Before each step the harness appends a line to JOB_DIR/outputs/progress
({"step": "setup" | "cell" | "part" | "done", "id": ...}), so the grader outside knows which step a hang or
crash happened in and what time budget applies. Each part's outputs are written to
JOB_DIR/outputs/<part>.safetensors as soon as it finishes, so a later hang or crash loses nothing already done.
Outputs that cannot be transported (another type, too large) are the student's code's doing and are recorded as
such; a failure to record outputs that can be is the grader's, written to JOB_DIR/outputs/<part>.grader-error.
Nothing here judges anything.
"""
import importlib
import json
import os
import signal
import sys
import time
import traceback
import types
from pathlib import Path

from . import transport
from .core import StudentError, call_student, compile_cell, describe_exception
from .i18n import _


class _NoPlotting(types.ModuleType):
    """Stands in for pyplot, helpers.vis and helpers.widgets: graded functions never plot, and leaving matplotlib
    and ipywidgets out makes each sandbox start faster. Any plotting call does nothing."""

    def __getattr__(self, name):
        if name.startswith("__"):  # module attributes such as __file__ stay absent (inspect and torch read them)
            raise AttributeError(name)
        return lambda *args, **kwargs: None


class PartTimeout(BaseException):
    """Raised in a part's code when its time budget runs out (a BaseException, so the student's
    `except Exception` does not swallow it). Code that blocks it anyway is stopped from outside."""


def _out_of_time(signum, frame):
    raise PartTimeout()


def prepare():
    """Put the plotting stand-ins in place before anything imports the real modules, and check that outputs can be
    recorded here (importing what the transport imports lazily) before any student code runs."""
    for name in ("matplotlib.pyplot", "helpers.vis", "helpers.widgets"):
        if not isinstance(sys.modules.get(name), _NoPlotting):
            sys.modules[name] = _NoPlotting(name)
    transport.self_test()


def main(job_dir):
    prepare()
    job_dir = Path(job_dir)
    job = json.loads((job_dir / "job.json").read_text())
    out_dir = job_dir / "outputs"
    out_dir.mkdir(exist_ok=True)
    progress = open(out_dir / "progress", "a", buffering=1)

    def step(kind, step_id=None):
        progress.write(json.dumps({"step": kind, "id": step_id, "t": time.perf_counter()}) + "\n")

    module = importlib.import_module(f"assignments.{job['assignment']}.harness")
    signal.signal(signal.SIGALRM, _out_of_time)
    namespace = {"__name__": "__main__"}
    step("setup")
    exec(compile(job["setup"], "<setup>", "exec"), namespace)
    cell_errors: dict[str, str] = {}
    for cell in job["cells"]:
        step("cell", cell["id"])
        for index, code in enumerate(cell["chunks"]):
            error = _run_cell(code, f"<{cell['id']}, statement {index + 1}>", namespace)
            if error:
                cell_errors.setdefault(cell["id"], error)
    (out_dir / "cell_errors.json").write_text(json.dumps(cell_errors))
    for part in job["parts"]:
        step("part", part["grade_id"])
        _save(_run_part(module, part, namespace, job_dir), out_dir, part["grade_id"])
    step("done")


def _run_cell(code, filename, namespace):
    """Run one piece of a student's cell in the notebook namespace; a description of what went wrong, or None.
    Its source goes to linecache under `filename` (core.compile_cell)."""
    try:
        call_student(exec, compile_cell(code, filename), namespace)
    except SyntaxError as error:
        return _("has a syntax error: {message} (line {line})").format(message=error.msg, line=error.lineno)
    except StudentError as error:
        return error.text
    return None


def _run_part(module, part, namespace, job_dir):
    missing = [name for name in part["names"] if name not in namespace]
    if missing:
        return {"missing": missing}
    cases = transport.load(job_dir / "cases" / f"{part['grade_id']}.safetensors")
    try:
        signal.setitimer(signal.ITIMER_REAL, part["seconds"])
        outputs = getattr(module, part["run"])(*(namespace[n] for n in part["names"]), cases)
        signal.setitimer(signal.ITIMER_REAL, 0)  # inside the try: an alarm that fires just now is still caught
        return outputs
    except PartTimeout:
        return {"timed_out": part["seconds"]}
    except Exception as error:  # noqa: BLE001 - a harness failure caused by student code
        return {"harness_error": describe_exception(error)}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _save(outputs, out_dir, grade_id):
    """Write one part's outputs. Outputs that cannot be transported cost that part only, with the reason; when
    recording outputs that can be transported fails, the reason goes to <part>.grader-error instead."""
    partial = out_dir / f"{grade_id}.part"
    try:
        transport.save(outputs, partial)
    except transport.Untransportable as error:  # odd student output (a set, a huge tensor...) must not stop the run
        transport.save({"harness_error": _("gave outputs that could not be recorded ({error})").format(error=error)},
                       partial)
    except MemoryError:
        raise
    except Exception as error:  # noqa: BLE001 - the transport's own failure: the grader's, not the student's
        traceback.print_exc()
        (out_dir / f"{grade_id}.grader-error").write_text(
            _("recording its outputs failed ({error})").format(error=describe_exception(error)))
        return
    os.replace(partial, out_dir / f"{grade_id}.safetensors")


if __name__ == "__main__":
    main(sys.argv[1])
