"""The exported NumPy training program, as sections a learner reads top to bottom.

Each :class:`Section` is a title, a paragraph that explains the step and the code of the
step; :mod:`.numpy_script` writes them as one commented script, :mod:`.notebook` as markdown
and code cells. The code is in the course's notation, one column per sample: W[l] is
(n[l], n[l-1]), b[l] (n[l], 1), Z[l] = W[l]·A[l-1] + b[l] and A[l] = g[l](Z[l]) are (n[l], m).
It repeats the lab's arithmetic operation for operation, in the network's dtype (the order
of the operations decides the last bits in float32), so that its history equals the lab's.
Only what the run uses is written: its activations, loss, optimizer, penalties, dropout.
"""

from __future__ import annotations

from dataclasses import dataclass
from textwrap import dedent

import numpy as np

from ..losses import clip_epsilon, get_loss
from .source import DenseStep, ExportSource


def clip_eps(source: ExportSource) -> float:
    """The smallest probability the lab's cross-entropies take the log of, in the run's dtype."""
    return clip_epsilon(np.dtype(source.dtype))


@dataclass(frozen=True)
class Section:
    """One step of the program: ``title`` and ``text`` (markdown) explain ``code``."""

    title: str
    text: str
    code: str


def numpy_sections(source: ExportSource, data_file: str, *, beside_script: bool) -> list[Section]:
    """The program's sections; it loads ``data_file`` from its own folder (``beside_script``:
    the folder of ``__file__``, else the working folder, as in a notebook)."""
    steps = source.dense_steps()
    return [
        _settings(source),
        _data(source, data_file, beside_script),
        _network(steps),
        _activations(steps),
        _forward(steps),
        _loss(source, steps),
        _backward(source, steps),
        _optimizer(source),
        _training(source),
    ]


# ----- settings ---------------------------------------------------------------------------------
def _constant(name: str, value: object, comment: str) -> str:
    return f"{name} = {value!r}".ljust(28) + f"# {comment}"


def settings_lines(source: ExportSource) -> list[str]:
    """The run's settings as commented constants (only those its optimizer and penalties use)."""
    config = source.config
    lines = [_constant("SEED", config.seed, "seeds the split into training and validation parts and the shuffle"),
             _constant("VAL_FRACTION", config.val_fraction, "share of the samples kept for validation"),
             _constant("BATCH_SIZE", config.batch_size, "samples per mini-batch"),
             _constant("EPOCHS", source.epochs, "passes over the training part"),
             _constant("LEARNING_RATE", config.learning_rate, "α, the step size")]
    if config.l1:
        lines.append(_constant("L1", config.l1, "λ₁ of the L1 penalty λ₁·Σ|w|"))
    if config.l2:
        lines.append(_constant("L2", config.l2, "λ₂ of the L2 penalty (λ₂/2)·Σw²"))
    optimizer = config.optimizer
    if optimizer == "momentum":
        lines.append(_constant("MOMENTUM", config.momentum, "μ, how much of the last step each step keeps"))
        lines.append(_constant("NESTEROV", config.nesterov, "Nesterov's look-ahead"))
    if optimizer == "rmsprop":
        lines.append(_constant("RHO", config.rho, "ρ, the decay of the running mean of squared gradients"))
    if optimizer == "adam":
        lines.append(_constant("BETA1", config.beta1, "β₁, the decay of the running mean of gradients"))
        lines.append(_constant("BETA2", config.beta2, "β₂, the decay of the running mean of squared gradients"))
    if optimizer in ("rmsprop", "adam"):
        lines.append(_constant("EPSILON", config.epsilon, "ε, keeps the division finite"))
    if source.setting_changes:
        lines += ["# settings changed live during the run: (epochs done, mini-batch of the next epoch) → new values,",
                  "# each from that mini-batch on",
                  f"SETTING_CHANGES = {source.changes_by_batch()!r}"]
    return lines


def setting_change_lines(source: ExportSource, indent: str) -> list[str]:
    """The training loop's lines, at mini-batch ``number`` of epoch ``epoch`` (1-based), that
    apply the run's live setting changes to the constants; none when it made none."""
    if not source.setting_changes:
        return []
    lines = [f"{indent}change = SETTING_CHANGES.get((epoch - 1, number), {{}})   # the run changed a setting here, live"]
    return lines + [f'{indent}{constant} = change.get("{constant}", {constant})' for constant in source.changed_constants()]


