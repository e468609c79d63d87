"""`python -m autograder new NAME` in a copy of the kit: the new assignment releases, passes the conformance suite and
grades (the solution full marks, the blank release zero), and nothing outside its own folders changes.

The copy's virtualenv is this checkout's, installed from here: another checkout, as far as the copy knows. Nothing sets
PYTHONPATH, so the copy's own commands import the copy (Python puts their working folder first) while the kernels
nbgrader starts import the installed kit, which has never heard of the new assignment: the hidden tests must run
the checks of the course they belong to (one course root)."""
import csv
import hashlib
import os
import subprocess
import sys

import nbformat
import pytest

from test_grader_trust import kit_copy

NAME = "cnn_basics"
OWN = (f"assignments/{NAME}/", f"source/{NAME}/", f"release/{NAME}/")


def snapshot(kit):
    """{path: sha256} of the kit's files: its .venv, caches and nbgrader's gradebook (which git ignores) aside."""
    return {path.relative_to(kit).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in kit.rglob("*") if path.is_file() and not {".venv", "__pycache__"} & set(path.parts)
            and path.name != "gradebook.db"}


def run(kit, *args, timeout=900, cwd=None):
    """`python ARGS` in the kit copy (or in `cwd`), with the copy's virtualenv and no PYTHONPATH."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST") and key != "PYTHONPATH"}
    done = subprocess.run([str(kit / ".venv" / "bin" / "python"), *args], cwd=cwd or kit, capture_output=True,
                          text=True, timeout=timeout, env=env)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return done.stdout


@pytest.mark.xdist_group("new-assignment")
@pytest.mark.slow
def test_a_new_assignment_passes_the_conformance_suite_and_grades(tmp_path):
    kit = kit_copy(tmp_path / "kit")
    installed = run(kit, "-c", "import autograder; print(autograder.__file__)", cwd=tmp_path).strip()
    assert not installed.startswith(str(kit)), installed  # what a kernel outside the copy's folder imports
    before = snapshot(kit)
    run(kit, "-m", "autograder", "new", NAME)
    run(kit, "-m", "autograder", "release", NAME)
    after = snapshot(kit)
    changed = {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}
    assert changed and all(path.startswith(OWN) for path in changed), sorted(changed)

    passed = run(kit, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_conformance.py", "-k", NAME)
    assert " passed" in passed and "failed" not in passed and "skipped" not in passed, passed[-2000:]

    submissions = tmp_path / "submissions"
    submissions.mkdir()
    run(kit, "-c", "import sys, nbformat; from autograder.grade.canary import reference_submission; "
                   "from autograder.registry import COURSE_ROOT; "
                   f"nbformat.write(reference_submission(COURSE_ROOT, {NAME!r})[0], sys.argv[1])",
        str(submissions / "solution.ipynb"))
    nbformat.write(nbformat.read(kit / "release" / NAME / f"{NAME}.ipynb", 4), submissions / "blank.ipynb")
    run(kit, "-m", "autograder", "grade", NAME, str(submissions), "--out", str(tmp_path / "out"))
    with open(tmp_path / "out" / "grades.csv") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    assert (rows["solution"]["status"], float(rows["solution"]["total"]), float(rows["solution"]["max_total"])) == \
        ("ok", 2.0, 2.0)
    assert (rows["blank"]["status"], float(rows["blank"]["total"])) == ("ok", 0.0)


def test_new_refuses_a_name_that_is_taken_or_cannot_be_a_package(tmp_path, capsys):
    from autograder.scaffold import ScaffoldError, new_assignment
    (tmp_path / "assignments" / "taken").mkdir(parents=True)
    for name, why in (("taken", "already exists"), ("CNN-basics", "cannot name an assignment"),
                      ("class", "cannot name an assignment")):
        with pytest.raises(ScaffoldError, match=why):
            new_assignment(name, root=tmp_path)
    assert sorted(p.name for p in (tmp_path / "assignments").iterdir()) == ["taken"]
    assert sys.modules.get(f"assignments.{NAME}") is None


def test_a_new_assignment_follows_the_authoring_rules(tmp_path, capsys):
    """What `new` writes passes `python -m autograder check` as it is (fast: nothing is released or graded)."""
    from autograder import authoring, registry
    from autograder.__main__ import main
    from autograder.course_dir import scratch_course
    from autograder.scaffold import new_assignment
    course = scratch_course(tmp_path / "course", [])
    try:
        new_assignment(NAME, root=course)
        assert authoring.check(NAME, course) == []
        assert main(["check", NAME, "--course", str(course)]) == 0
        assert f"{NAME}: {len(authoring.RULES)} rules passed" in capsys.readouterr().out
    finally:
        registry.bind_course(registry.COURSE_ROOT)
