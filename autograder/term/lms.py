"""Grade files each LMS gradebook imports, one assignment column at a time, and a reader of each LMS's own export.

canvas: the gradebook export's layout: `Student, ID, SIS User ID, SIS Login ID, Section`, then the assignment as
"Title (assignment id)" (a title without an id makes Canvas create a new assignment), and a second row "Points
Possible". Canvas matches a student by ID, SIS User ID or SIS Login ID. Its CSV import takes no comments, so the
feedback is not in the file (send it another way, e.g. the feedback pages).

moodle: the layout of Moodle's "Plain text file" export (`First name, Last name, ID number, Institution,
Department, Email address`, then "Assignment: Title (Real)", "Assignment: Title (Feedback)" and "Last downloaded from
this course"), which "Import grades from CSV" reads: the instructor maps the identifier column (Email address by
default here, or ID number, or an added Username column) to the Moodle user field, the Real column to the grade item
and the Feedback column to its feedback. Moodle docs: import grades and feedback together, or the feedback import
clears the grades. "Last downloaded" holds the Unix time the file was written, as Moodle's export does: Moodle's
import refuses an empty or non-integer one (unless forced), and with it refuses to overwrite a grade changed in Moodle
after the file was written.

blackboard: Grade Center "Work Offline > Upload". `Last Name, First Name, Username, Student ID, Last Access,
Availability`, then "Title [Total Pts: N Score] |COLUMN_ID" (without "|id" Blackboard makes a new text column), then
the download's comment columns "Feedback to Learner" and "Feedback Format" (PLAIN_TEXT). Written as the comma
`.csv` upload, every field quoted as the docs require for comma files, not the download's tab-separated UTF-16
`.xls`: a tab file has no quoting, so a tab or a line break in feedback would split it, and the same csv module reads
and writes the comma file. "Grading Notes" are not written, so an upload leaves the instructor's notes as they are.
The reader takes both the comma file and the tab-separated UTF-16 download.

csv: the kit's own file: student_id, name, email, section, score, max_points, feedback.

Every file is UTF-8 without a BOM, CRLF rows (RFC 4180). Students without a grade (score None) are left out of the
LMS files, so an upload changes nothing for them; the csv file keeps them with an empty score. Text a student or the
roster controls (names, section, feedback) is quoted by the csv module, and a cell starting with = + - @ (or a tab or
CR) gets a leading ' so a spreadsheet does not run it as a formula; numbers and ids are never changed (the roster
refuses ids starting so).

Sources:
https://community.canvaslms.com/t5/Instructor-Guide/How-do-I-import-grades-in-the-Gradebook/ta-p/807
https://teaching.resources.osu.edu/toolsets/carmencanvas/guides/calculating-final-grades/import-csv-file-carmen-grades
https://ts.vcu.edu/askit/teaching-and-learning/canvas/faculty/grading-faculty/gradebook-action-menu-faculty/
https://nemogb-dev.github.io/nemogb-r/articles/detailed-canvas-export-info.html
https://docs.moodle.org/311/en/Grade_import
https://github.com/moodle/moodle/blob/main/grade/export/lib.php
https://github.com/moodle/moodle/blob/main/grade/export/txt/grade_export_txt.php
http://library.blackboard.com/ref/3ea64795-6ecc-4abd-b595-0a9a8dfdec94/Content/_instructor_grade_center/grade_center_upload_download.htm
https://tips.uark.edu/uploading-your-grade-center/
https://owasp.org/www-community/attacks/CSV_Injection
"""
import csv
import io
import math
import re
import time
from codecs import BOM_UTF16_BE, BOM_UTF16_LE
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from autograder.grade.reports import number
from autograder.term.roster import FORMULA_START, Student

FORMATS = ("canvas", "moodle", "blackboard", "csv")
MOODLE_IDENTIFIERS = ("email", "id_number", "username")

CANVAS_LEADING = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_IDENTITY = {*CANVAS_LEADING, "Integration ID"}
CANVAS_POINTS = "Points Possible"
CANVAS_READ_ONLY = re.compile(r".*\b(Current|Final|Unposted Current|Unposted Final|Override) (Score|Points|Grade)")
CANVAS_ID = re.compile(r"(?P<title>.*) \((?P<id>\d+)\)")

MOODLE_LEADING = ("First name", "Last name", "ID number", "Institution", "Department", "Email address")
MOODLE_COLUMN = {"email": "Email address", "id_number": "ID number", "username": "Username"}
MOODLE_MODULE = "Assignment"
MOODLE_GRADE = re.compile(r"(?:(?P<module>[^:]+): )?(?P<title>.+) \((?P<kind>Real|Percentage|Letter|Feedback)\)")
MOODLE_LAST = "Last downloaded from this course"
MOODLE_NO_GRADE = "-"