EDIT_SETTER = {  # the body of set_by_hand: sets one number of an array of the program, by language
    "numpy": """\
    for name, l, index, value in PARAMETER_EDITS.get((done, number), []):
        (W if name == "W" else b)[l][index] = value""",
    "torch": """\
    with torch.no_grad():
        for name, l, index, value in PARAMETER_EDITS.get((done, number), []):
            linear = linears[l - 1]
            (linear.weight if name == "W" else linear.bias)[index] = value""",
}


def parameter_edit_code(source: ExportSource, language: str) -> str:
    """The run's hand edits as the constant PARAMETER_EDITS and the function ``set_by_hand(done,
    number)`` that makes those of one mini-batch (``language``: "numpy" or "torch", whose b[l] is
    (n[l], 1) and (n[l],)); empty when the run made none."""
    if not source.parameter_edits:
        return ""
    edits = source.edits_by_batch(bias_column=language == "numpy")
    return (f"# numbers set by hand in the lab during the run: (epochs done, mini-batch of the next epoch) →\n"
            f"# [(array, layer l, index (0-based), value)], each set just before that mini-batch\n"
            f"PARAMETER_EDITS = {edits!r}\n\n\n"
            f"def set_by_hand(done, number):\n"
            f'    """Set the weights and biases the lab set by hand after ``done`` epochs and ``number`` mini-batches."""\n'
            f"{EDIT_SETTER[language]}\n")


def batch_loop(source: ExportSource, batches: str) -> str:
    """The mini-batch loop's header over ``batches`` (a range expression): numbered when the
    run changed settings or set numbers by hand at given mini-batches."""
    if source.setting_changes or source.parameter_edits:
        return f"for number, first in enumerate({batches}):"
    return f"for first in {batches}:"


def edit_lines(source: ExportSource, indent: str) -> list[str]:
    """The training loop's line that makes the hand edits of mini-batch ``number`` of epoch ``epoch``."""
    return [f"{indent}set_by_hand(epoch - 1, number)   # the lab set numbers by hand here"] if source.parameter_edits else []


def _settings(source: ExportSource) -> Section:
    lines = ["import json", "import math", "import sys", "import time", "from pathlib import Path", "", "import numpy as np", "",
             f"DTYPE = np.{source.dtype}".ljust(28) + "# the precision of every array of the training, as in the lab",
             *settings_lines(source)]
    text = (f"The settings of the lab's run: the {source.config.optimizer} optimizer on mini-batches of "
            f"{source.config.batch_size} samples, in {source.dtype}. Change them here and run again to see what they do.")
    return Section("Settings", text, "\n".join(lines))


# ----- data ---------------------------------------------------------------------------------------
def split_code(source: ExportSource, location: str) -> str:
    """Code that loads the data file at ``location`` (a Python expression), splits the rows into
    ``train_rows`` and ``val_rows`` as the trainer does and standardizes ``X_all`` as the run did."""
    code = dedent(f"""\
        data = np.load({location})
        X_all, Y_all = data["X"], data["Y"]   # (m, n[0]) raw inputs and (m, n[L]) targets, one row per sample
        m_all = X_all.shape[0]

        # The split: a permutation of the samples seeded with [SEED, 0]; its first VAL_FRACTION is the
        # validation part, the rest the training part (each in the file's order).
        order = np.random.default_rng([SEED, 0]).permutation(m_all)
        m_val = 0 if VAL_FRACTION <= 0 else min(max(1, round(m_all * VAL_FRACTION)), m_all - 1)
        train_rows, val_rows = np.sort(order[m_val:]), np.sort(order[:m_val])
        """)
    if source.preprocess is not None and source.fitted_standardization():
        code += dedent("""
            # Standardization x' = (x − μ) / σ, with μ and σ of the training part only: the validation part
            # stays unseen. A constant feature keeps σ = 1.
            mu = X_all[train_rows].mean(axis=0)
            sigma = X_all[train_rows].std(axis=0)
            sigma = np.where(sigma > 0, sigma, 1.0)
            X_all = (X_all - mu) / sigma
            """)
    elif source.preprocess is not None:
        code += dedent("""
            # Standardization x' = (x − μ) / σ with the μ and σ the starting model came with.
            X_all = (X_all - data["mean"]) / data["std"]
            """)
    return code


