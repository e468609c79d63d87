"""Sandbox entry point: `python -m harness JOB_DIR`.

JOB_DIR/job.json names the assignment, the trusted set-up code, the student's answer cells and the
parts to run; JOB_DIR/cases/<part>.safetensors hold each part's hidden cases. Each part's outputs are
written to JOB_DIR/outputs/<part>.safetensors as soon as it finishes, so a later hang or crash loses
nothing already done; JOB_DIR/outputs/done marks a complete run. Nothing here judges anything.
"""
import importlib
import json
import os
import sys
import types
from pathlib import Path

from . import transport
from .core import StudentError, call_student, describe_exception


class _NoPlotting(types.ModuleType):
    """Stands in for pyplot, helpers.vis and helpers.widgets: graded functions never plot, and leaving matplotlib
    and ipywidgets out makes each sandbox start faster. Any plotting call does nothing."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def main(job_dir):
    for name in ("matplotlib.pyplot", "helpers.vis", "helpers.widgets"):
        sys.modules[name] = _NoPlotting(name)
    job_dir = Path(job_dir)
    job = json.loads((job_dir / "job.json").read_text())
    out_dir = job_dir / "outputs"
    out_dir.mkdir(exist_ok=True)
    module = importlib.import_module(f"{__package__}.{job['assignment']}")
    namespace = {"__name__": "__main__"}
    exec(compile(job["setup"], "<setup>", "exec"), namespace)
    cell_errors = {}
    for cell_id, code in job["answers"].items():
        try:
            call_student(exec, compile(code, f"<{cell_id}>", "exec"), namespace)
        except SyntaxError as error:
            cell_errors[cell_id] = f"has a syntax error: {error.msg} (line {error.lineno})"
        except StudentError as error:
            cell_errors[cell_id] = error.text
    for part in job["parts"]:
        missing = [name for name in part["names"] if name not in namespace]
        if missing:
            outputs = {"missing": missing}
        else:
            cases = transport.load(job_dir / "cases" / f"{part['grade_id']}.safetensors")
            try:
                outputs = getattr(module, part["run"])(*(namespace[n] for n in part["names"]), cases)
            except Exception as error:  # noqa: BLE001 - a harness failure caused by student code
                outputs = {"harness_error": describe_exception(error)}
        partial = out_dir / f"{part['grade_id']}.part"
        transport.save(outputs, partial)
        os.replace(partial, out_dir / f"{part['grade_id']}.safetensors")
    (out_dir / "cell_errors.json").write_text(json.dumps(cell_errors))
    (out_dir / "done").write_text("")


if __name__ == "__main__":
    main(sys.argv[1])
