"""Test-only: every Python process started with this folder on PYTHONPATH is a student's machine without Debian's
Fashion-MNIST, whose network reaches torchvision's Fashion-MNIST mirror only as the loopback server named by
$FASHION_MNIST_MIRROR (an http:// URL). $FASHION_MNIST_MD5 gives the served files' MD5 sums ("name=sum,name=sum"):
Debian re-compressed its copy, so torchvision's published sums do not match it.

Python imports `sitecustomize` at start-up, so a notebook's kernel gets both changes, applied as soon as the module
they patch is imported: helpers.data's Debian folder points nowhere, and torchvision's FashionMNIST downloads from
the loopback mirror.
"""
import importlib.abc
import os
import sys


def _no_debian_copy(module):
    module.DEBIAN_FASHION_MNIST = module.Path("/nonexistent/fashion-mnist")


def _loopback_mirror(module):
    sums = dict(item.split("=", 1) for item in os.environ["FASHION_MNIST_MD5"].split(","))
    module.FashionMNIST.mirrors = [os.environ["FASHION_MNIST_MIRROR"]]
    module.FashionMNIST.resources = [(name, sums[name]) for name, _ in module.FashionMNIST.resources]


class PatchAfterImport(importlib.abc.MetaPathFinder):
    """Finds the modules in `patches` with the other finders, and runs each one's patch right after it executes."""

    def __init__(self, patches):
        self.patches = patches

    def find_spec(self, name, path, target=None):
        if name not in self.patches:
            return None
        for finder in sys.meta_path:
            spec = None if finder is self else getattr(finder, "find_spec", lambda *a: None)(name, path, target)
            if spec is not None:
                break
        else:
            return None
        execute, patch = spec.loader.exec_module, self.patches[name]

        def execute_then_patch(module):
            execute(module)
            patch(module)
        spec.loader.exec_module = execute_then_patch
        return spec


if os.environ.get("FASHION_MNIST_MIRROR"):
    sys.meta_path.insert(0, PatchAfterImport({"helpers.data": _no_debian_copy,
                                              "torchvision.datasets.mnist": _loopback_mirror}))