BLACKBOARD_LEADING = ("Last Name", "First Name", "Username", "Student ID", "Last Access", "Availability")
BLACKBOARD_IDENTITY = {*BLACKBOARD_LEADING, "Child Course ID"}
BLACKBOARD_FEEDBACK = ("Feedback to Learner", "Feedback Format")
BLACKBOARD_COMMENTS = {"Grading Notes", "Notes Format", "Feedback to User", *BLACKBOARD_FEEDBACK}
BLACKBOARD_COLUMN = re.compile(r"(?P<title>.*?)(?: \[Total Pts: (?P<up_to>up to )?(?P<points>[\d.]+)[^\]]*\])?"
                               r"(?: \|(?P<id>\d+))?")
BLACKBOARD_NO_GRADE = {"Needs Grading", "In Progress"}

GENERIC = ("student_id", "name", "email", "section", "score", "max_points", "feedback")


class ExportError(ValueError):
    """A grade file cannot be written (a student lacks the id the LMS matches by) or read; the message says which."""


@dataclass(frozen=True)
class Column:
    """The LMS gradebook column: `lms_id` is Canvas's assignment id or Blackboard's column id (None: a new column)."""
    title: str
    max_points: float
    lms_id: str | None = None


@dataclass(frozen=True)
class GradeRow:
    """One student's grade to send (`score` None: nothing to send) and plain-text feedback."""
    student: Student
    score: float | None
    feedback: str = ""


@dataclass(frozen=True)
class ImportedGrade:
    """What the LMS would take from one row of a grade file: whom (`identifier`), the score and the feedback."""
    identifier: str
    score: float | None
    feedback: str


def write(fmt, rows: Iterable[GradeRow], column: Column, path, *, moodle_identifier="email") -> Path:
    """Write `rows` as `fmt`'s grade import file for `column` at `path`; ExportError names every student the format
    cannot identify."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")
    if moodle_identifier not in MOODLE_IDENTIFIERS:
        raise ExportError(f"unknown Moodle identifier {moodle_identifier!r}: one of {', '.join(MOODLE_IDENTIFIERS)}")
    rows = list(rows)
    _check(fmt, rows, column, moodle_identifier)
    graded = [row for row in rows if row.score is not None]
    if fmt == "canvas":
        table = _canvas(graded, column)
    elif fmt == "moodle":
        table = _moodle(graded, column, moodle_identifier)
    elif fmt == "blackboard":
        table = _blackboard(graded, column)
    else:
        table = [list(GENERIC)] + [[row.student.student_id, _text(row.student.name), _text(row.student.email),
                                    _text(row.student.section), number(row.score), number(column.max_points),
                                    _text(row.feedback)] for row in rows]
    out = io.StringIO(newline="")
    csv.writer(out, quoting=csv.QUOTE_ALL if fmt == "blackboard" else csv.QUOTE_MINIMAL).writerows(table)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue().encode("utf-8"))
    return path


def read(fmt, path, *, title=None, moodle_identifier="email") -> list[ImportedGrade]:
    """The grades the LMS would import from `path` (its own export, or a file `write` made): one per student row, for
    the assignment column named `title` (its title, or its whole header), or the file's only assignment column."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")
    path = Path(path)
    lines = _table(path)
    if not lines:
        raise ExportError(f"{path} is empty")
    header = [cell.strip() for cell in lines[0][1]]
    if fmt == "canvas":
        return _read_canvas(path, header, lines[1:], title)
    if fmt == "moodle":
        return _read_moodle(path, header, lines[1:], title, moodle_identifier)
    if fmt == "blackboard":
        return _read_blackboard(path, header, lines[1:], title)
    if header != list(GENERIC):
        raise ExportError(f"{path} line 1: the header is not {','.join(GENERIC)}")
    return [ImportedGrade(_cell(cells, 0), _score(path, line, _cell(cells, 4)), _cell(cells, 6))
            for line, cells in lines[1:]]


def _text(value):
    """A text cell a spreadsheet shows as text: a leading ' before a formula's first character."""
    return "'" + value if value.startswith(FORMULA_START) else value


