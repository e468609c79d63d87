"""Style corpus of the two_layer_net assignment: correct answer cells written the ways students write them."""
from autograder.styles import Style

# --- nn_forward_pass ----------------------------------------------------------------------------------

FORWARD_WHERE_ADDMM = '''
def nn_forward_pass(params, X):
    """Forward pass of the two-layer network: FC -> ReLU -> FC."""
    W1, b1 = params["W1"], params["b1"]
    W2, b2 = params["W2"], params["b2"]
    pre = torch.addmm(b1, X, W1)
    hidden = torch.where(pre > 0, pre, torch.zeros_like(pre))
    scores = torch.addmm(b2, hidden, W2)
    return scores, hidden
'''

FORWARD_FUNCTIONAL_RELU = '''
import torch.nn.functional as F


def nn_forward_pass(params, X):
    """Forward pass of the two-layer network: FC -> ReLU -> FC."""
    W1, b1 = params["W1"], params["b1"]
    W2, b2 = params["W2"], params["b2"]
    hidden = None
    scores = None
    hidden = F.relu(X @ W1 + b1)
    scores = hidden @ W2 + b2
    return scores, hidden
'''

RELU_HELPER = '''
def relu(x):
    """Elementwise max(0, x)."""
    return torch.maximum(x, torch.zeros_like(x))
'''

FORWARD_RELU_HELPER = '''
def nn_forward_pass(params, X):
    """Forward pass of the two-layer network: FC -> ReLU -> FC."""
    W1, b1 = params["W1"], params["b1"]
    W2, b2 = params["W2"], params["b2"]
    z1 = X.matmul(W1) + b1.unsqueeze(0)
    hidden = relu(z1)
    scores = hidden.matmul(W2) + b2.unsqueeze(0)
    return scores, hidden
'''

# --- nn_forward_backward ------------------------------------------------------------------------------

LOSS_LOGSUMEXP_ONE_HOT = '''
def nn_forward_backward(params, X, y=None, reg=0.0):
    """Loss and gradients of the two-layer network, or its scores when y is None."""
    W1, b1 = params["W1"], params["b1"]
    W2, b2 = params["W2"], params["b2"]
    N, D = X.shape

    scores, hidden = nn_forward_pass(params, X)
    if y is None:
        return scores

    C = scores.shape[1]
    one_hot = torch.zeros(N, C, dtype=scores.dtype, device=scores.device)
    one_hot[torch.arange(N), y] = 1.0
    log_probs = scores - torch.logsumexp(scores, dim=1, keepdim=True)
    data_loss = -(one_hot * log_probs).sum() / N
    reg_loss = reg * ((W1 ** 2).sum() + (W2 ** 2).sum())
    loss = data_loss + reg_loss

    grads = {}
    dscores = (log_probs.exp() - one_hot) / N
    grads["W2"] = hidden.T @ dscores + 2 * reg * W2
    grads["b2"] = dscores.sum(dim=0)
    dhidden = dscores @ W2.T
    dpre = dhidden * (hidden > 0).to(dhidden.dtype)
    grads["W1"] = X.T @ dpre + 2 * reg * W1
    grads["b1"] = dpre.sum(dim=0)
    return loss, grads
'''

LOSS_TEXTBOOK = '''
def nn_forward_backward(params, X, y=None, reg=0.0):
    """Loss and gradients of the two-layer network, or its scores when y is None."""
    W1, b1 = params['W1'], params['b1']
    W2, b2 = params['W2'], params['b2']
    N, D = X.shape

    scores, hidden = nn_forward_pass(params, X)
    if y is None:
        return scores

    loss = None
    # softmax, shifted for numerical stability
    scores = scores - scores.max(dim=1, keepdim=True)[0]
    exp_scores = torch.exp(scores)
    probs = exp_scores / torch.sum(exp_scores, dim=1, keepdim=True)
    correct_logprobs = -torch.log(probs[range(N), y])
    data_loss = torch.sum(correct_logprobs) / N
    reg_loss = reg * torch.sum(W1 * W1) + reg * torch.sum(W2 * W2)
    loss = data_loss + reg_loss

    grads = {}
    dscores = probs.clone()
    dscores[range(N), y] -= 1
    dscores /= N
    grads['W2'] = hidden.t().mm(dscores) + 2 * reg * W2
    grads['b2'] = torch.sum(dscores, dim=0)
    dhidden = dscores.mm(W2.t())
    dhidden[hidden <= 0] = 0
    grads['W1'] = X.t().mm(dhidden) + 2 * reg * W1
    grads['b1'] = torch.sum(dhidden, dim=0)
    return loss, grads
'''

