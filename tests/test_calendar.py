"""The course calendar (term.toml, extensions.csv): every problem refused naming its line; the late policy at its
boundaries; arrival times read only from what the course's systems wrote; grades.csv and the feedback page."""
import datetime as dt
import json
import zipfile

import nbformat
import pytest

from autograder import manifest
from autograder.grade import class_results, intake, reports
from autograder.grade.results import PartResult, Result
from autograder.term import calendar
from autograder.term.calendar import CalendarError
from autograder.term.feedback import plan

UTC = dt.timezone.utc
CALENDAR = """\
time_zone = "Europe/London"
feedback = "after-due"

[late]
grace_minutes = 15
percent = 10
per = "day"
cap_percent = 50
closed_after_days = 7

[assignments.two_layer_net]
due = 2027-02-12T23:59:00

[assignments.transfer_learning]
due = 2027-03-12T23:59:00+01:00
late = { percent = 5, per = "hour", cap_percent = 30 }
"""
DUE = dt.datetime(2027, 2, 12, 23, 59, tzinfo=UTC)  # London is on UTC in February


def course(tmp_path, text=CALENDAR, extensions=None):
    (tmp_path / "term.toml").write_text(text)
    if extensions is not None:
        (tmp_path / "extensions.csv").write_text(extensions)
    return tmp_path


def refusal(tmp_path, text=CALENDAR, extensions=None):
    with pytest.raises(CalendarError) as error:
        calendar.load(course(tmp_path, text, extensions))
    return str(error.value)


def test_the_kits_calendar_dates_every_graded_assignment():
    from autograder import registry
    term = calendar.load(registry.COURSE_ROOT)
    assert term is not None and term.calendar.time_zone == "Europe/London"
    assert all(term.due(name) is not None for name in registry.names(graded=True))


@pytest.mark.parametrize("late_by, percent, why", [
    (dt.timedelta(hours=-3), 0, "on time"),
    (dt.timedelta(0), 0, "on time"),
    (dt.timedelta(minutes=15), 0, "within the grace period of 15 minutes"),
    (dt.timedelta(minutes=15, seconds=1), 10, "1 day late"),
    (dt.timedelta(days=1), 10, "1 day late"),
    (dt.timedelta(days=1, seconds=1), 20, "2 days late"),
    (dt.timedelta(days=4, hours=23), 50, "5 days late"),
    (dt.timedelta(days=5, hours=1), 50, "(the cap)"),
    (dt.timedelta(days=7), 50, "(the cap)"),
    (dt.timedelta(days=7, seconds=1), 100, "not accepted"),
])
def test_the_late_policy_at_its_boundaries(tmp_path, late_by, percent, why):
    term = calendar.load(course(tmp_path))
    late = term.lateness("ada", "two_layer_net", DUE + late_by)
    assert (late.percent, late.due, late.late_by) == (percent, DUE, late_by)
    assert why in late.reason
    assert late.penalty(30) == pytest.approx(30 * percent / 100)


def test_an_assignments_own_policy_per_hour_in_its_own_offset(tmp_path):
    term = calendar.load(course(tmp_path))
    due = dt.datetime(2027, 3, 12, 22, 59, tzinfo=UTC)
    assert term.due("transfer_learning") == due
    late = term.lateness("ada", "transfer_learning", due + dt.timedelta(hours=2, minutes=1))
    assert late.percent == 15 and "3 hours late at 5% per hour" in late.reason
    assert term.lateness("ada", "transfer_learning", due + dt.timedelta(hours=20)).percent == 30  # its cap


