"""Correct code in every style, cells of the student's own, and hostile submissions, graded by `python -m autograder
grade` one case at a time: rows, statuses, scores, seconds and the grader's own peak memory per case."""
import shutil
import zipfile

import nbformat

from autograder import registry
from autograder.hostile import (FORWARD_WITH_RELU, HANG_EVERYWHERE, TRAINS_FOR_MINUTES, checkpoint_bomb,
                                same_tensors_every_step, write_zeros)
from autograder.notebooks import read_notebook, reference_answers, submission
from assignments.two_layer_net.reference_model import reference_checkpoint
from autograder.styles import combine, style_notebook
from assignments.two_layer_net.styles import STYLES
from benchmarks.grader_process import grade_in_own_process, released_course

ASSIGNMENT = "two_layer_net"
CHECKPOINT, = registry.assignment(ASSIGNMENT).side_files  # the best model each submission hands in
BOMB_BYTES = 5 * 10**9  # what the 5 MB checkpoint inflates to
LMS_BOMB_BYTES = int(2.1 * 2**30)  # what one student's LMS entry inflates to
LMS = "HW2_{}_attempt_2027-02-01-10-00-00_{}"


def run():
    figures = {}
    with released_course("bench-hostile-") as (tmp, course):
        for case, build in CASES.items():
            target = build(course, tmp / case)
            figures[case] = grade_in_own_process(target, tmp / f"out-{case}", course)
    return figures


def _notebooks(course):
    source = read_notebook(course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    release = read_notebook(course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    return source, release, reference_answers(source)


def _folder(folder, notebooks, model):
    """<student>.ipynb and <student>/best_two_layer_net.pth for each (student, notebook) of `notebooks`."""
    for student, nb in notebooks.items():
        (folder / student).mkdir(parents=True)
        nbformat.write(nb, folder / f"{student}.ipynb")
        if model is not None:
            shutil.copy(model, folder / student / CHECKPOINT)
    return folder


def styles(course, folder):
    source, release, answers = _notebooks(course)
    return _folder(folder, {f"styles-{i}": style_notebook(release, source, answers, group)
                            for i, group in enumerate(combine(STYLES))}, reference_checkpoint("fashion_mnist"))


def added_cells(course, folder):
    source, release, answers = _notebooks(course)
    return _folder(folder, {
        "trains-in-added-cell": submission(release, source, {**answers, "nn_forward_pass": FORWARD_WITH_RELU},
                                           [("nn_forward_pass", TRAINS_FOR_MINUTES)]),
        "typo-in-added-cell": submission(release, source, answers, [("nn_train", "def half(x)\n    return x / 2\n")])},
        reference_checkpoint("fashion_mnist"))


def same_tensors(course, folder):
    source, release, answers = _notebooks(course)
    nn_train = same_tensors_every_step(answers["nn_train"])
    return _folder(folder, {"same-batch-tensors": submission(release, source, {**answers, "nn_train": nn_train})},
                   reference_checkpoint("fashion_mnist"))


def hang_everywhere(course, folder):
    source, release, answers = _notebooks(course)
    return _folder(folder, {"hangs-everywhere": submission(release, source, {**answers, **HANG_EVERYWHERE})},
                   reference_checkpoint("fashion_mnist"))


def checkpoint_bomb_case(course, folder):
    source, release, answers = _notebooks(course)
    _folder(folder, {"honest": submission(release, source, answers)}, reference_checkpoint("fashion_mnist"))
    _folder(folder, {"bomber": submission(release, source, answers)}, None)
    checkpoint_bomb(folder / "bomber" / CHECKPOINT, BOMB_BYTES)
    return folder


def lms_zip_bomb(course, folder):
    source, release, answers = _notebooks(course)
    folder.mkdir()
    text = nbformat.writes(submission(release, source, answers))
    with zipfile.ZipFile(folder / "lms.zip", "w") as archive:
        for student in ("alice", "bob"):
            archive.writestr(LMS.format(student, f"{ASSIGNMENT}.ipynb"), text)
            archive.write(reference_checkpoint("fashion_mnist"), LMS.format(student, CHECKPOINT))
        write_zeros(archive, LMS.format("mallory", f"{ASSIGNMENT}.ipynb"), LMS_BOMB_BYTES)
    return folder / "lms.zip"


CASES = {"styles": styles, "added_cells": added_cells, "same_tensors": same_tensors,
         "hang_everywhere": hang_everywhere, "checkpoint_bomb": checkpoint_bomb_case, "lms_zip_bomb": lms_zip_bomb}


def summary(f):
    full = sum(not r["lost"] for r in f["styles"]["rows"].values())
    hang, bomb, lms = f["hang_everywhere"], f["checkpoint_bomb"], f["lms_zip_bomb"]
    return (f"{full}/{len(f['styles']['rows'])} style notebooks full marks; every-function-hangs graded in "
            f"{hang['seconds']} s; 5 GB checkpoint bomb: grader peak {bomb['grader_peak_mb']} MB; LMS zip with a "
            f"2.1 GB entry: {len(lms['rows'])} rows ({', '.join(sorted({r['status'] for r in lms['rows'].values()}))})")