SOFTMAX_HELPER = '''
def softmax(scores):
    """Row-wise softmax; each row is shifted by its maximum so exp() cannot overflow."""
    exps = torch.exp(scores - scores.max(dim=1, keepdim=True).values)
    return exps / exps.sum(dim=1, keepdim=True)
'''

LOSS_SOFTMAX_HELPER_FLOAT = '''
import torch.nn.functional as F


def nn_forward_backward(params, X, y=None, reg=0.0):
    """Loss and gradients of the two-layer network, or its scores when y is None."""
    W1, b1 = params["W1"], params["b1"]
    W2, b2 = params["W2"], params["b2"]
    N, D = X.shape

    scores, hidden = nn_forward_pass(params, X)
    if y is None:
        return scores

    probs = softmax(scores)
    Y = F.one_hot(y, num_classes=scores.shape[1]).to(probs.dtype)
    data_loss = -torch.log((probs * Y).sum(dim=1)).mean()
    loss = data_loss.item() + reg * (W1.pow(2).sum().item() + W2.pow(2).sum().item())

    grads = {}
    dscores = (probs - Y) / N
    grads["W2"] = torch.mm(hidden.t(), dscores) + 2 * reg * W2
    grads["b2"] = torch.sum(dscores, 0)
    dhidden = torch.mm(dscores, W2.t())
    dhidden = dhidden * (hidden > 0)
    grads["W1"] = torch.mm(X.t(), dhidden) + 2 * reg * W1
    grads["b1"] = torch.sum(dhidden, 0)
    return loss, grads
'''

LOSS_GATHER_OWN_FORWARD = '''
def nn_forward_backward(params, X, y=None, reg=0.0):
    """Loss and gradients of the two-layer network, or its scores when y is None."""
    W1, b1, W2, b2 = (params[k] for k in ("W1", "b1", "W2", "b2"))
    N = X.shape[0]

    z1 = X @ W1 + b1
    h = z1.clamp(min=0)
    scores = h @ W2 + b2
    if y is None:
        return scores

    shifted = scores - scores.amax(dim=1, keepdim=True)
    log_probs = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
    target = y.unsqueeze(1)
    correct = log_probs.gather(1, target).squeeze(1)
    loss = -correct.mean() + reg * (torch.sum(W1 ** 2) + torch.sum(W2 ** 2))

    probs = log_probs.exp()
    dscores = probs.scatter(1, target, probs.gather(1, target) - 1) / N
    dW2 = h.T @ dscores + 2 * reg * W2
    db2 = dscores.sum(0)
    dh = dscores @ W2.T
    dz1 = torch.where(z1 > 0, dh, torch.zeros_like(dh))
    dW1 = X.T @ dz1 + 2 * reg * W1
    db1 = dz1.sum(0)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
'''

# --- nn_train -----------------------------------------------------------------------------------------

