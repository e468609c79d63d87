"""nbgrader's `autograded/<student>/<assignment>/<notebook>.ipynb`, written from the batch grader's results, so
formgrader shows every submission (written answers included) and `nbgrader generate_feedback` and
`nbgrader export` work on them.

The autograded notebook of a submission is the student's own notebook (answer cells, written answers, the cells
they added, their outputs) with:

* every locked cell (set-up, visible checks, graded test cells) reset to its release version, so no hidden test
  ever appears in it, nor in the feedback nbgrader makes from it;
* every graded test cell given one plain-text output: the batch grader's result for that part (score, each
  sub-check, the diagnoses);
* the nbgrader metadata of the other graded and answer cells restored from the release (cell type, points,
  grade id), as nbgrader's OverwriteCells does; cells with a grade id the release does not have, or the earlier
  copies of a duplicated one (nbgrader's DeduplicateIds), lose their nbgrader metadata;
* markup that could run script in the grader's browser (formgrader renders this notebook in the instructor's
  session) shown as text: tags other than plain formatting, `javascript:` links, HTML and JavaScript outputs;
* a first markdown cell saying how it was graded, the submission's status and notes, and which graded cells
  the student deleted (those cannot be shown; their scores are in the gradebook).

Side files are not copied except nbgrader's own `timestamp.txt` and `submission_secret.txt`, which
`generate_feedback` carries to feedback/ and `release_feedback` needs to match feedback to the submission. The
best-model checkpoint is not: formgrader and feedback never read it, and the grader already judged it.
Nothing is written to submitted/.
"""
import html
import re
import sys
import zipfile
from pathlib import Path

import nbformat
from nbgrader import utils as nbgrader_utils

from autograder.harness.i18n import _
from autograder.notebooks import grade_id, notebook_from_bytes, source_text

#: nbgrader's bookkeeping files in a submission folder, copied to autograded/ (and the most bytes read of each).
BOOKKEEPING = {"timestamp.txt": 1024, "submission_secret.txt": 1024}
#: Tags a written answer may use as markup; any other tag is shown as text.
PLAIN_TAGS = ("b", "i", "em", "strong", "u", "s", "del", "sub", "sup", "br", "p", "code", "pre", "kbd", "ul", "ol",
              "li", "blockquote", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th",
              "td", "span", "div")
OTHER_TAG = re.compile(r"<(?!/?(?:%s)\s*/?>)(?=[A-Za-z/!?])" % "|".join(PLAIN_TAGS), re.I)
#: A link's target: inline `[text](target)`, or a reference definition `[name]: target`.
LINK_TARGET = re.compile(r"(\]\(\s*)([^)\s]+)|(^ {0,3}\[[^\]\n]+\]:[ \t]*)(\S+)", re.M)
SAFE_SCHEMES = ("http", "https", "mailto", "attachment")
#: Output types nbconvert renders as text or images, never as live markup.
SAFE_MIMETYPES = ("text/plain", "image/png", "image/jpeg")


def write_one(course_dir, template, release, sub, result):
    """Write one submission's autograded notebook (from the `release` notebook and its Result, None when it has
    none) where its notebook can be read; return {"written": {grade_id: auto score (0 blank, None answered)}} for
    the gradebook (a written answer missing from "written" was deleted, or the notebook could not be read)."""
    folder = Path(course_dir) / "autograded" / sub.student_id / template.assignment
    notebook = _submitted_notebook(sub, template.limits.notebook_mb * 2**20)
    _clear(folder, template.notebook_file)
    if notebook is None or result is None:
        return {"written": {}}
    try:
        autograded = autograded_notebook(notebook, release, result)
    except Exception as error:  # noqa: BLE001 - one odd notebook must not cost the batch its notebooks
        print(f"warning: no autograded notebook for {sub.student_id} ({type(error).__name__}: {error})",
              file=sys.stderr)
        return {"written": {}}
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(autograded, folder / template.notebook_file)
    _copy_bookkeeping(sub, folder)
    return {"written": written_answers(autograded)}


def _submitted_notebook(sub, max_bytes):
    """The submission's parsed notebook, or None when it is missing, too large or not a notebook."""
    if sub.notebook is None or sub.problem is not None:
        return None
    try:
        return notebook_from_bytes(sub.notebook.read(max_bytes), sub.notebook_name)
    except (ValueError, OSError, zipfile.BadZipFile):  # too large (intake.TooLarge), unreadable, not a notebook
        return None