def _identifiers(fmt, student, moodle_identifier):
    """(what the format matches `student` by, in words; the values it would use): no value means unusable."""
    if fmt == "canvas":
        return "Canvas ID (roster lms_id) or SIS User ID (sis_id)", [v for v in (student.lms_id, student.sis_id) if v]
    if fmt == "moodle":
        value = {"email": student.email, "id_number": student.lms_id, "username": student.login}[moodle_identifier]
        field = {"email": "email", "id_number": "lms_id", "username": "login"}[moodle_identifier]
        return f"Moodle {MOODLE_COLUMN[moodle_identifier]} (roster {field})", [value] if value else []
    if fmt == "blackboard":
        return "Blackboard Username (roster login)", [student.login]
    return "student id", [student.student_id]


def _check(fmt, rows, column, moodle_identifier):
    """Refuse, naming every student, what the LMS could not match or would match twice; and a bad column."""
    problems = []
    if not math.isfinite(column.max_points) or column.max_points < 0:
        problems.append(f"column {column.title!r}: max_points {column.max_points} is not a number of points")
    if fmt in ("canvas", "blackboard") and column.lms_id is not None and not column.lms_id.isdigit():
        problems.append(f"column {column.title!r}: the {fmt} id {column.lms_id!r} is not a number")
    if fmt == "canvas" and column.lms_id is None and CANVAS_ID.fullmatch(column.title):
        problems.append(f"column {column.title!r}: Canvas would read the number in parentheses as an assignment id")
    missing: list[str] = []
    seen: set[str] = set()
    claimed: dict[str, str] = {}
    what = ""
    for row in rows:
        student = row.student
        if student.student_id in seen:
            problems.append(f"student {student.student_id} has two rows")
        seen.add(student.student_id)
        if row.score is not None and not math.isfinite(row.score):
            problems.append(f"student {student.student_id}: score {row.score} is not a number")
        what, values = _identifiers(fmt, student, moodle_identifier)
        if not values:
            missing.append(f"{student.student_id} ({student.name})")
        for value in values[:1]:
            if fmt == "moodle" and moodle_identifier != "id_number":
                value = value.lower()  # Moodle matches email and username ignoring case
            if value in claimed and claimed[value] != student.student_id:
                problems.append(f"students {claimed[value]} and {student.student_id} share the {what} {value!r}")
            claimed.setdefault(value, student.student_id)
    if missing:
        problems.append(f"{fmt} matches students by {what}; the roster has none for: {', '.join(missing)}")
    if problems:
        raise ExportError(f"cannot write the {fmt} file:\n" + "\n".join(f"  {p}" for p in problems))


def _canvas(rows, column):
    header = column.title if column.lms_id is None else f"{column.title} ({column.lms_id})"
    table = [[*CANVAS_LEADING, header], [CANVAS_POINTS, "", "", "", "", number(column.max_points)]]
    for row in rows:
        s = row.student
        table.append([_text(s.sortable_name), s.lms_id, s.sis_id, s.login, _text(s.section), number(row.score)])
    return table


def _moodle(rows, column, identifier):
    leading = [*MOODLE_LEADING, *(["Username"] if identifier == "username" else [])]
    grade = f"{MOODLE_MODULE}: {column.title}"
    table = [[*leading, f"{grade} (Real)", f"{grade} (Feedback)", MOODLE_LAST]]
    written = str(int(time.time()))
    for row in rows:
        s = row.student
        cells = [_text(s.first_name), _text(s.last_name), s.lms_id, "", "", s.email]
        cells += [s.login] if identifier == "username" else []
        table.append([*cells, number(row.score), _text(row.feedback), written])
    return table


def _blackboard(rows, column):
    header = column.title
    if column.lms_id is not None:
        header = f"{column.title} [Total Pts: {number(column.max_points)} Score] |{column.lms_id}"
    table = [[*BLACKBOARD_LEADING, header, *BLACKBOARD_FEEDBACK]]
    for row in rows:
        s = row.student
        table.append([_text(s.last_name), _text(s.first_name), s.login, s.sis_id, "", "Yes", number(row.score),
                      _text(row.feedback), "PLAIN_TEXT"])
    return table


