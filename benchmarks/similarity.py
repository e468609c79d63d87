"""The copying report (`python -m autograder similarity`) on two_layer_net: planted copies (renamed variables,
reordered functions, changed comments and whitespace, an extracted helper, loops as comprehensions, all at once)
against the kit's independent correct solutions (the reference and the style notebooks), and the time for a class of
1,000 synthesised notebooks.

The batch (`batch`) is shared with tests/test_similarity.py: each planted copy is written out as code below.
"""
import random
import statistics
import tempfile
import time
from pathlib import Path

import nbformat

from autograder.course_dir import COURSE_ROOT
from autograder.notebooks import read_notebook, reference_answers, submission
from autograder.styles import combine, style_notebook
from autograder.term import similarity
from assignments.two_layer_net.styles import STYLES

ASSIGNMENT = "two_layer_net"
CLASS_SIZES = (100, 200, 400, 1000)

# --- planted copies of the reference -------------------------------------------------------------------

RENAMED_FORWARD = '''
def nn_forward_pass(params, X):
    w_in, bias_in = params["W1"], params["b1"]
    w_out, bias_out = params["W2"], params["b2"]
    h = None
    out = None
    h = (X.mm(w_in) + bias_in).clamp(min=0)
    out = h.mm(w_out) + bias_out
    return out, h
'''

RENAMED_LOSS = '''
def nn_forward_backward(p, inputs, labels=None, lam=0.0):
    w_in, bias_in = p["W1"], p["b1"]
    w_out, bias_out = p["W2"], p["b2"]
    n, d = inputs.shape

    logits, act = nn_forward_pass(p, inputs)
    if labels is None:
        return logits

    total = None
    centred = logits - logits.max(dim=1, keepdim=True).values
    logp = centred - centred.exp().sum(dim=1, keepdim=True).log()
    total = -logp[torch.arange(n), labels].mean() + lam * (torch.sum(w_in * w_in) + torch.sum(w_out * w_out))

    g = {}
    dlogits = logp.exp()
    dlogits[torch.arange(n), labels] -= 1
    dlogits /= n
    g["W2"] = act.t().mm(dlogits) + 2 * lam * w_out
    g["b2"] = dlogits.sum(dim=0)
    dact = dlogits.mm(w_out.t()) * (act > 0)
    g["W1"] = inputs.t().mm(dact) + 2 * lam * w_in
    g["b1"] = dact.sum(dim=0)
    return total, g
'''

RENAMED_TRAIN = '''
def nn_train(params, loss_func, pred_func, X, y, X_val, y_val, learning_rate=1e-3, learning_rate_decay=0.95,
             reg=5e-6, num_iters=100, batch_size=200, verbose=False):
    n_examples = X.shape[0]
    steps_per_epoch = max(n_examples // batch_size, 1)
    losses, train_accs, val_accs = [], [], []

    for step in range(num_iters):
        xb, yb = None, None
        pick = torch.randint(n_examples, (batch_size,), device=X.device)
        xb, yb = X[pick], y[pick]

        cost, gradients = loss_func(params, xb, y=yb, reg=reg)
        losses.append(cost.item())

        for key in params:
            params[key] -= learning_rate * gradients[key]

        if verbose and step % 100 == 0:
            print(f"iteration {step} / {num_iters}: loss {cost.item():f}")

        if step % steps_per_epoch == 0:
            acc_train = (pred_func(params, loss_func, xb) == yb).float().mean().item()
            acc_val = (pred_func(params, loss_func, X_val) == y_val).float().mean().item()
            train_accs.append(acc_train)
            val_accs.append(acc_val)
            learning_rate *= learning_rate_decay

    return {"loss_history": losses, "train_acc_history": train_accs,
            "val_acc_history": val_accs}
'''