TRAIN_RANDPERM_OUT_OF_PLACE = '''
def nn_train(params, loss_func, pred_func, X, y, X_val, y_val, learning_rate=1e-3, learning_rate_decay=0.95,
             reg=5e-6, num_iters=100, batch_size=200, verbose=False):
    """Train a network with minibatch SGD; updates `params` in place."""
    num_train = X.shape[0]
    iterations_per_epoch = max(num_train // batch_size, 1)
    loss_history, train_acc_history, val_acc_history = [], [], []

    for it in range(num_iters):
        # sample without replacement
        idx = torch.randperm(num_train, device=X.device)[:batch_size]
        X_batch, y_batch = X[idx], y[idx]

        loss, grads = loss_func(params, X_batch, y=y_batch, reg=reg)
        loss_history.append(float(loss))

        for k in params:
            params[k] = params[k] - learning_rate * grads[k]

        if verbose and it % 100 == 0:
            print("iteration %d / %d: loss %f" % (it, num_iters, float(loss)))

        if it % iterations_per_epoch == 0:
            train_acc = (pred_func(params, loss_func, X_batch) == y_batch).float().mean().item()
            val_acc = (pred_func(params, loss_func, X_val) == y_val).float().mean().item()
            train_acc_history.append(train_acc)
            val_acc_history.append(val_acc)
            learning_rate *= learning_rate_decay

    return {"loss_history": loss_history, "train_acc_history": train_acc_history,
            "val_acc_history": val_acc_history}
'''

TRAIN_EPOCH_SHUFFLE = '''
def nn_train(params, loss_func, pred_func, X, y, X_val, y_val, learning_rate=1e-3, learning_rate_decay=0.95,
             reg=5e-6, num_iters=100, batch_size=200, verbose=False):
    """Train a network with minibatch SGD; updates `params` in place."""
    num_train = X.shape[0]
    iterations_per_epoch = max(num_train // batch_size, 1)
    loss_history, train_acc_history, val_acc_history = [], [], []

    order = None
    for it in range(num_iters):
        # a fresh shuffle at the start of every epoch, then consecutive slices of it
        step = it % iterations_per_epoch
        if step == 0:
            order = torch.randperm(num_train, device=X.device)
        batch = order[step * batch_size:(step + 1) * batch_size]
        X_batch, y_batch = X[batch], y[batch]

        loss, grads = loss_func(params, X_batch, y=y_batch, reg=reg)
        loss_history.append(loss.item())

        for name in params:
            params[name].sub_(learning_rate * grads[name])

        if verbose and it % 100 == 0:
            print(f"iteration {it} / {num_iters}: loss {loss.item():f}")

        if it % iterations_per_epoch == 0:
            y_pred_batch = pred_func(params, loss_func, X_batch)
            train_acc_history.append((y_pred_batch == y_batch).float().mean().item())
            y_pred_val = pred_func(params, loss_func, X_val)
            val_acc_history.append((y_pred_val == y_val).float().mean().item())
            learning_rate *= learning_rate_decay

    return {"loss_history": loss_history, "train_acc_history": train_acc_history,
            "val_acc_history": val_acc_history}
'''

TRAIN_WHOLE_OR_RANDINT = '''
def nn_train(params, loss_func, pred_func, X, y, X_val, y_val, learning_rate=1e-3, learning_rate_decay=0.95,
             reg=5e-6, num_iters=100, batch_size=200, verbose=False):
    """Train a network with minibatch SGD; updates `params` in place."""
    num_train = X.shape[0]
    iterations_per_epoch = max(num_train // batch_size, 1)
    stats = {"loss_history": [], "train_acc_history": [], "val_acc_history": []}

    for it in range(num_iters):
        if batch_size >= num_train:
            X_batch, y_batch = X, y
        else:
            sample = torch.randint(0, num_train, (batch_size,), device=X.device)
            X_batch, y_batch = X[sample], y[sample]

        loss, grads = loss_func(params, X_batch, y=y_batch, reg=reg)
        stats["loss_history"].append(loss.item())

        for name, grad in grads.items():
            params[name] -= learning_rate * grad

        if verbose and it % 100 == 0:
            print(f"iteration {it} / {num_iters}: loss {loss.item():f}")

        if it % iterations_per_epoch == 0:
            # accuracy on the whole training set, not just this batch
            stats["train_acc_history"].append((pred_func(params, loss_func, X) == y).float().mean().item())
            stats["val_acc_history"].append((pred_func(params, loss_func, X_val) == y_val).float().mean().item())
            learning_rate = learning_rate * learning_rate_decay

    return stats
'''