def _table(path):
    """[(line, cells)] of a CSV file: UTF-8 (BOM or not) or UTF-16 with BOM (Blackboard's .xls download, tab
    separated); a first line with tabs and no commas is read as tab separated. Blank lines are left out."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ExportError(f"no grade file at {path}") from None
    try:
        text = data.decode("utf-16") if data.startswith((BOM_UTF16_LE, BOM_UTF16_BE)) else data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ExportError(f"{path} is not UTF-8 or UTF-16 text (byte {error.start})") from None
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    lines, end = [], 0
    try:
        for cells in reader:
            line, end = end + 1, reader.line_num
            if any(cell.strip() for cell in cells):
                lines.append((line, cells))
    except csv.Error as error:
        raise ExportError(f"{path} line {reader.line_num}: not valid CSV ({error})") from None
    return lines


def _score(path, line, cell, no_grade=()):
    """A score cell as a float; None for an empty cell or one of `no_grade`."""
    cell = cell.strip()
    if not cell or cell in no_grade:
        return None
    try:
        value = float(cell)
    except ValueError:
        raise ExportError(f"{path} line {line}: score {cell!r} is not a number") from None
    if not math.isfinite(value):
        raise ExportError(f"{path} line {line}: score {cell!r} is not a number")
    return value


def _pick(path, candidates, title):
    """The index of the assignment column: `candidates` is [(index, title, header)]."""
    if title is not None:
        candidates = [c for c in candidates if title in (c[1], c[2])]
    if len(candidates) == 1:
        return candidates[0][0]
    names = ", ".join(repr(c[2]) for c in candidates) or "none"
    wanted = f"named {title!r}" if title is not None else "(pass title= to choose)"
    raise ExportError(f"{path}: not one assignment column {wanted}; assignment columns: {names}")


def _cell(cells, index):
    return cells[index] if index is not None and index < len(cells) else ""


def _canvas_title(header):
    """An assignment header's title: "Homework 1 (4242)" -> "Homework 1"."""
    match = CANVAS_ID.fullmatch(header)
    return match["title"] if match else header


def _read_canvas(path, header, rows, title):
    if header[:2] != ["Student", "ID"]:
        raise ExportError(f"{path} line 1: not a Canvas gradebook file (the first columns are Student, ID)")
    points: list[str] = next((cells for _, cells in rows if cells[0].strip() == CANVAS_POINTS), [])
    candidates = [(i, _canvas_title(name), name) for i, name in enumerate(header)
                  if name not in CANVAS_IDENTITY and not CANVAS_READ_ONLY.fullmatch(name)
                  and _cell(points, i).strip() != "(read only)"]
    index = _pick(path, candidates, title)
    ids = [header.index(name) for name in ("ID", "SIS User ID", "SIS Login ID") if name in header]
    grades = []
    for line, cells in rows:
        identifier = next((cells[i].strip() for i in ids if _cell(cells, i).strip()), "")
        if not identifier:
            continue  # the Points Possible row, a posting-policy row: no student Canvas could match
        grades.append(ImportedGrade(identifier, _score(path, line, _cell(cells, index)), ""))
    return grades


def _read_moodle(path, header, rows, title, identifier):
    if identifier not in MOODLE_IDENTIFIERS:
        raise ExportError(f"unknown Moodle identifier {identifier!r}: one of {', '.join(MOODLE_IDENTIFIERS)}")
    if MOODLE_COLUMN[identifier] not in header:
        raise ExportError(f"{path} line 1: no {MOODLE_COLUMN[identifier]!r} column to identify students by")
    parsed = [(i, match) for i, match in enumerate(map(MOODLE_GRADE.fullmatch, header)) if match]
    candidates = [(i, match["title"], header[i]) for i, match in parsed if match["kind"] == "Real"]
    index = _pick(path, candidates, title)
    item = next(match.group("module", "title") for i, match in parsed if i == index)
    feedback = next((i for i, m in parsed if m["kind"] == "Feedback" and m.group("module", "title") == item), None)
    who = header.index(MOODLE_COLUMN[identifier])
    return [ImportedGrade(_cell(cells, who).strip(), _score(path, line, _cell(cells, index), {MOODLE_NO_GRADE}),
                          _cell(cells, feedback)) for line, cells in rows]


def _read_blackboard(path, header, rows, title):
    if "Username" not in header:
        raise ExportError(f"{path} line 1: no 'Username' column, which Blackboard matches students by")
    candidates = []
    for i, name in enumerate(header):
        match = BLACKBOARD_COLUMN.fullmatch(name)
        if name not in BLACKBOARD_IDENTITY and name not in BLACKBOARD_COMMENTS and match and not match["up_to"]:
            candidates.append((i, match["title"], name))
    index = _pick(path, candidates, title)
    feedback = next((header.index(name) for name in ("Feedback to Learner", "Feedback to User") if name in header),
                    None)
    who = header.index("Username")
    return [ImportedGrade(_cell(cells, who).strip(), _score(path, line, _cell(cells, index), BLACKBOARD_NO_GRADE),
                          _cell(cells, feedback)) for line, cells in rows]
