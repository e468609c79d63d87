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

from helpers.i18n import _, lazy


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
        self.weights = []   # {name: first entry of that parameter} when each training call began

    def __call__(self, params, X, y=None, reg=0.0):
        """Scores (all zero) when y is None; otherwise record the call and return (loss, gradients of ones)."""
        if y is None:
            return torch.zeros(len(X), self.num_classes, dtype=X.dtype)
        self.batches.append(X[:, 0].long().tolist())
        self.weights.append(_first_entries(params))
        return torch.tensor(1.0, dtype=torch.float64), {name: torch.ones_like(p) for name, p in params.items()}

    def batch_sizes(self):
        """The different minibatch sizes seen, sorted: [batch_size] for a correct loop."""
        return sorted({len(rows) for rows in self.batches})

    def rows_never_drawn(self):
        """Training rows that no minibatch held."""
        seen = {row for rows in self.batches for row in rows}
        return [row for row in range(len(self.y)) if row not in seen]

    def learning_rates(self, name="W1"):
        """The learning rate each step used on parameter `name` (W1, b1, W2 or b2), read from how far the step moved
        it (gradients are all ones)."""
        after = [*self.weights[1:], _first_entries(self.params)]
        return [before[name] - now[name] for before, now in zip(self.weights, after)]


def _first_entries(params):
    return {name: float(p.flatten()[0]) for name, p in params.items()}


