"""The manifest model (autograder.manifest): what it refuses, how it says so, and the README's reference to it."""
import tomllib

import pytest

from autograder import manifest, registry
from autograder.course_dir import COURSE_ROOT
from autograder.grade.sandbox import Limits


def two_layer_net():
    with open(COURSE_ROOT / "assignments" / "two_layer_net" / "manifest.toml", "rb") as f:
        return tomllib.load(f)


def refusal(data):
    with pytest.raises(manifest.ManifestError) as refused:
        manifest.parse(data, "assignments/x/manifest.toml")
    return str(refused.value)


def test_every_manifest_of_the_course_validates():
    assert {a.name: a.manifest.notebooks for a in registry.assignments()} == {
        "two_layer_net": ["two_layer_net.ipynb"], "transfer_learning": ["transfer_learning.ipynb"],
        "learning_rate_lab": ["learning_rate_lab.ipynb"]}


@pytest.mark.parametrize("table, key, nearest", [
    ("parts.test_nn_train", "secnds", "seconds"), ("budgets", "wall_second", "wall_seconds"),
    ("budgets", "memry_mb", "memory_mb"), ("", "notebook", "notebooks"), ("conformance", "seed", "seeds"),
    ("demo", "mutant", "mutants")])
def test_an_unknown_key_is_refused_with_the_nearest_valid_name(table, key, nearest):
    data = two_layer_net()
    target = data
    for step in filter(None, table.split(".")):
        target = target[step]
    target[key] = 10
    where = f"[{table}]" if table else "top level"
    assert f"{where} `{key}`: unknown key; did you mean `{nearest}`?" in refusal(data)


def test_a_key_with_no_near_name_lists_the_valid_ones():
    data = two_layer_net()
    data["budgets"]["gpu"] = True
    assert "[budgets] `gpu`: unknown key; the keys here are grading_seconds, student_seconds, wall_seconds" \
        in refusal(data)


def test_every_problem_is_named_at_once_with_its_value():
    data = two_layer_net()
    data["budgets"]["memory_mb"] = "4096"
    data["parts"]["test_nn_predict"]["file"] = "predictions.pt"
    data["parts"]["test_nn_train"]["points"] = -1
    data["requirements"] = "helpers.data.check"
    del data["notebooks"]
    message = refusal(data)
    assert message.startswith("assignments/x/manifest.toml:\n")
    assert "[budgets] `memory_mb`: Input should be a valid integer (got '4096')" in message
    assert "[parts.test_nn_predict]: needs either `names` (a code part) or `file` (a file part), not both" in message
    assert "[parts.test_nn_train] `points`: " in message and "greater than 0" in message
    assert "top level `requirements`: " in message and "'helpers.data.check'" in message
    assert "top level `notebooks`: Field required" in message
    assert len(message.splitlines()) == 6


def test_a_manifest_that_is_not_toml_names_the_file(tmp_path):
    path = tmp_path / "manifest.toml"
    path.write_text("title = \n")
    with pytest.raises(manifest.ManifestError, match=f"{path} is not valid TOML"):
        manifest.load(path)


def test_the_defaults_are_the_models_and_the_limits_take_them():
    data = {"notebooks": ["x.ipynb"], "parts": {"test_f": {"names": ["f"], "points": 1},
                                                "test_file": {"file": "model.pth", "points": 2}}}
    limits = Limits.from_manifest(manifest.parse(data))
    budgets = manifest.Budgets()
    assert (limits.wall_seconds, limits.memory_mb, limits.cell_seconds) == (
        budgets.wall_seconds, budgets.memory_mb, budgets.cell_seconds) == (300, 4096, 30)
    assert limits.part_seconds == {"test_f": manifest.Part.model_fields["seconds"].default} == {"test_f": 60}
    assert Limits() == Limits.from_manifest(manifest.parse({"notebooks": ["x.ipynb"]}))


def test_whole_numbers_stay_whole():
    """4 points stay 4 (not 4.0) in grades.csv's max_total and in nbgrader's metadata."""
    found = registry.assignment("two_layer_net")
    assert [type(p) for p in found.points.values()] == [int] * len(found.points)
    assert manifest.parse({"notebooks": ["x.ipynb"], "parts": {"t": {"names": ["f"], "points": 1.5}}}).parts[
        "t"].points == 1.5


def test_the_readme_holds_the_manifest_reference():
    reference = manifest.reference()
    for table in ("**Top level**", "**[budgets]**", "**[parts.<grade_id>]**", "**[conformance]**", "**[demo]**"):
        assert table in reference
    assert "| `wall_seconds` | number > 0 | `300` |" in reference
    assert "| `notebooks` | list of str | required |" in reference
    assert reference in (COURSE_ROOT / "README.md").read_text(), (
        "README.md's manifest reference differs from autograder/manifest.py: paste `python -m autograder manifest`")
