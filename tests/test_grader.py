"""The batch grader: intake formats, nothing lost, sandboxed and tamper-proof grading, reports, gradebook.

Hostile submissions are the reference solution with one answer cell replaced by an attack. Each must
gain no points for that part, touch nothing outside its scratch folder, and be reported.
"""
import re
import shutil
import socket
import threading

import nbformat
import pytest

from autograder.course_dir import generate_release, scratch_course
from autograder.grade import grade_batch
from autograder.grade.sandbox import bubblewrap
from autograder.hostile import FORWARD_WITH_RELU, HANG_EVERYWHERE, TRAINS_FOR_MINUTES, same_tensors_every_step
from autograder.notebooks import submission
from autograder.styles import combine, style_notebook
from assignments.two_layer_net.styles import STYLES

pytestmark = [pytest.mark.xdist_group("reference_model"), pytest.mark.slow]  # sandboxes and notebooks: `make test` only
NOTEBOOK, CHECKPOINT = "two_layer_net.ipynb", "best_two_layer_net.pth"
PART_SECONDS = 10
PARTS = ("test_nn_forward_pass", "test_nn_forward_backward", "test_nn_train", "test_nn_predict", "test_two_layer_net",
         "test_find_best_net")
LIMITS = ("wall_seconds = 150\ncpu_seconds = 120\nmemory_mb = 1500\nprocesses = 64\nstartup_seconds = 60\n"
          "cell_seconds = 20\n")
FULL = 34.0  # autograded points of the assignment
POINTS = {"test_nn_forward_pass": 4, "test_nn_forward_backward": 10, "test_nn_train": 6, "test_nn_predict": 2,
          "test_two_layer_net": 3, "test_find_best_net": 3, "test_best_model": 6}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A scratch nbgrader course with tight limits in its manifest, released."""
    course = scratch_course(tmp_path_factory.mktemp("course"), ["two_layer_net"])
    manifest = course / "assignments" / "two_layer_net" / "manifest.toml"
    text = manifest.read_text()
    parts = text[text.index("\n[parts."):]
    assert parts.count("\nseconds = ") == len(PARTS)
    manifest.write_text(text[:text.index("\nwall_seconds") + 1] + LIMITS
                        + re.sub(r"\nseconds = \d+", f"\nseconds = {PART_SECONDS}", parts))
    generate_release("two_layer_net", course)
    return course


@pytest.fixture(scope="module")
def make_notebook(source_nb, release_nb, answers):
    def make(added=(), **overrides):
        return nbformat.writes(submission(release_nb, source_nb, {**answers, **overrides}, added))
    return make


@pytest.fixture(scope="module")
def canary(tmp_path_factory):
    """Files a hostile submission must neither read nor change."""
    folder = tmp_path_factory.mktemp("canary")
    (folder / "secret.txt").write_text("canary")
    return folder


def add(folder, student, notebook_text, model=None):
    (folder / f"{student}.ipynb").write_text(notebook_text)
    if model is not None:
        (folder / student).mkdir()
        shutil.copy(model, folder / student / CHECKPOINT)


FORWARD_STUB = ("\n    return torch.zeros(X.shape[0], params['W2'].shape[1]), "
                "torch.zeros(X.shape[0], params['W1'].shape[1])\n")


def attack(body):
    """An nn_forward_pass that runs `body` (indented code) and then returns wrong answers."""
    return "def nn_forward_pass(params, X):\n" + body + FORWARD_STUB


SHADOWS_KIT_NAMES = ("def rel_error(x, y, eps=1e-10):\n    return 0.0\n\n\n"
                     "def reset_seed(seed=0):\n    torch.manual_seed(seed)\n")


class Listener:
    """A loopback TCP server that counts connections (none may come from a sandbox)."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen()
        self.server.settimeout(0.2)
        self.port, self.connections, self.running = self.server.getsockname()[1], 0, True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                self.server.accept()[0].close()
                self.connections += 1
            except OSError:
                pass

    def close(self):
        self.running = False
        self.thread.join()
        self.server.close()


