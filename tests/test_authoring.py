"""The authoring rules (autograder.authoring, `python -m autograder check`): each shown failing on a violation planted
in a scratch copy of the course, with a message that names what to change; `python -m autograder release` refuses
the same assignment and releases nothing. (That every assignment of the kit follows them: tests/test_conformance.py.)
"""
from pathlib import Path

import nbformat
import pytest

from autograder import authoring, registry
from autograder.__main__ import main
from autograder.course_dir import ReleaseError, generate_release, scratch_course, write_points
from autograder.notebooks import grade_id

NAME = "two_layer_net"


@pytest.fixture
def course(tmp_path):
    """A scratch course holding NAME; the kit's own `assignments` package is bound again afterwards (loading the
    scratch course's modules rebinds it in this process)."""
    yield scratch_course(tmp_path / "course", [NAME])
    registry.bind_course(registry.COURSE_ROOT)


def edit(path, old, new):
    """Replace `old` (which must occur once) by `new` in the file at `path`."""
    text = path.read_text()
    assert text.count(old) == 1, (path, old)
    path.write_text(text.replace(old, new))


def edit_cell(course, cell_id, change):
    """Apply `change(cell)` to the cell of NAME's source notebook whose grade_id is `cell_id`."""
    path = course / "source" / NAME / f"{NAME}.ipynb"
    nb = nbformat.read(path, 4)
    change(next(cell for cell in nb.cells if grade_id(cell) == cell_id))
    nbformat.write(nb, path)


def manifest(course):
    return course / "assignments" / NAME / "manifest.toml"


def folder(course, file):
    return course / "assignments" / NAME / file


def refused(course, capsys, expected, name=NAME):
    """`check` and `release` both refuse `name` in `course`, each saying `expected`; nothing is released."""
    problems = authoring.check(name, course)
    assert any(expected in str(problem) for problem in problems), problems
    capsys.readouterr()
    assert main(["check", name, "--course", str(course)]) == 1
    out = capsys.readouterr().out
    assert expected in out and f"{name}: " in out and "rules passed" not in out, out
    assert main(["release", name, "--course", str(course)]) == 2
    err = capsys.readouterr().err
    assert expected in err and "not released" in err, err
    assert not (course / "release").exists()
    return problems


# --- The five an author makes most: a typo in the manifest, a renamed check, a name the notebook does not define ---

@pytest.mark.parametrize("old, new, expected", [
    pytest.param('names = ["nn_predict"]\npoints = 2\nseconds = 10', 'names = ["nn_predict"]\npoints = 2\nsecnds = 10',
                 "[parts.test_nn_predict] `secnds`: unknown key; did you mean `seconds`?", id="secnds-in-a-part"),
    pytest.param("[budgets]\n", "[budgets]\nsecnds = 10\n", "[budgets] `secnds`: unknown key", id="secnds-in-budgets"),
    pytest.param("wall_seconds = 300", "wall_second = 120",
                 "[budgets] `wall_second`: unknown key; did you mean `wall_seconds`?", id="wall_second-in-budgets"),
])
def test_a_typo_in_the_manifest_is_refused_naming_the_key(course, capsys, old, new, expected):
    edit(manifest(course), old, new)
    problems = refused(course, capsys, expected)
    assert {problem.rule for problem in problems} == {"manifest"}


def test_a_renamed_key_of_checks_is_refused_naming_it_and_the_part(course, capsys):
    edit(folder(course, "checks.py"), '"test_nn_predict": Check(', '"test_nn_predicts": Check(')
    problems = refused(course, capsys, "CHECKS['test_nn_predicts'] is no code part")
    assert {problem.rule for problem in problems} == {"checks"}
    assert "did you mean `test_nn_predict`?" in str(problems[0])
    assert any("the code part test_nn_predict has no entry" in str(problem) for problem in problems)


def test_a_part_naming_a_function_the_notebook_does_not_define_is_refused(course, capsys):
    edit(manifest(course), 'names = ["nn_predict"]', 'names = ["nn_predictions"]')
    problems = refused(course, capsys, "`nn_predictions` is no answer cell")
    assert "did you mean `nn_predict`?" in next(str(p) for p in problems if p.rule == "answer-cells")


# --- Every other rule ------------------------------------------------------------------------------------------