COMMENTED_LOSS = '''
def nn_forward_backward(params, X, y=None, reg=0.0):
    # unpack the weights
    W1, b1 = params["W1"], params["b1"]
    W2, b2 = params["W2"], params["b2"]
    N, D = X.shape
    scores, hidden = nn_forward_pass(params, X)   # forward
    if y is None:
        return scores
    loss = None


    # stable log-softmax (subtract the row max first!)
    shifted = scores - scores.max(dim = 1, keepdim = True).values
    log_probs = shifted - shifted.exp().sum(dim = 1, keepdim = True).log()
    # cross-entropy + L2
    loss = -log_probs[torch.arange(N), y].mean() + reg * (torch.sum(W1*W1) + torch.sum(W2*W2))
    grads = {}
    # backward pass
    dscores = log_probs.exp()
    dscores[torch.arange(N), y] -= 1
    dscores /= N
    grads["W2"] = hidden.t().mm(dscores) + 2*reg*W2
    grads["b2"] = dscores.sum(dim = 0)
    dhidden = dscores.mm(W2.t()) * (hidden > 0)  # relu gate
    grads["W1"] = X.t().mm(dhidden) + 2*reg*W1
    grads["b1"] = dhidden.sum(dim = 0)
    return loss, grads
'''

COMMENTED_TRAIN = '''
def nn_train(params, loss_func, pred_func, X, y, X_val, y_val, learning_rate=1e-3, learning_rate_decay=0.95,
             reg=5e-6, num_iters=100, batch_size=200, verbose=False):
    """SGD loop (my version)."""
    num_train = X.shape[0]
    iterations_per_epoch = max(num_train // batch_size, 1)
    loss_history, train_acc_history, val_acc_history = [], [], []
    for it in range(num_iters):
        X_batch, y_batch = None, None
        # random minibatch, with replacement
        idx = torch.randint(num_train, (batch_size,), device=X.device)
        X_batch, y_batch = X[idx], y[idx]
        loss, grads = loss_func(params, X_batch, y=y_batch, reg=reg)
        loss_history.append(loss.item())
        # vanilla SGD step
        for name in params:
            params[name] -= learning_rate*grads[name]
        if verbose and it % 100 == 0:
            print(f"iteration {it} / {num_iters}: loss {loss.item():f}")
        # once an epoch: accuracies and learning-rate decay
        if it % iterations_per_epoch == 0:
            train_acc = (pred_func(params, loss_func, X_batch) == y_batch).float().mean().item()
            val_acc = (pred_func(params, loss_func, X_val) == y_val).float().mean().item()
            train_acc_history.append(train_acc)
            val_acc_history.append(val_acc)
            learning_rate *= learning_rate_decay
    return {"loss_history": loss_history,
            "train_acc_history": train_acc_history,
            "val_acc_history": val_acc_history}
'''

COMMENTED_PARAM_SET = '''
def get_param_set():
    learning_rates = []
    hidden_sizes = []
    regularization_strengths = []
    learning_rate_decays = []
    # tried a few by hand, these worked best
    learning_rates = [1.2]
    hidden_sizes = [1024]
    regularization_strengths = [1e-4]
    learning_rate_decays = [0.95]
    return learning_rates, hidden_sizes, regularization_strengths, learning_rate_decays
'''

REORDERED_NET = '''
class TwoLayerNet:
    def load(self, path):
        checkpoint = load_checkpoint(path, device=self.params["W1"].device)
        self.params = {name: value.to(self.params["W1"].dtype) for name, value in checkpoint["params"].items()}
        print(f"Loaded from {path}")

    def save(self, path, dataset=None):
        save_checkpoint(path, self.params, dataset)
        print(f"Saved to {path}")

    def predict(self, X):
        return nn_predict(self.params, nn_forward_backward, X)

    def loss(self, X, y=None, reg=0.0):
        return nn_forward_backward(self.params, X, y, reg)

    def train(self, X, y, X_val, y_val, learning_rate=1e-3, learning_rate_decay=0.95, reg=5e-6,
              num_iters=100, batch_size=200, verbose=False):
        return nn_train(self.params, nn_forward_backward, nn_predict, X, y, X_val, y_val, learning_rate,
                        learning_rate_decay, reg, num_iters, batch_size, verbose)

    def __init__(self, input_size, hidden_size, output_size, dtype=torch.float32, device="cpu", std=1e-4):
        self.params = {}
        self.params["b2"] = torch.zeros(output_size, dtype=dtype, device=device)
        self.params["W2"] = std * torch.randn(hidden_size, output_size, dtype=dtype, device=device)
        self.params["b1"] = torch.zeros(hidden_size, dtype=dtype, device=device)
        self.params["W1"] = std * torch.randn(input_size, hidden_size, dtype=dtype, device=device)
'''