@pytest.fixture(scope="module")
def batch(course, make_notebook, reference_model, canary, tmp_path_factory, source_nb, release_nb, answers):
    """One hostile, broken and honest batch, graded once by our grader."""
    listener = Listener()
    folder = tmp_path_factory.mktemp("submissions")
    gradebook = course / "gradebook.db"
    secrets = [gradebook, course / "source" / "two_layer_net" / NOTEBOOK, canary / "secret.txt"]
    targets = repr([str(p) for p in secrets])  # a Python list literal for the attack code
    add(folder, "honest", make_notebook(), reference_model)
    add(folder, "blank", (course / "release" / "two_layer_net" / NOTEBOOK).read_text())
    add(folder, "monkeypatcher", make_notebook(nn_forward_pass=attack(
        "    import torch, helpers.grad\n    torch.allclose = torch.equal = lambda *a, **k: True\n"
        "    helpers.grad.rel_error = lambda *a, **k: 0.0\n"
        "    try:\n        import autograder.judging as core\n"
        "        core.Report.fraction = property(lambda self: 1.0)\n    except ImportError:\n        pass\n")),
        reference_model)
    add(folder, "subclass", make_notebook(nn_forward_pass=(
        "class Agreeable(torch.Tensor):\n    def __eq__(self, other):\n        return True\n\n"
        "def nn_forward_pass(params, X):\n    t = torch.zeros(1).as_subclass(Agreeable)\n    return t, t\n")),
        reference_model)
    add(folder, "reader", make_notebook(nn_forward_pass=attack(
        f"    found = []\n    for p in {targets} + ['/root/.bashrc']:\n"
        "        try:\n            found.append(open(p, 'rb').read(20))\n        except OSError as e:\n"
        "            found.append(type(e).__name__)\n    raise RuntimeError(f'probe {found}')\n")), reference_model)
    add(folder, "writer", make_notebook(nn_forward_pass=attack(
        f"    for p in {targets} + ['{canary / 'new.txt'}']:\n"
        "        try:\n            open(p, 'w').write('pwned')\n        except OSError:\n            pass\n")),
        reference_model)
    add(folder, "network", make_notebook(nn_forward_pass=attack(
        f"    import socket\n    socket.create_connection(('127.0.0.1', {listener.port}), timeout=2)\n")),
        reference_model)
    add(folder, "reference-thief", make_notebook(nn_forward_pass=(
        "def nn_forward_pass(params, X):\n    from assignments.two_layer_net.checks import reference_forward\n"
        "    return reference_forward(params, X)\n")), reference_model)
    add(folder, "killer", make_notebook(nn_train=(
        "def nn_train(params, loss_func, pred_func, X, y, X_val, y_val, learning_rate=1e-3,"
        " learning_rate_decay=0.95, reg=5e-6, num_iters=100, batch_size=200, verbose=False):\n"
        "    import os, signal\n    os.kill(os.getpid(), signal.SIGKILL)\n")), reference_model)
    add(folder, "looper",
        make_notebook(nn_predict="def nn_predict(params, loss_func, X):\n    while True:\n        pass\n"),
        reference_model)
    add(folder, "stubborn", make_notebook(nn_predict=(
        "def nn_predict(params, loss_func, X):\n    while True:\n        try:\n            while True:\n"
        "                pass\n        except BaseException:\n            pass\n")), reference_model)
    add(folder, "hog", make_notebook(nn_predict=(
        "def nn_predict(params, loss_func, X):\n    hoard = []\n    while True:\n"
        "        hoard.append(bytearray(10**8))\n")), reference_model)
    add(folder, "forker", make_notebook(nn_predict=(
        "def nn_predict(params, loss_func, X):\n    import os, time\n    forked = 0\n    for _ in range(300):\n"
        "        try:\n            if os.fork() == 0:\n                time.sleep(30)\n                os._exit(0)\n"
        "            forked += 1\n        except OSError:\n            break\n"
        "    raise RuntimeError(f'forked {forked} times')\n")), reference_model)
    add(folder, "typo", make_notebook(nn_predict="def nn_predict(params, loss_func, X)\n    return X\n"),
        reference_model)
    add(folder, "exits-at-import", make_notebook(nn_forward_pass="import os\nos._exit(3)\n"), reference_model)
    add(folder, "hangs-everywhere", make_notebook(**HANG_EVERYWHERE), reference_model)
    add(folder, "same-batch-tensors", make_notebook(nn_train=same_tensors_every_step(answers["nn_train"])),
        reference_model)
    add(folder, "trains-in-added-cell", make_notebook(
        added=[("nn_forward_pass", TRAINS_FOR_MINUTES)], nn_forward_pass=FORWARD_WITH_RELU), reference_model)
    add(folder, "shadows-kit-names", make_notebook(added=[("nn_forward_pass", SHADOWS_KIT_NAMES)],
                                                   nn_forward_pass=attack("")), reference_model)
    add(folder, "uses-data-in-answer-cell", make_notebook(
        nn_forward_pass='X_demo = data["X_train"][:5]\n' + answers["nn_forward_pass"]), reference_model)
    add(folder, "typo-in-added-cell", make_notebook(added=[("nn_train", "def half(x)\n    return x / 2\n")]),
        reference_model)
    for i, group in enumerate(combine(STYLES)):
        add(folder, f"styles-{i}", nbformat.writes(style_notebook(release_nb, source_nb, answers, group)),
            reference_model)
    (folder / "broken-json.ipynb").write_text('{"cells": [')
    (folder / "empty.ipynb").write_text("")
    (folder / "not-a-notebook.ipynb").write_text('{"hello": "world"}')
    (folder / "no-notebook").mkdir()
    shutil.copy(reference_model, folder / "no-notebook" / CHECKPOINT)
    (folder / "misnamed").mkdir()
    (folder / "misnamed" / "Two Layer Net (1).ipynb").write_text(make_notebook())
    shutil.copy(reference_model, folder / "misnamed" / CHECKPOINT)
    (folder / "no-model.ipynb").write_text(make_notebook())
    before = {p: p.read_bytes() for p in secrets[1:]}  # the gradebook changes: the grader records scores
    try:
        results = grade_batch("two_layer_net", folder, tmp_path_factory.mktemp("out"), course_dir=course,
                              workers=2, show_progress=False, canary=False)
    finally:
        listener.close()
    return {r.student_id: r for r in results}, before, listener, folder