def plant_text(file, old, new):
    return lambda course: edit(folder(course, file), old, new)


def plant_everywhere(file, old, new):
    def plant(course):
        path = folder(course, file)
        assert old in path.read_text(), (file, old)
        path.write_text(path.read_text().replace(old, new))
    return plant


def plant_cell(cell_id, change):
    return lambda course: edit_cell(course, cell_id, change)


def append(cell_id, code):
    return plant_cell(cell_id, lambda cell: setattr(cell, "source", cell.source + code))


def retag(cell_id, new_id):
    return plant_cell(cell_id, lambda cell: cell.metadata["nbgrader"].update(grade_id=new_id))


def replace_in_cell(cell_id, old, new):
    def change(cell):
        assert old in cell.source, (cell_id, old)
        cell.source = cell.source.replace(old, new)
    return plant_cell(cell_id, change)


def remove_notebook(course):
    (course / "source" / NAME / f"{NAME}.ipynb").unlink()


PLANTED = [
    ("notebooks", remove_notebook, "two_layer_net.ipynb does not exist"),
    ("setup-cell", retag("setup", "imports"), "no set-up cell: give its first code cell"),
    ("setup-cell", plant_cell("setup", lambda cell: cell.metadata["nbgrader"].update(locked=False)),
     "the set-up cell must be read-only"),
    ("hidden-test-cells", retag("test_nn_predict", "test_predict"),
     "part test_nn_predict has no hidden-test cell: add a locked, graded code cell with grade_id test_nn_predict "
     "(nbgrader \"Autograder tests\") (did you mean `test_predict`?)"),
    ("hidden-test-cells", retag("test_nn_predict", "test_predict"),
     "cell test_predict: a graded code cell that assignments/two_layer_net/manifest.toml does not declare"),
    ("hidden-test-call", replace_in_cell("test_nn_predict", "import hidden_test\n", "import hidden_test as test\n"),
     "write exactly these two lines between `### BEGIN HIDDEN TESTS` and `### END HIDDEN TESTS`: "
     "`from autograder.hidden import hidden_test` / `hidden_test(\"two_layer_net\", \"test_nn_predict\", nn_predict)`"),
    ("hidden-test-call", replace_in_cell("test_find_best_net", "find_best_net, get_param_set)",
                                         "get_param_set, find_best_net)"),
     "`hidden_test(\"two_layer_net\", \"test_find_best_net\", find_best_net, get_param_set)`"),
    ("hidden-test-call", replace_in_cell("test_best_model", "### END HIDDEN TESTS", "print('done')\n### END HIDDEN "
                                                                                   "TESTS"),
     "`hidden_test(\"two_layer_net\", \"test_best_model\", <path of the submitted file>)`"),
    ("answer-cells", append("nn_predict", "\n\n\ndef softmax_rows(scores):\n    return scores.softmax(dim=1)\n"),
     "cell nn_predict: defines nn_predict, softmax_rows: the cell must hold `nn_predict` alone"),
    ("answer-cells", plant_cell("nn_predict", lambda cell: setattr(cell, "source", "import torch\n\n" + cell.source)),
     "defines nn_predict and other statements: the cell must hold `nn_predict` alone, beginning with `def nn_predict`"),
    ("answer-cells", plant_cell("nn_predict", lambda cell: setattr(cell, "source", "\n".join(
        line for line in cell.source.splitlines() if "### " not in line))),
     "cell nn_predict: has no `### BEGIN SOLUTION` / `### END SOLUTION` markers"),
    ("answer-cells", plant_text("manifest.toml", 'names = ["nn_train"]\n',
                                'names = ["nn_train"]\nreads = ["nn_predikt"]\n'),
     "[parts.test_nn_train] reads: `nn_predikt` is no answer cell"),
    ("checks", plant_text("checks.py", "harness.run_predict, judge_predict",
                          "lambda net, cases: harness.run_predict(net, cases), judge_predict"),
     "CHECKS['test_nn_predict']: runs assignments.two_layer_net.checks.<lambda>, which is not a function of "
     "assignments/two_layer_net/harness.py"),
    ("checks", plant_text("checks.py", 'FILE_CHECKS = {"test_best_model": check_best_model}', "FILE_CHECKS = {}"),
     "the file part test_best_model has no entry: add FILE_CHECKS['test_best_model']"),
    ("checks", plant_text("checks.py", 'REFERENCE_FILES = {"best_two_layer_net.pth"', 'REFERENCE_FILES = {"best.pth"'),
     "REFERENCE_FILES['best.pth'] is no side file"),
    ("checks", plant_text("checks.py", "\nCHECKS = {", "\nraise ImportError('no module named numpyy')\nCHECKS = {"),
     "checks.py: does not import (ImportError: no module named numpyy)"),
    ("harness-imports", plant_text("harness.py", "import inspect\n", "import inspect\nfrom autograder.judging import "
                                                                     "Report\n"),
     "harness.py: line 4: autograder.judging is grader side"),
    ("helper-names", append("default_net_stats", "\naccuracy = stats['val_acc_history'][-1]"),
     "cell default_net_stats: binds `accuracy`, a name students give their own helpers"),
    ("catalogues", plant_everywhere("mistakes.py", '"nn_predict", "test_nn_predict"', '"nn_predict", "test_nn_train"'),
     "code part test_nn_predict has no catalogued mistake"),
    ("catalogues", plant_text("mistakes.py", '"predict_returns_scores", "nn_predict", "test_nn_predict"',
                              '"predict_returns_scores", "nn_predict", "test_nn_predicts"'),
     "Mutant 'predict_returns_scores': its part 'test_nn_predicts' is no code part"),
    ("catalogues", plant_text("mistakes.py", '((".argmax(dim=1)", ""),)', '((".argmax(axis=1)", ""),)'),
     "mutant predict_returns_scores: '.argmax(axis=1)' is not in the solution of nn_predict"),
    ("catalogues", plant_text("mistakes.py", '"predict_returns_scores", "nn_predict"',
                              '"argmax_wrong_axis", "nn_predict"'),
     "MUTANTS has two entries named 'argmax_wrong_axis'"),
    ("catalogues", plant_text("manifest.toml", 'mutants = ["relu_on_scores"', 'mutants = ["relu_on_score"'),
     "[demo] mutants: `relu_on_score` is no catalogued mistake of assignments/two_layer_net/mistakes.py (did you mean "
     "`relu_on_scores`?)"),
    ("budgets", plant_text("manifest.toml", "wall_seconds = 300", "wall_seconds = 150"),
     "[budgets] wall_seconds: is 150 s, but a submission whose every part runs to its budget takes 168 s"),
    ("requirements", plant_text("manifest.toml", ":check_course_dataset_available", ":check_course_dataset_availabel"),
     "helpers.data has no function check_course_dataset_availabel (did you mean `check_course_dataset_available`?)"),
    ("requirements", plant_text("manifest.toml", '"helpers.data:', '"helpers.dta:'),
     "module helpers.dta does not import (ModuleNotFoundError"),
]