REORDERED_LOSS = '''
def nn_forward_backward(params, X, y=None, reg=0.0):
    N, D = X.shape
    W2, b2 = params["W2"], params["b2"]
    W1, b1 = params["W1"], params["b1"]

    scores, hidden = nn_forward_pass(params, X)
    if y is None:
        return scores

    loss = None
    shifted = scores - scores.max(dim=1, keepdim=True).values
    log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
    loss = -log_probs[torch.arange(N), y].mean() + reg * (torch.sum(W1 * W1) + torch.sum(W2 * W2))

    grads = {}
    dscores = log_probs.exp()
    dscores[torch.arange(N), y] -= 1
    dscores /= N
    dhidden = dscores.mm(W2.t()) * (hidden > 0)
    grads["b1"] = dhidden.sum(dim=0)
    grads["W1"] = X.t().mm(dhidden) + 2 * reg * W1
    grads["b2"] = dscores.sum(dim=0)
    grads["W2"] = hidden.t().mm(dscores) + 2 * reg * W2
    return loss, grads
'''

LOG_SOFTMAX_HELPER = '''
def log_softmax_rows(scores):
    shifted = scores - scores.max(dim=1, keepdim=True).values
    return shifted - shifted.exp().sum(dim=1, keepdim=True).log()
'''

HELPER_LOSS = '''
def nn_forward_backward(params, X, y=None, reg=0.0):
    W1, b1 = params["W1"], params["b1"]
    W2, b2 = params["W2"], params["b2"]
    N, D = X.shape

    scores, hidden = nn_forward_pass(params, X)
    if y is None:
        return scores

    loss = None
    log_probs = log_softmax_rows(scores)
    loss = -log_probs[torch.arange(N), y].mean() + reg * (torch.sum(W1 * W1) + torch.sum(W2 * W2))

    grads = {}
    dscores = log_probs.exp()
    dscores[torch.arange(N), y] -= 1
    dscores /= N
    grads["W2"] = hidden.t().mm(dscores) + 2 * reg * W2
    grads["b2"] = dscores.sum(dim=0)
    dhidden = dscores.mm(W2.t()) * (hidden > 0)
    grads["W1"] = X.t().mm(dhidden) + 2 * reg * W1
    grads["b1"] = dhidden.sum(dim=0)
    return loss, grads
'''

ACCURACY_HELPER = '''
def accuracy(pred_func, params, loss_func, X, y):
    return (pred_func(params, loss_func, X) == y).float().mean().item()
'''

HELPER_TRAIN = '''
def nn_train(params, loss_func, pred_func, X, y, X_val, y_val, learning_rate=1e-3, learning_rate_decay=0.95,
             reg=5e-6, num_iters=100, batch_size=200, verbose=False):
    num_train = X.shape[0]
    iterations_per_epoch = max(num_train // batch_size, 1)
    loss_history, train_acc_history, val_acc_history = [], [], []

    for it in range(num_iters):
        X_batch, y_batch = None, None
        idx = torch.randint(num_train, (batch_size,), device=X.device)
        X_batch, y_batch = X[idx], y[idx]

        loss, grads = loss_func(params, X_batch, y=y_batch, reg=reg)
        loss_history.append(loss.item())

        for name in params:
            params[name] -= learning_rate * grads[name]

        if verbose and it % 100 == 0:
            print(f"iteration {it} / {num_iters}: loss {loss.item():f}")

        if it % iterations_per_epoch == 0:
            train_acc_history.append(accuracy(pred_func, params, loss_func, X_batch, y_batch))
            val_acc_history.append(accuracy(pred_func, params, loss_func, X_val, y_val))
            learning_rate *= learning_rate_decay

    return {"loss_history": loss_history, "train_acc_history": train_acc_history,
            "val_acc_history": val_acc_history}
'''

