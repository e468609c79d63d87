"""The course calendar (`term.toml` at the course root): due dates in the course's time zone, the late policy,
per-student extensions (a CSV), the roster's path and when feedback is released; and the lateness of a submission.

`term.toml` is the instructor's: it is never in a student bundle (the bundle's README shows the due date, read from
here). Every command that reads it refuses one it cannot use, naming the file, the line and what is wrong
(CalendarError). A course without `term.toml` has no dates: nothing is late.

Lateness is measured from the time the submission reached the course (`Submission.arrived`: nbgrader's exchange
timestamp, or the LMS's attempt time), never from anything the student wrote. The penalty is a percentage of the
points earned: `percent` per started `per` (day or hour) after the due date, nothing within the grace period,
at most `cap_percent`, and 100% (not accepted) once `closed_after_days` have passed.
"""
from __future__ import annotations

import datetime as dt
import difflib
import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from autograder.term import table

if TYPE_CHECKING:
    from autograder.term.roster import Student

CALENDAR_FILE = "term.toml"
#: The columns of the extensions CSV: each row gives either a new `due` or `extra_days`.
EXTENSION_COLUMNS = ("student_id", "assignment", "due", "extra_days")


def _(message: str) -> str:
    """`message` in the course's language (autograder.harness.i18n, which imports the helpers package: only once a
    message is needed)."""
    from autograder.harness.i18n import _ as gettext
    return gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """`singular` or `plural` (by `n`) in the course's language (see `_`)."""
    from autograder.harness.i18n import ngettext as translate
    return translate(singular, plural, n)


class CalendarError(ValueError):
    """A calendar or extensions file that cannot be used as written: the message names the file, line and problem."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LatePolicy(Section):
    """[late] (and [assignments.<name>.late]): what late work costs."""
    grace_minutes: float = Field(0, ge=0, description="Minutes after the due date still counted on time.")
    percent: float = Field(0, ge=0, le=100, description="Percent of the points earned taken per started `per` late.")
    per: Literal["day", "hour"] = Field("day", description="The unit `percent` is charged per: day or hour.")
    cap_percent: float = Field(100, ge=0, le=100, description="The most a late submission loses, in percent.")
    closed_after_days: float | None = Field(
        None, gt=0, description="Days after the (extended) due date after which work is not accepted (scores 0).")

    def percent_for(self, late_by: dt.timedelta) -> tuple[float, str]:
        """(penalty in percent, why) for work that arrived `late_by` after its due date."""
        if late_by <= dt.timedelta(0):
            return 0.0, _("on time")
        if late_by <= dt.timedelta(minutes=self.grace_minutes):
            return 0.0, _("within the grace period of {minutes} minutes: no penalty").format(
                minutes=_plain(self.grace_minutes))
        if self.closed_after_days is not None and late_by > dt.timedelta(days=self.closed_after_days):
            return 100.0, _("after submissions closed ({days} days after the due date): not accepted, "
                            "scores 0").format(days=_plain(self.closed_after_days))
        unit = dt.timedelta(days=1) if self.per == "day" else dt.timedelta(hours=1)
        started = math.ceil(late_by / unit)
        percent = min(self.cap_percent, started * self.percent)
        capped = _(" (the cap)") if percent == self.cap_percent and started * self.percent > percent else ""
        late = (ngettext("{count} day late at {percent}% per day: -{penalty}%{capped}",
                         "{count} days late at {percent}% per day: -{penalty}%{capped}", started)
                if self.per == "day" else
                ngettext("{count} hour late at {percent}% per hour: -{penalty}%{capped}",
                         "{count} hours late at {percent}% per hour: -{penalty}%{capped}", started))
        return percent, late.format(count=started, percent=_plain(self.percent), penalty=_plain(percent),
                                    capped=capped)


class AssignmentDates(Section):
    """[assignments.<name>]: one assignment's dates."""
    due: dt.datetime = Field(description="Due date and time: a TOML date-time, in the course's time zone unless it "
                                         "has its own offset, e.g. 2027-02-12T23:59:00.")
    late: LatePolicy | None = Field(None, description="This assignment's late policy (default: the course's [late]).")
    lms_id: str | None = Field(None, description="The LMS's id of this assignment's grade column (Canvas assignment "
                                                 "id, Blackboard column id), used by `export`.")