def _data(source: ExportSource, data_file: str, beside_script: bool) -> Section:
    location = f"Path(__file__).with_name({data_file!r})" if beside_script else repr(data_file)
    code = split_code(source, location) + dedent("""
        # The course's layout: one column per sample, X (n[0], m) and Y (n[L], m), in DTYPE.
        X_train, Y_train = X_all[train_rows].astype(DTYPE).T, Y_all[train_rows].astype(DTYPE).T
        X_val, Y_val = X_all[val_rows].astype(DTYPE).T, Y_all[val_rows].astype(DTYPE).T
        m = X_train.shape[1]   # training samples
        """)
    standardized = "standardizes the inputs, " if source.preprocess is not None else ""
    text = ("Loads the inputs X and the targets Y (the labels already encoded as the output layer gives them), "
            f"splits them into a training and a validation part exactly as the lab does, {standardized}"
            "and turns them into the course's layout: one column per sample.")
    return Section("Data", text, code)


# ----- network ------------------------------------------------------------------------------------
def _activation_call(step: DenseStep) -> tuple[str, str]:
    """The expressions of g[l] and g_backward[l] for ``step``."""
    if step.activation == "leaky_relu":
        return f"lambda Z: leaky_relu(Z, {step.slope!r})", f"lambda dA, A: leaky_relu_backward(dA, A, {step.slope!r})"
    return step.activation, f"{step.activation}_backward"


def _network(steps: list[DenseStep]) -> Section:
    layers = steps[1:]
    code = [f"L = {len(layers)}".ljust(28) + "# dense layers",
            f"n = {[s.units for s in steps]!r}".ljust(28) + "# n[l]: the units of layer l (n[0]: the inputs)",
            'W = [None] + [data[f"W{l}"].astype(DTYPE) for l in range(1, L + 1)]                # W[l] (n[l], n[l-1])',
            'b = [None] + [data[f"b{l}"].astype(DTYPE).reshape(-1, 1) for l in range(1, L + 1)]  # b[l] (n[l], 1)']
    dropouts = {s.number: list(s.dropouts) for s in steps if s.dropouts}
    if dropouts:
        code += ["",
                 "# Dropout after layer l (0: the inputs): (rate, seed of the generator its masks come from, as in the lab)",
                 f"DROPOUT = {dropouts!r}",
                 "dropout_generators = {l: [(rate, np.random.default_rng(seed)) for rate, seed in after]",
                 "                      for l, after in DROPOUT.items()}"]
    text = (f"{len(layers)} dense layers of {', '.join(str(s.units) for s in layers)} units on {steps[0].units} inputs, "
            "starting from the lab's initial weights (epoch 0). Layer l has the weights W[l] (n[l], n[l-1]) and the "
            "biases b[l] (n[l], 1).")
    if dropouts:
        text += (" Dropout zeroes each unit of A[l] with probability `rate` in training and scales the others by "
                 "1 / (1 − rate), so that the expected output stays the same; it does nothing at prediction time.")
    return Section("The network", text, "\n".join(code))


ACTIVATION_CODE = {
    "linear": '''\
        def linear(Z):
            """g(Z) = Z."""
            return Z


        def linear_backward(dA, A):
            """g' = 1: dZ = dA."""
            return dA
        ''',
    "sigmoid": '''\
        def sigmoid(Z):
            """σ(Z) = 1 / (1 + e^−Z), computed as (1 + tanh(Z/2)) / 2, which never overflows."""
            return 0.5 * (1 + np.tanh(0.5 * Z))


        def sigmoid_backward(dA, A):
            """dZ = dA ⊙ σ'(Z), with σ'(Z) = A(1 − A)."""
            return (1 - A) * A * dA
        ''',
    "tanh": '''\
        def tanh(Z):
            return np.tanh(Z)


        def tanh_backward(dA, A):
            """dZ = dA ⊙ tanh'(Z), with tanh'(Z) = 1 − A²."""
            return (1 - A * A) * dA
        ''',
    "relu": '''\
        def relu(Z):
            """max(Z, 0)."""
            return np.maximum(Z, 0)


        def relu_backward(dA, A):
            """dZ = dA ⊙ [Z > 0]."""
            return dA * (A > 0)
        ''',
    "leaky_relu": '''\
        def leaky_relu(Z, slope):
            """max(Z, slope·Z): a small slope for Z < 0 keeps a unit from dying."""
            return np.maximum(Z, Z * slope)


        def leaky_relu_backward(dA, A, slope):
            """dZ = dA ⊙ g'(Z), with g'(Z) = 1 for Z > 0, else the slope."""
            return dA * np.where(A > 0, 1.0, slope).astype(A.dtype)
        ''',
    "softmax": '''\
        def softmax(Z):
            """e^(Z − max Z) / Σ e^(Z − max Z) down each sample's column (subtracting the max keeps e^z finite)."""
            E = np.exp(Z - Z.max(axis=0, keepdims=True))
            return E / E.sum(axis=0, keepdims=True)


        def softmax_backward(dA, A):
            """dZ = A ⊙ (dA − Σ_j dA_j·A_j): the softmax's Jacobian applied to dA, sample by sample."""
            return (dA - (dA * A).sum(axis=0, keepdims=True)) * A
        ''',
}


