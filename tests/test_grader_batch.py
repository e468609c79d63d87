"""The batch grader's plumbing: intake formats, --student regrades, reports, the gradebook, a real Dask
cluster, and what stock nbgrader lets through that this grader does not."""
import csv
import shutil
import socket
import subprocess
import sys
import zipfile

import nbformat
import pytest

from autograder.__main__ import main as cli
from autograder.course_dir import generate_release, scratch_course
from autograder.demo import autograde, write_submitted
from autograder.gradebook import part_grades
from autograder.grade import grade_batch
from autograder.grade.task import grade_submission
from autograder.notebooks import submission
from autograder.hostile import checkpoint_bomb, write_zeros

pytestmark = [pytest.mark.xdist_group("reference_model"), pytest.mark.slow]  # sandboxes and notebooks: `make test` only
CHECKPOINT = "best_two_layer_net.pth"
CHEAT = '''def nn_forward_pass(params, X):
    # Rewrites the in-kernel test results: every part "passes".
    try:
        import autograder.judging as core
        core.Report.fraction = property(lambda self: 1.0)
    except ImportError:
        pass
    raise NotImplementedError()
'''


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = scratch_course(tmp_path_factory.mktemp("course"), ["two_layer_net"])
    generate_release("two_layer_net", course)
    return course


@pytest.fixture(scope="module")
def notebooks(source_nb, release_nb, answers):
    return {"honest": nbformat.writes(submission(release_nb, source_nb, answers)),
            "blank": nbformat.writes(release_nb),
            "cheat": nbformat.writes(submission(release_nb, source_nb, {"nn_forward_pass": CHEAT}))}


def totals(results):
    return {r.student_id: r.total for r in results}


def test_lms_zip_keeps_each_students_latest_attempt(course, notebooks, reference_model, tmp_path):
    archive = tmp_path / "gradebook_export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("HW2_alice_attempt_2026-11-20-09-00-00_two_layer_net.ipynb", notebooks["blank"])
        z.writestr("HW2_alice_attempt_2026-11-21-09-00-00_two_layer_net.ipynb", notebooks["honest"])
        z.write(reference_model, f"HW2_alice_attempt_2026-11-21-09-00-00_{CHECKPOINT}")
        z.writestr("HW2_bob_attempt_2026-11-20-12-00-00_my notebook.ipynb", notebooks["blank"])
        z.writestr("HW2_carol_attempt_2026-11-20-12-00-00_notes.txt", "no notebook here")
    results = grade_batch("two_layer_net", archive, tmp_path / "out", course_dir=course, workers=2,
                          show_progress=False, canary=False)
    by_id = {r.student_id: r for r in results}
    assert totals(results) == {"alice": 34.0, "bob": 0.0, "carol": 0.0}
    assert by_id["carol"].status == "missing-notebook"
    assert any("2026-11-21" in note for note in by_id["alice"].notes)


def test_one_oversized_zip_entry_costs_only_that_student(course, notebooks, reference_model, tmp_path):
    archive = tmp_path / "gradebook_export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("HW2_alice_attempt_2026-11-21-09-00-00_two_layer_net.ipynb", notebooks["honest"])
        z.write(reference_model, f"HW2_alice_attempt_2026-11-21-09-00-00_{CHECKPOINT}")
        write_zeros(z, "HW2_mallory_attempt_2026-11-21-09-00-00_two_layer_net.ipynb", 30 * 2**20)
        z.writestr("HW2_trudy_attempt_2026-11-21-09-00-00_two_layer_net.ipynb", notebooks["honest"])
        write_zeros(z, f"HW2_trudy_attempt_2026-11-21-09-00-00_{CHECKPOINT}", 300 * 2**20)
    assert archive.stat().st_size < 4 * 2**20  # 330 MB once unpacked
    assert cli(["grade", "two_layer_net", str(archive), "--out", str(tmp_path / "out"), "--course", str(course)]) == 0
    rows = {row["student_id"]: row for row in csv.DictReader(open(tmp_path / "out" / "grades.csv"))}
    assert rows["alice"]["status"] == "ok" and float(rows["alice"]["total"]) == 34.0
    assert rows["mallory"]["status"] == "too-large" and float(rows["mallory"]["total"]) == 0
    message = (tmp_path / "out" / "feedback" / "mallory.html").read_text()
    assert "two_layer_net.ipynb is 30 MB once unpacked; the limit is 20 MB" in message
    trudy = (tmp_path / "out" / "feedback" / "trudy.html").read_text()
    assert rows["trudy"]["status"] == "ok" and float(rows["trudy"]["total"]) == 34.0 - 6
    assert f"{CHECKPOINT} is 300 MB once unpacked; the limit is 256 MB" in trudy


def test_checkpoint_that_inflates_to_a_gigabyte_is_refused_before_it_is_read(course, notebooks, tmp_path):
    folder = tmp_path / "submissions"
    (folder / "bomber").mkdir(parents=True)
    (folder / "bomber.ipynb").write_text(notebooks["honest"])
    bomb = checkpoint_bomb(folder / "bomber" / CHECKPOINT, 2**30)
    assert bomb.stat().st_size < 2 * 2**20
    result, = grade_batch("two_layer_net", folder, tmp_path / "out", course_dir=course, show_progress=False,
                          canary=False)
    model = result.parts["test_best_model"]
    assert result.status == "ok" and result.total == 34.0 - 6
    assert "the checkpoint declares 1.0 GB of tensors; the limit is 256 MB" in model.diagnoses[0]


LOADED = set()  # students whose files are read and not yet graded (module level: Dask pickles tasks by reference)


def grade_and_forget(job):
    result = grade_submission(job)
    LOADED.discard(job.student_id)
    return result


