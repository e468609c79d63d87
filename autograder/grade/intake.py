"""Finding every submission in what an instructor hands over: a folder of `<student_id>.ipynb` (side
files in `<student_id>/`), an nbgrader `submitted/` tree, an LMS `.zip` (nbgrader zip_collect file
names), or students' submission packages (`<student_id>_<assignment>.zip` written by `python -m helpers.submit`,
one alone or a folder of them). Nothing found is dropped: a student folder without a notebook or a file that is not one
becomes a submission with a problem, so it still gets a row and a reason.

Intake reads names and sizes only. A submission's files are `Source`s, read later, one submission at a time,
just before it is graded (`Source.read`), with the size each file declares (on disk, or in the zip's
directory) checked against the manifest's budget first: one oversized or zip-bomb entry costs that student
a `too-large` row or that file, never the batch or the grader's memory.
"""
import contextlib
import datetime as dt
import hashlib
import json
import re
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from nbgrader.plugins.zipcollect import FileNameCollectorPlugin

from autograder.harness.i18n import _
from autograder.term.calendar import arrival_from_lms, arrival_from_nbgrader
from helpers.submit import ID_CHARACTERS, MANIFEST_NAME
from helpers.utils import human_size

#: Blackboard-style LMS names, as in nbgrader's zip_collect docs: <anything>_<student>_attempt_<time>_<file>
LMS_NAME = r".*_(?P<student_id>[^_/]+)_attempt_(?P<timestamp>[0-9\-]+)_(?P<file_id>.+)"
SAFE_ID = re.compile(f"[^{ID_CHARACTERS}]")
#: The largest submission.json read from a package.
MANIFEST_BYTES = 64 * 2**10
#: nbgrader's record, written by the exchange, of when a submission reached the course (and the most bytes read).
TIMESTAMP_FILE, TIMESTAMP_BYTES = "timestamp.txt", 1024


class IntakeError(ValueError):
    """The submissions path itself cannot be read."""


class TooLarge(ValueError):
    """A submitted file larger than its budget; the message says how large and what the limit is."""


@dataclass(frozen=True)
class Source:
    """One submitted file, not yet read: a path on disk, or a member of a zip archive (`archive`), perhaps inside a
    package that is itself a member (`package`) of that archive (an LMS download of students' packages)."""
    name: str
    path: str
    size: int
    archive: str | None = None
    sha256: str | None = None  # what a submission package's manifest says the file hashes to
    package: str | None = None

    def read(self, max_bytes):
        """The file's bytes; TooLarge when its declared size (or what it inflates to) is over `max_bytes`."""
        if self.size > max_bytes:
            raise TooLarge((_("{file} is {size} once unpacked; the limit is {limit}") if self.archive else
                            _("{file} is {size}; the limit is {limit}")).format(
                file=self.name, size=human_size(self.size), limit=human_size(max_bytes)))
        if self.archive is None:
            with open(self.path, "rb") as f:
                content = f.read(max_bytes + 1)
        else:
            with open_zip(self.archive, self.package) as archive, archive.open(self.path) as f:
                content = f.read(max_bytes + 1)
        if len(content) > max_bytes:  # grew since intake looked
            raise TooLarge(_("{file} is over the limit of {limit}").format(file=self.name, limit=human_size(max_bytes)))
        return content

    def changed_note(self, content):
        """A note when `content` is not what the submission package's manifest hashed (else None)."""
        if self.sha256 is None or hashlib.sha256(content).hexdigest() == self.sha256:
            return None
        return _("{file} is not the file the self-check packaged (its SHA-256 differs from {manifest}'s): it was "
                 "changed afterwards").format(file=self.name, manifest=MANIFEST_NAME)


@dataclass
class Submission:
    student_id: str
    notebook: Source | None = None
    notebook_name: str | None = None
    side_files: dict = field(default_factory=dict)  # name -> Source
    problem: tuple | None = None  # (status, message)
    notes: list = field(default_factory=list)
    arrived: dt.datetime | None = None  # when it reached the course (aware), from the exchange or the LMS only
    arrived_from: str = ""  # where `arrived` was read: "nbgrader timestamp.txt" or "LMS attempt time"


