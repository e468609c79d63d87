"""A class of 1000 two_layer_net submissions (the reference notebook and its best model, each under its own student
id) graded by the command line on this machine, by this kit and, in the same run, by the kit as it was before the
class-size work (BASELINE, unpacked from git), each in a process of its own on its own released course: seconds,
submissions a minute, the grader's own peak memory, and this kit's profile (DIR/profile.json: where the time went,
batch stage by stage and per submission). A class of 50 graded by this kit gives the memory ratio."""
import io
import json
import os
import subprocess
import tarfile
from pathlib import Path

import nbformat

from autograder import registry
from autograder.course_dir import COURSE_ROOT
from autograder.demo import demo_submissions
from benchmarks.grader_process import grade_in_own_process, released_course

ASSIGNMENT = "two_layer_net"
CHECKPOINT, = registry.assignment(ASSIGNMENT).side_files
#: main before the class-size work: the grader this benchmark compares with.
BASELINE = "6fa9598"
CLASS_SIZES = (50, 1000)
TARGET_PER_MINUTE = 200


def run():
    figures = {"baseline_commit": BASELINE, "cpu_count": os.cpu_count(), "target_per_minute": TARGET_PER_MINUTE}
    with released_course("bench-class-") as (tmp, course):
        notebook, side_files = demo_submissions(course, ASSIGNMENT, mutants=())["reference"]
        classes = {size: write_class(tmp / f"class-{size}", size, nbformat.writes(notebook), side_files[CHECKPOINT])
                   for size in CLASS_SIZES}
        baseline_kit = unpack(BASELINE, tmp / "baseline-kit")
        with released_course("bench-class-baseline-") as (_, baseline_course):
            runs = {"baseline": grade_in_own_process(classes[1000], tmp / "out-baseline", baseline_course,
                                                     kit=baseline_kit),
                    "now": grade_in_own_process(classes[1000], tmp / "out-now", course)}
        small = grade_in_own_process(classes[50], tmp / "out-now-50", course)
        profile = (tmp / "out-now" / "profile.json").read_text()
    for name, graded in runs.items():
        rows = graded["rows"].values()
        figures[name] = {"exit": graded["exit"], "rows": len(rows), "ok_rows": sum(r["status"] == "ok" for r in rows),
                         "seconds": graded["seconds"], "per_minute": round(60 * len(rows) / graded["seconds"], 1),
                         "grader_peak_mb": graded["grader_peak_mb"], "load_average_1min_at_start": graded["load"]}
    figures["now"]["profile"] = json.loads(profile)
    figures["speedup"] = round(runs["baseline"]["seconds"] / runs["now"]["seconds"], 2)
    figures["now_50"] = {"seconds": small["seconds"], "grader_peak_mb": small["grader_peak_mb"],
                         "rows": len(small["rows"])}
    figures["peak_ratio_1000_to_50"] = round(runs["now"]["grader_peak_mb"] / small["grader_peak_mb"], 2)
    return figures


def write_class(folder, size, text, model):
    """`size` students, each handing in the same notebook and best model (hard links: the files are read anyway)."""
    folder.mkdir()
    for i in range(size):
        (folder / f"student-{i:04d}.ipynb").write_text(text)
        (folder / f"student-{i:04d}").mkdir()
        os.link(model, folder / f"student-{i:04d}" / CHECKPOINT)
    return folder


def unpack(commit, folder):
    """The kit's files at `commit` (git archive) in `folder`."""
    archive = subprocess.run(["git", "archive", "--format=tar", commit], cwd=COURSE_ROOT, capture_output=True,
                             check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return Path(folder)


def summary(f):
    base, now = f["baseline"], f["now"]
    stages = now["profile"]["stage_seconds_per_submission"]
    return (f"1000 submissions on {f['cpu_count']} cores: before ({f['baseline_commit']}) {base['seconds']:.0f} s "
            f"({base['per_minute']}/min), now {now['seconds']:.0f} s ({now['per_minute']}/min, target "
            f"{f['target_per_minute']}), x{f['speedup']}; {now['ok_rows']}/{now['rows']} ok; per submission on a "
            f"worker {now['profile']['worker_seconds_per_submission']} s (sandbox {stages.get('sandbox')}, judge "
            f"{stages.get('judge')}, draw {stages.get('draw')}, best model {stages.get('best_model')}); grader peak "
            f"{now['grader_peak_mb']} MB for 1000, {f['now_50']['grader_peak_mb']} MB for 50 (ratio "
            f"{f['peak_ratio_1000_to_50']})")