def _clear(folder, notebook_file):
    """Remove what an earlier grading wrote for this submission, so a notebook that no longer reads leaves none."""
    for name in (notebook_file, *BOOKKEEPING):
        (folder / name).unlink(missing_ok=True)


def _copy_bookkeeping(sub, folder):
    """Copy nbgrader's timestamp.txt and submission_secret.txt into `folder`."""
    for name, limit in BOOKKEEPING.items():
        source = sub.side_files.get(name)
        if source is None:
            continue
        try:
            text = source.read(limit).decode("utf-8").strip()
        except (ValueError, OSError, zipfile.BadZipFile):  # too large, unreadable, not text
            continue
        (folder / name).write_text(text)


def autograded_notebook(submitted, release, result):
    """The autograded notebook (see the module's docstring) of one submission, from its parsed notebook, the
    release notebook and its Result."""
    release_cells = {grade_id(c): c for c in release.cells if grade_id(c)}
    trusted_markdown = {c.source for c in release.cells if c.cell_type == "markdown"}
    cells = [c for c in submitted.get("cells", []) if isinstance(c, dict)]
    # Not nbgrader's DeduplicateIds: it dedups only cells whose submitted flags still say grade/solution/locked (a
    # copy with them cleared keeps the grade id), leaves `nbgrader: {}` (schema version 0, which nbgrader's own
    # metadata validation refuses), and raises on a flagged cell without a grade_id or on non-dict metadata.
    last_copy = {grade_id(c): i for i, c in enumerate(cells) if grade_id(c) in release_cells}
    out = []
    for index, cell in enumerate(cells):
        gid = grade_id(cell)
        new = _student_cell(cell, trusted_markdown)
        if gid in release_cells and last_copy[gid] == index:
            new = _restore(new, release_cells[gid])
            if _is_graded_test(new):
                new.outputs = [part_output(gid, result.parts.get(gid))]
        else:
            new.metadata.pop("nbgrader", None)  # an id the release does not have, or an earlier copy of one
        out.append(new)
    missing = [gid for gid, c in release_cells.items() if gid not in last_copy and nbgrader_utils.is_grade(c)]
    nb = nbformat.v4.new_notebook(metadata=nbformat.from_dict(release.metadata),
                                  cells=[nbformat.v4.new_markdown_cell(header(result, missing))] + out)
    nbformat.validate(nb)
    return nb


def _student_cell(cell, trusted_markdown):
    """A fresh cell with the submitted cell's type, text, metadata and outputs, its markup made safe to render."""
    source = source_text(cell.get("source"))
    if cell.get("cell_type") == "code":
        new = nbformat.v4.new_code_cell(source)
        new.outputs = [o for o in map(safe_output, cell.get("outputs") or []) if o is not None]
    elif cell.get("cell_type") == "markdown":
        new = nbformat.v4.new_markdown_cell(source if source in trusted_markdown else safe_markdown(source))
    else:
        new = nbformat.v4.new_raw_cell(source)  # nbconvert sanitises raw cells itself
    metadata = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
    new.metadata = nbformat.from_dict(metadata)
    try:
        nbformat.validate(new, ref=f"{new.cell_type}_cell")
    except nbformat.ValidationError:  # damaged metadata (tags that are not a list...): keep only nbgrader's
        new.metadata = nbformat.from_dict({k: v for k, v in metadata.items() if k == "nbgrader"})
    return new


def _restore(cell, release_cell):
    """The cell with its release type and nbgrader metadata; a locked cell also gets the release's text.

    Not nbgrader's OverwriteCells (though the gradebook has the source cells by now): it puts back the gradebook's
    source cells, saved before generate_assignment clears the hidden tests, so every test cell would show them; it
    restores `locked` and `points` but not `grade`/`solution`, so a flipped flag makes it raise "Inconsistent
    checksums"; and it keeps the other nbgrader metadata of a cell whose id the release lacks, minus the grade_id.
    """
    if nbgrader_utils.is_locked(release_cell):
        restored = nbformat.from_dict(release_cell)
        restored["id"] = cell["id"]
        if restored.cell_type == "code" and cell.cell_type == "code":
            restored.outputs = cell.outputs  # the student's run of a visible check or plot, for the grader
        return restored
    if cell.cell_type != release_cell.cell_type:
        make = nbformat.v4.new_code_cell if release_cell.cell_type == "code" else nbformat.v4.new_markdown_cell
        cell = make(cell.source, metadata=cell.metadata)
    cell.metadata["nbgrader"] = nbformat.from_dict(release_cell.metadata["nbgrader"])
    return cell