def collect(path, assignment, notebook_name, zone=None):
    """All submissions under `path` (folder, nbgrader submitted/ tree, or .zip), sorted by student id.

    A submission's arrival time is read only from what the course's own systems wrote: nbgrader's timestamp.txt in a
    submitted/ tree (the exchange writes it), or the attempt time in an LMS file name, taken in the time zone `zone`
    (the course's; default UTC). A time inside a student's folder or submission package is never used."""
    path = Path(path)
    if not path.exists():
        raise IntakeError(f"{path} does not exist")
    if path.is_file():
        if not zipfile.is_zipfile(path):
            raise IntakeError(f"{path} is neither a folder nor a .zip archive")
        if is_package(path):
            return _finish([_from_package(path, assignment, notebook_name)], notebook_name)
        return _from_zip(path, assignment, notebook_name, zone)
    return _from_tree(path, assignment, notebook_name)


def _from_tree(root, assignment, notebook_name):
    """A folder, on disk or inside a zip (zipfile.Path): nbgrader's submitted/ layout or <student_id>.ipynb."""
    if any(d.is_dir() and (d / assignment).is_dir() for d in root.iterdir()):
        return _from_nbgrader_tree(root, assignment, notebook_name)
    return _from_folder(root, assignment, notebook_name)


def _from_folder(root, assignment, notebook_name):
    by_id = {}
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        if entry.name.startswith("."):
            continue
        if entry.is_file() and entry.name.endswith(".zip") and is_package(entry):
            package = _from_package(entry, assignment, notebook_name)
            if package.student_id in by_id:
                package.notes.append(_("student id {student!r} also submitted other files; this package is graded "
                                       "as {student}-{name}").format(student=package.student_id, name=entry.stem))
                package.student_id = f"{package.student_id}-{entry.stem}"
            by_id[package.student_id] = package
            continue
        sid = Path(entry.name).stem if entry.is_file() else entry.name
        sub = by_id.setdefault(sid, Submission(sid))
        if entry.is_file() and entry.name.endswith(".ipynb"):
            sub.notebook, sub.notebook_name = _source(entry), entry.name
        elif entry.is_dir():
            _add_folder(sub, entry, notebook_name)
        else:
            sub.notes.append(_("{file} is not a notebook (expected {student}.ipynb)").format(file=entry.name,
                                                                                              student=sid))
    return _finish(by_id.values(), notebook_name)


@contextlib.contextmanager
def open_zip(path, member=None):
    """The zip archive at `path`, or the zip stored as its entry `member` (streamed from it, never unpacked)."""
    with zipfile.ZipFile(path) as archive:
        if member is None:
            yield archive
        else:
            with archive.open(member) as inner_file, zipfile.ZipFile(inner_file) as inner:
                yield inner


def is_package(path, member=None):
    """Whether the zip at `path` (or its entry `member`) is a submission package: submission.json at its root."""
    try:
        with open_zip(path, member) as archive:
            return MANIFEST_NAME in archive.namelist()
    except (OSError, zipfile.BadZipFile, KeyError):
        return False


