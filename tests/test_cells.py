"""Which cells of a submission the batch grader runs: answer cells in full, added cells' definitions only."""
import nbformat

from autograder.grade.cells import DEFINITIONS, FULL, SKIPPED, definitions_only, plan

ANSWERS = {"nn_forward_pass": ["nn_forward_pass"], "nn_predict": ["nn_predict"]}


def notebook(*cells):
    """Code cells from (grade_id or None, source) pairs."""
    nb = nbformat.v4.new_notebook()
    for grade_id, source in cells:
        cell = nbformat.v4.new_code_cell(source)
        if grade_id:
            cell.metadata["nbgrader"] = {"grade_id": grade_id, "solution": True}
        nb.cells.append(cell)
    return nb


def test_definitions_are_kept_and_work_is_left_out():
    code = ('import torch\nimport torch.nn.functional as F\nDEVICE = torch.device("cpu")\nSIZES = [2, 8]\n'
            'def relu(z):\n    return z.clamp(min=0)\nclass Net:\n    pass\nsquare = lambda x: x * x\n'
            'for step in range(10**9):\n    pass\nnet = Net()\nplt.plot([1, 2])\nif __name__ == "__main__":\n'
            '    train()\n    K = 3\ntry:\n    import numpy as np\nexcept ImportError:\n    np = None\n')
    kept, names, skipped = definitions_only(code)
    assert names == ["torch", "F", "DEVICE", "SIZES", "relu", "Net", "square", "K", "np"]
    assert skipped == [10, 12, 13, 15]


def test_cells_run_in_notebook_order_with_added_cells_reduced():
    nb = notebook((None, "def relu(z):\n    return z.clamp(min=0)\nfor i in range(10**9):\n    pass\n"),
                  ("nn_forward_pass", "def nn_forward_pass(params, X):\n    return relu(X), X\n"),
                  ("check_forward_pass", "print('a kit cell: not run')"),
                  (None, "   \n"),
                  (None, "def broken(:\n"),
                  (None, "def nn_predict(params, loss_func, X):\n    return X.argmax(1)\n"))
    cells, notes = plan(nb, ANSWERS)
    assert [(c.id, c.mode) for c in cells] == [("added cell 1", DEFINITIONS), ("nn_forward_pass", FULL),
                                               ("added cell 5", SKIPPED), ("nn_predict", FULL)]
    assert cells[0].chunks == ["def relu(z):\n    return z.clamp(min=0)"]
    assert "left out its other statements (line 3)" in cells[0].notes[0]
    assert "syntax error (line 1" in cells[2].notes[0] and cells[2].chunks == []
    assert notes == ["the answer cell nn_predict had lost its nbgrader id; graded the cell that defines nn_predict"]


def test_answer_cells_run_statement_by_statement_unless_they_do_not_parse():
    cells, _ = plan(notebook(("nn_forward_pass",
                              "X_demo = data['X_train'][:5]\ndef nn_forward_pass(p, X):\n    pass\n"),
                             ("nn_predict", "def nn_predict(params, loss_func, X)\n    return X\n")), ANSWERS)
    assert cells[0].chunks == ["X_demo = data['X_train'][:5]", "def nn_forward_pass(p, X):\n    pass"]
    assert cells[1].chunks == ["def nn_predict(params, loss_func, X)\n    return X\n"]


def test_a_failing_cell_runs_less_each_time():
    cells, _ = plan(notebook(("nn_forward_pass", "import os\nos._exit(3)\ndef nn_forward_pass(p, X):\n    pass\n")),
                    ANSWERS)
    cell = cells[0]
    assert cell.degrade("stopped the interpreter (exit code 3)") and cell.mode == DEFINITIONS
    assert cell.chunks == ["import os", "def nn_forward_pass(p, X):\n    pass"]
    assert cell.degrade("did not finish within 30 s") and cell.mode == SKIPPED and not cell.degrade("again")
    assert cell.notes == ["the answer cell nn_forward_pass stopped the interpreter (exit code 3); the grader then ran "
                          "only its definitions", "the answer cell nn_forward_pass did not finish within 30 s; the "
                          "grader then left it out"]