COMPREHENSION_TRAIN = '''
def nn_train(params, loss_func, pred_func, X, y, X_val, y_val, learning_rate=1e-3, learning_rate_decay=0.95,
             reg=5e-6, num_iters=100, batch_size=200, verbose=False):
    num_train = X.shape[0]
    iterations_per_epoch = max(num_train // batch_size, 1)
    loss_history, train_acc_history, val_acc_history = [], [], []

    for it in range(num_iters):
        X_batch, y_batch = None, None
        idx = torch.randint(num_train, (batch_size,), device=X.device)
        X_batch, y_batch = X[idx], y[idx]

        loss, grads = loss_func(params, X_batch, y=y_batch, reg=reg)
        loss_history.append(loss.item())

        params.update({name: params[name] - learning_rate * grads[name] for name in params})

        if verbose and it % 100 == 0:
            print(f"iteration {it} / {num_iters}: loss {loss.item():f}")

        if it % iterations_per_epoch == 0:
            train_acc, val_acc = [(pred_func(params, loss_func, data) == labels).float().mean().item()
                                  for data, labels in ((X_batch, y_batch), (X_val, y_val))]
            train_acc_history.append(train_acc)
            val_acc_history.append(val_acc)
            learning_rate *= learning_rate_decay

    return {"loss_history": loss_history, "train_acc_history": train_acc_history,
            "val_acc_history": val_acc_history}
'''

COMPREHENSION_NET_INIT = '''
class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, dtype=torch.float32, device="cpu", std=1e-4):
        shapes = {"W1": (input_size, hidden_size), "b1": (hidden_size,), "W2": (hidden_size, output_size),
                  "b2": (output_size,)}
        self.params = {name: std * torch.randn(*shape, dtype=dtype, device=device) if name[0] == "W"
                       else torch.zeros(*shape, dtype=dtype, device=device) for name, shape in shapes.items()}

    def loss(self, X, y=None, reg=0.0):
        return nn_forward_backward(self.params, X, y, reg)

    def train(self, X, y, X_val, y_val, learning_rate=1e-3, learning_rate_decay=0.95, reg=5e-6,
              num_iters=100, batch_size=200, verbose=False):
        return nn_train(self.params, nn_forward_backward, nn_predict, X, y, X_val, y_val, learning_rate,
                        learning_rate_decay, reg, num_iters, batch_size, verbose)

    def predict(self, X):
        return nn_predict(self.params, nn_forward_backward, X)

    def save(self, path, dataset=None):
        save_checkpoint(path, self.params, dataset)
        print(f"Saved to {path}")

    def load(self, path):
        checkpoint = load_checkpoint(path, device=self.params["W1"].device)
        self.params = {name: value.to(self.params["W1"].dtype) for name, value in checkpoint["params"].items()}
        print(f"Loaded from {path}")
'''

COMPREHENSION_SEARCH = '''
def find_best_net(data_dict, get_param_set_fn):
    best_net, best_stat, best_val_acc = None, None, -1.0
    X_train, y_train = data_dict["X_train"], data_dict["y_train"]
    X_val, y_val = data_dict["X_val"], data_dict["y_val"]
    num_classes = int(torch.cat([y_train, y_val]).max()) + 1
    learning_rates, hidden_sizes, regs, decays = get_param_set_fn()
    configs = [(lr, hidden_size, reg, decay) for lr in learning_rates for hidden_size in hidden_sizes
               for reg in regs for decay in decays]
    for lr, hidden_size, reg, decay in configs:
        net = TwoLayerNet(X_train.shape[1], hidden_size, num_classes, dtype=X_train.dtype,
                          device=X_train.device, std=1e-2)
        stat = net.train(X_train, y_train, X_val, y_val, num_iters=budget(20000, 10), batch_size=200,
                         learning_rate=lr, learning_rate_decay=decay, reg=reg)
        val_acc = (net.predict(X_val) == y_val).float().mean().item()
        print(f"lr {lr:g}, hidden {hidden_size}, reg {reg:g}, decay {decay:g}: val {100 * val_acc:.2f}%")
        if val_acc > best_val_acc:
            best_net, best_stat, best_val_acc = net, stat, val_acc
    return best_net, best_stat, best_val_acc
'''