class Calendar(Section):
    """term.toml's top level."""
    time_zone: str = Field(description="The course's IANA time zone, e.g. Europe/London: dates without an offset "
                                       "are in it, and students see dates in it.")
    extensions: str | None = Field(
        None, description="Per-student extensions: a CSV beside term.toml with columns student_id, assignment, and due "
                          "or extra_days (default: extensions.csv, when there is one).")
    roster: str | None = Field(
        None, description="The roster: a CSV beside term.toml with columns student_id, first_name, last_name, email, "
                          "section, lms_id, sis_id, login (default: roster.csv, when there is one).")
    feedback: Literal["immediately", "after-due"] = Field(
        "after-due", description="When `release-feedback` gives students their feedback: as soon as it is graded, "
                                 "or once their due date (with any extension) has passed.")
    late: LatePolicy = Field(default_factory=LatePolicy, description="The course's late policy.")
    assignments: dict[str, AssignmentDates] = Field({}, description="Each assignment's dates.")

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            nearest = difflib.get_close_matches(name, sorted(available_timezones()), n=1)
            raise ValueError(f"unknown time zone {name!r}" + (f"; did you mean {nearest[0]!r}?" if nearest else
                                                              " (an IANA name such as Europe/London)")) from None
        return name


@dataclass(frozen=True)
class Lateness:
    """How late one submission was: its due date (with any extension), when it arrived, and the penalty."""
    due: dt.datetime
    extension: str
    arrived: dt.datetime | None
    late_by: dt.timedelta | None
    percent: float
    reason: str

    def penalty(self, earned: float | None) -> float:
        """The points taken off `earned` (0 when nothing was earned or graded)."""
        return 0.0 if not earned else round(earned * self.percent / 100, 4)

    def to_json(self) -> dict[str, Any]:
        return {"due": self.due.isoformat(), "extension": self.extension,
                "arrived": self.arrived.isoformat() if self.arrived else None,
                "late_by_seconds": None if self.late_by is None else self.late_by.total_seconds(),
                "percent": self.percent, "reason": self.reason}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Lateness:
        late_by = data["late_by_seconds"]
        return cls(dt.datetime.fromisoformat(data["due"]), data["extension"],
                   dt.datetime.fromisoformat(data["arrived"]) if data["arrived"] else None,
                   None if late_by is None else dt.timedelta(seconds=late_by), data["percent"], data["reason"])


@dataclass(frozen=True)
class Term:
    """A course's calendar, where it was read from, its extensions and its roster (None when it has none)."""
    calendar: Calendar
    folder: Path
    extensions: dict[tuple[str, str], tuple[dt.datetime, str]]  # (student, assignment) -> (new due date, why)
    students: dict[str, Student] | None = None  # the roster: student id -> Student

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.calendar.time_zone)

    def due(self, assignment: str) -> dt.datetime | None:
        """The assignment's due date, time-zone aware; None when the calendar does not date it."""
        dates = self.calendar.assignments.get(assignment)
        return None if dates is None else _aware(dates.due, self.zone)

    def lms_id(self, assignment: str) -> str | None:
        """The LMS's id of the assignment's grade column, when the calendar gives one."""
        dates = self.calendar.assignments.get(assignment)
        return None if dates is None else dates.lms_id

    def policy(self, assignment: str) -> LatePolicy:
        dates = self.calendar.assignments.get(assignment)
        return dates.late if dates is not None and dates.late is not None else self.calendar.late

    def due_for(self, student: str, assignment: str) -> tuple[dt.datetime, str] | None:
        """(the student's due date, the extension that set it or "") for a dated assignment, else None."""
        due = self.due(assignment)
        if due is None:
            return None
        return self.extensions.get((student, assignment), (due, ""))

    def lateness(self, student: str, assignment: str, arrived: dt.datetime | None) -> Lateness | None:
        """The Lateness of `student`'s submission of `assignment` that reached the course at `arrived` (aware); None
        for an undated assignment. Without an arrival time there is no penalty, and the reason says why."""
        found = self.due_for(student, assignment)
        if found is None:
            return None
        due, extension = found
        if arrived is None:
            return Lateness(due, extension, None, None, 0.0,
                            _("no arrival time (nbgrader's timestamp.txt, or an LMS attempt time): no penalty "
                              "applied"))
        percent, reason = self.policy(assignment).percent_for(arrived - due)
        return Lateness(due, extension, arrived, arrived - due, percent, reason)

    def local(self, moment: dt.datetime) -> str:
        """`moment` as students read it: in the course's time zone, named."""
        return f"{student_date(moment.astimezone(self.zone))} ({self.calendar.time_zone})"

    def path(self, named: str | None, default: str) -> Path | None:
        """The file term.toml names (it must exist), else `default` beside it when there is one."""
        if named is not None:
            return self.folder / named
        return self.folder / default if (self.folder / default).is_file() else None


