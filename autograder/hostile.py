"""Hostile and awkward submissions for the grader's tests and benchmarks: answer cells that hang or hand
over odd tensors, cells of the student's own that train for minutes, and checkpoints and archive entries
that inflate far beyond their size on disk (nothing here is ever loaded outside a sandbox or a declared-size
check)."""
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


HANG = "\n    while True:\n        pass\n"
#: Answer cells whose every function loops forever.
HANG_EVERYWHERE = {
    "nn_forward_pass": "def nn_forward_pass(params, X):" + HANG,
    "nn_forward_backward": "def nn_forward_backward(params, X, y=None, reg=0.0):" + HANG,
    "nn_train": "def nn_train(params, loss_func, pred_func, X, y, X_val, y_val, learning_rate=1e-3,"
                " learning_rate_decay=0.95, reg=5e-6, num_iters=100, batch_size=200, verbose=False):" + HANG,
    "nn_predict": "def nn_predict(params, loss_func, X):" + HANG,
    "TwoLayerNet": ("class TwoLayerNet:\n    def __init__(self, *args, **kwargs):"
                    + HANG.replace("\n    ", "\n        ")),
    "find_best_net": "def find_best_net(data_dict, get_param_set_fn):" + HANG,
}
#: A cell of the student's own that defines `relu` among statements that would train for hours.
TRAINS_FOR_MINUTES = (
    "reset_seed(0)\nnet = TwoLayerNet(input_size, 50, num_classes, device=device)\n"
    "for step in range(10**9):\n    stats = net.train(data['X_train'], data['y_train'], data['X_val'], data['y_val'])\n"
    "def relu(z):\n    return z.clamp(min=0)\n")
#: A correct forward pass through that `relu`.
FORWARD_WITH_RELU = ("def nn_forward_pass(params, X):\n    hidden = relu(X @ params['W1'] + params['b1'])\n"
                     "    return hidden @ params['W2'] + params['b2'], hidden\n")


def same_tensors_every_step(nn_train_code):
    """The reference nn_train changed to hand loss_func the very same X and y tensors at every step."""
    return nn_train_code.replace("X_batch, y_batch = X[idx], y[idx]", "X_batch, y_batch = X, y")