TRAIN_NO_GRAD_UPDATE = '''
import numpy as np


def nn_train(params, loss_func, pred_func, X, y, X_val, y_val, learning_rate=1e-3, learning_rate_decay=0.95,
             reg=5e-6, num_iters=100, batch_size=200, verbose=False):
    """Train a network with minibatch SGD; updates `params` in place."""
    num_train = X.shape[0]
    iterations_per_epoch = max(num_train // batch_size, 1)
    loss_history, train_acc_history, val_acc_history = [], [], []

    for it in range(num_iters):
        indices = np.random.choice(num_train, batch_size, replace=True)
        indices = torch.from_numpy(indices).to(X.device)
        X_batch = X[indices]
        y_batch = y[indices]

        loss, grads = loss_func(params, X_batch, y=y_batch, reg=reg)
        loss_history.append(loss.item())

        with torch.no_grad():
            params.update({name: value - learning_rate * grads[name] for name, value in params.items()})

        if verbose and it % 100 == 0:
            print("iteration {} / {}: loss {:f}".format(it, num_iters, loss.item()))

        if it % iterations_per_epoch == 0:
            with torch.no_grad():
                train_acc = (pred_func(params, loss_func, X_batch) == y_batch).float().mean().item()
                val_acc = (pred_func(params, loss_func, X_val) == y_val).float().mean().item()
            train_acc_history.append(train_acc)
            val_acc_history.append(val_acc)
            learning_rate *= learning_rate_decay

    return {
        "loss_history": loss_history,
        "train_acc_history": train_acc_history,
        "val_acc_history": val_acc_history,
    }
'''

# --- nn_predict ---------------------------------------------------------------------------------------

PREDICT_FORWARD_PASS = '''
def nn_predict(params, loss_func, X):
    """Predicted labels, shape (N,), for data X of shape (N, D): the class with the highest score."""
    scores, _ = nn_forward_pass(params, X)
    y_pred = scores.argmax(dim=1)
    return y_pred
'''

PREDICT_TORCH_MAX = '''
def nn_predict(params, loss_func, X):
    """Predicted labels, shape (N,), for data X of shape (N, D): the class with the highest score."""
    y_pred = None
    _, y_pred = torch.max(loss_func(params, X), dim=1)
    return y_pred
'''

# --- TwoLayerNet --------------------------------------------------------------------------------------

NET_KEYWORDS = '''
class TwoLayerNet:
    """A two-layer fully connected network: input_size -> hidden_size (ReLU) -> output_size scores."""

    def __init__(self, input_size, hidden_size, output_size, dtype=torch.float32, device="cpu", std=1e-4):
        """Weights W1 (input_size, hidden_size), W2 (hidden_size, output_size) ~ std * N(0, 1); biases zero."""
        self.params = {
            "W1": torch.randn(input_size, hidden_size, dtype=dtype, device=device) * std,
            "b1": torch.zeros(hidden_size, dtype=dtype, device=device),
            "W2": torch.randn(hidden_size, output_size, dtype=dtype, device=device) * std,
            "b2": torch.zeros(output_size, dtype=dtype, device=device),
        }

    def loss(self, X, y=None, reg=0.0):
        """nn_forward_backward on this network's parameters."""
        return nn_forward_backward(self.params, X, y=y, reg=reg)

    def train(self, X, y, X_val, y_val, learning_rate=1e-3, learning_rate_decay=0.95, reg=5e-6,
              num_iters=100, batch_size=200, verbose=False):
        """nn_train on this network's parameters, with nn_forward_backward and nn_predict."""
        return nn_train(self.params, nn_forward_backward, nn_predict, X, y, X_val, y_val,
                        learning_rate=learning_rate, learning_rate_decay=learning_rate_decay, reg=reg,
                        num_iters=num_iters, batch_size=batch_size, verbose=verbose)

    def predict(self, X):
        """nn_predict on this network's parameters."""
        return nn_predict(self.params, nn_forward_backward, X)

    def save(self, path, dataset=None):
        """Write the parameters, and the dataset they were trained on, to `path`."""
        save_checkpoint(path, self.params, dataset)
        print(f"Saved to {path}")

    def load(self, path):
        """Read parameters written by save(), onto this network's device and dtype."""
        checkpoint = load_checkpoint(path, device=self.params["W1"].device)
        self.params = {name: value.to(self.params["W1"].dtype) for name, value in checkpoint["params"].items()}
        print(f"Loaded from {path}")
'''

