"""`python -m autograder similarity ASSIGNMENT SUBMISSIONS`: a copying report over the students' answer code.

Each student's code is the source of their autograded answer cells and of the code cells they added; the release's
starter code is copydetect's boilerplate (its fingerprints never count). Every pair of students, and every student
against each known solution (`--against FOLDER`), is fingerprinted and compared by copydetect (winnowed k-grams of
the code with names, strings and comments filtered out). DIR/similarity.csv lists every pair, DIR/similarity.html
the highest side by side with the matching regions marked. It reads submissions only: no grade, gradebook or result
is changed.
"""
import csv
import io
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from copydetect import CodeFingerprint, compare_files
from copydetect.utils import highlight_overlap
from markupsafe import Markup
from tqdm import tqdm

from autograder import registry
from autograder.course_dir import COURSE_ROOT, generate_release
from autograder.grade import intake
from autograder.notebooks import (NotebookError, answer_cells, grade_id, notebook_from_bytes, read_notebook,
                                  source_text)
from autograder.render import render

#: copydetect's noise threshold: the shortest run of filtered code characters (names as V, F, O, strings as S,
#: no comments or whitespace) that counts as a match. benchmarks/similarity.py measures the choice.
NOISE = 50
#: copydetect's guarantee threshold: every match at least this long is found (window = GUARANTEE - NOISE + 1).
GUARANTEE = 50
#: Pairs scoring above this are drawn side by side on the page (all are in the CSV).
DISPLAY = 0.45
#: At most this many pairs are drawn on the page, highest first.
SHOWN = 100
#: The name a known solution has in the report: KNOWN + its file or folder name.
KNOWN = "known:"
#: Files of a known-solutions folder that are read.
CODE_SUFFIXES = (".py", ".ipynb")
NEVER_GRADES = "This report never changes a grade: it does not touch grades, the gradebook or grading results."


class SimilarityError(ValueError):
    """Input the report cannot be made from (a missing folder, an unknown assignment)."""


@dataclass(frozen=True)
class Pair:
    """Two students (or a student and a known solution, `known:NAME`) and their similarity score in [0, 1]."""
    student_a: str
    student_b: str
    score: float


def run(assignment, submissions, out, against=None, course_dir=COURSE_ROOT, show_progress=True):
    """Compare the class (and each student against the known solutions in `against`), write DIR/similarity.csv and
    DIR/similarity.html, and return every Pair, highest score first."""
    try:
        task = registry.assignment(assignment, course_dir)
    except FileNotFoundError as error:
        raise SimilarityError(str(error)) from None
    if against is not None and not Path(against).is_dir():
        raise SimilarityError(f"{against} is not a folder of known solutions")
    try:
        subs = intake.collect(submissions, assignment, task.notebook)
    except intake.IntakeError as error:
        raise SimilarityError(str(error)) from None
    max_bytes = task.manifest.budgets.notebook_mb * 2**20
    try:
        source_nb = read_notebook(Path(course_dir) / "source" / assignment / task.notebook)
    except NotebookError as error:
        raise SimilarityError(f"the source notebook, which says which cells are answers: {error}") from None
    answer_ids = set(answer_cells(source_nb))
    students, skipped = class_code(subs, answer_ids, max_bytes)
    known, skipped_known = known_code(against, answer_ids, max_bytes) if against is not None else ({}, [])
    stubs = starter_code(assignment, task.notebook, answer_ids, course_dir)
    prints = fingerprints({**students, **known}, stubs)
    pairs, slices = compare(prints, list(students), list(known), show_progress)
    write_report(Path(out), task.title, pairs, slices, prints, skipped + skipped_known, len(students), len(known))
    return pairs


def student_code(nb, answer_ids):
    """The code a student wrote: their autograded answer cells and the code cells they added, in notebook order."""
    cells = [c for c in nb.cells if isinstance(c, dict) and c.get("cell_type") == "code"
             and (grade_id(c) in answer_ids or grade_id(c) is None)]
    return "\n\n".join(source_text(c.get("source")) for c in cells)


def class_code(subs, answer_ids, max_bytes):
    """({student_id: code}, [(student_id, why skipped)]) of the intake's submissions."""
    code, skipped = {}, []
    for sub in subs:
        if sub.problem is not None or sub.notebook is None:
            skipped.append((sub.student_id, sub.problem[1] if sub.problem else "no notebook submitted"))
            continue
        try:
            nb = notebook_from_bytes(sub.notebook.read(max_bytes), sub.notebook_name or sub.notebook.name)
            code[sub.student_id] = student_code(nb, answer_ids)
        except (intake.TooLarge, NotebookError) as error:
            skipped.append((sub.student_id, str(error)))
        except (OSError, zipfile.BadZipFile) as error:
            skipped.append((sub.student_id, f"{sub.notebook.name} could not be read ({error})"))
    return code, skipped