def expected_learning_rates(learning_rate, decay, num_iters, iterations_per_epoch):
    """nn_train's schedule: the rate is multiplied by `decay` after each iteration `it` with it % iterations_per_epoch
    == 0, so iteration it uses learning_rate * decay ** ceil(it / iterations_per_epoch)."""
    return [learning_rate * decay ** -(-it // iterations_per_epoch) for it in range(num_iters)]


#: The four lists get_param_set returns, and what each value must be (shown in the course's language when printed).
PARAM_SET_RULES = (("learning_rates", lazy.gettext("a number > 0")),
                   ("hidden_sizes", lazy.gettext("a whole number > 0")),
                   ("regularization_strengths", lazy.gettext("a number >= 0, where 0 turns it off")),
                   ("learning_rate_decays", lazy.gettext("a number in (0, 1]")))


def param_set_problems(param_set):
    """What is wrong with get_param_set()'s value: [] when it is four non-empty lists of valid values
    (PARAM_SET_RULES)."""
    if not isinstance(param_set, (tuple, list)) or len(param_set) != 4:
        return [_("get_param_set() should return four lists: {names}").format(
            names=", ".join(name for name, _rule in PARAM_SET_RULES))]
    valid = (lambda v: v > 0, lambda v: v > 0 and float(v).is_integer(), lambda v: v >= 0, lambda v: 0 < v <= 1)
    problems = []
    for (name, rule), is_valid, values in zip(PARAM_SET_RULES, valid, param_set):
        if not isinstance(values, (tuple, list)) or not values:
            problems.append(_("{name} should be a non-empty list").format(name=name))
            continue
        bad = [v for v in values if isinstance(v, bool) or not isinstance(v, (int, float)) or not is_valid(v)]
        if bad:
            problems.append(_("{name}: each value should be {rule}, not {value}").format(name=name, rule=rule,
                                                                                         value=repr(bad[0])))
    return problems


class StandInNet:
    """Takes TwoLayerNet's place in a search: training does nothing, and its validation accuracy is fixed in advance
    by its settings (learning_rate, hidden_size, reg, learning_rate_decay)."""

    def __init__(self, input_size, hidden_size, output_size, dtype=torch.float32, device="cpu", std=1e-4,
                 accuracy=None, built=None):
        self.sizes, self.settings, self.stats, self.params = (input_size, hidden_size, output_size), None, None, {}
        self.device = torch.device(device)
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
    built = []
    with patched_names(search.__globals__, TwoLayerNet=functools.partial(StandInNet, accuracy=accuracy, built=built)):
        yield built


def stand_in_data(num_features=7, num_classes=4, num_val=100, device="cpu"):
    """A data dict for a search with stand-in networks, like load_dataset's without class names, on `device`: the
    labels are 0, 1, ..., num_classes - 1 in turn, and column 0 of X holds each row's label."""
    data = {}
    for split, n in (("train", 40), ("val", num_val), ("test", 20)):
        y = torch.arange(n) % num_classes
        X = torch.zeros(n, num_features)
        X[:, 0] = y
        data[f"X_{split}"], data[f"y_{split}"] = X.to(device), y.to(device)
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


# --- transfer_learning: a training epoch, an evaluation and fit, watched ---------------------------------------------

# Bound when the helpers are imported, before any student code runs (which may rebind torch's functions).
_equal, _allclose, _cross_entropy = torch.equal, torch.allclose, torch.nn.functional.cross_entropy


class BatchLoader:
    """Stands in for a DataLoader: yields copies of the given (images, labels) batches and counts the passes."""

    def __init__(self, batches):
        self.batches = batches
        self.dataset = torch.utils.data.TensorDataset(torch.cat([x for x, _ in batches]),
                                                      torch.cat([y for _, y in batches]))
        self.batch_size = len(batches[0][1])
        self.passes = 0

    def __iter__(self):
        self.passes += 1
        return iter([(x.clone(), y.clone()) for x, y in self.batches])

    def __len__(self):
        return len(self.batches)


class LoopRecorder:
    """What a training or evaluation loop did to `model`, in order (`events`: "forward", "loss", "backward",
    "zero_grad", "step"), and at each forward pass: the network's mode, whether every module being trained was in
    training mode, and whether gradients were on. `watched`: the parameters whose gradients SpyLoss records."""

    def __init__(self, model, watched=()):
        self.events, self.losses, self.fresh, self.stale_steps = [], [], None, 0
        self.forward_modes, self.trained_in_train_mode, self.grad_enabled = [], [], []
        self.watched = list(watched)
        model.register_forward_pre_hook(self._forward)

    def _forward(self, module, args):
        self.events.append("forward")
        self.forward_modes.append(bool(module.training))
        # What training mode changes is how the modules being trained behave: a frozen backbone kept in eval mode
        # with its head in training mode (model.eval(); model.fc.train()) trains exactly as model.train() does.
        trained = [m for m in module.modules() if any(p.requires_grad for p in m.parameters(recurse=False))]
        self.trained_in_train_mode.append(bool(trained) and all(m.training for m in trained))
        self.grad_enabled.append(torch.is_grad_enabled())

    def count(self, event):
        return self.events.count(event)

    def mean_loss(self):
        """(mean over images, mean over batches) of the losses SpyLoss saw."""
        if not self.losses:
            return float("nan"), float("nan")
        per_image = sum(loss * n for loss, n in self.losses) / sum(n for _, n in self.losses)
        return per_image, sum(loss for loss, _ in self.losses) / len(self.losses)


class SpyLoss(torch.nn.Module):
    """Cross-entropy that records each batch's loss in `recorder`, and the gradient that batch alone gives the watched
    parameters, so that spy_sgd can tell fresh gradients from accumulated ones."""

    def __init__(self, recorder):
        super().__init__()
        self.recorder = recorder

    def forward(self, scores, labels):
        loss = _cross_entropy(scores, labels)
        rec = self.recorder
        rec.events.append("loss")
        rec.losses.append((float(loss.detach()), len(labels)))
        if loss.requires_grad:
            watched = [p for p in rec.watched if p.requires_grad]
            rec.fresh = [g.detach().clone() for g in torch.autograd.grad(loss, watched, retain_graph=True,
                                                                             allow_unused=True)]
            loss.register_hook(lambda grad: rec.events.append("backward"))
        return loss


def spy_sgd(params, lr, recorder):
    """torch.optim.SGD that records zero_grad and step in `recorder`, and counts the steps whose gradients were not
    the last batch's alone (`recorder.stale_steps`)."""

    class SpySGD(torch.optim.SGD):
        def zero_grad(self, set_to_none=True):
            recorder.events.append("zero_grad")
            return super().zero_grad(set_to_none)

        def step(self, closure=None):
            recorder.events.append("step")
            if recorder.fresh is not None:
                grads = [p.grad for p in recorder.watched if p.requires_grad]
                if any(g is None or f is None or not _allclose(g, f, rtol=1e-4, atol=1e-7)
                       for g, f in zip(grads, recorder.fresh)):
                    recorder.stale_steps += 1
            return super().step(closure)

    return SpySGD(params, lr=lr)


def frozen_batchnorm_buffers(model):
    """{name: copy of running_mean / running_var} of the BatchNorm layers whose parameters are all frozen."""
    buffers = {}
    for name, module in model.named_modules():
        if (isinstance(module, torch.nn.modules.batchnorm._BatchNorm)
                and not any(p.requires_grad for p in module.parameters())):
            buffers[f"{name}.running_mean"] = module.running_mean.detach().clone()
            buffers[f"{name}.running_var"] = module.running_var.detach().clone()
    return buffers


def batchnorm_moved(model, before):
    """Names of the BatchNorm statistics in `before` (frozen_batchnorm_buffers) that have changed since."""
    state = dict(model.named_buffers())
    return [name for name, value in before.items() if name not in state or not _equal(state[name], value)]


class ScriptedEpochs:
    """Stands in for train_one_epoch and evaluate inside fit: epoch e sets every weight of `model` to e + 1 and
    reports the scripted losses, so a check can tell which epoch's weights fit kept, and which learning rate and
    loaders each epoch used. Use it through `scripted_epochs(fit, ...)`."""

    def __init__(self, model, train_loader, val_loader, train_loss, val_loss, val_acc):
        self.model, self.train_loader, self.val_loader = model, train_loader, val_loader
        self.script = {"train_loss": list(train_loss), "val_loss": list(val_loss), "val_acc": list(val_acc)}
        self.lrs, self.wrong_loader = [], []  # the learning rate each epoch trained with; loaders mixed up

    def train_one_epoch(self, model, loader, optimizer, loss_fn, device):
        epoch = len(self.lrs)
        if epoch >= len(self.script["val_loss"]):
            raise RuntimeError(_("fit trained for more epochs than it was given"))
        self.lrs.append(float(optimizer.param_groups[0]["lr"]))
        if loader is not self.train_loader:
            got = _("the validation loader") if loader is self.val_loader else repr(loader)
            self.wrong_loader.append(_("train_one_epoch got {loader}").format(loader=got))
        with torch.no_grad():
            for parameter in self.model.parameters():
                parameter.fill_(epoch + 1.0)
        return self.script["train_loss"][epoch]

    def evaluate(self, model, loader, loss_fn, device):
        epoch = len(self.lrs) - 1
        if epoch < 0:
            raise RuntimeError(_("fit evaluated before training an epoch"))
        if loader is not self.val_loader:
            got = _("the training loader") if loader is self.train_loader else repr(loader)
            self.wrong_loader.append(_("evaluate got {loader}").format(loader=got))
        return self.script["val_loss"][epoch], self.script["val_acc"][epoch]

    def weights_from_epoch(self):
        """The epoch (from 0) whose weights the model holds now, or None if they are no epoch's."""
        value = float(next(self.model.parameters()).detach().flatten()[0])
        return int(value) - 1 if value.is_integer() and 1 <= value <= len(self.lrs) else None


@contextlib.contextmanager
def patched_names(namespace, **names):
    """Inside the block, the names `names` of `namespace` (the globals student code runs in: the notebook's) are bound
    to the given objects, so a function is watched with stand-ins for the functions it calls; the old values come
    back after."""
    missing = object()
    saved = {name: namespace.get(name, missing) for name in names}
    namespace.update(names)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = value


@contextlib.contextmanager
def scripted_epochs(fit, train_loss, val_loss, val_acc, lr=0.1):
    """Inside the block, `fit` calls a ScriptedEpochs instead of the train_one_epoch and evaluate of its globals.
    Yields (script, model, train_loader, val_loader, optimizer) to pass to fit: a small linear model, SGD at `lr`."""
    model = torch.nn.Linear(3, 2)
    train_loader = BatchLoader([(torch.zeros(2, 3), torch.zeros(2, dtype=torch.long))])
    val_loader = BatchLoader([(torch.ones(2, 3), torch.ones(2, dtype=torch.long))])
    script = ScriptedEpochs(model, train_loader, val_loader, train_loss, val_loss, val_acc)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    with patched_names(fit.__globals__, train_one_epoch=script.train_one_epoch, evaluate=script.evaluate):
        yield script, model, train_loader, val_loader, optimizer