# --- get_param_set and find_best_net ------------------------------------------------------------------

PARAM_SET_PLAIN = '''
def get_param_set():
    """Hyper-parameters to try: (learning_rates, hidden_sizes, regularization_strengths, learning_rate_decays)."""
    learning_rates = [1e-1, 5e-1]
    hidden_sizes = [512, 1024]
    regularization_strengths = [1e-5, 1e-4]
    learning_rate_decays = [0.95]
    return learning_rates, hidden_sizes, regularization_strengths, learning_rate_decays
'''

SEARCH_ITERTOOLS = '''
import itertools


def find_best_net(data_dict, get_param_set_fn):
    """Train one TwoLayerNet per hyper-parameter combination; return the best on the validation set."""
    best_net, best_stat, best_val_acc = None, None, 0.0
    X_train, y_train = data_dict["X_train"], data_dict["y_train"]
    X_val, y_val = data_dict["X_val"], data_dict["y_val"]
    input_size = X_train.shape[1]
    num_classes = int(y_train.max().item()) + 1

    for lr, hidden_size, reg, decay in itertools.product(*get_param_set_fn()):
        net = TwoLayerNet(input_size, hidden_size, num_classes, dtype=X_train.dtype, device=X_train.device,
                          std=1e-2)
        stats = net.train(X_train, y_train, X_val, y_val, learning_rate=lr, learning_rate_decay=decay,
                          reg=reg, num_iters=budget(3000, 10), batch_size=256)
        val_acc = (net.predict(X_val) == y_val).double().mean().item()
        print(f"lr={lr}, hidden={hidden_size}, reg={reg}, decay={decay} -> val acc {val_acc:.4f}")
        if val_acc > best_val_acc:
            best_net, best_stat, best_val_acc = net, stats, val_acc

    return best_net, best_stat, best_val_acc
'''

PARAM_SET_COMPREHENSION = '''
def get_param_set():
    """Hyper-parameters to try: (learning_rates, hidden_sizes, regularization_strengths, learning_rate_decays)."""
    learning_rates = [10 ** e for e in (-1.0, -0.5)]
    hidden_sizes = [256, 1024]
    regularization_strengths = [1e-5, 1e-4, 1e-3]
    learning_rate_decays = [0.95]
    return learning_rates, hidden_sizes, regularization_strengths, learning_rate_decays
'''

SEARCH_UNIQUE_BEST_TUPLE = '''
def find_best_net(data_dict, get_param_set_fn):
    """Train one TwoLayerNet per hyper-parameter combination; return the best on the validation set."""
    X_train, y_train = data_dict["X_train"], data_dict["y_train"]
    X_val, y_val = data_dict["X_val"], data_dict["y_val"]
    num_classes = torch.unique(y_train).numel()
    learning_rates, hidden_sizes, regularization_strengths, learning_rate_decays = get_param_set_fn()

    best = (None, None, -1.0)
    for hidden_size in hidden_sizes:
        for learning_rate in learning_rates:
            for reg in regularization_strengths:
                for decay in learning_rate_decays:
                    net = TwoLayerNet(input_size=X_train.shape[1], hidden_size=hidden_size,
                                      output_size=num_classes, dtype=X_train.dtype, device=X_train.device,
                                      std=1e-2)
                    stats = net.train(X_train, y_train, X_val, y_val, num_iters=budget(3000, 10),
                                      batch_size=200, learning_rate=learning_rate,
                                      learning_rate_decay=decay, reg=reg)
                    acc = net.predict(X_val).eq(y_val).float().mean().item()
                    if acc > best[2]:
                        best = (net, stats, acc)

    best_net, best_stat, best_val_acc = best
    return best_net, best_stat, best_val_acc
'''