def _activations(steps: list[DenseStep]) -> Section:
    used = list(dict.fromkeys(s.activation for s in steps[1:]))
    code = "\n\n".join(dedent(ACTIVATION_CODE[name]) for name in used)
    pairs = [_activation_call(s) for s in steps[1:]]
    code += "\n\n" + f"g = [None, {', '.join(p[0] for p in pairs)}]".ljust(50) + "# g[l]: the activation of layer l"
    code += "\n" + f"g_backward = [None, {', '.join(p[1] for p in pairs)}]"
    text = ("Each activation g and its backward step dZ = dA ⊙ g'(Z). The derivative is computed from the output "
            "A = g(Z) itself, so Z need not be kept.")
    return Section("Activations", text, code)


# ----- forward ------------------------------------------------------------------------------------
def _forward(steps: list[DenseStep]) -> Section:
    if not any(s.dropouts for s in steps):
        code = dedent('''\
            def forward(X):
                """Every layer's output A[0] = X, A[1], …, A[L] (each (n[l], m)) for the inputs X (n[0], m)."""
                A = [X]
                for l in range(1, L + 1):
                    Z = W[l] @ A[l - 1] + b[l]   # Z[l] = W[l]·A[l-1] + b[l]   (n[l], m)
                    A.append(g[l](Z))            # A[l] = g[l](Z[l])
                return A
            ''')
        text = "The forward pass, layer by layer: Z[l] = W[l]·A[l-1] + b[l], then A[l] = g[l](Z[l])."
        return Section("Forward pass", text, code)
    code = dedent('''\
        def dropout(A, l, masks):
            """A with the Dropout layers after layer l applied; their masks are appended to ``masks``."""
            for rate, generator in dropout_generators.get(l, []):
                # the lab draws one number per (sample, unit), samples first: hence the transpose
                keep = generator.random(A.shape[::-1], dtype=DTYPE).T >= rate
                mask = keep.astype(DTYPE) * (1 / (1 - rate))
                A = A * mask
                masks.append(mask)
            return A


        def forward(X, training=False):
            """Every layer's output (each (n[l], m)) for the inputs X (n[0], m), as lists over l = 0…L:
            A[l] what the next layer gets (after dropout, in training), G[l] = g[l](Z[l]) before dropout,
            D[l] the dropout masks applied to it."""
            D = [[] for _ in range(L + 1)]
            A = [dropout(X, 0, D[0]) if training else X]
            G = [X]
            for l in range(1, L + 1):
                Z = W[l] @ A[l - 1] + b[l]   # Z[l] = W[l]·A[l-1] + b[l]   (n[l], m)
                G.append(g[l](Z))            # A[l] = g[l](Z[l])
                A.append(dropout(G[l], l, D[l]) if training else G[l])
            return A, G, D
        ''')
    text = ("The forward pass, layer by layer: Z[l] = W[l]·A[l-1] + b[l], then A[l] = g[l](Z[l]); in training the "
            "Dropout layers multiply A[l] by a fresh random mask for every mini-batch.")
    return Section("Forward pass", text, code)


