"""The student bundle of an assignment: `dist/<name>-student.zip`, all a student needs and nothing more.

Everything sits in one folder, so that the notebook's working directory holds the `helpers` package it imports:

    <name>/<notebook>.ipynb   the release notebooks, byte for byte
    <name>/helpers/*.py       the helper package (no autograder, no hidden checks, no reference values)
    <name>/helpers/course.toml  the course's settings (the language, the data set and the transfer experiment every
                                student uses)
    <name>/helpers/locale/    the helpers' message catalogues and the glossary of each language
    <name>/environment.yml    the kit's conda environment without the instructors' packages
    <name>/requirements.txt   the same pins, for pip
    <name>/README.md          set-up, running, data and submitting (templates/student_README.md.j2)

Both dependency files are generated from pyproject.toml, so their pins cannot drift from the kit's. The zip is
deterministic (sorted entries, fixed timestamps and permissions): two builds of the same tree are byte-identical.
"""
import os
import re
import tomllib
import zipfile
from pathlib import Path

import yaml

from autograder import registry
from autograder.registry import COURSE_ROOT
from autograder.harness.i18n import _
from autograder.render import render
from autograder.term import calendar

#: Packages only instructors need: parallel grading and its cluster recipes (dask, dask-jobqueue, dask-kubernetes,
#: kubernetes-validate, dockerfile-parse, pyseccomp), the grader's transport (safetensors) and pages (jinja2, which
#: nbgrader still brings along), reading environment.yml here (pyyaml), the similarity report (copydetect), the test
#: suite, browser tests, the linter and the type checker.
INSTRUCTOR_ONLY = ("dask", "distributed", "dask-jobqueue", "dask-kubernetes", "kubernetes-validate", "dockerfile-parse",
                   "pyseccomp", "safetensors", "jinja2", "pyyaml", "copydetect", "pytest", "pytest-xdist", "playwright",
                   "ruff", "mypy")
#: Packages Google Colab already provides (other versions than the kit's pins, which the notebooks also run with).
COLAB_PROVIDES = ("torch", "torchvision", "numpy", "jupyterlab", "notebook", "nbclient", "nbformat", "ipywidgets",
                  "matplotlib", "tqdm")
#: Needed only by the self-check before submitting (`python -m helpers.submit`), so not for ungraded notebooks on Colab.
SELF_CHECK_ONLY = ("nbgrader",)
README_TEMPLATE = "student_README.md.j2"
#: Every entry's timestamp: the earliest a zip can store, so that builds do not depend on the clock or on mtimes.
TIMESTAMP = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # a regular file, rw-r--r--


class BundleError(ValueError):
    """An assignment that cannot be bundled, with the reason."""


def requirement_name(requirement):
    """The normalised package name of a requirement such as 'PyYAML==6.0.4' ('pyyaml')."""
    found = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if found is None:
        raise ValueError(f"{requirement!r} is not a requirement (a package name, then its version)")
    return re.sub(r"[-_.]+", "-", found.group(1)).lower()


def project(root=COURSE_ROOT):
    """The [project] table of the kit's pyproject.toml."""
    with open(Path(root) / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]


def student_requirements(root=COURSE_ROOT):
    """pyproject.toml's pinned dependencies without the instructors' packages, in pyproject's order."""
    return [r for r in project(root)["dependencies"] if requirement_name(r) not in INSTRUCTOR_ONLY]


def requirements_txt(requirements):
    return ("# Python packages for this assignment, with the course's pins: pip install -r requirements.txt\n"
            + "".join(f"{r}\n" for r in requirements))


def kit_environment(root=COURSE_ROOT):
    """The kit's environment.yml as a dict."""
    with open(Path(root) / "environment.yml") as f:
        return yaml.safe_load(f)


def environment_yml(requirements, root=COURSE_ROOT):
    """The kit's conda environment (its name, channels and conda packages) with `requirements` as its pip list."""
    kit = kit_environment(root)
    conda = [d for d in kit["dependencies"] if isinstance(d, str)]
    lines = ["# Conda environment for this assignment: conda env create -f environment.yml",
             f"# then: conda activate {kit['name']}",
             f"name: {kit['name']}", "channels:", *(f"  - {c}" for c in kit["channels"]),
             "dependencies:", *(f"  - {d}" for d in conda), "  - pip:", *(f"      - {r}" for r in requirements)]
    return "\n".join(lines) + "\n"