STYLES = (
    Style("forward_where_addmm", {"nn_forward_pass": FORWARD_WHERE_ADDMM},
          description="forward pass with torch.addmm for both layers and torch.where for the ReLU"),
    Style("forward_functional_relu", {"nn_forward_pass": FORWARD_FUNCTIONAL_RELU},
          description="forward pass with the @ operator and torch.nn.functional.relu"),
    Style("forward_relu_helper", {"nn_forward_pass": FORWARD_RELU_HELPER},
          added_cells=(("nn_forward_pass", RELU_HELPER),),
          description="forward pass through a relu helper defined in a cell of its own, with matmul and "
                      "explicitly broadcast biases"),
    Style("loss_logsumexp_one_hot", {"nn_forward_backward": LOSS_LOGSUMEXP_ONE_HOT},
          description="log-probabilities by torch.logsumexp, loss and dscores through a one-hot matrix, "
                      "loss a 0-dim tensor"),
    Style("loss_textbook", {"nn_forward_backward": LOSS_TEXTBOOK},
          description="the EECS 498 textbook: explicit probs, -log of the correct-class probs, "
                      "dscores = probs.clone() with 1 subtracted at range(N), y, dhidden[hidden <= 0] = 0"),
    Style("loss_softmax_helper_float", {"nn_forward_backward": LOSS_SOFTMAX_HELPER_FLOAT,
                                        "nn_train": TRAIN_RANDPERM_OUT_OF_PLACE},
          added_cells=(("nn_forward_backward", SOFTMAX_HELPER),),
          description="a softmax helper in its own cell and F.one_hot labels, the loss returned as a Python "
                      "float; nn_train samples by randperm, writes p - lr * g back and records float(loss)"),
    Style("loss_gather_own_forward", {"nn_forward_backward": LOSS_GATHER_OWN_FORWARD},
          description="computes the forward pass itself, picks correct-class log-probabilities with gather, "
                      "subtracts 1 with scatter and masks the ReLU with torch.where"),
    Style("train_randperm_out_of_place", {"nn_train": TRAIN_RANDPERM_OUT_OF_PLACE},
          description="minibatch by randperm without replacement, out-of-place updates written back into "
                      "the dict, float(loss)"),
    Style("train_epoch_shuffle", {"nn_train": TRAIN_EPOCH_SHUFFLE},
          description="one shuffle per epoch, batches are consecutive slices of the permutation, in-place "
                      "sub_ updates, loss.item()"),
    Style("train_whole_or_randint", {"nn_train": TRAIN_WHOLE_OR_RANDINT},
          description="the whole training set when batch_size >= N, else torch.randint; train accuracy "
                      "measured on all of X; histories kept in the stats dict"),
    Style("train_no_grad_update", {"nn_train": TRAIN_NO_GRAD_UPDATE},
          description="numpy sampling with replacement, the step as params.update(...) under torch.no_grad()"),
    Style("predict_forward_pass", {"nn_predict": PREDICT_FORWARD_PASS},
          description="scores from nn_forward_pass(params, X) rather than loss_func, then argmax"),
    Style("predict_torch_max", {"nn_predict": PREDICT_TORCH_MAX},
          description="labels as the indices of torch.max(loss_func(params, X), dim=1)"),
    Style("net_keyword_arguments", {"TwoLayerNet": NET_KEYWORDS},
          description="parameters built as one dict literal with randn * std, every call passes its "
                      "arguments by keyword"),
    Style("search_itertools", {"get_param_set": PARAM_SET_PLAIN, "find_best_net": SEARCH_ITERTOOLS},
          description="one loop over itertools.product of the four lists, best accuracy starting at 0, "
                      "validation accuracy measured with net.predict after training"),
    Style("search_unique_best_tuple", {"get_param_set": PARAM_SET_COMPREHENSION,
                                       "find_best_net": SEARCH_UNIQUE_BEST_TUPLE},
          description="class count by torch.unique, nested loops in another order, keyword constructor, "
                      "the best kept as one (net, stats, acc) tuple"),
)
