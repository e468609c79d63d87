"""helpers.visible: visible checks record their verdicts, and an unwritten function is named plainly."""
import nbformat
import pytest
from nbclient import NotebookClient

from autograder.course_dir import COURSE_ROOT
from helpers import visible
from helpers.visible import report_check, report_match, visible_check


@pytest.fixture(autouse=True)
def fresh_records(monkeypatch):
    monkeypatch.setattr(visible, "_records", [])


def nn_forward_pass(params, X):
    # YOUR CODE HERE
    raise NotImplementedError()


class TwoLayerNet:
    def loss(self, X):
        raise NotImplementedError()

    def train(self, X):
        return self.loss(X)


def test_verdicts_inside_a_check_are_recorded_and_decide_its_status(capsys):
    with visible_check("nn_forward_backward"):
        report_check("loss difference", 1e-9, 1e-4)
        report_check("W1 max relative error", 3e-2, 1e-6)
    with visible_check("make_model"):
        report_match("Trainable parameters", 1539, 1539)
    report_check("outside any check", 0.0, 1.0)
    recorded = visible.recorded()
    assert [(r["check"], r["status"]) for r in recorded] == [("nn_forward_backward", "fail"), ("make_model", "pass")]
    assert [v["passed"] for v in recorded[0]["verdicts"]] == [True, False]
    assert "W1 max relative error: 3.00e-02  ->  look again" in capsys.readouterr().out


def test_a_check_without_verdicts_is_not_a_pass():
    with visible_check("plot only"):
        pass
    assert visible.recorded()[0]["status"] == visible.NO_VERDICT


def test_an_unwritten_function_prints_a_plain_message_and_the_cell_goes_on(capsys):
    with visible_check("nn_forward_pass"):
        nn_forward_pass({}, None)
        pytest.fail("the check body must stop at the stub")
    out = capsys.readouterr().out
    assert out.startswith("nn_forward_pass is not implemented yet: write it where its cell says YOUR CODE HERE")
    assert visible.recorded()[0]["status"] == visible.NOT_IMPLEMENTED


def test_the_message_names_the_innermost_unwritten_function(capsys):
    with visible_check("TwoLayerNet"):
        TwoLayerNet().train(None)
    assert capsys.readouterr().out.startswith("TwoLayerNet.loss is not implemented yet")


def test_other_errors_are_raised_and_recorded():
    with pytest.raises(RuntimeError, match="shape mismatch"):
        with visible_check("nn_train"):
            raise RuntimeError("shape mismatch")
    assert visible.recorded()[0] == {"check": "nn_train", "status": "error", "verdicts": [],
                                    "error": "RuntimeError: shape mismatch"}


def test_in_a_kernel_a_stub_called_outside_a_check_shows_one_line_not_a_traceback(tmp_path):
    """The IPython handler helpers installs on import: the cell still fails (Run All stops), with one plain line."""
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import helpers"),
        nbformat.v4.new_code_cell("def nn_train(*args):\n    raise NotImplementedError()\n\nnn_train(1, 2)"),
        nbformat.v4.new_code_cell("1 / 0"),
    ])
    NotebookClient(nb, kernel_name="python3", timeout=60, allow_errors=True,
                   resources={"metadata": {"path": str(COURSE_ROOT)}}).execute()
    stub_error = nb.cells[1].outputs[0]
    assert stub_error.output_type == "error" and stub_error.ename == "NotImplementedError"
    assert stub_error.traceback == ["NotImplementedError: nn_train is not implemented yet: write it where its cell "
                                    "says YOUR CODE HERE, run that cell, then run this one again."]
    other = nb.cells[2].outputs[0]
    assert other.ename == "ZeroDivisionError" and len(other.traceback) > 1  # other errors keep their traceback


def test_a_function_with_two_check_cells_passes_only_when_both_pass():
    """The self-check's summary: nn_forward_backward's loss check fails, its gradient check passes."""
    with visible_check("nn_forward_backward"):
        report_check("loss difference", 0.3, 1e-4)
    with visible_check("nn_forward_backward"):
        report_check("W1 max relative error", 1e-9, 1e-6)
    with visible_check("nn_forward_pass"):
        nn_forward_pass({}, None)
    assert visible.summary() == {"nn_forward_backward": "fail", "nn_forward_pass": "not implemented"}
    assert [r["status"] for r in visible.recorded()] == ["fail", "pass", "not implemented"]
