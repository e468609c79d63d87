"""Moving cases into the sandbox and outputs out of it without pickle: nested dicts/lists of tensors,
numbers, strings, booleans and None become one safetensors file (tensors) with a JSON skeleton."""
import json
import os

import torch
import safetensors.torch
from safetensors.torch import load_file, save_file

from .i18n import _

MAX_BYTES = 64 * 2**20


class TransportError(ValueError):
    """A file that is not a valid transport file (too big, malformed, wrong types)."""


class Untransportable(TypeError):
    """Outputs that cannot be transported: a value of another type, or more than MAX_BYTES of tensors. Raised before
    anything is written, so a failure after that point is the transport's own, never the outputs'."""


def encode(obj):
    """(tensors, skeleton) of `obj`: each tensor a detached CPU copy of its own, the skeleton plain JSON data.
    Raises Untransportable for anything else."""
    tensors: dict[str, torch.Tensor] = {}
    size = [0]

    def walk(value, key):
        if torch.is_tensor(value):
            size[0] += value.numel() * value.element_size()
            if size[0] > MAX_BYTES:
                raise Untransportable(_("{key}: the outputs hold more than {megabytes} MB of tensors").format(
                    key=key, megabytes=MAX_BYTES // 2**20))
            name = f"t{len(tensors)}"
            # A copy of its own: the same tensor may appear twice, or share memory with another
            # (a view, or the very label tensor handed over at every step), which safetensors refuses.
            tensors[name] = value.detach().to("cpu").contiguous().clone()
            return {"$tensor": name}
        if isinstance(value, dict):
            return {"$dict": {str(k): walk(v, f"{key}.{k}") for k, v in value.items()}}
        if isinstance(value, (list, tuple)):
            return [walk(v, f"{key}[{i}]") for i, v in enumerate(value)]
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        raise Untransportable(_("{key}: cannot transport {type}").format(key=key, type=type(value).__name__))

    skeleton = walk(obj, "root")
    return tensors, skeleton


def save(obj, path):
    tensors, skeleton = encode(obj)
    save_file(tensors, str(path), metadata={"skeleton": json.dumps(skeleton)})


def self_test():
    """Round-trip a sample of every kind of value through safetensors in memory, so that whatever the transport
    imports lazily is imported now, before any student code runs; raises if the transport does not work here."""
    sample = {"f64": torch.arange(6, dtype=torch.float64).reshape(2, 3), "f32": torch.ones(3),
              "i64": torch.arange(4), "bool": torch.tensor([True, False]), "list": [1, 2.5, "text", None, True]}
    tensors, skeleton = encode(sample)
    back = safetensors.torch.load(safetensors.torch.save(tensors, metadata={"skeleton": json.dumps(skeleton)}))
    if any(not torch.equal(back[name], tensor) for name, tensor in tensors.items()):
        raise RuntimeError("the transport's round trip changed a tensor")


def load(path, max_bytes=MAX_BYTES):
    """Read a transport file; tensors come back as plain CPU tensors. Refuses files over `max_bytes`."""
    size = os.path.getsize(path)
    if size > max_bytes:
        raise TransportError(f"{path} is {size} bytes, over the {max_bytes}-byte limit")
    try:
        from safetensors import safe_open
        with safe_open(str(path), framework="pt") as f:
            skeleton = json.loads(f.metadata()["skeleton"])
        tensors = load_file(str(path))
    except Exception as error:  # noqa: BLE001 - any malformed file is refused the same way
        raise TransportError(f"{path} is not a valid transport file ({error})") from None

    def decode(value):
        if isinstance(value, dict) and set(value) == {"$tensor"}:
            return tensors[value["$tensor"]]
        if isinstance(value, dict) and set(value) == {"$dict"}:
            return {k: decode(v) for k, v in value["$dict"].items()}
        if isinstance(value, list):
            return [decode(v) for v in value]
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        raise TransportError(f"{path}: unexpected value in skeleton")

    try:
        return decode(skeleton)
    except KeyError as error:
        raise TransportError(f"{path}: skeleton names a missing tensor {error}") from None
