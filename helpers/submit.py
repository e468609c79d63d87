"""The student's self-check and submission package: `python -m helpers.submit two_layer_net.ipynb --student ID`.

The self-check reruns the saved notebook from the top in a fresh kernel under the grading budget (heavy cells shrink,
as when it is graded; nbgrader's validate semantics: every cell must run), in a scratch folder so nothing of the
student's changes. It reports each visible check (helpers.visible), warns about side files that are missing (the
best-model checkpoint) and read-only cells that were edited or deleted, and refuses, saying which cell stopped it
and why, when the notebook does not run through. On success it writes `<student_id>_<assignment>.zip`: the notebook
and side files as saved, and `submission.json` with their SHA-256 hashes, which `python -m autograder grade` reads.
The notebook's last cell calls `self_check` too; inside a self-check run or a grading run that cell does nothing.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from helpers.i18n import _
from helpers.utils import BUDGET_ENV, grading_budget, human_size, pad

MANIFEST_NAME = "submission.json"
PACKAGE_FORMAT = 1
SELF_CHECK_ENV = "COURSE_SELF_CHECK"
#: The characters a student id may have (the grader writes any other as "_").
ID_CHARACTERS = "A-Za-z0-9._@-"
STUDENT_ID = re.compile(f"[{ID_CHARACTERS}]+")
#: The whole rerun's limit when the notebook names none (the grader's own default is the same).
DEFAULT_WALL_SECONDS = 300
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class SubmitError(ValueError):
    """The self-check cannot start: the notebook or the student id is not usable. The message says why."""


@dataclass
class SelfCheck:
    """What a self-check found. `ran_through` is False when a cell stopped the notebook (`stopped_at` says which)."""
    notebook: Path
    assignment: str
    ran_through: bool = False
    stopped_at: str | None = None
    seconds: float = 0.0
    checks: dict = field(default_factory=dict)  # visible check name -> status (helpers.visible)
    warnings: list = field(default_factory=list)
    package: Path | None = None


def package_name(student_id, assignment):
    """File name of a submission package: 'jdoe7_two_layer_net.zip'."""
    return f"{student_id}_{assignment}.zip"


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def self_check(notebook, student_id=None, out_dir=None):
    """Self-check `notebook` (a path) and, when it runs through and `student_id` is given, write the package.

    Prints the report and returns a SelfCheck, or None where it does nothing (inside a self-check or grading run).
    Raises SubmitError when the notebook cannot be checked at all.
    """
    if os.environ.get(SELF_CHECK_ENV) or grading_budget():
        print(_("Self-check skipped: this notebook is being checked or graded right now."))
        return None
    path = Path(notebook)
    if student_id is not None and student_id != "" and not STUDENT_ID.fullmatch(student_id):
        raise SubmitError(_("student id {student_id} has characters other than letters, digits and . _ @ -").format(
            student_id=repr(student_id)))
    nb, info = _read(path)
    result = SelfCheck(notebook=path, assignment=info["assignment"])
    running = os.environ.get("JPY_SESSION_NAME")  # the notebook a Jupyter kernel belongs to
    if running and Path(running).name != path.name:
        result.warnings.append(_("this kernel belongs to {running}, but the check read {notebook}: hand in the "
                                 "notebook you worked in").format(running=Path(running).name, notebook=path.name))
    result.warnings += _read_only_warnings(nb, info)
    side_files = [name for name in info.get("side_files", []) if (path.parent / name).is_file()]
    result.warnings += [_("{name} is missing next to the notebook: run the notebook in full (not under the grading "
                          "budget) so it is saved, or the part graded from it scores 0").format(name=name)
                        for name in info.get("side_files", []) if name not in side_files]
    print(_("Self-check of {notebook} ({assignment}), as saved at {time}: rerunning it in a fresh kernel under the "
            "grading budget...").format(notebook=path.name, assignment=info["assignment"],
                                        time=f"{datetime.fromtimestamp(path.stat().st_mtime):%H:%M:%S}"), flush=True)
    _rerun(path, side_files, info, result)
    if result.ran_through and student_id:
        result.package = write_package(path, side_files, info, student_id, result, out_dir or path.parent)
    print(format_report(result, info, student_id))
    return result


def _read(path):
    """The notebook and its course metadata; SubmitError when it is missing, unreadable or not a course notebook."""
    import nbformat
    if not path.is_file():
        raise SubmitError(_("{path} does not exist: give the notebook's file name, e.g. two_layer_net.ipynb, from the "
                            "folder it is in").format(path=path))
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as error:  # noqa: BLE001 - nbformat raises several kinds for a damaged file
        raise SubmitError(_("{notebook} is not a readable notebook ({error}). Open it in Jupyter and save it again, or "
                            "copy your answers into a fresh copy of the notebook").format(
            notebook=path.name, error=f"{type(error).__name__}: {error}")) from None
    info = nb.metadata.get("course_kit")
    if not info:
        raise SubmitError(_("{notebook} is not one of the course's notebooks (it has no course_kit metadata): check "
                            "the notebook of the assignment you are handing in").format(notebook=path.name))
    if not info.get("graded", True):
        raise SubmitError(_("{notebook} is not graded: there is nothing to hand in").format(notebook=path.name))
    return nb, info


def _read_only_warnings(nb, info):
    """Warnings for read-only cells edited (nbgrader's checksum no longer matches) or deleted."""
    from nbgrader.utils import compute_checksum
    present = {}
    for cell in nb.cells:
        # The raw `locked` flag, as autograder.course_dir lists read_only_cells, not nbgrader.utils.is_locked (which
        # also counts every grade cell and never a solution cell): the two lists must name the same cells.
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("locked") and meta.get("grade_id"):
            present[meta["grade_id"]] = cell
    warnings = [_("read-only cell {cell} was deleted: grading puts it back, but your notebook may not run as you "
                  "think").format(cell=gid)
                for gid in info.get("read_only_cells", []) if gid not in present]
    for gid, cell in present.items():
        if "checksum" in cell.metadata["nbgrader"] and compute_checksum(cell) != cell.metadata["nbgrader"]["checksum"]:
            warnings.append(_("read-only cell {cell} was edited: grading uses the original, not your edit").format(
                cell=gid))
    return warnings


def _rerun(path, side_files, info, result):
    """Run a copy of the notebook top to bottom in a fresh kernel, in a scratch folder; fill `result`."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    wall = info.get("budgets", {}).get("wall_seconds", DEFAULT_WALL_SECONDS)
    helpers_root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ, **{BUDGET_ENV: "1", SELF_CHECK_ENV: "1"})
    env["PYTHONPATH"] = os.pathsep.join(p for p in (helpers_root, os.environ.get("PYTHONPATH")) if p)
    with tempfile.TemporaryDirectory(prefix="self-check-") as scratch:
        shutil.copy(path, Path(scratch) / info["notebook"])
        for name in side_files:
            shutil.copy(path.parent / name, Path(scratch) / name)
        nb = nbformat.read(Path(scratch) / info["notebook"], as_version=4)
        client = NotebookClient(nb, kernel_name="python3", timeout=wall, resources={"metadata": {"path": scratch}})
        start, probe = time.perf_counter(), True
        with client.setup_kernel(env=env, stderr=subprocess.DEVNULL):  # the kernel's own log, not the notebook's
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                client.timeout = max(1, int(wall - (time.perf_counter() - start)))
                try:
                    client.execute_cell(cell, index)
                except CellExecutionError:
                    result.stopped_at = _("{cell} stopped with {error}").format(cell=_cell_name(cell, index),
                                                                                 error=_error_line(cell))
                    break
                except CellTimeoutError:
                    result.stopped_at = _("{cell} was still running when the {seconds} s limit for the whole notebook "
                                          "ran out").format(cell=_cell_name(cell, index), seconds=wall)
                    probe = False
                    break
                except DeadKernelError:
                    result.stopped_at = _("{cell} killed the kernel (out of memory, or exit())").format(
                        cell=_cell_name(cell, index))
                    probe = False
                    break
            else:
                result.ran_through = True
            result.seconds = time.perf_counter() - start
            if probe:
                result.checks = _visible_checks(client, nb)
    expected = info.get("budgets", {}).get("grading_seconds")
    if result.ran_through and expected and result.seconds > expected:
        result.warnings.append(_("it took {seconds} s, longer than the usual {expected} s: a slow function may run "
                                 "out of its time when graded").format(seconds=f"{result.seconds:.0f}",
                                                                       expected=expected))


def _visible_checks(client, nb):
    """{check name: worst status} of the visible checks the kernel ran (helpers.visible.summary)."""
    import nbformat
    probe = nbformat.v4.new_code_cell("import json, helpers.visible\nprint(json.dumps(helpers.visible.summary()))")
    client.timeout = 30
    nb.cells.append(probe)  # nbclient writes outputs into the notebook's own cell list
    try:
        client.execute_cell(probe, len(nb.cells) - 1)
        return json.loads("".join(o.get("text", "") for o in probe.outputs if o.get("name") == "stdout"))
    except Exception:  # noqa: BLE001 - the report then says no check ran; the reason is already in stopped_at
        return {}


def _cell_name(cell, index):
    gid = cell.metadata.get("nbgrader", {}).get("grade_id")
    first = next((line for line in cell.source.splitlines() if line.strip()), "")[:60]
    return _("cell {number} ({name})").format(number=index + 1, name=gid if gid else repr(first))


def _error_line(cell):
    """'NameError: name 'x' is not defined', from a cell's error output."""
    error = next((o for o in cell.outputs if o.get("output_type") == "error"), None)
    if error is None:
        return _("an error")
    last = ANSI.sub("", error.get("traceback", [""])[-1]).strip().splitlines()
    return last[-1] if last else f"{error.get('ename')}: {error.get('evalue')}"


def write_package(path, side_files, info, student_id, result, out_dir):
    """Write `<student_id>_<assignment>.zip` with the notebook and side files as saved and submission.json."""
    files = {info["notebook"]: path.read_bytes()}
    files.update({name: (path.parent / name).read_bytes() for name in side_files})
    manifest = {
        "format": PACKAGE_FORMAT, "assignment": info["assignment"], "student_id": student_id,
        "notebook": info["notebook"], "saved_as": path.name,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "files": {name: {"sha256": sha256(data), "bytes": len(data)} for name, data in files.items()},
        "self_check": {"seconds": round(result.seconds, 1), "checks": result.checks, "warnings": result.warnings},
    }
    target = Path(out_dir) / package_name(student_id, info["assignment"])
    partial = target.with_suffix(".zip.partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST_NAME, json.dumps(manifest, indent=1))
        for name, data in files.items():
            archive.writestr(name, data)
    partial.replace(target)
    return target


def format_report(result, info, student_id):
    """The report printed after a self-check."""
    lines = []
    if result.ran_through:
        lines.append(_("The notebook ran top to bottom in {seconds} s under the grading budget.").format(
            seconds=f"{result.seconds:.0f}"))
    else:
        lines.append(_("NOT READY: the notebook does not run through. {reason}.").format(
            reason=result.stopped_at.rstrip(".")))
        lines.append(_("Fix that cell (restart the kernel and run all cells to see it), save, and check again."))
    if result.checks:
        lines.append(_("Visible checks (the hidden tests check more cases):"))
        lines += [f"  {pad(status_name(status), 16)} {name}" for name, status in result.checks.items()]
    if result.warnings:
        lines.append(_("Warnings:"))
        lines += [f"  ! {warning}" for warning in result.warnings]
    if result.package is not None:
        size = human_size(result.package.stat().st_size)
        lines.append(_("Wrote {package} ({size}): hand in this file.").format(package=result.package, size=size))
    elif result.ran_through:
        lines.append(_("No package written: give your student id (student_id=... in the notebook, or --student ID) to "
                       "write {package}.").format(package=package_name("<id>", info["assignment"])))
    return "\n".join(lines)


def status_name(status):
    """A visible check's status (helpers.visible: "pass", "fail", ...) in the course's language, for the report."""
    names = {"pass": _("pass"), "fail": _("fail"), "not implemented": _("not implemented"), "error": _("error"),
             "no verdict": _("no verdict")}
    return names.get(status, status)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m helpers.submit", description=_(
        "The student's self-check and submission package: `python -m helpers.submit two_layer_net.ipynb --student "
        "ID`."))
    parser.add_argument("notebook", help=_("the notebook to check, e.g. two_layer_net.ipynb"))
    parser.add_argument("--student", help=_("your student id: writes <id>_<assignment>.zip when the check passes"))
    parser.add_argument("--out", help=_("folder for the package (default: the notebook's folder)"))
    args = parser.parse_args(argv)
    try:
        result = self_check(args.notebook, args.student, args.out)
    except SubmitError as error:
        print(_("error: {detail}").format(detail=error), file=sys.stderr)
        return 2
    return 0 if result is None or result.ran_through else 1


if __name__ == "__main__":
    sys.exit(main())
