"""autograder.harness.hints: real errors that student code raises get the hint that names their usual cause, and
errors without one get none. Each error is raised by running student-style code as a cell (core.compile_cell)."""
import pytest
import torch

from autograder.harness.core import StudentError, call_student, compile_cell


def raise_in_cell(code, name="<answer, statement 1>"):
    """The one-line description call_student gives of the error `code` (a cell defining f()) raises in f()."""
    namespace = {"torch": torch}
    exec(compile_cell(code, name), namespace)
    with pytest.raises(StudentError) as raised:
        call_student(namespace["f"])
    return raised.value.text


CASES = {
    "float64 hard-coded": ("def f():\n    X = torch.ones(2, 3)\n    W = torch.ones(3, 2, dtype=torch.float64)\n"
                           "    return X @ W\n", "hard-coded dtype"),
    "one_hot without num_classes": ("def f():\n    y = torch.tensor([0, 1, 1])\n    scores = torch.zeros(3, 4)\n"
                                    "    return scores - torch.nn.functional.one_hot(y)\n", "without num_classes"),
    "frozen loss": ("def f():\n    w = torch.ones(3)\n    (w * 2).sum().backward()\n", "nothing in this loss requires"),
    "in-place on a leaf": ("def f():\n    w = torch.ones(3, requires_grad=True)\n    w -= 0.1\n",
                           "torch.no_grad()"),
    "backward twice": ("def f():\n    w = torch.ones(3, requires_grad=True)\n    loss = (w.exp()).sum()\n"
                       "    loss.backward()\n    loss.backward()\n", "fresh loss"),
    "numpy with grad": ("def f():\n    return torch.ones(3, requires_grad=True).numpy()\n", ".detach()"),
    "item of many": ("def f():\n    return torch.ones(3).item()\n", "tensor of one element"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_usual_error_gets_its_hint_after_the_raw_error(case):
    code, hint = CASES[case]
    text = raise_in_cell(code)
    assert text.startswith("raised ") and "; hint: " in text and hint in text.split("; hint: ")[1], text


def test_the_line_named_is_the_students_not_the_librarys():
    text = raise_in_cell("def f():\n    X = torch.ones(2, 3)\n"
                         "    return torch.nn.functional.linear(X, torch.ones(2, 2))\n")
    assert "(line 3: return torch.nn.functional.linear(X, torch.ones(2, 2)))" in text, text


def test_a_size_mismatch_without_one_hot_gets_no_one_hot_hint():
    text = raise_in_cell("def f():\n    return torch.ones(3, 4) - torch.ones(3, 2)\n")
    assert "must match the size" in text and "hint" not in text, text


def test_a_hard_coded_device_is_named_where_cuda_is_missing():
    if torch.cuda.is_available():
        code = "def f():\n    return torch.ones(2, device='cuda') + torch.ones(2)\n"
    else:
        code = "def f():\n    return torch.ones(2, device='cuda')\n"
    assert "device seems to be hard-coded" in raise_in_cell(code)