def test_extensions_move_the_due_date_and_the_closing(tmp_path):
    term = calendar.load(course(tmp_path, extensions="student_id,assignment,due,extra_days\n"
                                                     "ada,two_layer_net,,3\n"
                                                     "bob,two_layer_net,2027-02-20T12:00,\n"))
    ada = term.lateness("ada", "two_layer_net", DUE + dt.timedelta(days=2, hours=5))
    assert ada.percent == 0 and ada.reason == "on time" and ada.extension == "extended by 3 days"
    assert term.lateness("ada", "two_layer_net", DUE + dt.timedelta(days=3, hours=1)).percent == 10
    assert term.lateness("ada", "two_layer_net", DUE + dt.timedelta(days=9)).percent == 50  # 6 days after hers
    bob = term.lateness("bob", "two_layer_net", dt.datetime(2027, 2, 20, 11, 0, tzinfo=UTC))
    assert bob.percent == 0 and "Saturday 20 February 2027, 12:00 (Europe/London)" in bob.extension
    assert term.lateness("cy", "two_layer_net", DUE + dt.timedelta(days=2, hours=5)).percent == 30


def test_no_arrival_time_is_said_and_costs_nothing(tmp_path):
    late = calendar.load(course(tmp_path)).lateness("ada", "two_layer_net", None)
    assert late.percent == 0 and late.late_by is None and "no arrival time" in late.reason
    assert calendar.load(tmp_path / "no-such-course") is None  # no calendar: nothing is dated


def test_a_calendar_that_cannot_be_read_is_refused_naming_the_line(tmp_path):
    assert "line 12" in refusal(tmp_path, CALENDAR.replace("due = 2027-02-12T23:59:00", "due = 2027-02-30T23:59:00"))
    message = refusal(tmp_path, CALENDAR.replace("grace_minutes", "grace_minute"))
    assert "line 5: late.grace_minute: unknown key; did you mean 'grace_minutes'?" in message
    message = refusal(tmp_path, CALENDAR.replace("Europe/London", "Europe/Londn"))
    assert "line 1: time_zone: unknown time zone 'Europe/Londn'; did you mean 'Europe/London'?" in message
    message = refusal(tmp_path, CALENDAR.replace('per = "day"', 'per = "week"'))
    assert "line 7: late.per: Input should be 'day' or 'hour'" in message
    message = refusal(tmp_path, CALENDAR.replace("due = 2027-02-12T23:59:00", 'due = "next friday"'))
    assert "line 12: assignments.two_layer_net.due:" in message and "'next friday'" in message
    message = refusal(tmp_path, CALENDAR.replace("cap_percent = 30", "cap_percent = 130"))
    assert "line 16: assignments.transfer_learning.late.cap_percent: Input should be less than or equal to 100" \
        in message


def test_extensions_that_cannot_be_used_are_refused_naming_each_line(tmp_path):
    message = refusal(tmp_path, extensions="student_id,assignment,due,extra_days\n"
                                           "ada,two_layer_net,,3\n"
                                           "ada,two_layer_net,,4\n"
                                           "bob,two_layer_nte,,2\n"
                                           "cy,two_layer_net,2027-02-20,2\n"
                                           "dee,two_layer_net,,-1\n"
                                           "eve,two_layer_net,2027-02-10T12:00,\n"
                                           "fay,two_layer_net,soon,\n"
                                           "gus,two_layer_net\n")
    assert "line 3: ada already has an extension of two_layer_net on line 2" in message
    assert "line 4: 'two_layer_nte' is not an assignment of the calendar" in message
    assert "line 5: give either a new due date ('due') or 'extra_days', not both or neither" in message
    assert "line 6: extra_days '-1' must be a positive number of days" in message
    assert "line 7: due 2027-02-10T12:00 is not after the assignment's due date" in message
    assert "line 8: due 'soon' is not a date and time" in message
    assert "line 9: 2 fields, the header has 4" in message
    assert "line 2" not in message.replace("on line 2", "")
    assert "line 1: unknown column 'extra_day': did you mean 'extra_days'?" in refusal(
        tmp_path, extensions="student_id,assignment,extra_day\nada,two_layer_net,3\n")
    latin1 = "student_id,assignment,extra_days\nzoë,two_layer_net,2\n".encode("latin-1")
    (tmp_path / "extensions.csv").write_bytes(latin1)
    assert "extensions.csv is not UTF-8 text (byte 35): save it as 'CSV UTF-8'" in refusal(tmp_path)
    (tmp_path / "roster.csv").write_text("student_id\nada\njdoe7\n")
    assert "line 3: 'jdoe8' is not on the roster; did you mean 'jdoe7'?" in refusal(
        tmp_path, extensions="student_id,assignment,extra_days\nada,two_layer_net,3\njdoe8,two_layer_net,2\n")
    (tmp_path / "extensions.csv").unlink()
    assert "extensions.csv: no such file" in refusal(tmp_path, 'extensions = "extensions.csv"\n' + CALENDAR)