def load(course_dir: Path | str) -> Term | None:
    """The course's Term from `course_dir/term.toml` (None when the course has none), with its extensions and roster;
    CalendarError (or the roster's RosterError) when one cannot be used: the message names the file, the line and
    what is wrong."""
    path = Path(course_dir) / CALENDAR_FILE
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise CalendarError(f"{path}: not valid TOML: {error}") from None
    try:
        calendar = Calendar.model_validate(data)
    except ValidationError as error:
        raise CalendarError(f"{path}:\n  " + "\n  ".join(_describe(problem, text) for problem in error.errors())) \
            from None
    term = Term(calendar, path.parent, {})
    roster, extensions = term.path(calendar.roster, "roster.csv"), term.path(calendar.extensions, "extensions.csv")
    from autograder.term.roster import load_roster  # imports the helpers package: only for a course with a roster
    students = load_roster(roster) if roster else None
    return Term(calendar, path.parent, read_extensions(extensions, term, students) if extensions else {}, students)


def read_extensions(path: Path, term: Term, students: dict[str, Student] | None = None) \
        -> dict[tuple[str, str], tuple[dt.datetime, str]]:
    """{(student, assignment): (new due date, why)} from the extensions CSV; CalendarError listing every bad line
    (a student not among `students`, the roster's ids, is one: a typo would leave the extension unused)."""
    try:
        text = table.read_text(path)
    except FileNotFoundError:
        raise CalendarError(f"{path}: no such file (term.toml's `extensions` names it)") from None
    except ValueError as error:
        raise CalendarError(str(error)) from None
    rows, problems = table.parse(text, EXTENSION_COLUMNS, required=("student_id", "assignment"))
    found: dict[tuple[str, str], tuple[dt.datetime, str]] = {}
    seen: dict[tuple[str, str], int] = {}
    for line, cells in rows:
        student, assignment = cells["student_id"], cells["assignment"]
        due = term.due(assignment)
        problem = _extension_problem(cells, due, term)
        if problem is None and students is not None and student not in students:
            nearest = difflib.get_close_matches(student, sorted(students), n=1)
            problem = f"{student!r} is not on the roster" + (f"; did you mean {nearest[0]!r}?" if nearest else "")
        if problem is None and (student, assignment) in seen:
            problem = f"{student} already has an extension of {assignment} on line {seen[student, assignment]}"
        if problem:
            problems.append(f"line {line}: {problem}")
            continue
        assert due is not None
        seen[student, assignment] = line
        if cells.get("due"):
            new_due = _aware(dt.datetime.fromisoformat(cells["due"]), term.zone)
            found[student, assignment] = (new_due, _("extended to {date}").format(date=term.local(new_due)))
        else:
            days = float(cells["extra_days"])
            extended = ngettext("extended by {days} day", "extended by {days} days", 1 if days == 1 else 2)
            found[student, assignment] = (due + dt.timedelta(days=days), extended.format(days=_plain(days)))
    if problems:
        raise CalendarError(f"{path}:\n  " + "\n  ".join(problems))
    return found


def _extension_problem(cells: dict[str, str], due: dt.datetime | None, term: Term) -> str | None:
    """What is wrong with one extensions row (None when nothing is)."""
    if not cells["student_id"]:
        return "no student_id"
    if due is None:
        dated = ", ".join(term.calendar.assignments) or "none"
        return f"{cells['assignment']!r} is not an assignment of the calendar (dated: {dated})"
    new_due, extra = cells.get("due", ""), cells.get("extra_days", "")
    if bool(new_due) == bool(extra):
        return "give either a new due date ('due') or 'extra_days', not both or neither"
    if new_due:
        try:
            moment = _aware(dt.datetime.fromisoformat(new_due), term.zone)
        except ValueError:
            return f"due {new_due!r} is not a date and time such as 2027-02-15T23:59"
        return None if moment > due else f"due {new_due} is not after the assignment's due date {term.local(due)}"
    try:
        days = float(extra)
    except ValueError:
        return f"extra_days {extra!r} is not a number"
    return None if days > 0 and math.isfinite(days) else f"extra_days {extra!r} must be a positive number of days"