def _from_package(path, assignment, notebook_name, member=None, student_id=None):
    """A submission package: the notebook and side files at the zip's root, checked later against the hashes in
    submission.json. `member`: the package is that entry of the zip at `path`. The student id is `student_id` when
    given (from an LMS file name), else from the package's name (`<id>_<assignment>.zip`), else from its manifest."""
    label = member.rsplit("/", 1)[-1] if member else path.name
    with open_zip(path, member) as archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        manifest, problem = {}, None
        entry = archive.getinfo(MANIFEST_NAME)
        if entry.file_size > MANIFEST_BYTES:
            problem = _("its {manifest} is {size} (at most {limit})").format(
                manifest=MANIFEST_NAME, size=human_size(entry.file_size), limit=human_size(MANIFEST_BYTES))
        else:
            try:
                manifest = json.loads(archive.read(MANIFEST_NAME))
            except ValueError as error:
                problem = _("its {manifest} is not valid JSON ({error})").format(manifest=MANIFEST_NAME, error=error)
    if not isinstance(manifest, dict):
        manifest, problem = {}, _("its {manifest} is not a JSON object").format(manifest=MANIFEST_NAME)
    files = manifest["files"] if isinstance(manifest.get("files"), dict) else {}
    suffix = f"_{assignment}.zip"
    sid = student_id or (label[:-len(suffix)] if label.endswith(suffix) and len(label) > len(suffix) else None)
    sub = Submission(sid or str(manifest.get("student_id") or Path(label).stem))
    sub.notes.append((_("submission package {package}, made {made}") if "created" in manifest else
                      _("submission package {package}")).format(package=label, made=manifest.get("created"))
                     + (_("; ") + problem if problem else ""))
    if manifest.get("assignment") not in (None, assignment):
        sub.notes.append(_("the package says it is for {named!r}, not {assignment!r}").format(
            named=manifest["assignment"], assignment=assignment))
    if sid and manifest.get("student_id") not in (None, sid):
        sub.notes.append(_("the package's manifest names student {named!r}; graded as {student!r}, the name it was "
                           "handed in under").format(named=manifest["student_id"], student=sid))
    wanted = manifest.get("notebook") or notebook_name
    for info in members:
        name = info.filename
        if name == MANIFEST_NAME:
            continue
        if "/" in name or name.startswith("."):
            sub.notes.append(_("{file} in the package was ignored (only files at its top level are read)").format(
                file=name))
            continue
        expected = files.get(name, {}).get("sha256") if isinstance(files.get(name), dict) else None
        source = Source(name, name, info.file_size, str(path), sha256=expected, package=member)
        if name.endswith(".ipynb"):
            if sub.notebook is None or name == wanted:
                sub.notebook, sub.notebook_name = source, name
        else:
            sub.side_files[name] = source
    missing = sorted(set(files) - {m.filename for m in members})
    if missing:
        sub.notes.append(_("listed in {manifest} but not in the package: {files}").format(
            manifest=MANIFEST_NAME, files=", ".join(missing)))
    return sub


