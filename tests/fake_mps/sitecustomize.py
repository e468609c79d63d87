"""Test-only: every Python process started with this folder on PYTHONPATH acts as if on an Apple-silicon Mac, whose
GPU backend (MPS) has no float64.

Python imports `sitecustomize` at start-up, so a notebook's kernel, and the kernel the self-check starts, both get:

- torch.backends.mps.is_available() is True, so helpers.pick_device() chooses "mps";
- a torch call asked for the "mps" device is served by the CPU, but one whose result is float64 raises the TypeError
  that MPS raises.

$FAKE_MPS_LOG, when set, names a file that gets a line "served" from each process the first time it serves an "mps"
call, and a line "refused <function>" for each refused one, so that a test can see the device was used.
"""
import functools
import os

import torch
from torch.overrides import TorchFunctionMode

MPS_FLOAT64_ERROR = ("Cannot convert a MPS Tensor to float64 dtype as the MPS framework doesn't support float64. "
                     "Please use float32 instead.")


def is_mps(value):
    """True for torch.device("mps") and for the strings "mps" and "mps:N"."""
    if isinstance(value, torch.device):
        return value.type == "mps"
    return isinstance(value, str) and value.split(":")[0] == "mps"


class FakeMPS(TorchFunctionMode):
    """Serves calls for the "mps" device on the CPU and refuses those that make float64 tensors there.

    torch.device("mps") itself (which modes also see) stays an "mps" device, as on a Mac."""

    def __init__(self, log=None):
        super().__init__()
        self.log, self.served = log, False

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is torch.device or not any(is_mps(value) for value in (*args, *kwargs.values())):
            return func(*args, **kwargs)
        cpu = torch.device("cpu")
        result = func(*(cpu if is_mps(a) else a for a in args),
                      **{k: cpu if is_mps(v) else v for k, v in kwargs.items()})
        outputs = result if isinstance(result, (tuple, list)) else (result,)
        if any(isinstance(t, torch.Tensor) and t.dtype == torch.float64 for t in outputs):
            self._note(f"refused {getattr(func, '__name__', func)}")
            raise TypeError(MPS_FLOAT64_ERROR)
        if not self.served:
            self.served = True
            self._note("served")
        return result

    def _note(self, line):
        if self.log:
            with open(self.log, "a") as f:
                f.write(line + "\n")


@functools.cache  # like torch's own (torch._dynamo reads its __wrapped__)
def mps_is_available():
    return True


def activate():
    """Pretend, for the rest of this process, that an MPS device without float64 is present."""
    torch.backends.mps.is_available = mps_is_available
    FakeMPS(os.environ.get("FAKE_MPS_LOG")).__enter__()


if __name__ == "sitecustomize":
    activate()
