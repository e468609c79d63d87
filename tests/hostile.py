"""Builders of hostile files for the grader's tests: checkpoints and archives that inflate far beyond
their size on disk. Nothing here is ever loaded by the tests outside a sandbox or a declared-size check."""
import collections
import pickle
import zipfile

import torch

CHUNK = 2**24


class _Storage:
    """Stands for the one storage of the bomb's tensor while pickling."""


class _BigTensor:
    """Pickles as torch.save writes a float32 tensor of `shape` backed by storage 0."""

    def __init__(self, shape):
        self.shape = tuple(shape)

    def __reduce__(self):
        stride = tuple(int(torch.tensor(self.shape[i + 1:]).prod()) for i in range(len(self.shape)))
        return torch._utils._rebuild_tensor_v2, (_STORAGE, 0, self.shape, stride, False, collections.OrderedDict())


_STORAGE = _Storage()


class _CheckpointPickler(pickle.Pickler):
    def __init__(self, file, numel):
        super().__init__(file, protocol=2)
        self.numel = numel

    def persistent_id(self, obj):
        if obj is _STORAGE:
            return "storage", torch.FloatStorage, "0", "cpu", self.numel
        return None


def write_zeros(archive, name, nbytes):
    """Add an entry of `nbytes` zero bytes, deflate-compressed (about 1000 times smaller in the archive)."""
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with archive.open(info, "w", force_zip64=True) as entry:
        zeros = bytes(CHUNK)
        left = nbytes
        while left > 0:
            entry.write(zeros[:min(left, CHUNK)])
            left -= CHUNK


def checkpoint_bomb(path, nbytes, dataset="fashion_mnist"):
    """A checkpoint in torch.save's zip format whose one tensor, W1, holds `nbytes` of float32 zeros stored
    deflate-compressed: small on disk, `nbytes` once torch.load inflates it (weights_only does not help)."""
    numel = nbytes // 4
    payload = {"params": {"W1": _BigTensor((numel // 1024, 1024))}, "dataset": dataset, "meta": {}}
    with zipfile.ZipFile(path, "w", compresslevel=1) as archive:
        with archive.open("archive/data.pkl", "w") as f:
            _CheckpointPickler(f, (numel // 1024) * 1024).dump(payload)
        archive.writestr("archive/byteorder", "little")
        write_zeros(archive, "archive/data/0", (numel // 1024) * 1024 * 4)
        archive.writestr("archive/version", "3")
    return path