# ----- loss -------------------------------------------------------------------------------------
LOSS_CODE = {
    "binary_crossentropy": ('''\
        def loss(A, Y):
            """Binary cross-entropy, the mean over the m samples: −(1/m)·Σ[y·log a + (1 − y)·log(1 − a)]."""
            P = np.clip(A, CLIP, 1 - CLIP)   # keeps the logs finite
            return float(-(Y * np.log(P) + (1 - Y) * np.log1p(-P)).sum() / A.shape[1])
        ''', "binary cross-entropy"),
    "categorical_crossentropy": ('''\
        def loss(A, Y):
            """Categorical cross-entropy, the mean over the m samples: −(1/m)·Σ y·log a."""
            P = np.clip(A, CLIP, 1.0)   # keeps the log finite
            return float(-(Y * np.log(P)).sum() / A.shape[1])
        ''', "categorical cross-entropy"),
    "mse": ('''\
        def loss(A, Y):
            """Mean squared error over the m samples and the n[L] outputs: mean((A − Y)²)."""
            E = A - Y
            return float((E * E).mean())
        ''', "the mean squared error"),
}

GRADIENT_CODE = {
    "categorical_crossentropy": '''\
        def loss_gradient(A, Y):
            """dL/dA[L] = −(Y / A) / m."""
            P = np.clip(A, CLIP, 1.0)
            return -(Y / P) / A.shape[1]
        ''',
    "mse": '''\
        def loss_gradient(A, Y):
            """dL/dA[L] = 2(A − Y) / (m·n[L])."""
            return (A - Y) * (2 / A.size)
        ''',
}

METRIC_CODE = {
    "binary": '''\
        def metric(A, Y):
            """Accuracy: the share of samples on the right side of 0.5."""
            return float(((A > 0.5) == (Y > 0.5)).mean())
        ''',
    "classes": '''\
        def metric(A, Y):
            """Accuracy: the share of samples whose largest output is their class."""
            return float((A.argmax(axis=0) == Y.argmax(axis=0)).mean())
        ''',
    "r2": '''\
        def metric(A, Y):
            """R² = 1 − SS_res / SS_tot, averaged over the outputs."""
            ss_res = ((Y - A) ** 2).sum(axis=1)
            ss_tot = ((Y - Y.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
            ss_tot = np.where(ss_tot > 0, ss_tot, 1.0)
            return float((1.0 - ss_res / ss_tot).mean())
        ''',
}


def fused(source: ExportSource, steps: list[DenseStep]) -> bool:
    """Whether the loss meets the output activation it pairs with, so dL/dZ[L] is (A − Y) times a scale."""
    return get_loss(source.loss).fused_activation == steps[-1].activation


def _loss(source: ExportSource, steps: list[DenseStep]) -> Section:
    body, name = LOSS_CODE[source.loss]
    code = ""
    if source.loss != "mse":
        code += f"CLIP = {clip_eps(source)!r}   # the smallest probability the log sees in {source.dtype}\n\n\n"
    code += dedent(body)
    if not fused(source, steps):
        code += "\n\n" + dedent(GRADIENT_CODE[source.loss])
    kind = "r2" if source.metric == "r2" else "binary" if steps[-1].units == 1 else "classes"
    code += "\n\n" + dedent(METRIC_CODE[kind])
    text = (f"The loss is {name}, a mean over the samples (the L1/L2 penalty is not part of it, so that the training "
            "and validation losses compare), and the metric the lab shows beside it.")
    return Section("Loss and metric", text, code)