def known_code(folder, answer_ids, max_bytes):
    """({KNOWN + name: code}, [(name, why skipped)]): each .py or .ipynb file, and each sub-folder (its .py and
    .ipynb files, recursively), at the top of `folder` is one known solution; a notebook's code is picked as a
    student's is (all its code cells when it has no nbgrader metadata)."""
    code, skipped = {}, []
    for entry in sorted(Path(folder).iterdir()):
        if entry.name.startswith("."):
            continue
        files = sorted(f for f in entry.rglob("*") if f.suffix in CODE_SUFFIXES and f.is_file()) if entry.is_dir() \
            else [entry] if entry.suffix in CODE_SUFFIXES else []
        if not files:
            if entry.is_dir():
                skipped.append((KNOWN + entry.name, "no .py or .ipynb file in it"))
            continue
        try:
            code[KNOWN + entry.name] = "\n\n".join(_file_code(f, answer_ids, max_bytes) for f in files)
        except (OSError, NotebookError) as error:
            skipped.append((KNOWN + entry.name, str(error)))
    return code, skipped


def _file_code(path, answer_ids, max_bytes):
    """A known solution file's code: a .py file's text, a notebook's code as `student_code` picks it."""
    if path.stat().st_size > max_bytes:
        raise NotebookError(f"{path.name} is larger than the notebook budget ({max_bytes // 2**20} MiB)")
    content = path.read_bytes()
    if path.suffix == ".py":
        return content.decode("utf-8", errors="replace")
    return student_code(notebook_from_bytes(content, path.name), answer_ids)


def starter_code(assignment, notebook, answer_ids, course_dir):
    """The code students were given: the release notebook's (built first when missing) answer cells as
    `student_code` joins them (so that the seams between two untouched stubs are starter code too), then every code
    cell."""
    path = Path(course_dir) / "release" / assignment / notebook
    if not path.is_file():
        generate_release(assignment, course_dir)
    nb = read_notebook(path)
    return "\n\n".join([student_code(nb, answer_ids), *(c.source for c in nb.cells if c.cell_type == "code")])


def fingerprints(codes, stubs, noise=NOISE, guarantee=GUARANTEE):
    """{name: copydetect CodeFingerprint} of each code, the fingerprints of `stubs` (starter code) left out."""
    boilerplate = np.unique(np.array(list(_fingerprint("starter.py", stubs, noise, 1).hashes)))
    return {name: _fingerprint(f"{name}.py", code, noise, guarantee - noise + 1, boilerplate)
            for name, code in codes.items()}


def _fingerprint(name, code, noise, window, boilerplate=None):
    return CodeFingerprint(name, noise, window, boilerplate, language="python", fp=io.StringIO(code))


def score(print_a, print_b, known=False):
    """(score, matched slices) of a pair: copydetect's share of each side's code matched, averaged over two students
    (one who handed in little is not flagged for the little they share); against a known solution, the student's
    share alone (whatever else the known source holds does not dilute it)."""
    _, (share_a, share_b), slices = compare_files(print_a, print_b)
    return round(float(share_a if known else (share_a + share_b) / 2), 4), slices


def compare(prints, students, known, show_progress=True):
    """Every student-student and student-known Pair, highest first, and the matched slices of the SHOWN highest."""
    pairs = []
    for i, a in enumerate(tqdm(students, desc="comparing", unit="student", disable=not show_progress)):
        pairs += [Pair(a, b, score(prints[a], prints[b])[0]) for b in students[i + 1:]]
        pairs += [Pair(a, b, score(prints[a], prints[b], known=True)[0]) for b in known]
    pairs.sort(key=lambda p: (-p.score, p.student_a, p.student_b))
    shown = [p for p in pairs[:SHOWN] if p.score > DISPLAY]
    return pairs, {p: score(prints[p.student_a], prints[p.student_b])[1] for p in shown}


def write_report(out, title, pairs, slices, prints, skipped, students, known):
    """DIR/similarity.csv (every pair) and DIR/similarity.html (the shown pairs side by side)."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "similarity.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student_a", "student_b", "score"])
        writer.writerows([p.student_a, p.student_b, f"{p.score:.4f}"] for p in pairs)
    shown = []
    for pair, (slices_a, slices_b) in slices.items():
        shown.append({"pair": pair, "code_a": _marked(prints[pair.student_a].raw_code, slices_a),
                      "code_b": _marked(prints[pair.student_b].raw_code, slices_b)})
    (out / "similarity.html").write_text(render(
        "similarity.html.j2", title=title, never_grades=NEVER_GRADES, shown=shown, pairs=len(pairs),
        students=students, known=known, display=DISPLAY, skipped=skipped,
        settings={"noise threshold": NOISE, "guarantee threshold": GUARANTEE, "display threshold": DISPLAY}))


def _marked(code, slices):
    """The code, HTML-escaped by copydetect, each matched region in a <mark>."""
    return Markup(highlight_overlap(code, slices, "<mark>", "</mark>", escape_html=True)[0])


def command(args):
    """`python -m autograder similarity`: exit 0 with the report written, 2 with `error: ...` for bad input."""
    out = Path(args.out or Path("similarity-output") / args.assignment)
    try:
        pairs = run(args.assignment, args.submissions, out, against=args.against,
                    course_dir=args.course or COURSE_ROOT)
    except SimilarityError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    flagged = sum(p.score > DISPLAY for p in pairs)
    print(f"Compared {len(pairs)} pairs: {flagged} score above {DISPLAY}. {NEVER_GRADES}")
    print(f"Report: {out / 'similarity.html'}, {out / 'similarity.csv'}")
    return 0