def test_a_manifest_with_a_due_date_is_told_where_dates_live():
    with pytest.raises(manifest.ManifestError, match="dates belong to the course calendar"):
        manifest.parse({"notebooks": ["x.ipynb"], "due": "2027-02-12T23:59:00"})


def nbgrader_tree(root, stamps):
    """submitted/<student>/two_layer_net/ with a notebook and, where given, timestamp.txt."""
    for student, stamp in stamps.items():
        folder = root / student / "two_layer_net"
        folder.mkdir(parents=True)
        nbformat.write(nbformat.v4.new_notebook(), folder / "two_layer_net.ipynb")
        if stamp is not None:
            (folder / "timestamp.txt").write_text(stamp)
    return root


def test_arrival_comes_from_nbgrader_timestamps_and_lms_names_only(tmp_path):
    tree = nbgrader_tree(tmp_path / "submitted", {"ada": "2027-02-13 09:30:00.123456 UTC", "bob": None,
                                                  "cy": "2027-02-13 10:30:00 Europe/Paris", "dee": "yesterday-ish"})
    ada, bob, cy, dee = intake.collect(tree, "two_layer_net", "two_layer_net.ipynb")
    assert ada.arrived == dt.datetime(2027, 2, 13, 9, 30, 0, 123456, tzinfo=UTC)
    assert ada.arrived_from == "nbgrader timestamp.txt"
    assert bob.arrived is None and cy.arrived == dt.datetime(2027, 2, 13, 9, 30, tzinfo=UTC)
    assert dee.arrived is None and any("timestamp.txt could not be read" in note for note in dee.notes)
    # A folder of <student>.ipynb with the student's own files: a timestamp.txt there is the student's, not used.
    folder = tmp_path / "folder"
    (folder / "eve").mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(), folder / "eve.ipynb")
    (folder / "eve" / "timestamp.txt").write_text("2027-01-01 00:00:00 UTC")
    eve, = intake.collect(folder, "two_layer_net", "two_layer_net.ipynb")
    assert eve.arrived is None
    # An LMS download: the attempt time in the file name, in the course's time zone.
    lms = tmp_path / "lms.zip"
    with zipfile.ZipFile(lms, "w") as archive:
        notebook = nbformat.writes(nbformat.v4.new_notebook())
        archive.writestr("Two layer_fay_attempt_2027-02-13-10-15-00_two_layer_net.ipynb", notebook)
        archive.writestr("Two layer_fay_attempt_2027-02-10-08-00-00_two_layer_net.ipynb", notebook)
        archive.writestr("Two layer_gus_attempt_2027-07-01-12-00-00_timestamp.txt", "2027-01-01 00:00:00 UTC")
        archive.writestr("Two layer_gus_attempt_2027-07-01-12-00-00_two_layer_net.ipynb", notebook)
    fay, gus = intake.collect(lms, "two_layer_net", "two_layer_net.ipynb", zone=calendar.ZoneInfo("Europe/Paris"))
    assert fay.arrived == dt.datetime(2027, 2, 13, 9, 15, tzinfo=UTC) and fay.arrived_from == "LMS attempt time"
    assert gus.arrived == dt.datetime(2027, 7, 1, 10, 0, tzinfo=UTC)  # summer time; its own timestamp.txt unused


def result(student, score, arrived=None, status="ok"):
    parts = {"test_a": PartResult(score, 10, 0, [], []), "test_b": PartResult(10, 10, 0, [], [])}
    return Result(student, status, "", parts, {"q_written": 5}, [], "bubblewrap", 1.0,
                  arrived=arrived.isoformat() if arrived else None, arrived_from="nbgrader timestamp.txt")