def test_submissions_are_read_a_window_at_a_time(course, tmp_path, monkeypatch):
    import autograder.grade as grade
    folder = tmp_path / "class"
    folder.mkdir()
    for i in range(40):
        (folder / f"student-{i:02d}.ipynb").write_text('{"hello": "world"}')  # graded fast: not a notebook
    most, plan_job = [], grade.plan_job

    def read_and_count(template, sub):
        LOADED.add(sub.student_id)
        most.append(len(LOADED))
        return plan_job(template, sub)

    monkeypatch.setattr(grade, "plan_job", read_and_count)
    monkeypatch.setattr(grade, "grade_submission", grade_and_forget)
    results = grade_batch("two_layer_net", folder, tmp_path / "out", course_dir=course, workers=2, window=3,
                          show_progress=False, canary=False, record=False)
    assert len(results) == 40 and {r.status for r in results} == {"invalid-notebook"}
    assert len(most) == 40 and max(most) == 3, most


def test_nbgrader_tree_regrade_one_student_and_reports(course, notebooks, reference_model, tmp_path):
    tree = tmp_path / "submitted"
    for student in ("honest", "blank"):
        folder = tree / student / "two_layer_net"
        folder.mkdir(parents=True)
        (folder / "two_layer_net.ipynb").write_text(notebooks[student])
        shutil.copy(reference_model, folder / CHECKPOINT)
    out = tmp_path / "out"
    assert cli(["grade", "two_layer_net", str(tree), "--out", str(out), "--course", str(course), "--workers", "2",
                "--no-canary"]) == 0
    first = (out / "grades.csv").read_text()
    rows = list(csv.DictReader(first.splitlines()))
    assert [r["student_id"] for r in rows] == ["blank", "honest"]
    assert rows[1]["status"] == "ok" and float(rows[1]["total"]) == 34 and rows[1]["max_total"] == "43"
    assert list(rows[0]) == ["student_id", "status", "test_nn_forward_pass", "test_nn_forward_backward",
                             "test_nn_predict", "test_nn_train", "test_two_layer_net", "test_find_best_net",
                             "test_best_model", "q_loss_as_scorer", "q_fitting", "q_nn_vs_svm", "raw_total", "late_by",
                             "late_penalty", "total", "max_total"]
    # The blank student fixes their work; regrading only them leaves the other row as it was.
    (tree / "blank" / "two_layer_net" / "two_layer_net.ipynb").write_text(notebooks["honest"])
    assert cli(["grade", "two_layer_net", str(tree), "--out", str(out), "--course", str(course),
                "--student", "blank", "--workers", "1", "--no-canary"]) == 0
    rows = list(csv.DictReader((out / "grades.csv").read_text().splitlines()))
    assert [float(r["total"]) for r in rows] == [34.0, 34.0]
    for name in ("summary.html", "summary.png", "common_mistakes.csv", "feedback/honest.html", "feedback/blank.html"):
        assert (out / name).is_file(), name
    feedback = (out / "feedback" / "honest.html").read_text()
    assert "BEGIN HIDDEN" not in feedback and "reference_forward" not in feedback
    grades = part_grades(course, "two_layer_net", ["honest", "blank"])
    assert grades["honest"]["test_nn_train"] == (6.0, 6.0) and grades["blank"]["test_best_model"] == (6.0, 6.0)


def test_unknown_student_and_missing_folder_are_clear_errors(course, tmp_path, capsys):
    assert cli(["grade", "two_layer_net", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o"),
                "--course", str(course)]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "ann.ipynb").write_text("{}")
    assert cli(["grade", "two_layer_net", str(tmp_path / "subs"), "--out", str(tmp_path / "o"),
                "--course", str(course), "--student", "zed"]) == 2
    assert "no submission from 'zed'" in capsys.readouterr().err


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_grades_through_a_dask_scheduler_and_two_workers(course, notebooks, reference_model, tmp_path):
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                  "--port", str(port), "--no-dashboard"], stderr=subprocess.DEVNULL)
    workers = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                                 "--no-dashboard", "--name", f"w{i}"], stderr=subprocess.DEVNULL) for i in range(2)]
    try:
        from dask.distributed import Client
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
        folder = tmp_path / "subs"
        folder.mkdir()
        for i in range(4):
            (folder / f"s{i}.ipynb").write_text(notebooks["honest" if i % 2 else "blank"])
        results = grade_batch("two_layer_net", folder, tmp_path / "out", course_dir=course, scheduler=address,
                              show_progress=False, record=False)
        assert totals(results) == {"s0": 0.0, "s1": 28.0, "s2": 0.0, "s3": 28.0}  # no checkpoints submitted
        assert len({r.worker for r in results}) == 2
    finally:
        for process in workers + [scheduler]:
            process.terminate()
        for process in workers + [scheduler]:
            process.wait(timeout=30)


def test_stock_nbgrader_is_fooled_by_a_rewritten_test_result_and_we_are_not(course, notebooks, tmp_path):
    write_submitted(course, {"cheat": (nbformat.reads(notebooks["cheat"], as_version=4), {})}, "two_layer_net")
    autograde(course, ["cheat"], "two_layer_net")
    stock = part_grades(course, "two_layer_net", ["cheat"])["cheat"]
    stock_total = sum(score for score, _ in stock.values() if score is not None)
    folder = tmp_path / "subs"
    folder.mkdir()
    (folder / "cheat.ipynb").write_text(notebooks["cheat"])
    ours = grade_batch("two_layer_net", folder, tmp_path / "out", course_dir=course, workers=1,
                       show_progress=False, canary=False, record=False)[0]
    assert stock_total >= 30, stock  # every in-kernel check reported "pass": a blank notebook with full marks
    assert ours.total == 0