def _is_graded_test(cell):
    return cell.cell_type == "code" and nbgrader_utils.is_grade(cell) and not nbgrader_utils.is_solution(cell)


def safe_output(output):
    """The output without markup a browser would run (HTML, JavaScript, SVG, widgets); None when nothing is left.

    Streams and errors are kept (nbconvert escapes them); rich outputs keep their text and images."""
    if not isinstance(output, dict):
        return None
    kind = output.get("output_type")
    try:
        if kind == "stream":
            return nbformat.v4.new_output("stream", name=output.get("name", "stdout"),
                                          text=source_text(output.get("text")))
        if kind == "error":
            return nbformat.v4.new_output("error", ename=str(output.get("ename", "")),
                                          evalue=str(output.get("evalue", "")),
                                          traceback=[str(line) for line in output.get("traceback") or []])
        if kind in ("display_data", "execute_result"):
            data = output["data"] if isinstance(output.get("data"), dict) else {}
            kept = {m: source_text(v) for m, v in data.items() if m in SAFE_MIMETYPES}
            if not kept and data:
                kept = {"text/plain": _("[{types} output, not shown for grading]").format(
                    types=", ".join(sorted(data)))}
            if not kept:
                return None
            extra = {"execution_count": None} if kind == "execute_result" else {}
            return nbformat.v4.new_output(kind, data=kept, **extra)
    except (TypeError, ValueError):
        return None
    return None


def safe_markdown(text):
    """Markdown with every tag but plain formatting (`<b>`, `<em>`, `<code>`...) shown as text, and links whose
    target is not http(s), mailto, an attachment or relative pointed nowhere."""
    return LINK_TARGET.sub(_safe_link, OTHER_TAG.sub("&lt;", text))


def _safe_link(match):
    start, target = (match.group(1), match.group(2)) if match.group(1) is not None else (match.group(3), match.group(4))
    scheme = re.match(r"([^/?#]*):", re.sub(r"[\s\x00-\x1f]", "", html.unescape(target)).lower())
    return start + ("#" if scheme and scheme.group(1) not in SAFE_SCHEMES else target)


def part_output(part_id, part):
    """The plain-text output of a graded test cell: the part's score, its sub-checks and the diagnoses."""
    if part is None:
        return nbformat.v4.new_output("stream", name="stdout",
                                      text=_("{part}: not graded by the autograder").format(part=part_id) + "\n")
    lines = [_("{part}: {score} / {max} points (hidden cases, run by the course autograder)").format(
        part=part_id, score=_number(part.score), max=_number(part.max))]
    for check in part.subchecks:
        detail = f": {check['detail']}" if check.get("detail") else ""
        verdict = _("pass") if check["passed"] else _("FAIL")
        lines.append(f"  {verdict}  {check['name']}{detail}")
    lines += [f"  - {diagnosis}" for diagnosis in part.diagnoses]
    return nbformat.v4.new_output("stream", name="stdout", text="\n".join(lines) + "\n")


def header(result, missing):
    """The first cell: how the notebook was graded, the submission's status, notes, and deleted graded cells."""
    lines = [_("**Autograded by the course's batch grader.** The graded test cells show the release version of "
               "each test and, as their output, this submission's result on hidden cases; written answers are "
               "graded by hand."),
             "",
             _("Status: `{status}`; autograded total {total} of {max} points (written answers not included).").format(
                 status=result.status, total=_number(result.total), max=_number(result.max_total))]
    if result.message:
        lines += ["", html.escape(result.message)]
    if missing:
        lines += ["", _("Graded cells missing from the submission (deleted by the student; they cannot be shown, "
                        "their scores are in the gradebook): {cells}.").format(
                            cells=", ".join(f"`{gid}`" for gid in missing))]
    lines += [""] + [f"* {html.escape(note)}" for note in result.notes]
    return safe_markdown("\n".join(lines).rstrip())


def written_answers(nb):
    """{grade_id: auto score} of the notebook's written answers, as nbgrader scores them: 0 when unchanged from
    the release (no response), None when answered (a person grades it)."""
    return {grade_id(c): nbgrader_utils.determine_grade(c)[0] for c in nb.cells
            if c.cell_type == "markdown" and nbgrader_utils.is_grade(c) and nbgrader_utils.is_solution(c)}


def _number(x):
    return f"{x:g}" if isinstance(x, (int, float)) else str(x)
