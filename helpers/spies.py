"""Stand-ins that watch a student's function work, for exact visible checks whatever random numbers it draws.

StandInNet takes TwoLayerNet's place in find_best_net: it trains instantly, and its validation accuracy is fixed by
its settings, so a check knows which network a correct search keeps. param_set_problems states get_param_set's rules.

TrainingSpy is a loss function for nn_train: its gradients are all ones, so each SGD step moves every weight by
exactly the learning rate of that step, and the spy reads the schedule back from the weights. Each training row is
named by its index in column 0, so the spy also sees which rows every minibatch holds.
"""
import contextlib
import functools

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


#: The four lists get_param_set returns, and what each value must be.
PARAM_SET_RULES = (("learning_rates", "a number > 0"), ("hidden_sizes", "a whole number > 0"),
                   ("regularization_strengths", "a number >= 0, where 0 turns it off"),
                   ("learning_rate_decays", "a number in (0, 1]"))


def param_set_problems(param_set):
    """What is wrong with get_param_set()'s value: [] when it is four non-empty lists of valid values
    (PARAM_SET_RULES)."""
    if not isinstance(param_set, (tuple, list)) or len(param_set) != 4:
        return ["get_param_set() should return four lists: " + ", ".join(name for name, _ in PARAM_SET_RULES)]
    valid = (lambda v: v > 0, lambda v: v > 0 and float(v).is_integer(), lambda v: v >= 0, lambda v: 0 < v <= 1)
    problems = []
    for (name, rule), is_valid, values in zip(PARAM_SET_RULES, valid, param_set):
        if not isinstance(values, (tuple, list)) or not values:
            problems.append(f"{name} should be a non-empty list")
            continue
        bad = [v for v in values if isinstance(v, bool) or not isinstance(v, (int, float)) or not is_valid(v)]
        if bad:
            problems.append(f"{name}: each value should be {rule}, not {bad[0]!r}")
    return problems


class StandInNet:
    """Takes TwoLayerNet's place in a search: training does nothing, and its validation accuracy is fixed in advance
    by its settings (learning_rate, hidden_size, reg, learning_rate_decay)."""

    def __init__(self, input_size, hidden_size, output_size, dtype=torch.float32, device="cpu", std=1e-4,
                 accuracy=None, built=None):
        self.sizes, self.settings, self.stats, self.params = (input_size, hidden_size, output_size), None, None, {}
        self._accuracy = accuracy
        built.append(self)

    def train(self, X, y, X_val, y_val, learning_rate=1e-3, learning_rate_decay=0.95, reg=5e-6, num_iters=100,
              batch_size=200, verbose=False):
        self.settings = (learning_rate, self.sizes[1], reg, learning_rate_decay)
        accuracy = self._accuracy(self.settings)
        self.stats = {"loss_history": [1.0], "train_acc_history": [accuracy], "val_acc_history": [accuracy]}
        return self.stats

    def predict(self, X):
        """Labels that agree with y % output_size on the fraction `accuracy` of the first rows of X (X's column 0
        holds y there)."""
        labels = X[:, 0].long() % self.sizes[2]
        wrong = round((1 - (self._accuracy(self.settings) if self.settings else 0)) * len(X))
        labels[:wrong] = (labels[:wrong] + 1) % self.sizes[2]
        return labels

    def loss(self, X, y=None, reg=0.0):
        return torch.zeros(len(X), self.sizes[2])


@contextlib.contextmanager
def stand_in_networks(search, accuracy):
    """Inside the block, `search` (find_best_net) builds StandInNets instead of TwoLayerNet: accuracy(settings) gives
    each one's validation accuracy. Yields the list of the networks it builds, in order."""
    namespace, built = search.__globals__, []
    original = namespace.get("TwoLayerNet")
    namespace["TwoLayerNet"] = functools.partial(StandInNet, accuracy=accuracy, built=built)
    try:
        yield built
    finally:
        namespace["TwoLayerNet"] = original


def stand_in_data(num_features=7, num_classes=4, num_val=100):
    """A data dict for a search with stand-in networks, like load_dataset's without class names: the labels are
    0, 1, ..., num_classes - 1 in turn, and column 0 of X holds each row's label."""
    data = {}
    for split, n in (("train", 40), ("val", num_val), ("test", 20)):
        y = torch.arange(n) % num_classes
        X = torch.zeros(n, num_features)
        X[:, 0] = y
        data[f"X_{split}"], data[f"y_{split}"] = X, y
    return data


class EpochLosses:
    """A pred_func for nn_train that also measures the loss once per epoch, on the validation set and on a fixed
    sample of the training set, whenever the loop asks it for validation predictions; it predicts with `pred_func`.

    Both losses include the same regularisation `reg` as training, so the two curves compare like with like.
    history: {"epoch_train_loss": [...], "val_loss_history": [...]}, one float per epoch; plot_stats draws them.
    """

    def __init__(self, pred_func, X_train_sample, y_train_sample, X_val, y_val, reg=0.0):
        self.pred_func, self.reg = pred_func, reg
        self.train, self.val = (X_train_sample, y_train_sample), (X_val, y_val)
        self.history = {"epoch_train_loss": [], "val_loss_history": []}

    def __call__(self, params, loss_func, X):
        if X is self.val[0]:
            for key, (X_part, y_part) in (("epoch_train_loss", self.train), ("val_loss_history", self.val)):
                self.history[key].append(float(loss_func(params, X_part, y=y_part, reg=self.reg)[0]))
        return self.pred_func(params, loss_func, X)