# --- a planted copy of the first style notebook, every transformation at once --------------------------

DISGUISED_FORWARD = '''
def nn_forward_pass(p, inputs):
    # layer 1 then relu then layer 2
    wa, ba = p["W1"], p["b1"]
    wb, bb = p["W2"], p["b2"]
    z = torch.addmm(ba, inputs, wa)
    act = torch.where(z > 0, z, torch.zeros_like(z))
    out = torch.addmm(bb, act, wb)
    return out, act
'''

ONE_HOT_HELPER = '''
def make_one_hot(labels, n, c, like):
    target = torch.zeros(n, c, dtype=like.dtype, device=like.device)
    target[torch.arange(n), labels] = 1.0
    return target
'''

DISGUISED_LOSS = '''
def nn_forward_backward(p, inputs, labels=None, lam=0.0):
    n, d = inputs.shape
    wb, bb = p["W2"], p["b2"]
    wa, ba = p["W1"], p["b1"]
    out, act = nn_forward_pass(p, inputs)
    if labels is None:
        return out
    # cross entropy via logsumexp
    target = make_one_hot(labels, n, out.shape[1], out)
    logp = out - torch.logsumexp(out, dim=1, keepdim=True)
    total = -(target * logp).sum() / n + lam * ((wa ** 2).sum() + (wb ** 2).sum())
    dout = (logp.exp() - target) / n
    dact = dout @ wb.T
    dz = dact * (act > 0).to(dact.dtype)
    g = {"W2": act.T @ dout + 2 * lam * wb, "b2": dout.sum(dim=0),
         "W1": inputs.T @ dz + 2 * lam * wa, "b1": dz.sum(dim=0)}
    return total, g
'''

DISGUISED_TRAIN = '''
def nn_train(params, loss_func, pred_func, X, y, X_val, y_val, learning_rate=1e-3, learning_rate_decay=0.95,
             reg=5e-6, num_iters=100, batch_size=200, verbose=False):
    n_examples = X.shape[0]
    per_epoch = max(n_examples // batch_size, 1)
    losses, accs_train, accs_val = [], [], []
    for step in range(num_iters):
        pick = torch.randperm(n_examples, device=X.device)[:batch_size]   # no replacement
        xb, yb = X[pick], y[pick]
        cost, g = loss_func(params, xb, y=yb, reg=reg)
        losses.append(float(cost))
        params.update({k: params[k] - learning_rate * g[k] for k in params})
        if step % per_epoch == 0:
            a_train, a_val = [(pred_func(params, loss_func, data) == lab).float().mean().item()
                              for data, lab in ((xb, yb), (X_val, y_val))]
            accs_train.append(a_train)
            accs_val.append(a_val)
            learning_rate *= learning_rate_decay
        if verbose and step % 100 == 0:
            print("iteration %d / %d: loss %f" % (step, num_iters, float(cost)))
    return {"loss_history": losses, "train_acc_history": accs_train, "val_acc_history": accs_val}
'''

DISGUISED_SEARCH = '''
import itertools


def find_best_net(data_dict, get_param_set_fn):
    Xt, yt = data_dict["X_train"], data_dict["y_train"]
    Xv, yv = data_dict["X_val"], data_dict["y_val"]
    n_in = Xt.shape[1]
    n_cls = int(yt.max().item()) + 1
    top_net, top_stats, top_acc = None, None, 0.0

    for rate, width, lam, dec in itertools.product(*get_param_set_fn()):
        model = TwoLayerNet(n_in, width, n_cls, dtype=Xt.dtype, device=Xt.device,
                            std=1e-2)
        hist = model.train(Xt, yt, Xv, yv, learning_rate=rate, learning_rate_decay=dec,
                           reg=lam, num_iters=budget(3000, 10), batch_size=256)
        acc = (model.predict(Xv) == yv).double().mean().item()
        print(f"lr={rate}, hidden={width}, reg={lam}, decay={dec} -> val acc {acc:.4f}")
        if acc > top_acc:
            top_net, top_stats, top_acc = model, hist, acc

    return top_net, top_stats, top_acc
'''

