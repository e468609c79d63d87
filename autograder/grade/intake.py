"""Finding every submission in what an instructor hands over: a folder of `<student_id>.ipynb` (side
files in `<student_id>/`), an nbgrader `submitted/` tree, or an LMS `.zip` (nbgrader zip_collect file
names). Nothing found is dropped: a student folder without a notebook or a file that is not one
becomes a submission with a problem, so it still gets a row and a reason."""
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.plugins.zipcollect import FileNameCollectorPlugin

#: Blackboard-style LMS names, as in nbgrader's zip_collect docs: <anything>_<student>_attempt_<time>_<file>
LMS_NAME = r".*_(?P<student_id>[^_/]+)_attempt_(?P<timestamp>[0-9\-]+)_(?P<file_id>.+)"
SAFE_ID = re.compile(r"[^A-Za-z0-9._@-]")
MAX_ZIP_BYTES = 2 * 2**30


class IntakeError(ValueError):
    """The submissions path itself cannot be read."""


@dataclass
class Submission:
    student_id: str
    notebook: bytes | None = None
    notebook_name: str | None = None
    side_files: dict = field(default_factory=dict)
    problem: tuple | None = None  # (status, message)
    notes: list = field(default_factory=list)


def collect(path, assignment, notebook_name):
    """All submissions under `path` (folder, nbgrader submitted/ tree, or .zip), sorted by student id."""
    path = Path(path)
    if not path.exists():
        raise IntakeError(f"{path} does not exist")
    if path.is_file():
        if not zipfile.is_zipfile(path):
            raise IntakeError(f"{path} is neither a folder nor a .zip archive")
        return _from_zip(path, assignment, notebook_name)
    if any((d / assignment).is_dir() for d in path.iterdir() if d.is_dir()):
        return _from_nbgrader_tree(path, assignment, notebook_name)
    return _from_folder(path, notebook_name)


def _from_folder(root, notebook_name):
    by_id = {}
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue
        sid = entry.stem if entry.is_file() else entry.name
        sub = by_id.setdefault(sid, Submission(sid))
        if entry.is_file() and entry.suffix == ".ipynb":
            sub.notebook, sub.notebook_name = entry.read_bytes(), entry.name
        elif entry.is_dir():
            _add_folder(sub, entry, notebook_name)
        else:
            sub.notes.append(f"{entry.name} is not a notebook (expected {sid}.ipynb)")
    return _finish(by_id.values(), notebook_name)


def _from_nbgrader_tree(root, assignment, notebook_name):
    subs = []
    for student_dir in sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")):
        sub = Submission(student_dir.name)
        folder = student_dir / assignment
        if folder.is_dir():
            _add_folder(sub, folder, notebook_name)
        else:
            sub.notes.append(f"no {assignment}/ folder in {student_dir.name}/")
        subs.append(sub)
    return _finish(subs, notebook_name)


def _add_folder(sub, folder, notebook_name):
    """A submission folder: the notebook (by its expected name, else the only one) and side files."""
    notebooks = sorted(folder.glob("*.ipynb"))
    chosen = next((p for p in notebooks if p.name == notebook_name), notebooks[0] if len(notebooks) == 1 else None)
    if chosen is not None and sub.notebook is None:
        sub.notebook, sub.notebook_name = chosen.read_bytes(), chosen.name
    elif len(notebooks) > 1 and sub.notebook is None:
        sub.notes.append(f"several notebooks and none named {notebook_name}: {', '.join(p.name for p in notebooks)}")
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix != ".ipynb":
            sub.side_files[path.name] = path.read_bytes()


def _from_zip(path, assignment, notebook_name):
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir() and not m.filename.startswith("__MACOSX")]
            if sum(m.file_size for m in members) > MAX_ZIP_BYTES:
                raise IntakeError(f"{path.name} unpacks to more than {MAX_ZIP_BYTES // 2**30} GB")
            for m in members:
                target = (tmp / "files" / m.filename).resolve()
                if not str(target).startswith(str((tmp / "files").resolve())):
                    raise IntakeError(f"{path.name} holds an unsafe path: {m.filename}")
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(m) as source, open(target, "wb") as sink:
                    shutil.copyfileobj(source, sink)
        files = tmp / "files"
        tops = [p for p in files.iterdir()] if files.exists() else []
        if len(tops) == 1 and tops[0].is_dir():
            files = tops[0]  # archives that wrap everything in one folder
        suffixes = sorted({p.suffix for p in files.rglob("*") if p.is_file() and p.suffix})
        collector = FileNameCollectorPlugin(named_regexp=LMS_NAME, valid_ext=suffixes)  # side files too
        lms = [(p, collector.collect(p.name)) for p in files.rglob("*") if p.is_file()]
        if any(info for _, info in lms):
            return _from_lms_files(lms, notebook_name)
        return collect(files, assignment, notebook_name)


def _from_lms_files(files, notebook_name):
    """LMS file names: keep each student's latest attempt; the notebook is any .ipynb of that attempt."""
    latest = {}
    for path, info in files:
        if info is None:
            continue
        sid, stamp = info["student_id"], info["timestamp"]
        if stamp > latest.get(sid, ("",))[0]:
            latest[sid] = (stamp, [])
        if stamp == latest[sid][0]:
            latest[sid][1].append((info["file_id"], path))
    subs = []
    for sid, (stamp, entries) in sorted(latest.items()):
        sub = Submission(sid)
        notebooks = [(name, p) for name, p in entries if name.endswith(".ipynb")]
        chosen = next(((n, p) for n, p in notebooks if n == notebook_name), notebooks[0] if notebooks else None)
        if chosen:
            sub.notebook_name, sub.notebook = chosen[0], chosen[1].read_bytes()
        sub.side_files = {name: p.read_bytes() for name, p in entries if not name.endswith(".ipynb")}
        sub.notes.append(f"latest attempt {stamp}")
        subs.append(sub)
    return _finish(subs, notebook_name)


def _finish(subs, notebook_name):
    """Safe student ids, notes on odd names, and a problem for every submission without a notebook."""
    out = []
    for sub in subs:
        safe = SAFE_ID.sub("_", sub.student_id) or "unnamed"
        if safe != sub.student_id:
            sub.notes.append(f"student id {sub.student_id!r} written as {safe!r}")
            sub.student_id = safe
        if sub.notebook is None:
            sub.problem = ("missing-notebook", f"no notebook was submitted (expected {notebook_name})")
        elif sub.notebook_name != notebook_name and not sub.notebook_name.startswith(sub.student_id):
            sub.notes.append(f"the notebook was named {sub.notebook_name}; graded it as {notebook_name}")
        out.append(sub)
    return sorted(out, key=lambda s: s.student_id)