def test_every_submission_has_a_row(batch):
    results, *_ = batch
    assert set(results) == {"honest", "blank", "monkeypatcher", "subclass", "reader", "writer", "network",
                            "reference-thief", "killer", "looper", "stubborn", "hog", "forker", "typo",
                            "exits-at-import", "hangs-everywhere", "same-batch-tensors", "trains-in-added-cell",
                            "shadows-kit-names", "uses-data-in-answer-cell",
                            "typo-in-added-cell", "broken-json", "empty", "not-a-notebook", "no-notebook", "misnamed",
                            "no-model"} | {f"styles-{i}" for i in range(len(combine(STYLES)))}


def test_honest_work_gets_full_marks_and_blank_gets_zero(batch):
    results, *_ = batch
    assert results["honest"].status == "ok" and results["honest"].total == FULL
    assert results["honest"].isolation.startswith("bubblewrap" if bubblewrap() else "rlimits-only")
    assert results["blank"].total == 0


@pytest.mark.parametrize("student", ["monkeypatcher", "subclass", "reader", "writer", "network", "reference-thief"])
def test_attacks_on_the_forward_pass_gain_nothing_there_and_cost_nothing_elsewhere(batch, student):
    results, *_ = batch
    parts = results[student].parts
    assert parts["test_nn_forward_pass"].score == 0, parts["test_nn_forward_pass"]
    assert results[student].total == FULL - 4, {p: v.score for p, v in parts.items()}


def test_attacks_are_reported(batch):
    results, *_ = batch
    diagnosis = {s: " ".join(results[s].parts["test_nn_forward_pass"].diagnoses) for s in results}
    assert "got Agreeable" in diagnosis["subclass"]
    assert "No module named 'assignments.two_layer_net.checks'" in diagnosis["reference-thief"]
    if bubblewrap():
        assert "probe [" in diagnosis["reader"] and "canary" not in diagnosis["reader"]
        assert diagnosis["reader"].count("Error") >= 4  # every read failed (not found / denied)
        assert re.search(r"raised (ConnectionRefusedError|OSError|TimeoutError)", diagnosis["network"])


@pytest.mark.skipif(not bubblewrap(), reason="filesystem and network isolation need bubblewrap")
def test_sandbox_touched_nothing_outside_its_scratch(batch, canary):
    results, before, listener, _ = batch
    assert all(path.read_bytes() == content for path, content in before.items())
    course_gradebook = next(iter(before)).parents[2] / "gradebook.db"
    assert course_gradebook.read_bytes().startswith(b"SQLite format 3")
    assert not (canary / "new.txt").exists()
    assert listener.connections == 0


@pytest.mark.parametrize("student, status, part, words", [
    ("killer", "crashed", "test_nn_train", "nn_train killed the interpreter (SIGKILL)"),
    ("looper", "timeout", "test_nn_predict", f"nn_predict did not return within {PART_SECONDS} s"),
    ("stubborn", "timeout", "test_nn_predict", f"nn_predict did not return within {PART_SECONDS} s"),
    ("hog", "memory-limit", "test_nn_predict", "MemoryError"),
])
def test_killed_hung_and_hungry_code_loses_only_its_own_part(batch, student, status, part, words):
    results, *_ = batch
    result = results[student]
    assert result.status == status and result.message, result.message
    assert words in result.parts[part].diagnoses[0]
    assert result.total == FULL - POINTS[part], {p: v.score for p, v in result.parts.items()}


def test_code_that_hangs_everywhere_costs_each_part_and_no_more_than_the_budgets(batch):
    result = batch[0]["hangs-everywhere"]
    assert result.status == "timeout" and result.total == POINTS["test_best_model"]
    for part in PARTS:
        assert f"did not return within {PART_SECONDS} s" in result.parts[part].diagnoses[0], part
    # Each hung part is interrupted at its budget and the next one runs in the same sandbox.
    assert result.seconds < len(PARTS) * PART_SECONDS + 15, result.seconds