#: Planted copies: student id -> (the solution copied, {grade_id: disguised code}, added cells, transformation).
PLANTED = {
    "copy-renamed": ("reference", {"nn_forward_pass": RENAMED_FORWARD, "nn_forward_backward": RENAMED_LOSS,
                                   "nn_train": RENAMED_TRAIN}, (), "renamed variables"),
    "copy-comments": ("reference", {"nn_forward_backward": COMMENTED_LOSS, "nn_train": COMMENTED_TRAIN,
                                    "get_param_set": COMMENTED_PARAM_SET}, (), "changed comments and whitespace"),
    "copy-reordered": ("reference", {"TwoLayerNet": REORDERED_NET, "nn_forward_backward": REORDERED_LOSS}, (),
                       "reordered functions and statements"),
    "copy-helper": ("reference", {"nn_forward_backward": HELPER_LOSS, "nn_train": HELPER_TRAIN},
                    (("nn_forward_backward", LOG_SOFTMAX_HELPER), ("nn_train", ACCURACY_HELPER)),
                    "helper functions extracted"),
    "copy-comprehension": ("reference", {"nn_train": COMPREHENSION_TRAIN, "TwoLayerNet": COMPREHENSION_NET_INIT,
                                         "find_best_net": COMPREHENSION_SEARCH}, (),
                           "loops rewritten as comprehensions"),
    "copy-disguised": ("style-1", {"nn_forward_pass": DISGUISED_FORWARD, "nn_forward_backward": DISGUISED_LOSS,
                                   "nn_train": DISGUISED_TRAIN, "find_best_net": DISGUISED_SEARCH},
                       (("nn_forward_backward", ONE_HOT_HELPER),), "all of them at once"),
}