# ----- backward ---------------------------------------------------------------------------------
def _backward(source: ExportSource, steps: list[DenseStep]) -> Section:
    dropout = any(s.dropouts for s in steps)
    is_fused = fused(source, steps)
    scale = "(2 / A[L].size)" if source.loss == "mse" else "(1 / m)"
    signature = "backward(Y, A, G, D)" if dropout else "backward(Y, A)"
    outputs = "G" if dropout else "A"
    lines = [f"def {signature}:",
             '    """The gradients dW[l] (n[l], n[l-1]) and db[l] (n[l], 1) of the mean loss over the batch, by',
             '    backpropagation from the output layer down."""',
             "    m = Y.shape[1]",
             "    dW, db = [None] * (L + 1), [None] * (L + 1)"]
    if is_fused:
        lines += [f"    # The loss and the output activation cancel out: dZ[L] = (A[L] − Y) · {scale[1:-1]}, exact and",
                  "    # never divided by a tiny probability (multiplied by the rounded factor, as the lab does)",
                  f"    dZ = (A[L] - Y) * {scale}"]
    else:
        lines += ["    dA = loss_gradient(A[L], Y)   # dL/dA[L]"]
    lines += ["    for l in range(L, 0, -1):"]
    if is_fused:
        lines += ["        if l < L:", f"            dZ = g_backward[l](dA, {outputs}[l])   # dZ[l] = dA[l] ⊙ g'(Z[l])"]
    else:
        lines += [f"        dZ = g_backward[l](dA, {outputs}[l])   # dZ[l] = dA[l] ⊙ g'(Z[l])"]
    lines += ["        dW[l] = dZ @ A[l - 1].T                 # dW[l] = dZ[l]·A[l-1]ᵀ",
              "        db[l] = dZ.sum(axis=1, keepdims=True)   # db[l] = Σ over the samples of dZ[l]",
              "        if l > 1:",
              "            dA = W[l].T @ dZ                    # dA[l-1] = W[l]ᵀ·dZ[l]"]
    if dropout:
        lines += ["            for mask in reversed(D[l - 1]):   # the dropped units pass no gradient back",
                  "                dA = dA * mask"]
    lines += ["    return dW, db"]
    config = source.config
    text = ("Backpropagation: from dZ[L] at the output, each layer gives dW[l] = dZ[l]·A[l-1]ᵀ, db[l] = Σ dZ[l] and "
            "passes dA[l-1] = W[l]ᵀ·dZ[l] down, where dZ[l-1] = dA[l-1] ⊙ g'(Z[l-1]). The 1/m of the mean loss is "
            "already inside dZ[L].")
    if config.l1 or config.l2:
        text += " The penalty adds its own gradient to dW (never to db) before the optimizer's step."
    return Section("Backward pass", text, "\n".join(lines) + "\n")


# ----- optimizer --------------------------------------------------------------------------------
OPTIMIZER_CODE = {
    "sgd": ("0", '''\
        def optimizer_step(p, grad, slots, t):
            """Gradient descent: p ← p − α·grad, in place."""
            p -= LEARNING_RATE * grad
        ''', "plain gradient descent"),
    "momentum": ("1", '''\
        def optimizer_step(p, grad, slots, t):
            """Momentum: v ← μ·v − α·grad; p ← p + v (Nesterov: p ← p − α·grad + μ·v), in place; v is the velocity."""
            (v,) = slots
            v[...] = MOMENTUM * v - LEARNING_RATE * grad
            if NESTEROV:
                p[...] = (p - LEARNING_RATE * grad) + MOMENTUM * v
            else:
                p += v
        ''', "gradient descent with momentum: each step keeps a share μ of the last"),
    "rmsprop": ("1", '''\
        def optimizer_step(p, grad, slots, t):
            """RMSprop: s ← ρ·s + (1 − ρ)·grad²; p ← p − α·grad / (√s + ε), in place."""
            (s,) = slots
            s[...] = RHO * s + (1 - RHO) * grad**2
            p -= LEARNING_RATE * (grad / (np.sqrt(s) + EPSILON))
        ''', "RMSprop: each parameter's step is divided by the running root mean square of its gradients"),
    "adam": ("2", '''\
        def optimizer_step(p, grad, slots, t):
            """Adam at step t: v ← β₁v + (1 − β₁)·grad; s ← β₂s + (1 − β₂)·grad²; p ← p − α·v̂ / (√ŝ + ε), in place,
            with the bias corrections v̂ = v / (1 − β₁ᵗ), ŝ = s / (1 − β₂ᵗ) folded into two numbers as the lab does:
            α·√(1 − β₂ᵗ) / (1 − β₁ᵗ) and ε·√(1 − β₂ᵗ)."""
            v, s = slots   # the running means of the gradients and of their squares
            v[...] = BETA1 * v + (1 - BETA1) * grad
            s[...] = BETA2 * s + (1 - BETA2) * grad**2
            correction2 = math.sqrt(1 - BETA2**t)
            step_size = LEARNING_RATE * correction2 / (1 - BETA1**t)
            p -= step_size * (v / (np.sqrt(s) + EPSILON * correction2))
        ''', "Adam: running means of the gradients and of their squares, with bias corrections"),
}


def _optimizer(source: ExportSource) -> Section:
    count, body, name = OPTIMIZER_CODE[source.config.optimizer]
    code = dedent(body) + dedent(f"""

        # the optimizer's state per parameter array ({count} arrays of its shape each), all zero at the start
        slots_W = [None] + [[np.zeros_like(W[l]) for _ in range({count})] for l in range(1, L + 1)]
        slots_b = [None] + [[np.zeros_like(b[l]) for _ in range({count})] for l in range(1, L + 1)]
        """)
    return Section("Optimizer", f"The optimizer is {name}.", code)


