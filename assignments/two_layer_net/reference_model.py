"""The instructor's reference best model for two_layer_net, trained with library parts and cached.

It is what a good submission's `best_two_layer_net.pth` looks like: demos and tests grade it. Trained
with nn.Sequential, torch.optim.SGD and a per-epoch ExponentialLR schedule (the homework's decay), then
written in the notebook's checkpoint format (W1 (D, H), b1, W2 (H, C), b2).
"""
import hashlib
import json

import torch
from torch import nn

from helpers.data import cache_dir, load_dataset
from helpers.utils import reset_seed, save_checkpoint

SETTINGS = {"hidden_size": 512, "learning_rate": 0.5, "decay": 0.97, "reg": 1e-5, "num_iters": 8000,
            "batch_size": 200, "std": 1e-2, "seed": 0}


def reference_checkpoint(dataset="fashion_mnist", settings=SETTINGS):
    """Path of the cached reference checkpoint for `dataset`, training it first if needed (about a minute)."""
    key = hashlib.sha256(json.dumps([dataset, settings, torch.__version__], sort_keys=True).encode()).hexdigest()[:12]
    path = cache_dir() / "reference" / f"two_layer_net-{dataset}-{key}.pth"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        params = train_reference(load_dataset(dataset), settings)
        partial = path.with_suffix(".part")
        save_checkpoint(partial, params, dataset, **settings)
        partial.replace(path)
    return path


def train_reference(data, s):
    """Minibatch SGD on softmax cross-entropy + reg * ΣW²; returns the notebook's params dict."""
    reset_seed(s["seed"])
    D, C = data["X_train"].shape[1], len(data["class_names"])
    first, second = nn.Linear(D, s["hidden_size"]), nn.Linear(s["hidden_size"], C)
    for layer in (first, second):
        nn.init.normal_(layer.weight, std=s["std"])
        nn.init.zeros_(layer.bias)
    model = nn.Sequential(first, nn.ReLU(), second)
    # reg * ΣW² has gradient 2 * reg * W: weight decay 2 * reg on the weights only.
    optimizer = torch.optim.SGD([{"params": [first.weight, second.weight], "weight_decay": 2 * s["reg"]},
                                 {"params": [first.bias, second.bias], "weight_decay": 0.0}], lr=s["learning_rate"])
    schedule = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=s["decay"])
    X, y = data["X_train"], data["y_train"]
    per_epoch = max(len(y) // s["batch_size"], 1)
    for it in range(s["num_iters"]):
        idx = torch.randint(len(y), (s["batch_size"],))
        loss = nn.functional.cross_entropy(model(X[idx]), y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if it % per_epoch == 0:
            schedule.step()
    return {"W1": first.weight.detach().t().contiguous(), "b1": first.bias.detach(),
            "W2": second.weight.detach().t().contiguous(), "b2": second.bias.detach()}
