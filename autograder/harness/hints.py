"""Hints for runtime errors that have a usual cause in student code: the raw error says what broke, the hint what
to change ("a device is hard-coded", "one_hot without num_classes"...). Each hint is matched on the error's message
and, where the message alone is ambiguous, on the source of the student's own frames in its traceback.
"""
import linecache
import os
import re

from .i18n import _

#: one_hot(...) with a single argument: the class count is then the largest label in the batch + 1.
ONE_HOT_WITHOUT_NUM_CLASSES = re.compile(r"one_hot\((?![^()]*num_classes)[^(),]*(\([^()]*\))?[^(),]*\)")
SIZE_MISMATCH = r"size of tensor a \(\d+\) must match the size of tensor b|shapes cannot be multiplied|shape mismatch"


def _device():
    return _("a device seems to be hard-coded (such as 'cuda'): create tensors on the device of the inputs "
             "(device=X.device, or the `device` argument you are given), never on a fixed one")


def _dtype():
    return _("tensors of two dtypes met (a hard-coded dtype such as torch.float64?): create new tensors with the dtype "
             "of the inputs (dtype=X.dtype, or torch.zeros_like(X)); the checks use float32 and float64")


def _one_hot():
    return _("one_hot(y) without num_classes has one column per label up to the largest in this batch, fewer than "
             "the classes when the last class is missing from it: pass num_classes (e.g. "
             "num_classes=scores.shape[1])")


def _no_grad():
    return _("nothing in this loss requires a gradient: are the parameters being trained all frozen (the new head "
             "too?), or was the loss computed under torch.no_grad()?")


def _in_place():
    return _("update parameters inside `with torch.no_grad():` (or with an optimiser), not in the autograd graph")


def _backward_twice():
    return _("compute a fresh loss for every backward(): a loss (or a tensor it depends on) is reused across batches")


def _numpy_grad():
    return _("call .detach() before .numpy() (or .item() for a single number)")


def _numpy_device():
    return _("move the tensor to the CPU first: .cpu().numpy(), or .item() for a single number")


def _scalar():
    return _(".item() and float() take a tensor of one element: reduce it first (.mean(), .sum())")


#: (pattern of the error message, pattern the student's code must contain or None, the hint: a function giving it in
#: the course's language)
HINTS = (
    (r"no NVIDIA driver|not compiled with CUDA|No CUDA GPUs are available|CUDA driver initialization failed|"
     r"Expected all tensors to be on the same device|indices should be either on cpu or on the same device|"
     r"Input type \(.*\) and weight type \(.*\) should be the same|"
     r"Placeholder storage has not been allocated on MPS device", None, _device),
    (r"expected m1 and m2 to have the same dtype|expected scalar type \w+ but found \w+|"
     r"Found dtype \w+ but expected \w+|result type \w+ can't be cast to the desired output type|"
     r"expected both vectors to have same dtype|mat1 and mat2 must have the same dtype", None, _dtype),
    (SIZE_MISMATCH, ONE_HOT_WITHOUT_NUM_CLASSES, _one_hot),
    (r"element 0 of tensors does not require grad", None, _no_grad),
    (r"a leaf Variable that requires grad is being used in an in-place operation", None, _in_place),
    (r"Trying to backward through the graph a second time", None, _backward_twice),
    (r"Can't call numpy\(\) on Tensor that requires grad", None, _numpy_grad),
    (r"can't convert (cuda|mps):?\d* device type tensor to numpy", None, _numpy_device),
    (r"only one element tensors can be converted to Python scalars|a Tensor with \d+ elements cannot be converted "
     r"to Scalar", None, _scalar),
)


def hint(error):
    """The hint for `error` (an exception with its traceback), or None."""
    message = str(error)
    for pattern, code, text in HINTS:
        if re.search(pattern, message) and (code is None or code.search(_student_source(error))):
            return text()
    return None


def is_student_code(filename):
    """True for a cell of the student's: a harness cell ("<cell id, statement N>"), or an IPython one
    (/tmp/ipykernel_<pid>/<hash>.py)."""
    return filename.startswith("<") or os.path.basename(os.path.dirname(filename)).startswith("ipykernel_")


def _student_source(error):
    """The source of every student cell in the error's traceback."""
    texts, tb = [], error.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if is_student_code(filename):
            texts.append("".join(linecache.getlines(filename)))
        tb = tb.tb_next
    return "\n".join(texts)
