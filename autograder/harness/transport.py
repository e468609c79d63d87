"""Moving cases into the sandbox and outputs out of it without pickle: nested dicts/lists of tensors,
numbers, strings, booleans and None become one safetensors file (tensors) with a JSON skeleton."""
import json
import os

import torch
from safetensors.torch import load_file, save_file

MAX_BYTES = 64 * 2**20


class TransportError(ValueError):
    """A file that is not a valid transport file (too big, malformed, wrong types)."""


def save(obj, path):
    tensors = {}

    def encode(value, key):
        if torch.is_tensor(value):
            name = f"t{len(tensors)}"
            # A copy of its own: the same tensor may appear twice, or share memory with another
            # (a view, or the very label tensor handed over at every step), which safetensors refuses.
            tensors[name] = value.detach().to("cpu").contiguous().clone()
            return {"$tensor": name}
        if isinstance(value, dict):
            return {"$dict": {str(k): encode(v, f"{key}.{k}") for k, v in value.items()}}
        if isinstance(value, (list, tuple)):
            return [encode(v, f"{key}[{i}]") for i, v in enumerate(value)]
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        raise TypeError(f"{key}: cannot transport {type(value).__name__}")

    skeleton = encode(obj, "root")
    save_file(tensors, str(path), metadata={"skeleton": json.dumps(skeleton)})


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