def notebooks(course_dir=COURSE_ROOT):
    """(release notebook, source notebook) of two_layer_net."""
    return (read_notebook(Path(course_dir) / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"),
            read_notebook(Path(course_dir) / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"))


def solutions(release_nb, source_nb):
    """The independent correct solutions: {id: (answers, added cells)} of the reference and of each notebook of
    the kit's correct styles (combined as autograder.styles.combine groups them)."""
    reference = reference_answers(source_nb)
    found = {"reference": (reference, ())}
    for i, group in enumerate(combine(STYLES), 1):
        answers = {**reference, **{gid: code for style in group for gid, code in style.answers.items()}}
        found[f"style-{i}"] = (answers, tuple(cell for style in group for cell in style.added_cells))
    return found


def batch(release_nb, source_nb):
    """({student id: notebook}, {student id: the solution it is or copies}, {student id: its answers}): the
    independent solutions (the style notebooks built by autograder.styles.style_notebook) and the planted copies."""
    found = solutions(release_nb, source_nb)
    reference = reference_answers(source_nb)
    nbs = {"reference": submission(release_nb, source_nb, reference)}
    nbs.update({f"style-{i}": style_notebook(release_nb, source_nb, reference, group)
                for i, group in enumerate(combine(STYLES), 1)})
    families = {name: name for name in nbs}
    answers = {name: found[name][0] for name in nbs}
    for name, (original, disguised, added, _) in PLANTED.items():
        base, base_added = found[original]
        answers[name] = {**base, **disguised}
        nbs[name] = submission(release_nb, source_nb, answers[name], base_added + added)
        families[name] = original
    return nbs, families, answers


def write_batch(nbs, folder):
    """Write each notebook as folder/<student id>.ipynb; return the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, nb in nbs.items():
        nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


def shared_cells(answers, a, b):
    """How many answer cells two students' notebooks hold verbatim alike."""
    return sum(answers[a][gid].strip() == answers[b][gid].strip() for gid in answers[a])


def ranking(pairs, families, answers):
    """{(a, b): score} of the planted pairs (a copy and what it copies, or two copies of one solution), of the
    independent pairs (different solutions that share no answer cell verbatim) and of the overlapping ones
    (different solutions that do: the style notebooks keep the reference's code in every cell their styles leave
    alone)."""
    planted, independent, overlapping = {}, {}, {}
    for p in pairs:
        a, b = p.student_a, p.student_b
        if families[a] == families[b]:
            planted[a, b] = p.score
        elif shared_cells(answers, a, b):
            overlapping[a, b] = p.score
        else:
            independent[a, b] = p.score
    return planted, independent, overlapping


def synthetic_class(release_nb, source_nb, size, seed=0):
    """`size` notebooks, each answer cell drawn from every variant the batch has of it (reference, styles, planted
    copies), with the added cells of the variants drawn."""
    found = solutions(release_nb, source_nb)
    variants: dict[str, list] = {}
    for answers, added in found.values():
        for gid, code in answers.items():
            variants.setdefault(gid, []).append((code, tuple(c for c in added if c[0] == gid)))
    for _, answers, added, _ in PLANTED.values():
        for gid, code in answers.items():
            variants[gid].append((code, tuple(c for c in added if c[0] == gid)))
    rng = random.Random(seed)
    nbs = {}
    for i in range(size):
        drawn = {gid: rng.choice(options) for gid, options in variants.items()}
        nbs[f"student-{i:04d}"] = submission(release_nb, source_nb, {gid: code for gid, (code, _) in drawn.items()},
                                             [cell for _, cells in drawn.values() for cell in cells])
    return nbs


def run():
    release_nb, source_nb = notebooks()
    nbs, families, answers = batch(release_nb, source_nb)
    with tempfile.TemporaryDirectory(prefix="bench-similarity-") as tmp:
        tmp = Path(tmp)
        pairs = similarity.run(ASSIGNMENT, write_batch(nbs, tmp / "batch"), tmp / "report", show_progress=False)
        timings = {}
        for size in CLASS_SIZES:
            folder = write_batch(synthetic_class(release_nb, source_nb, size), tmp / f"class-{size}")
            start = time.perf_counter()
            class_pairs = similarity.run(ASSIGNMENT, folder, tmp / f"report-{size}", show_progress=False)
            timings[str(size)] = {"seconds": round(time.perf_counter() - start, 1), "pairs": len(class_pairs),
                                  "above_display": sum(p.score > similarity.DISPLAY for p in class_pairs)}
    planted, independent, overlapping = ranking(pairs, families, answers)
    scores = {frozenset(pair): score for pair, score in {**planted, **independent, **overlapping}.items()}
    by_copy = {name: {"copies": original, "transformation": transformation,
                      "score": scores[frozenset((name, original))]}
               for name, (original, _, _, transformation) in PLANTED.items()}
    solution_pairs = {f"{a} / {b}": {"score": s, "shared_cells": shared_cells(answers, a, b)}
                      for (a, b), s in {**independent, **overlapping}.items() if families[a] == a and families[b] == b}
    return {"noise_threshold": similarity.NOISE, "guarantee_threshold": similarity.GUARANTEE,
            "display_threshold": similarity.DISPLAY, "notebooks": len(nbs),
            "planted_pairs": len(planted), "independent_pairs": len(independent),
            "overlapping_pairs": len(overlapping),
            "lowest_planted": min(planted.values()), "highest_independent": max(independent.values()),
            "median_independent": round(statistics.median(independent.values()), 4),
            "highest_overlapping": max(overlapping.values()),
            "every_planted_above_every_independent": min(planted.values()) > max(independent.values()),
            "planted_copy_vs_original": by_copy, "solution_pairs": solution_pairs, "class_seconds": timings}


def summary(f):
    t = f["class_seconds"]["1000"]
    above = "yes" if f["every_planted_above_every_independent"] else "NO"
    return (f"planted copies score {f['lowest_planted']:.3f} and up, independent solutions "
            f"{f['highest_independent']:.3f} at most (median {f['median_independent']:.3f}): every planted pair above "
            f"every independent one: {above}; a class of 1000 ({t['pairs']} pairs) in {t['seconds']:.0f} s")