@pytest.mark.parametrize("rule, plant, expected", [pytest.param(*case, id=f"{case[0]}-{i}")
                                                   for i, case in enumerate(PLANTED)])
def test_each_rule_fails_on_a_planted_violation_saying_what_to_change(course, rule, plant, expected):
    assert authoring.check(NAME, course) == []
    plant(course)
    problems = authoring.check(NAME, course)
    mine = [str(problem) for problem in problems if problem.rule == rule]
    assert any(expected in text for text in mine), problems
    assert {problem.rule for problem in problems} == {rule}, problems


def test_every_rule_is_shown_failing():
    assert {case[0] for case in PLANTED} | {"manifest"} == set(authoring.RULES)


def test_check_says_how_many_rules_passed_and_a_missing_assignment_fails(course, capsys):
    assert main(["check", NAME, "--course", str(course)]) == 0
    assert f"{NAME}: {len(authoring.RULES)} rules passed (" in capsys.readouterr().out
    assert main(["check", "two_layer_nett", "--course", str(course)]) == 1
    out = capsys.readouterr().out
    assert "two_layer_nett: manifest: " in out and "no assignment 'two_layer_nett'" in out and NAME in out


def test_an_ungraded_notebook_needs_its_manifest_and_notebooks_only(tmp_path):
    course = scratch_course(tmp_path / "course", ["learning_rate_lab"])
    try:
        assert not (course / "assignments" / "learning_rate_lab" / "checks.py").exists()
        assert authoring.check("learning_rate_lab", course) == []
        (course / "source" / "learning_rate_lab" / "learning_rate_lab.ipynb").unlink()
        assert [p.rule for p in authoring.check("learning_rate_lab", course)] == ["notebooks"]
    finally:
        registry.bind_course(registry.COURSE_ROOT)


