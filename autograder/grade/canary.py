"""The canary: before a batch, the grader looks at every Dask worker of the batch and grades the instructor's own
solution on each, through the path the students' submissions take (intake, the same sandbox kind).

First look (`check_workers`): a worker is refused, before anything is graded, when its kit or course settings differ
from the client's (autograder.grade.fingerprint), when it has no working sandbox, or when its sandbox, checked from
the inside, shares a namespace with it, sees the course's folders or has a network (the last two allowed only with
`--allow-unsandboxed`, and then recorded). Then the batch is refused unless the solution gets every autograded point
on each worker: a grader that cannot grade the reference in full would charge every student for its own failure.
"""
import shutil
from pathlib import Path

import nbformat

from autograder import registry
from autograder.grade import intake
from autograder.notebooks import read_notebook, reference_answers, submission, written_answers

#: The canary's student id: it is graded like a submission, but never written to the batch's reports or gradebook.
CANARY_ID = "canary-reference-solution"


class CanaryFailed(RuntimeError):
    """The reference solution did not get every autograded point: `results` ({worker: Result}) say where."""

    def __init__(self, assignment, results):
        self.assignment, self.results = assignment, results
        super().__init__("\n".join(self.lines()))

    def lines(self):
        """What the canary got, worker by worker and part by part, with each lost part's diagnosis or cause."""
        lines = [f"The grader refuses to grade this batch of {self.assignment}: the instructor's reference solution, "
                 "graded first as a student's submission, did not get every autograded point."]
        for worker, result in self.results.items():
            lines.append(f"  worker {worker}: status {result.status}, {_points(result)}")
            for grade_id, part in result.parts.items():
                if part.grader_error:
                    lines.append(f"    {grade_id}: not graded, the grader failed: {part.grader_error}")
                elif part.score < part.max:
                    why = "; ".join(part.diagnoses) or "no diagnosis"
                    lines.append(f"    {grade_id}: {part.score:g} / {part.max:g}: {why}")
                else:
                    lines.append(f"    {grade_id}: {part.score:g} / {part.max:g}")
        lines.append("Fix the cause (see the sandbox's isolation and the causes above), or pass --no-canary to grade "
                     "anyway.")
        return lines


class WorkersRefused(RuntimeError):
    """Workers the canary's first look refused, before any grading: `reasons` is {worker: [why]}."""

    def __init__(self, assignment, reasons):
        self.assignment, self.reasons = assignment, reasons
        lines = [f"The grader refuses to grade this batch of {assignment}: "
                 f"{len(reasons)} worker{'s' if len(reasons) > 1 else ''} cannot grade it as the client would."]
        for worker, why in reasons.items():
            lines += [f"  worker {worker}:"] + [f"    {reason}" for reason in why]
        super().__init__("\n".join(lines))


def check_workers(assignment, reports, expected, allow_unsandboxed):
    """Raise WorkersRefused naming each worker whose report (task.worker_report, by worker address; {"error": why}
    when it could not give one) differs from the client's `expected` fingerprint, has no sandbox, or has one that
    leaks (both allowed with
    `allow_unsandboxed`, which the reports then record)."""
    reasons = {}
    for worker, report in reports.items():
        if "error" in report:
            reasons[worker] = [f"it could not say what it grades with ({report['error']}): start it from the same "
                               "kit as the client"]
            continue
        why = [f"its {what} is {report['fingerprint'].get(what)}, the client's {expected[what]}: start it from the "
               "same kit and course as the client" for what in sorted(expected)
               if report["fingerprint"].get(what) != expected[what]]
        if not allow_unsandboxed:
            why += [report["problem"]] if report["problem"] else []
            why += [f"its sandbox {fault}" for fault in report["faults"]] if not report["problem"] else []
        if why:
            reasons[worker] = why
    if reasons:
        raise WorkersRefused(assignment, reasons)


def reference_submission(course_dir, assignment):
    """(notebook, {side file name: path}) of the reference: the release notebook with every answer cell and written
    answer of the source's solution, and the reference's side files (the assignment's REFERENCE_FILES, e.g.
    two_layer_net's best model: trained once, about a minute, then cached)."""
    found = registry.assignment(assignment, course_dir)
    source = read_notebook(Path(course_dir) / "source" / assignment / found.notebook)
    release = read_notebook(Path(course_dir) / "release" / assignment / found.notebook)
    answers = {**reference_answers(source), **written_answers(source)}
    return submission(release, source, answers), found.reference_files()


def canary_submission(course_dir, template, folder):
    """The reference laid out as one submission in `folder`, read back through intake as students' are."""
    notebook, side_files = reference_submission(course_dir, template.assignment)
    nbformat.write(notebook, Path(folder) / f"{CANARY_ID}.ipynb")
    if side_files:
        (Path(folder) / CANARY_ID).mkdir()
        for name, path in side_files.items():
            shutil.copy(path, Path(folder) / CANARY_ID / name)
    sub, = intake.collect(folder, template.assignment, template.notebook_file)
    return sub


def full_marks(result):
    """True when every autograded part of `result` got all its points."""
    return all(part.score is not None and part.score >= part.max for part in result.parts.values())


def check(assignment, results):
    """Raise CanaryFailed unless every worker's canary result has full marks."""
    if not results or not all(full_marks(result) for result in results.values()):
        raise CanaryFailed(assignment, results)


def _points(result):
    scores = [part.score for part in result.parts.values()]
    got = "not graded" if None in scores else f"{sum(scores):g}"
    return f"{got} of {sum(part.max for part in result.parts.values()):g} autograded points"
