"""The course roster, `roster.csv`: one row per student, keyed by the kit's student id (the LMS username the
submissions are named by), with the ids each LMS matches grades by.

    student_id,first_name,last_name,email,section,lms_id,sis_id,login
    jdoe7,Jane,Doe,jdoe7@example.edu,A01,40123,S1000123,jdoe7

Only `student_id` is required. Every problem of the file is reported at once, each with its line number.
"""
import re
from dataclasses import dataclass, fields
from pathlib import Path

from autograder.term import table
from helpers.submit import ID_CHARACTERS, STUDENT_ID

#: What a spreadsheet reads as the start of a formula; identifiers starting with one are refused.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
EMAIL = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._%+'-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+")


@dataclass(frozen=True)
class Student:
    """One student. `lms_id`: the LMS's own user id (Canvas "ID", Moodle's ID number); `sis_id`: Canvas "SIS User
    ID" (Blackboard "Student ID"); `login`: Canvas "SIS Login ID", Blackboard "Username" (default: student_id)."""
    student_id: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    section: str = ""
    lms_id: str = ""
    sis_id: str = ""
    login: str = ""

    def __post_init__(self):
        if not self.login:
            object.__setattr__(self, "login", self.student_id)

    @property
    def name(self) -> str:
        """'First Last', or the student id when both are empty."""
        return " ".join(part for part in (self.first_name, self.last_name) if part) or self.student_id

    @property
    def sortable_name(self) -> str:
        """'Last, First' (Canvas's "Student" column), or the student id when both are empty."""
        return ", ".join(part for part in (self.last_name, self.first_name) if part) or self.student_id


COLUMNS = tuple(f.name for f in fields(Student))


class RosterError(ValueError):
    """roster.csv cannot be used; the message lists every problem with its line."""


def load_roster(path) -> dict[str, Student]:
    """Read roster.csv (UTF-8, with or without BOM): student id -> Student, in the file's order."""
    path = Path(path)
    try:
        text = table.read_text(path)
    except FileNotFoundError:
        raise RosterError(f"no roster at {path}: write a roster.csv with a header row and at least a student_id "
                          f"column (optional: {', '.join(COLUMNS[1:])})") from None
    except ValueError as error:
        raise RosterError(str(error)) from None
    students, problems = _parse(text, path.name)
    if problems:
        listed = "\n".join(f"  {problem}" for problem in problems)
        raise RosterError(f"{path}: {len(problems)} problem{'s' * (len(problems) > 1)}:\n{listed}")
    return students


def _parse(text, name):
    """(students, problems) of a roster's text; `name` (the file's) starts each problem."""
    rows, problems = table.parse(text, COLUMNS, required=("student_id",))
    problems = [f"{name} {problem}" for problem in problems]
    students: dict[str, Student] = {}
    first_line: dict[str, int] = {}
    for line, values in rows:
        row_problems = _row_problems(values)
        sid = values["student_id"]
        if sid in first_line:
            row_problems.append(f"student id {sid!r} is also on line {first_line[sid]}")
        problems += [f"{name} line {line}: {p}" for p in row_problems]
        if sid:
            first_line.setdefault(sid, line)
        students[sid] = Student(**values)  # returned only when no line has a problem
    return students, problems


def _row_problems(values):
    problems = []
    sid = values["student_id"]
    if not sid:
        problems.append("empty student id")
    elif not STUDENT_ID.fullmatch(sid):
        bad = "".join(sorted({c for c in sid if not re.fullmatch(f"[{ID_CHARACTERS}]", c)}))
        problems.append(f"student id {sid!r} has characters other than letters, digits and . _ @ - ({bad!r})")
    email = values.get("email", "")
    if email and not EMAIL.fullmatch(email):
        problems.append(f"malformed email {email!r}")
    for column in ("lms_id", "sis_id", "login"):
        value = values.get(column, "")
        if value.startswith(FORMULA_START) or any(c.isspace() for c in value):
            problems.append(f"{column} {value!r} starts with {value[:1]!r} or has a space: a spreadsheet or an LMS "
                            f"would not read it back as the same id")
    return problems