def arrival_from_nbgrader(text: str) -> dt.datetime:
    """The time in nbgrader's timestamp.txt (e.g. '2027-02-12 23:41:07.123456 UTC'), aware; ValueError if none.
    A time without a zone is UTC, as nbgrader reads it."""
    from nbgrader.utils import parse_utc
    try:
        moment = parse_utc(text.strip())
    except (ValueError, OverflowError) as error:
        raise ValueError(f"not a time nbgrader can read ({error})") from None
    return moment.replace(tzinfo=dt.timezone.utc)


def arrival_from_lms(stamp: str, zone: ZoneInfo | None) -> dt.datetime:
    """The attempt time in an LMS file name (e.g. '2027-02-13-10-15-00'), in the course's time zone (UTC without a
    calendar); ValueError if it is not one."""
    moment = dt.datetime.strptime(stamp, "%Y-%m-%d-%H-%M-%S")
    return moment.replace(tzinfo=zone or dt.timezone.utc)


def format_late_by(late_by: dt.timedelta | None) -> str:
    """`late_by` as hours:minutes:seconds ('26:15:00'), '0:00:00' when on time, '' when unknown."""
    if late_by is None:
        return ""
    seconds = max(0, round(late_by.total_seconds()))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def describe_late_by(late_by: dt.timedelta) -> str:
    """'1 day 2 h 15 min' as a student reads it."""
    minutes = math.ceil(late_by.total_seconds() / 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    words = [ngettext("{count} day", "{count} days", days).format(count=days) if days else "",
             _("{count} h").format(count=hours) if hours else "",
             _("{count} min").format(count=minutes) if minutes else ""]
    return " ".join(word for word in words if word) or _("{count} min").format(count=0)


def student_date(moment: dt.datetime, seconds: bool = False) -> str:
    """`moment` (in the zone it is given in) as students read it, in the course's language: 'Friday 12 February
    2027, 23:59' ('23:59:07' with `seconds`)."""
    weekdays = (_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday"))
    months = (_("January"), _("February"), _("March"), _("April"), _("May"), _("June"), _("July"), _("August"),
              _("September"), _("October"), _("November"), _("December"))
    return _("{weekday} {day} {month} {year}, {time}").format(
        weekday=weekdays[moment.weekday()], day=f"{moment:%d}", month=months[moment.month - 1], year=f"{moment:%Y}",
        time=f"{moment:%H:%M:%S}" if seconds else f"{moment:%H:%M}")


def _aware(moment: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """`moment` in the course's time zone `zone`: a time without an offset is taken to be in it."""
    return moment.astimezone(zone) if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def _plain(x: float) -> str:
    return f"{x:g}"


def _describe(problem: Any, text: str) -> str:
    """One pydantic error as `line N: [table] key: what is wrong`, the line found in the TOML text."""
    location = [str(step) for step in problem["loc"]]
    if problem["type"] == "extra_forbidden":
        section, key = location[:-1], location[-1]
        model: type[BaseModel] = Calendar if not section else LatePolicy if section[-1] == "late" else AssignmentDates
        nearest = difflib.get_close_matches(key, list(model.model_fields), n=1)
        what = "unknown key; " + (f"did you mean {nearest[0]!r}?" if nearest else
                                  f"the keys are {', '.join(model.model_fields)}")
    else:
        what = f"{problem['msg'].removeprefix('Value error, ')}"
        if problem["type"] != "value_error" and "input" in problem and not isinstance(problem["input"], dict):
            what += f" (got {problem['input']!r})"
    return f"line {_line_of(text, location)}: {'.'.join(location) or 'top level'}: {what}"


def _line_of(text: str, location: list[str]) -> int | str:
    """The line of the TOML `text` where the key at `location` (e.g. assignments.two_layer_net.due) is written: the
    key itself, else the inline table holding it, else its table's header; '?' when none is found."""
    *table, key = location or [""]
    current: list[str] = []
    found: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        header = re.match(r"\s*\[+\s*([^\]]+?)\s*\]+", line)
        if header:
            current = [part.strip().strip('"') for part in header.group(1).split(".")]
            if current == table:
                found.setdefault("table", number)
            continue
        assignment = re.match(r"\s*([\w\-\".]+)\s*=", line)
        if assignment:
            written = current + [part.strip().strip('"') for part in assignment.group(1).split(".")]
            if written == location:
                return number
            if written == location[:len(written)] and re.search(rf"\b{re.escape(key)}\s*=", line):
                found.setdefault("inline", number)
    return found.get("inline", found.get("table", "?"))
