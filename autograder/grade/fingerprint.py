"""What a worker grades with, as two digests the client and every worker compute alike: the kit (the grader's and
the helpers' code: autograder/ and helpers/) and the course settings of the assignment (its folder under
assignments/: manifest, checks, harness, and the course's homework.toml and helpers/course.toml). A worker whose
digests differ from the client's would grade by other rules: the canary refuses it, and so does each job.
"""
import functools
import hashlib
from importlib import metadata
from pathlib import Path

import autograder
import helpers
from autograder import registry

KIT_PACKAGES = (Path(autograder.__file__).parent, Path(helpers.__file__).parent)
SOURCE_SUFFIXES = {".py", ".toml", ".j2", ".md", ".json"}


class WorkerMismatch(RuntimeError):
    """This worker's kit or course settings differ from the client's: it must not grade for it."""


@functools.lru_cache(maxsize=1)
def kit():
    """'<version>+<digest>' of this worker's kit (computed once per process)."""
    try:
        version = metadata.version("deep-learning-course-kit")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return f"{version}+{_digest(KIT_PACKAGES)}"


@functools.lru_cache(maxsize=16)
def course(assignment_folder):
    """The digest of the course settings an assignment is graded by, from its folder (a Path or str)."""
    folder = Path(assignment_folder)
    return _digest([folder, folder.parent / "homework.toml", folder.parent.parent / "helpers" / "course.toml"])


def of(assignment: registry.Assignment):
    """{"kit": ..., "course": ...} of this process for `assignment`."""
    return {"kit": kit(), "course": course(str(assignment.folder))}


def _digest(roots):
    """A short digest of the source files under `roots` (folders or files), by their paths relative to each root."""
    digest = hashlib.sha256()
    for root in map(Path, roots):
        files = sorted(root.rglob("*")) if root.is_dir() else [root] if root.is_file() else []
        for path in files:
            if path.is_file() and path.suffix in SOURCE_SUFFIXES and "__pycache__" not in path.parts:
                digest.update(f"{root.name}/{path.relative_to(root) if root.is_dir() else ''}\0".encode())
                digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]