# --- Points are declared once, in the manifest: release writes them into the notebook ----------------------------

def hidden_test_cell(course, cell_id):
    nb = nbformat.read(course / "source" / NAME / f"{NAME}.ipynb", 4)
    return next(cell for cell in nb.cells if grade_id(cell) == cell_id)


def test_release_writes_the_manifests_points_into_the_notebook_and_leaves_it_alone_when_they_agree(course):
    path = course / "source" / NAME / f"{NAME}.ipynb"
    before = path.read_bytes()
    assert write_points(NAME, course) is False and path.read_bytes() == before
    edit(manifest(course), 'names = ["nn_predict"]\npoints = 2', 'names = ["nn_predict"]\npoints = 1')
    edit(manifest(course), 'file = "best_two_layer_net.pth"\npoints = 6',
         'file = "best_two_layer_net.pth"\npoints = 7.5')
    edit_cell(course, "test_nn_forward_pass", lambda cell: setattr(cell, "source", cell.source.split("\n", 1)[1]))
    assert authoring.check(NAME, course) == []  # the points of the notebook are release's to write, not the author's
    assert write_points(NAME, course) is True
    predict, best, forward = (hidden_test_cell(course, gid) for gid in ("test_nn_predict", "test_best_model",
                                                                        "test_nn_forward_pass"))
    assert predict.metadata["nbgrader"]["points"] == 1 and predict.source.startswith(
        "# Graded: nn_predict (1 point). Hidden tests run here when your notebook is graded.\n### BEGIN HIDDEN TESTS")
    assert best.metadata["nbgrader"]["points"] == 7.5 and best.source.startswith(
        "# Graded: the saved best model (7.5 points). Hidden tests")
    assert forward.source.startswith("# Graded: nn_forward_pass (4 points). Hidden tests run here when your notebook "
                                     "is graded.\n### BEGIN HIDDEN TESTS\n")
    after = path.read_bytes()
    assert write_points(NAME, course) is False and path.read_bytes() == after


def test_a_source_notebook_without_a_parts_hidden_test_cell_is_not_released(course):
    retag("test_nn_predict", "test_predict")(course)
    with pytest.raises(ReleaseError, match="part test_nn_predict has no hidden-test cell"):
        generate_release(NAME, course)
    assert not (course / "release").exists()


# --- The rules' own parts ----------------------------------------------------------------------------------------

def test_the_harness_core_imports_nothing_grader_side_and_the_rule_catches_what_it_should(tmp_path):
    core = Path(registry.COURSE_ROOT / "autograder" / "harness")
    assert {path.name: authoring.grader_side_imports(path) for path in core.glob("*.py")} == {
        path.name: [] for path in core.glob("*.py")}
    planted = tmp_path / "assignments" / "x" / "harness.py"
    planted.parent.mkdir(parents=True)
    planted.write_text("import torch\nfrom autograder.harness.core import call_student\n"
                       "from autograder.judging import Report\nimport assignments.x.checks\nfrom . import checks\n")
    assert authoring.grader_side_imports(planted) == ["line 3: autograder.judging", "line 4: assignments.x.checks",
                                                      "line 5: relative import"]


def test_names_bound_are_the_notebooks_not_the_functions_locals():
    assert authoring.names_bound("for mode, (pretrained, freeze, _) in MODES.items():\n    accuracy = 1\n"
                                 "def fine_tuned():\n    model = 1\nimport torch.nn as tnn, numpy\n%matplotlib inline\n"
                                 ) == {"mode", "pretrained", "freeze", "_", "accuracy", "fine_tuned", "tnn", "numpy"}


def test_the_readme_lists_every_rule():
    readme = (registry.COURSE_ROOT / "README.md").read_text()
    listed = readme[readme.index("### Authoring rules"):]
    assert [rule for rule in authoring.RULES if f"\n- `{rule}`: " not in listed] == []
