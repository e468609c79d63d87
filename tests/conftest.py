"""Shared fixtures: the two_layer_net notebooks, the reference answers and the reference model; the `--quick` tier."""
import os
from pathlib import Path

import pytest
import torch

from autograder.notebooks import read_notebook, reference_answers

ROOT = Path(__file__).resolve().parent.parent
if os.environ.get("PYTEST_XDIST_WORKER"):
    # `make test` runs one worker per core: more intra-op threads per worker only contend (small tensor ops
    # then run several times slower).
    torch.set_num_threads(1)
SOURCE = ROOT / "source" / "two_layer_net" / "two_layer_net.ipynb"
RELEASE = ROOT / "release" / "two_layer_net" / "two_layer_net.ipynb"


def pytest_addoption(parser):
    parser.addoption("--quick", action="store_true",
                     help="the fast tier (`make check`): sweeps over seeds run one seed instead of the manifests' "
                          "number")


@pytest.fixture(scope="session")
def quick(request):
    """True in the fast tier: tests that sweep seeds run one."""
    return request.config.getoption("--quick")


@pytest.fixture(scope="session")
def source_nb():
    return read_notebook(SOURCE)


@pytest.fixture(scope="session")
def release_nb():
    return read_notebook(RELEASE)


@pytest.fixture(scope="session")
def answers(source_nb):
    """grade_id -> solution code of every autograded answer cell."""
    return reference_answers(source_nb)


@pytest.fixture(scope="session")
def reference_model():
    """Path of the instructor's reference checkpoint (trained once per machine, then cached).

    Tests using it carry @pytest.mark.xdist_group("reference_model") so one worker trains it.
    """
    from assignments.two_layer_net.reference_model import reference_checkpoint
    return reference_checkpoint("fashion_mnist")