# ----- training -----------------------------------------------------------------------------------
def _training(source: ExportSource) -> Section:
    config = source.config
    dropout = any(s.dropouts for s in source.dense_steps())
    metric = source.metric
    edits = parameter_edit_code(source, "numpy")
    lines = [edits] if edits else []
    lines += ["shuffle_generator = np.random.default_rng([SEED, 1])"] if config.shuffle else []
    lines += ["t = 0   # optimizer steps so far",
             "history = []",
             "for epoch in range(1, EPOCHS + 1):",
             "    started = time.perf_counter()"]
    if config.shuffle:
        lines += ["    order = shuffle_generator.permutation(m)   # a new order of the training samples every epoch",
                  "    X_epoch, Y_epoch = X_train[:, order], Y_train[:, order]"]
    else:
        lines += ["    X_epoch, Y_epoch = X_train, Y_train   # the same order every epoch (no shuffling)"]
    lines += ["    outputs = np.empty_like(Y_epoch)   # the network's outputs during the epoch, for its training loss",
              f"    {batch_loop(source, 'range(0, m, BATCH_SIZE)')}",
              *setting_change_lines(source, " " * 8),
              *edit_lines(source, " " * 8),
              "        batch = slice(first, first + BATCH_SIZE)",
              "        X_batch, Y_batch = X_epoch[:, batch], Y_epoch[:, batch]"]
    if dropout:
        lines += ["        A, G, D = forward(X_batch, training=True)",
                  "        outputs[:, batch] = A[L]",
                  "        dW, db = backward(Y_batch, A, G, D)"]
    else:
        lines += ["        A = forward(X_batch)",
                  "        outputs[:, batch] = A[L]",
                  "        dW, db = backward(Y_batch, A)"]
    lines += ["        t += 1",
              "        for l in range(1, L + 1):"]
    if config.l1:
        lines += ["            dW[l] += L1 * np.sign(W[l])   # the L1 penalty's gradient λ₁·sign(w)"]
    if config.l2:
        lines += ["            dW[l] += L2 * W[l]            # the L2 penalty's gradient λ₂·w"]
    lines += ["            optimizer_step(W[l], dW[l], slots_W[l], t)",
              "            optimizer_step(b[l], db[l], slots_b[l], t)",
              "    train_loss, train_metric = loss(outputs, Y_epoch), metric(outputs, Y_epoch)",
              "    if X_val.shape[1]:",
              "        A_val = forward(X_val)[0][L]" if dropout else "        A_val = forward(X_val)[L]",
              "        val_loss, val_metric = loss(A_val, Y_val), metric(A_val, Y_val)",
              "    else:",
              "        val_loss = val_metric = None",
              f'    record = {{"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss, "train_{metric}": train_metric,',
              f'              "val_{metric}": val_metric, "lr": LEARNING_RATE, "seconds": time.perf_counter() - started}}',
              "    record = {key: None if isinstance(value, float) and not math.isfinite(value) else value",
              "              for key, value in record.items()}",
              "    history.append(record)",
              "    print(json.dumps(record), flush=True)",
              "    if record[\"train_loss\"] is None:",
              "        print(f\"training diverged in epoch {epoch}: lower the learning rate\", file=sys.stderr)",
              "        break"]
    if source.parameter_edits:
        lines += ["else:", "    set_by_hand(EPOCHS, 0)   # what the lab set by hand after the last epoch"]
    order = "shuffles the training part, then " if config.shuffle else "takes the training part in its order and "
    text = (f"Mini-batch training: every epoch {order}for each mini-batch runs the forward "
            "pass, backpropagation and one optimizer step on every W[l] and b[l]. The training loss of an epoch is "
            "over the outputs seen during it (as the lab and Keras report it); the validation loss is for the weights "
            "at its end. Each epoch prints one JSON line, as `python main.py train --json` does.")
    if source.parameter_edits:
        text += (" The weights and biases set by hand in the lab are set again at the mini-batch where they were "
                 "(PARAMETER_EDITS); the optimizer's state stays as it is, as in the lab.")
    return Section("Training", text, "\n".join(lines))
