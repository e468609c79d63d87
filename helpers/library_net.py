"""Models built from library parts: the assignment's two-layer network, so that the learning-rate lab runs before
the assignment is done, and the linear SVM that two_layer_net compares its network with.

``LibraryTwoLayerNet`` has the interface of the assignment's ``TwoLayerNet`` that the lab's demos use
(constructor, ``train``, ``predict``) and follows the same recipe: FC -> ReLU -> FC, softmax cross-entropy
averaged over the batch + ``reg * (sum W1² + sum W2²)``, minibatch SGD with minibatches drawn with
replacement, accuracies recorded and the learning rate multiplied by ``learning_rate_decay`` once per epoch.
Here torch.nn.functional computes the loss, autograd the gradients, ``torch.optim.SGD`` takes the step and
``torch.optim.lr_scheduler.ExponentialLR`` decays the rate; in the assignment, students write all of that
by hand, and the same demos run on their own ``TwoLayerNet``.
"""
import torch
import torch.nn.functional as F

from helpers.i18n import _


class LibraryTwoLayerNet:
    """params: W1 (D, H), b1 (H,), W2 (H, C), b2 (C,); weights ``std * randn``, biases zero."""

    def __init__(self, input_size, hidden_size, output_size, dtype=torch.float32, device="cpu", std=1e-4):
        def weights(*shape):
            return (std * torch.randn(*shape, dtype=dtype, device=device)).requires_grad_()

        def zeros(size):
            return torch.zeros(size, dtype=dtype, device=device, requires_grad=True)

        self.params = {"W1": weights(input_size, hidden_size), "b1": zeros(hidden_size),
                       "W2": weights(hidden_size, output_size), "b2": zeros(output_size)}

    def scores(self, X):
        """(N, D) inputs -> (N, C) class scores."""
        p = self.params
        return F.linear(F.relu(X @ p["W1"] + p["b1"]), p["W2"].T, p["b2"])

    def predict(self, X):
        """(N, D) inputs -> (N,) predicted labels."""
        with torch.no_grad():
            return self.scores(X).argmax(dim=1)

    def train(self, X, y, X_val, y_val, learning_rate=1e-3, learning_rate_decay=0.95, reg=5e-6,
              num_iters=100, batch_size=200, verbose=False):
        """Minibatch SGD on (N, D) X and (N,) y; returns loss_history (num_iters,), train_acc_history and
        val_acc_history (one entry per epoch)."""
        optimizer = torch.optim.SGD(self.params.values(), lr=learning_rate)
        scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=learning_rate_decay)
        iterations_per_epoch = max(X.shape[0] // batch_size, 1)
        stats = {"loss_history": [], "train_acc_history": [], "val_acc_history": []}
        for it in range(num_iters):
            batch = torch.randint(X.shape[0], (batch_size,), device=X.device)
            W1, W2 = self.params["W1"], self.params["W2"]
            loss = F.cross_entropy(self.scores(X[batch]), y[batch]) + reg * (W1.square().sum() + W2.square().sum())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            stats["loss_history"].append(loss.item())
            if verbose and it % 100 == 0:
                print(_("iteration {it} / {num_iters}: loss {loss}").format(it=it, num_iters=num_iters,
                                                                           loss=f"{loss.item():f}"))
            if it % iterations_per_epoch == 0:
                stats["train_acc_history"].append((self.predict(X[batch]) == y[batch]).float().mean().item())
                stats["val_acc_history"].append((self.predict(X_val) == y_val).float().mean().item())
                scheduler.step()
        return stats


def train_linear_svm(X, y, num_classes, learning_rate=1e-2, weight_decay=1e-4, num_iters=1500, batch_size=200):
    """A linear SVM (nn.Linear, multiclass hinge loss nn.MultiMarginLoss, torch.optim.SGD with weight decay) trained
    on X (N, D), y (N,) with minibatches drawn with replacement; returns the nn.Linear (its weight: one template per
    class, (C, D))."""
    linear = torch.nn.Linear(X.shape[1], num_classes).to(X.device)
    optimizer = torch.optim.SGD(linear.parameters(), lr=learning_rate, weight_decay=weight_decay)
    hinge = torch.nn.MultiMarginLoss()
    for _step in range(num_iters):
        idx = torch.randint(len(y), (batch_size,), device=X.device)
        loss = hinge(linear(X[idx]), y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return linear