def _from_nbgrader_tree(root, assignment, notebook_name):
    subs = []
    for student_dir in sorted((d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")),
                              key=lambda p: p.name):
        sub = Submission(student_dir.name)
        folder = student_dir / assignment
        if folder.is_dir():
            _add_folder(sub, folder, notebook_name)
            _read_timestamp(sub)
        else:
            sub.notes.append(_("no {assignment}/ folder in {folder}/").format(assignment=assignment,
                                                                               folder=student_dir.name))
        subs.append(sub)
    return _finish(subs, notebook_name)


def _read_timestamp(sub):
    """Set the arrival time of a submission of an nbgrader submitted/ tree from its timestamp.txt (a note when it
    cannot be read)."""
    source = sub.side_files.get(TIMESTAMP_FILE)
    if source is None:
        return
    try:
        sub.arrived = arrival_from_nbgrader(source.read(TIMESTAMP_BYTES).decode("utf-8", "replace"))
        sub.arrived_from = f"nbgrader {TIMESTAMP_FILE}"
    except (ValueError, OSError, zipfile.BadZipFile) as error:
        sub.notes.append(_("{file} could not be read: {error}").format(file=TIMESTAMP_FILE, error=error))


def _add_folder(sub, folder, notebook_name):
    """A submission folder: the notebook (by its expected name, else the only one) and side files."""
    files = sorted((p for p in folder.iterdir() if p.is_file()), key=lambda p: p.name)
    notebooks = [p for p in files if p.name.endswith(".ipynb")]
    chosen = next((p for p in notebooks if p.name == notebook_name), notebooks[0] if len(notebooks) == 1 else None)
    if chosen is not None and sub.notebook is None:
        sub.notebook, sub.notebook_name = _source(chosen), chosen.name
    elif len(notebooks) > 1 and sub.notebook is None:
        sub.notes.append(_("several notebooks and none named {notebook}: {found}").format(
            notebook=notebook_name, found=", ".join(p.name for p in notebooks)))
    for path in files:
        if not path.name.endswith(".ipynb"):
            sub.side_files[path.name] = _source(path)


def _source(path):
    """The Source of a file found on disk (Path) or in a zip (zipfile.Path)."""
    if isinstance(path, zipfile.Path):
        info = path.root.getinfo(path.at)
        return Source(path.name, path.at, info.file_size, path.root.filename)
    return Source(path.name, str(path), path.stat().st_size)


def _from_zip(path, assignment, notebook_name, zone):
    """A .zip: LMS file names (one flat list), else a folder layout inside it (perhaps wrapped in one folder)."""
    with zipfile.ZipFile(path) as archive:
        members = [m for m in archive.infolist() if not m.is_dir() and not m.filename.startswith("__MACOSX")]
        unsafe = [m.filename for m in members if m.filename.startswith("/") or ".." in m.filename.split("/")]
        if unsafe:
            raise IntakeError(f"{path.name} holds an unsafe path: {unsafe[0]}")
        collector = FileNameCollectorPlugin(named_regexp=LMS_NAME,
                                            valid_ext=sorted({Path(m.filename).suffix for m in members} - {""}))
        sources = [Source(Path(m.filename).name, m.filename, m.file_size, str(path)) for m in members]
        lms = [(source, collector.collect(source.name)) for source in sources]
        if any(info for _source, info in lms):
            return _from_lms_files(lms, assignment, notebook_name, zone)
    root = zipfile.Path(path)
    tops = list(root.iterdir())
    if len(tops) == 1 and tops[0].is_dir():
        root = tops[0]  # archives that wrap everything in one folder
    return _from_tree(root, assignment, notebook_name)


def _from_lms_files(files, assignment, notebook_name, zone):
    """LMS file names: keep each student's latest attempt (its time, in the course's time zone `zone`, is when it
    arrived); the notebook is any .ipynb of that attempt, or the one in the submission package (a .zip) the student
    handed in."""
    latest: dict[str, tuple] = {}
    for source, info in files:
        if info is None:
            continue
        sid, stamp = info["student_id"], info["timestamp"]
        if stamp > latest.get(sid, ("",))[0]:
            latest[sid] = (stamp, [])
        if stamp == latest[sid][0]:
            latest[sid][1].append((info["file_id"], replace(source, name=info["file_id"])))
    subs = []
    for sid, (stamp, entries) in sorted(latest.items()):
        package = next((s for name, s in entries if name.endswith(".zip") and is_package(s.archive, s.path)), None)
        if package is not None:
            sub = _from_package(Path(package.archive), assignment, notebook_name, member=package.path, student_id=sid)
        else:
            sub = Submission(sid)
            _add_lms_files(sub, entries, notebook_name)
        sub.notes.append(_("latest attempt {time}").format(time=stamp))
        try:
            sub.arrived, sub.arrived_from = arrival_from_lms(stamp, zone), "LMS attempt time"
        except ValueError:
            sub.notes.append(_("the attempt time {time!r} is not a date and time (YYYY-MM-DD-HH-MM-SS)").format(
                time=stamp))
        subs.append(sub)
    return _finish(subs, notebook_name)


def _add_lms_files(sub, entries, notebook_name):
    """The notebook and side files of one LMS attempt, [(file name, Source)]."""
    notebooks = [(name, s) for name, s in entries if name.endswith(".ipynb")]
    chosen = next(((n, s) for n, s in notebooks if n == notebook_name), notebooks[0] if notebooks else None)
    if chosen:
        sub.notebook_name, sub.notebook = chosen[0], chosen[1]
    sub.side_files = {name: s for name, s in entries if not name.endswith(".ipynb")}


def _finish(subs, notebook_name):
    """Safe student ids, notes on odd names, and a problem for every submission without a notebook."""
    out = []
    for sub in subs:
        safe = SAFE_ID.sub("_", sub.student_id) or "unnamed"
        if safe != sub.student_id:
            sub.notes.append(_("student id {student!r} written as {safe!r}").format(student=sub.student_id, safe=safe))
            sub.student_id = safe
        if sub.notebook is None:
            sub.problem = ("missing-notebook", _("no notebook was submitted (expected {notebook})").format(
                notebook=notebook_name))
        elif sub.notebook_name != notebook_name and not sub.notebook_name.startswith(sub.student_id):
            sub.notes.append(_("the notebook was named {found}; graded it as {notebook}").format(
                found=sub.notebook_name, notebook=notebook_name))
        out.append(sub)
    return sorted(out, key=lambda s: s.student_id)