def test_handing_the_same_tensors_every_step_is_one_mistake_in_one_part(batch):
    result = batch[0]["same-batch-tensors"]
    train = result.parts["test_nn_train"]
    assert result.status == "ok" and 0 < train.score < POINTS["test_nn_train"], train
    assert any("whole training set" in d for d in train.diagnoses), train.diagnoses
    assert result.total == FULL - POINTS["test_nn_train"] + train.score


def test_every_style_of_correct_code_gets_full_marks(batch):
    results, *_ = batch
    for i, group in enumerate(combine(STYLES)):
        result = results[f"styles-{i}"]
        lost = {p: v.diagnoses for p, v in result.parts.items() if v.score < v.max}
        assert result.total == FULL and result.status == "ok", ([s.name for s in group], lost)


def test_added_cells_run_their_definitions_only_and_say_so(batch):
    results, *_ = batch
    helper = next(r for r in results.values() if any("ran its definitions (relu)" in n for n in r.notes))
    assert helper.student_id.startswith("styles-") and helper.total == FULL
    trainer = results["trains-in-added-cell"]
    assert trainer.total == FULL and trainer.status == "ok" and trainer.seconds < 60
    note = next(n for n in trainer.notes if n.startswith("added cell"))
    assert "ran its definitions (relu)" in note and "left out its other statements (line 1, 2, 3)" in note
    typo = results["typo-in-added-cell"]
    assert typo.total == FULL and any("has a syntax error (line 1" in n and "costs nothing" in n for n in typo.notes)


def test_an_answer_cell_that_first_uses_the_notebooks_data_still_defines_its_function(batch):
    result = batch[0]["uses-data-in-answer-cell"]
    assert result.status == "ok" and result.total == FULL, result.parts["test_nn_forward_pass"]


def test_a_helper_shadowing_a_kit_name_changes_only_what_the_notebook_sees(batch):
    result = batch[0]["shadows-kit-names"]
    assert any("ran its definitions (rel_error, reset_seed)" in n for n in result.notes)
    assert result.parts["test_nn_forward_pass"].score == 0  # its own rel_error fools no judge
    assert result.total == FULL - POINTS["test_nn_forward_pass"]


def test_fork_bomb_is_contained(batch):
    results, *_ = batch
    result = results["forker"]
    assert result.parts["test_nn_forward_pass"].score == 4 and result.parts["test_best_model"].score == 6
    forked = int(re.search(r"forked (\d+) times", " ".join(result.parts["test_nn_predict"].diagnoses)).group(1))
    if "no process-count limit" not in result.isolation:
        assert forked < 64  # the manifest's `processes` limit stopped it


@pytest.mark.parametrize("student, status, words", [
    ("broken-json", "invalid-notebook", "not valid notebook JSON"),
    ("empty", "invalid-notebook", "is empty"),
    ("not-a-notebook", "invalid-notebook", "not a Jupyter notebook"),
    ("no-notebook", "missing-notebook", "no notebook was submitted"),
])
def test_broken_submissions_get_a_clear_status_and_zero(batch, student, status, words):
    results, *_ = batch
    assert results[student].status == status and words in results[student].message
    assert results[student].total == 0


def test_a_cell_that_exits_costs_only_what_it_defines(batch):
    result = batch[0]["exits-at-import"]
    assert result.status == "crashed" and "stopped the interpreter (exit code 3)" in result.message
    assert "ran only its definitions" in result.parts["test_nn_forward_pass"].diagnoses[0]
    assert result.total == FULL - POINTS["test_nn_forward_pass"]


def test_syntax_error_costs_only_its_cell_and_says_where(batch):
    results, *_ = batch
    result = results["typo"]
    assert result.status == "ok" and result.total == FULL - 2
    assert "the answer cell nn_predict has a syntax error" in result.parts["test_nn_predict"].diagnoses[0]


def test_misnamed_notebook_and_missing_model(batch):
    results, *_ = batch
    assert results["misnamed"].total == FULL and any("was named" in n for n in results["misnamed"].notes)
    missing = results["no-model"].parts["test_best_model"]
    assert missing.score == 0 and "was not submitted" in missing.diagnoses[0]
    assert results["no-model"].total == FULL - 6


def test_outputs_that_cannot_be_recorded_cost_their_part_only(tmp_path):
    from autograder.harness.__main__ import _save
    from autograder.harness.transport import load
    _save({"stats": {"loss_history": {1.0, 2.0}}}, tmp_path, "test_nn_train")
    outputs = load(tmp_path / "test_nn_train.safetensors")
    assert "could not be recorded" in outputs["harness_error"] and "cannot transport set" in outputs["harness_error"]