class Template:
    assignment = "two_layer_net"
    points = {"test_a": 10, "test_b": 10}
    manual_parts = {"q_written": 5}


def test_grades_csv_and_feedback_charge_the_penalty(tmp_path):
    (tmp_path / "roster.csv").write_text("student_id\nearly\nabsent\nlate\ngrace\next\nclosed\nunknown\n")
    term = calendar.load(course(tmp_path, extensions="student_id,assignment,due,extra_days\next,two_layer_net,,3\n"))
    (tmp_path / "out" / "results").mkdir(parents=True)
    rows = [result("early", 10, DUE - dt.timedelta(days=1)), result("grace", 10, DUE + dt.timedelta(minutes=10)),
            result("late", 10, DUE + dt.timedelta(days=1, hours=3)), result("ext", 10, DUE + dt.timedelta(days=2)),
            result("closed", 10, DUE + dt.timedelta(days=8)), result("unknown", 10)]
    for row in rows:
        (tmp_path / "out" / "results" / f"{row.student_id}.json").write_text(json.dumps(row.to_json()))
    results = class_results(Template, tmp_path / "out", term)
    reports.write_grades_csv(results, tmp_path / "grades.csv")
    lines = (tmp_path / "grades.csv").read_text().splitlines()
    assert lines[0] == "student_id,status,test_a,test_b,q_written,raw_total,late_by,late_penalty,total,max_total"
    assert lines[1:] == ["absent,missing,,,,0,,0,0,25",
                         "closed,ok,10,10,,20,192:00:00,20,0,25",
                         "early,ok,10,10,,20,0:00:00,0,20,25",
                         "ext,ok,10,10,,20,0:00:00,0,20,25",
                         "grace,ok,10,10,,20,0:10:00,0,20,25",
                         "late,ok,10,10,,20,27:00:00,4,16,25",
                         "unknown,ok,10,10,,20,,0,20,25"]
    late = next(r for r in results if r.student_id == "late")
    page = reports.write_feedback(late, tmp_path / "late.html", "Two-layer net").read_text()
    assert "20, less the late penalty of 4 = <b>16</b> / 25" in page
    assert "Due Friday 12 February 2027, 23:59 (Europe/London)." in page
    assert "1 day 3 h late" in page and "2 days late at 10% per day: -20%" in page
    ext = reports.write_feedback(next(r for r in results if r.student_id == "ext"), tmp_path / "e.html", "T")
    assert "(extended by 3 days)" in ext.read_text() and "On time." in ext.read_text()
    unknown = reports.write_feedback(results[-1], tmp_path / "u.html", "T").read_text()
    assert "No arrival time" in unknown and "penalty of" not in unknown
    assert "or an LMS attempt time" in unknown  # the reason's own capitals kept
    assert Result.from_json(late.to_json()).late == late.late  # the results file keeps the assessment
    summary = reports.write_summary(results, tmp_path / "summary", "T")[0].read_text()
    assert "6 submissions." in summary and "absent" in summary  # the missing student: listed, not counted


def test_feedback_waits_for_each_students_own_due_date(tmp_path):
    term = calendar.load(course(tmp_path, extensions="student_id,assignment,due,extra_days\next,two_layer_net,,3\n"))
    decided = plan("two_layer_net", ["ada", "ext"], term, DUE + dt.timedelta(days=1))
    assert decided.released == ["ada"] and decided.held == {"ext": DUE + dt.timedelta(days=3)}
    assert plan("two_layer_net", ["ada", "ext"], term, DUE - dt.timedelta(hours=1)).released == []
    immediately = calendar.load(course(tmp_path, CALENDAR.replace("after-due", "immediately")))
    assert plan("two_layer_net", ["ada", "ext"], immediately, DUE - dt.timedelta(days=9)).released == ["ada", "ext"]
    assert plan("two_layer_net", ["ada"], None, DUE).released == ["ada"]