def course_settings(root=COURSE_ROOT):
    """The course's settings shipped with the helpers (helpers/course.toml) as a dict."""
    with open(Path(root) / "helpers" / "course.toml", "rb") as f:
        return tomllib.load(f)


def readme(assignment, requirements, root=COURSE_ROOT):
    """The bundle's README.md for `assignment` (a registry.Assignment)."""
    name, manifest = assignment.name, assignment.manifest
    python = re.sub(r"^>=\s*(\S+)$", lambda found: _("{version} or newer").format(version=found.group(1)),
                    project(root)["requires-python"])
    term = calendar.load(root)  # the course's calendar: the due date, in the course's time zone
    due = term.due(name) if term else None
    graded = manifest.graded
    colab = [r for r in requirements if requirement_name(r) not in COLAB_PROVIDES
             and (graded or requirement_name(r) not in SELF_CHECK_ONLY)]
    course = course_settings(root).get(name, {})  # the course's choices for this assignment (helpers/course.toml)
    return render(README_TEMPLATE, name=name, title=assignment.title, notebooks=manifest.notebooks, graded=graded,
                  data=manifest.data, experiment=course.get("experiment"),
                  dataset=course.get("dataset"),
                  side_files=", ".join(f"`{f}`" for f in assignment.side_files),
                  due=term.local(due) if term and due else None,
                  minutes=max(1, round((manifest.budgets.student_seconds or 0) / 60)),
                  python=python, conda_env=kit_environment(root)["name"], colab_install=" ".join(colab))


def bundle_files(name, root=COURSE_ROOT):
    """{path inside the zip: bytes} of assignment `name`'s bundle. Raises BundleError for an unknown assignment."""
    root = Path(root)
    known = registry.names(root)
    if name not in known:
        raise BundleError(f"unknown assignment {name!r}; choose one of {', '.join(known)}")
    notebooks = registry.assignment(name, root).notebooks
    release = root / "release" / name
    missing = [nb for nb in notebooks if not (release / nb).is_file()]
    if missing:
        raise BundleError(f"{', '.join(missing)} not in {release}: run `make release` first")
    requirements = student_requirements(root)
    files = {nb: (release / nb).read_bytes() for nb in notebooks}
    files.update({path.relative_to(root).as_posix(): path.read_bytes() for path in helper_files(root)})
    files["environment.yml"] = environment_yml(requirements, root).encode()
    files["requirements.txt"] = requirements_txt(requirements).encode()
    files["README.md"] = readme(registry.assignment(name, root), requirements, root).encode()
    return {f"{name}/{path}": files[path] for path in sorted(files)}


def helper_files(root=COURSE_ROOT):
    """The helper package's files a student gets: its modules, the course's settings (helpers/course.toml) and the
    message catalogues and glossaries of its languages (helpers/locale/)."""
    helpers = Path(root) / "helpers"
    locale = [*helpers.glob("locale/*/LC_MESSAGES/*.po"), *helpers.glob("locale/*/glossary.toml")]
    return sorted(path for path in [*helpers.rglob("*.py"), helpers / "course.toml", *locale]
                  if "__pycache__" not in path.parts)


def build(name, out_dir="dist", root=COURSE_ROOT):
    """Write `out_dir/<name>-student.zip` (replacing any older one at once); return its path."""
    files = bundle_files(name, root)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{name}-student.zip"
    partial = target.with_name(f"{target.name}.{os.getpid()}.part")
    with zipfile.ZipFile(partial, "w") as archive:
        for path, content in files.items():
            entry = zipfile.ZipInfo(path, date_time=TIMESTAMP)
            entry.create_system = 3  # Unix, whichever system builds it, so that the permissions below apply
            entry.external_attr = FILE_MODE << 16
            archive.writestr(entry, content, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    os.replace(partial, target)
    return target
