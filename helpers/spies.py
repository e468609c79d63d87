"""Stand-ins that watch a student's function work, for exact visible checks whatever random numbers it draws.

TrainingSpy is a loss function for nn_train: its gradients are all ones, so each SGD step moves every weight by
exactly the learning rate of that step, and the spy reads the schedule back from the weights. Each training row is
named by its index in column 0, so the spy also sees which rows every minibatch holds.
"""
import torch


class TrainingSpy:
    """A loss_func for nn_train on `num_train` rows of `num_classes` classes that records every call.

    Use spy.params, spy.X and spy.y as nn_train's params, X and y (and as the validation set).
    """

    def __init__(self, num_train=12, num_classes=3):
        self.X = torch.zeros(num_train, 2, dtype=torch.float64)
        self.X[:, 0] = torch.arange(num_train)  # column 0 names the row
        self.y = torch.arange(num_train) % num_classes
        self.params = {"W1": torch.zeros(2, 4, dtype=torch.float64), "b1": torch.zeros(4, dtype=torch.float64),
                       "W2": torch.zeros(4, num_classes, dtype=torch.float64),
                       "b2": torch.zeros(num_classes, dtype=torch.float64)}
        self.num_classes = num_classes
        self.batches = []   # the rows of each training call's minibatch
        self.weights = []   # W1[0, 0] when each training call began

    def __call__(self, params, X, y=None, reg=0.0):
        """Scores (all zero) when y is None; otherwise record the call and return (loss, gradients of ones)."""
        if y is None:
            return torch.zeros(len(X), self.num_classes, dtype=X.dtype)
        self.batches.append(X[:, 0].long().tolist())
        self.weights.append(float(params["W1"][0, 0]))
        return torch.tensor(1.0, dtype=torch.float64), {name: torch.ones_like(p) for name, p in params.items()}

    def batch_sizes(self):
        """The different minibatch sizes seen, sorted: [batch_size] for a correct loop."""
        return sorted({len(rows) for rows in self.batches})

    def rows_never_drawn(self):
        """Training rows that no minibatch held."""
        seen = {row for rows in self.batches for row in rows}
        return [row for row in range(len(self.y)) if row not in seen]

    def learning_rates(self):
        """The learning rate each step used, read from how far it moved the weights (gradients are all ones)."""
        after = [*self.weights[1:], float(self.params["W1"][0, 0])]
        return [before - now for before, now in zip(self.weights, after)]


def expected_learning_rates(learning_rate, decay, num_iters, iterations_per_epoch):
    """nn_train's schedule: the rate is multiplied by `decay` after each iteration `it` with it % iterations_per_epoch
    == 0, so iteration it uses learning_rate * decay ** ceil(it / iterations_per_epoch)."""
    return [learning_rate * decay ** -(-it // iterations_per_epoch) for it in range(num_iters)]
