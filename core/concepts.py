"""What each concept the lab lets you choose means: the help behind every activation, loss,
optimizer, initializer, regulariser and training setting.

A :class:`Concept` holds its formula (rich text in the course's notation: z, a = g(z), ŷ, y,
w, b, α, dw, n[l] for the units of layer l, m samples), a one-line summary, when to use it
and its pitfalls. Activations, losses and the L1/L2 penalties also have a :class:`Curve`:
the function and its derivative, computed by the engine's own code (core.activations,
core.losses), so the plot shows exactly what trains. No Qt here: the window's help panel
(app.help_panel) draws it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .activations import get_activation
from .losses import add_penalty_gradient, get_loss, penalty_value

KINDS = ("layer", "activation", "loss", "optimizer", "initializer", "regularizer", "setting", "view")
KIND_TITLES = {"layer": "Layers", "activation": "Activation functions", "loss": "Losses", "optimizer": "Optimizers",
               "initializer": "Initializers", "regularizer": "Regularisation", "setting": "Training settings",
               "view": "What the views show"}
LOSS_TARGET = 1.0  # a loss is plotted against the prediction a for this target y
PENALTY_COEFFICIENT = 1.0  # λ of the plotted L1 / L2 penalty

CurveFunction = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Curve:
    """A function of one variable and its derivative, for a plot.

    ``function`` maps x (p,) to (f(x), f′(x)), each (p,) float64. ``x_label`` names the
    variable, ``value_name`` / ``slope_name`` the two curves (for a legend), ``low``..``high``
    the x range to draw; ``y_range`` (low, high), where given, the y range worth showing (a
    cross-entropy's slope runs off to −∞ near a = 0); ``note`` says what is held fixed.
    """

    function: CurveFunction
    x_label: str
    value_name: str
    slope_name: str
    low: float
    high: float
    y_range: tuple[float, float] | None = None
    note: str = ""

    def samples(self, points: int = 401) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """x (points,) evenly over low..high, and f(x), f′(x) there."""
        x = np.linspace(self.low, self.high, points)
        value, slope = self.function(x)
        return x, value, slope


@dataclass(frozen=True)
class Concept:
    """One thing a learner chooses, explained. ``kind`` is one of KINDS; ``formula_html``,
    ``summary`` (one line), ``when_to_use`` and ``pitfalls`` are Qt rich text (HTML)."""

    key: str
    title: str
    kind: str
    formula_html: str
    summary: str
    when_to_use: str
    pitfalls: str
    plot: Curve | None = None

    def curve(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """(f(x), f′(x)), each like ``x`` (p,), for a concept with a curve; None otherwise."""
        return None if self.plot is None else self.plot.function(np.asarray(x, dtype=np.float64).reshape(-1))


def activation_curve(name: str, slope: float = 0.01) -> CurveFunction:
    """g(z) and g′(z) of the engine's activation ``name`` (``slope``: leaky_relu's) at each z
    (p,), in float64.

    Each z is a sample of one unit, except for softmax, which needs several units: there z is
    the first of two units whose second has z = 0, and the curve is that first unit's a₁ and
    ∂a₁/∂z₁ (the engine's backward given dA = (1, 0))."""

    def function(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        column = np.asarray(z, dtype=np.float64).reshape(-1, 1)
        activation = get_activation(name, slope)
        if name == "softmax":
            pre = np.hstack([column, np.zeros_like(column)])
            upstream = np.hstack([np.ones_like(column), np.zeros_like(column)])
        else:
            pre, upstream = column.copy(), np.ones_like(column)
        a = activation.forward(pre, np)
        derivative = activation.backward(a, upstream, np.empty_like(a), np)
        return a[:, 0].copy(), np.array(derivative[:, 0], dtype=np.float64)

    return function


def loss_curve(name: str) -> CurveFunction:
    """L(a, y) and dL/da of the engine's loss ``name`` for one sample with one output a (each
    of the p values) and the target y = LOSS_TARGET."""

    def function(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        column = np.asarray(a, dtype=np.float64).reshape(-1, 1)
        target = np.full_like(column, LOSS_TARGET)
        loss = get_loss(name)
        values = np.array([loss.value(column[i : i + 1], target[i : i + 1], np) for i in range(len(column))])
        slopes = loss.gradient(column, target, np)[:, 0] * len(column)  # the gradient is of the mean over the p samples
        return values, slopes

    return function


def penalty_curve(l1: float, l2: float) -> CurveFunction:
    """The engine's weight penalty and its derivative for a single weight w (each of the p values)."""

    def function(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        weights = np.asarray(w, dtype=np.float64).reshape(-1)
        values = np.array([penalty_value(weights[i : i + 1], l1, l2, np) for i in range(len(weights))])
        slopes = np.zeros_like(weights)
        add_penalty_gradient(weights, slopes, l1, l2, np)
        return values, slopes

    return function


def _activation_plot(name: str, symbol: str, note: str = "") -> Curve:
    return Curve(activation_curve(name), "z", f"{symbol}(z)", f"{symbol}′(z)", -6.0, 6.0, note=note)


def _loss_plot(name: str, low: float, high: float, y_range: tuple[float, float] | None) -> Curve:
    return Curve(loss_curve(name), "prediction a = ŷ", "L(a, y)", "dL/da", low, high, y_range,
                 note=f"for one sample whose target is y = {LOSS_TARGET:g}")


def _penalty_plot(l1: float, l2: float) -> Curve:
    return Curve(penalty_curve(l1, l2), "weight w", "penalty", "d penalty / dw", -2.0, 2.0,
                 note=f"for one weight, with λ = {PENALTY_COEFFICIENT:g}")


SIGMOID = "σ(z) = 1 / (1 + e<sup>−z</sup>)"
FUSED = "With its paired loss the output layer's gradient is simply <b>dz = a − y</b>."

_CONCEPTS = (
    # ----- layers (Dropout is with the regularisers) -----
    Concept(
        "dense", "Dense layer", "layer",
        "z[l] = W[l]·a[l−1] + b[l],  a[l] = g(z[l])<br>W[l]: n[l] × n[l−1],  b[l]: n[l] × 1",
        "Every unit takes a weighted sum of every input, adds its bias and applies the activation g.",
        "The layers of the course's networks, and the output layer of every network here (sigmoid, softmax or linear "
        "units). On images it needs a Flatten layer first.",
        "A dense layer on images has one weight per pixel and unit: 784 × 128 = 100,352 for MNIST, and what it learns "
        "at one position it does not know at another.",
    ),
    Concept(
        "conv2d", "Convolution (Conv2D)", "layer",
        "z<sub>i,j,f</sub> = Σ<sub>u,v,c</sub> W<sub>f,u,v,c</sub>·a<sub>i·s+u, j·s+v, c</sub> + b<sub>f</sub>,  a = g(z)<br>"
        "W: filters × k × k × channels;  output size ⌈n / s⌉ ('same') or ⌊(n − k) / s⌋ + 1 ('valid')",
        "Slides each small filter over the image: the same k × k × channels weights at every position.",
        "Images. A few filters of 3 × 3 find edges and strokes wherever they are, with far fewer weights than a dense "
        "layer. Stack conv and pooling layers, then Flatten and a dense output.",
        "Padding 'valid' shrinks the image by k − 1 pixels per layer; a kernel larger than its input is refused. "
        "A cross-correlation, as in PyTorch and Keras: the filter is not flipped.",
    ),
    Concept(
        "maxpool2d", "Max pooling", "layer",
        "a<sub>i,j,c</sub> = max<sub>u,v &lt; p</sub> x<sub>i·s+u, j·s+v, c</sub><br>backward: the gradient goes to the "
        "largest input of each window only",
        "Keeps the largest value of each p × p window of every channel: halves the image for p = 2.",
        "After a convolution, to make the image smaller and the network tolerant of small shifts.",
        "A window larger than the image is refused (pooling below one pixel). Pooling has no weights: nothing to learn.",
    ),
    Concept(
        "avgpool2d", "Average pooling", "layer",
        "a<sub>i,j,c</sub> = (1/p<sup>2</sup>)·Σ<sub>u,v &lt; p</sub> x<sub>i·s+u, j·s+v, c</sub>",
        "Averages each p × p window of every channel.",
        "Smoothing or shrinking feature maps; max pooling is the usual choice in small CNNs.",
        "It blurs: a strong response in one pixel of a window is diluted by the others.",
    ),
    Concept(
        "flatten", "Flatten", "layer",
        "(H, W, C) → H·W·C numbers, row by row, channels innermost",
        "Lines an image or feature maps up into one column for a dense layer.",
        "Between the last conv or pooling layer and the dense layers.",
        "The order matters when weights move to another tool: Epoch Lab flattens as Keras does (channels last).",
    ),
    Concept(
        "batchnorm", "Batch normalisation", "layer",
        "training: x̂ = (x − μ<sub>B</sub>) / √(σ<sub>B</sub><sup>2</sup> + ε),  a = γ·x̂ + β<br>"
        "running μ ← (1 − m)·μ + m·μ<sub>B</sub>;  prediction uses the running μ and σ<sup>2</sup>",
        "Rescales each feature or channel to mean 0 and variance 1 over the mini-batch, then by a learned γ and β.",
        "Deeper networks that train slowly: it lets a larger α work. After a dense or conv layer.",
        "Training and prediction differ: the mini-batch's statistics while training, the running ones after. Tiny "
        "mini-batches give noisy statistics. The running mean and variance are not trained (non-trainable parameters).",
    ),
    Concept(
        "rnn", "Simple recurrent layer (SimpleRNN)", "layer",
        "h<sub>t</sub> = g(W·x<sub>t</sub> + U·h<sub>t−1</sub> + b),  h<sub>0</sub> = 0<br>"
        "W: units × features,  U: units × units;  output h<sub>T</sub>, or every h<sub>t</sub> with return_sequences",
        "Reads a sequence one step at a time, mixing each input with the hidden state it carries from the step before.",
        "Short sequences, and to see why gated layers exist. Set return_sequences on every recurrent layer but the last "
        "when you stack them.",
        "Vanishing gradients: backpropagation through time multiplies by U and g′ once per step, so what happened more "
        "than a few steps back barely changes the weights. Large U or relu units can explode instead.",
    ),
    Concept(
        "lstm", "Long short-term memory (LSTM)", "layer",
        "i, f, o = σ(W·x<sub>t</sub> + U·h<sub>t−1</sub> + b) per gate,  g = tanh(…)<br>"
        "c<sub>t</sub> = f⊙c<sub>t−1</sub> + i⊙g,  h<sub>t</sub> = o⊙tanh(c<sub>t</sub>)",
        "A recurrent layer with a memory cell c: the input, forget and output gates decide what to write, keep and show.",
        "Sequences whose answer depends on something many steps back (the adding problem, text). Stack them with "
        "return_sequences on all but the last.",
        "Four times the weights of a SimpleRNN of the same size, and slower per step. The gates are in PyTorch's order "
        "i, f, g, o: weights carry over to PyTorch as they are.",
    ),
    Concept(
        "gru", "Gated recurrent unit (GRU)", "layer",
        "r, z = σ(W·x<sub>t</sub> + b + U·h<sub>t−1</sub> + b<sub>h</sub>) per gate,  "
        "n = tanh(W<sub>n</sub>·x<sub>t</sub> + b<sub>n</sub> + r⊙(U<sub>n</sub>·h<sub>t−1</sub> + b<sub>h,n</sub>))<br>"
        "h<sub>t</sub> = (1 − z)⊙n + z⊙h<sub>t−1</sub>",
        "A gated recurrent layer without a separate cell: the update gate z keeps the old state, the reset gate r "
        "chooses how much of it shapes the new one.",
        "Like an LSTM, with three gate blocks instead of four: fewer weights, often as good.",
        "It has two biases per gate (b with the input, b<sub>h</sub> with the state), as PyTorch: they only add up "
        "outside the reset gate's product.",
    ),
    Concept(
        "embedding", "Embedding", "layer",
        "a<sub>t</sub> = W[x<sub>t</sub>]  (row x<sub>t</sub> of W),  W: vocabulary × dimension<br>"
        "backward: dW[v] = Σ of the gradients at the positions holding token v",
        "Turns each token id of a sequence into a learned vector, the input a recurrent layer needs.",
        "The first layer of a network on token data (characters, words): ids 0 … vocabulary − 1.",
        "An id outside 0 … vocabulary − 1 is refused. Only the rows of tokens in a batch learn from it; rare tokens "
        "learn slowly.",
    ),
    # ----- activations: a = g(z) -----
    Concept(
        "linear", "Linear (identity)", "activation",
        "g(z) = z<br>g′(z) = 1",
        "Passes z through unchanged: the output can be any number.",
        "The output layer of a regression (a house price, any real number), with mean squared error. " + FUSED,
        "Hidden layers that are all linear add nothing: W<sup>[2]</sup>(W<sup>[1]</sup>x + b<sup>[1]</sup>) + b<sup>[2]</sup> "
        "is still one Wx + b, so the network draws only straight boundaries and never solves XOR or the circle.",
        _activation_plot("linear", "g"),
    ),
    Concept(
        "sigmoid", "Sigmoid σ", "activation",
        f"{SIGMOID}<br>σ′(z) = σ(z)(1 − σ(z)) = a(1 − a)",
        "Squashes z into (0, 1): a probability.",
        "The output of a two-class problem: one unit whose a = ŷ is the probability of class 1, with binary "
        "cross-entropy. " + FUSED,
        "<b>Saturation:</b> σ′ is at most 0.25 (at z = 0) and below 0.007 for |z| &gt; 5, so every sigmoid layer shrinks "
        "the gradient flowing back by 4× or more: deep sigmoid networks barely learn (vanishing gradients). "
        "Inputs that are not standardised push z into the flat parts from the start. Its output is never negative "
        "(mean 0.5), which slows the next layer: prefer tanh or ReLU in hidden layers.",
        _activation_plot("sigmoid", "σ"),
    ),
    Concept(
        "tanh", "Tanh", "activation",
        "tanh(z) = (e<sup>z</sup> − e<sup>−z</sup>) / (e<sup>z</sup> + e<sup>−z</sup>)<br>tanh′(z) = 1 − tanh<sup>2</sup>(z) = 1 − a<sup>2</sup>",
        "A sigmoid shifted and stretched to (−1, 1), centred on 0.",
        "Hidden layers of small networks (the playground sets: XOR, circle, spiral). Its mean is 0 and its slope at "
        "z = 0 is 1, four times the sigmoid's, so it learns faster than sigmoid there.",
        "It saturates like the sigmoid: tanh′ &lt; 0.01 for |z| &gt; 3, so deep tanh stacks suffer vanishing gradients "
        "too. Its outputs run from −1 to 1, so it is not a probability: never an output for cross-entropy.",
        _activation_plot("tanh", "tanh"),
    ),
    Concept(
        "relu", "ReLU", "activation",
        "g(z) = max(0, z)<br>g′(z) = 1 for z &gt; 0, 0 for z ≤ 0",
        "Keeps positive z, zeroes the rest: the default for hidden layers.",
        "Hidden layers, above all of deep networks: where a unit is active its slope is 1, so gradients do not shrink "
        "from layer to layer. Start it with he_normal weights.",
        "<b>Dead ReLUs:</b> a unit whose z ≤ 0 for every sample has g′ = 0, so its weights never change again. A "
        "too-large learning rate or a big negative bias kills units for good (the layer statistics count the dead "
        "ones); leaky ReLU keeps them alive. Not an output for probabilities.",
        _activation_plot("relu", "g"),
    ),
    Concept(
        "leaky_relu", "Leaky ReLU", "activation",
        "g(z) = max(s·z, z), 0 &lt; s &lt; 1 (the slope box; 0.01 unless you change it)<br>"
        "g′(z) = 1 for z &gt; 0, s for z ≤ 0",
        "ReLU with a small slope s for z &lt; 0, so no unit dies.",
        "When ReLU units die (the layer statistics show dead units), or with a high learning rate. Like ReLU, start it "
        "with he_normal weights.",
        "With s = 0.01 the gradient for z &lt; 0 is a hundredth: a unit that was nearly dead recovers slowly. A slope "
        "near 1 makes the layer almost linear, and linear layers add nothing.",
        _activation_plot("leaky_relu", "g", note="slope s = 0.01"),
    ),
    Concept(
        "softmax", "Softmax", "activation",
        "a<sub>j</sub> = e<sup>z<sub>j</sub></sup> / Σ<sub>k</sub> e<sup>z<sub>k</sub></sup><br>"
        "∂a<sub>j</sub>/∂z<sub>j</sub> = a<sub>j</sub>(1 − a<sub>j</sub>),  ∂a<sub>j</sub>/∂z<sub>k</sub> = −a<sub>j</sub>a<sub>k</sub>",
        "Turns the C outputs into probabilities that sum to 1.",
        "The output layer for C ≥ 3 classes (iris, digits), with categorical cross-entropy; the class with the "
        "largest a is the answer. " + FUSED + " For two units it is a sigmoid of z<sub>1</sub> − z<sub>2</sub>, "
        "which is what the plot shows.",
        "<b>A one-unit softmax cannot learn:</b> e<sup>z</sup> / e<sup>z</sup> = 1 for every input, so its gradient "
        "is 0 and the loss never moves: for two classes use one sigmoid unit. Not a hidden-layer activation.",
        _activation_plot("softmax", "a₁", note="first of two units, the second with z₂ = 0"),
    ),
    # ----- losses -----
    Concept(
        "mse", "Mean squared error", "loss",
        "MSE = (1/m) Σ<sub>i</sub> (ŷ<sup>(i)</sup> − y<sup>(i)</sup>)<sup>2</sup><br>"
        "one sample: L = (a − y)<sup>2</sup>,  dL/da = 2(a − y)",
        "The average squared distance between prediction and target.",
        "Regression (housing prices, curve fitting) with a linear output layer. With several outputs the app averages "
        "over them too.",
        "Squaring magnifies outliers: an error of 10 costs 100, so a few bad samples steer the fit. Targets on a big "
        "scale give gradients as big (scale them). On a sigmoid output for classes it learns slowly when confidently "
        "wrong (σ′ ≈ 0 there): use binary cross-entropy.",
        _loss_plot("mse", -1.0, 3.0, None),
    ),
    Concept(
        "binary_crossentropy", "Binary cross-entropy", "loss",
        "L = −(y log ŷ + (1 − y) log(1 − ŷ))<br>dL/dŷ = −y/ŷ + (1 − y)/(1 − ŷ)<br>with a sigmoid: dz&nbsp;=&nbsp;a&nbsp;−&nbsp;y",
        "How surprised the model is by the true class, for yes/no outputs.",
        "Two classes with one sigmoid output unit (breast cancer, circle, XOR), or several independent yes/no outputs. "
        "For y = 1 it is −log ŷ: small when ŷ ≈ 1, huge when ŷ ≈ 0.",
        "It needs probabilities: a sigmoid output (the app refuses others). A confident wrong answer costs a lot "
        "(−log 0.001 ≈ 6.9). The app clips ŷ to [10<sup>−7</sup>, 1 − 10<sup>−7</sup>] in float32, so the log stays "
        "finite and one sample never costs more than about 16.1.",
        _loss_plot("binary_crossentropy", 0.02, 1.0, (-6.0, 4.0)),
    ),
    Concept(
        "categorical_crossentropy", "Categorical cross-entropy", "loss",
        "L = −Σ<sub>j</sub> y<sub>j</sub> log a<sub>j</sub> = −log a<sub>true class</sub><br>"
        "dL/da<sub>j</sub> = −y<sub>j</sub>/a<sub>j</sub><br>with a softmax: dz&nbsp;=&nbsp;a&nbsp;−&nbsp;y",
        "Cross-entropy over C classes: minus the log of the true class's probability.",
        "C ≥ 3 classes with a softmax output (iris, digits); the targets are one-hot (the app encodes class labels).",
        "On one output unit only the samples of class 1 would count (the app refuses it: use binary cross-entropy). "
        "As with binary cross-entropy, a confident wrong answer is expensive.",
        _loss_plot("categorical_crossentropy", 0.02, 1.0, (-6.0, 4.0)),
    ),
    # ----- optimizers -----
    Concept(
        "sgd", "Gradient descent (SGD)", "optimizer",
        "w ← w − α·dw<br>b ← b − α·db",
        "The course's gradient descent: step against the gradient, α at a time.",
        "To see gradient descent exactly as the course writes it (the worked example), on small problems, and as "
        "the baseline the other optimizers are compared with.",
        "One α for every weight: too large and the loss jumps up or becomes NaN, too small and it crawls. In long "
        "narrow valleys it zig-zags across instead of moving along; inputs of different scales make that worse "
        "(standardise them).",
    ),
    Concept(
        "momentum", "SGD with momentum", "optimizer",
        "v ← μ·v − α·dw<br>w ← w + v<br>Nesterov: w ← w + μ·v − α·dw",
        "Gradient descent with a velocity: each step keeps μ of the last one.",
        "When SGD zig-zags or crawls along a valley: the zig-zags cancel, the steady direction builds up. μ = 0.9 is "
        "usual (the μ box, changeable while training).",
        "On a steady slope the step grows to α/(1 − μ): ten times α for μ = 0.9, so lower α when you switch from SGD. "
        "With μ near 1 it overshoots and circles the minimum before it settles.",
    ),
    Concept(
        "rmsprop", "RMSprop", "optimizer",
        "s ← ρ·s + (1 − ρ)·dw<sup>2</sup><br>w ← w − α·dw / (√s + ε)",
        "Divides each weight's step by the size of its recent gradients.",
        "When gradients differ a lot in size between weights or layers; α around 0.001 (ρ = 0.9).",
        "Every weight moves about α per step whatever its gradient, so α = 0.1 jumps far at once. ε (10<sup>−7</sup>) "
        "only guards the division.",
    ),
    Concept(
        "adam", "Adam", "optimizer",
        "m ← β<sub>1</sub>m + (1 − β<sub>1</sub>)dw<br>v ← β<sub>2</sub>v + (1 − β<sub>2</sub>)dw<sup>2</sup><br>"
        "m<sub>c</sub> = m / (1 − β<sub>1</sub><sup>t</sup>),  v<sub>c</sub> = v / (1 − β<sub>2</sub><sup>t</sup>)<br>"
        "w ← w − α·m<sub>c</sub> / (√v<sub>c</sub> + ε)",
        "Momentum and RMSprop together; m<sub>c</sub> and v<sub>c</sub> correct the first steps (t counts the steps).",
        "The app's default: it works with little tuning for α from 0.001 to 0.01 (β<sub>1</sub> = 0.9, "
        "β<sub>2</sub> = 0.999).",
        "Its first steps move every weight by about α whatever the gradient (the bias correction), so a large α "
        "(0.1 and up) throws the weights far at once. The α that suits Adam is not the α that suits SGD: compare "
        "optimizers each at its own good α.",
    ),
    # ----- initializers -----
    Concept(
        "small_random", "Small random", "initializer",
        "W<sup>[l]</sup> ~ N(0, 1) × 0.01,  b<sup>[l]</sup> = 0",
        "The course's initialisation: tiny random weights.",
        "Small, shallow networks, as in the course: z starts near 0, where sigmoid and tanh are steepest.",
        "In a deep network every layer multiplies the signal by about 0.01·√n<sup>[l−1]</sup>, so activations and "
        "gradients shrink layer after layer and learning stalls: use glorot_uniform or he_normal there.",
    ),
    Concept(
        "glorot_uniform", "Glorot (Xavier) uniform", "initializer",
        "W<sup>[l]</sup> ~ U(−r, r),  r = √(6 / (n<sup>[l−1]</sup> + n<sup>[l]</sup>)),  b<sup>[l]</sup> = 0",
        "Random weights scaled to the layer's inputs and units, so signals keep their size.",
        "Layers with tanh or sigmoid, and as the default for a new dense layer.",
        "With ReLU half the units output 0, so the signal still halves layer after layer: prefer he_normal for deep "
        "ReLU networks.",
    ),
    Concept(
        "he_normal", "He normal", "initializer",
        "W<sup>[l]</sup> ~ N(0, 2 / n<sup>[l−1]</sup>),  b<sup>[l]</sup> = 0",
        "Random weights twice as spread as Glorot's, made for ReLU.",
        "ReLU and leaky ReLU layers, above all in deep networks.",
        "With sigmoid or tanh the larger weights push z into the flat, saturated parts: use glorot_uniform there.",
    ),
    Concept(
        "zeros", "Zeros", "initializer",
        "W<sup>[l]</sup> = 0,  b<sup>[l]</sup> = 0",
        "Every weight starts at zero: shows why weights must start random.",
        "Only to see the symmetry problem for yourself (the zero-initialisation lesson).",
        "<b>Symmetry:</b> every unit of a layer computes the same a and gets the same gradient, so they stay identical "
        "for ever: a layer of n units learns like one unit. With tanh or ReLU it is worse: a = 0, so no hidden weight "
        "gets any gradient at all and only the biases learn.",
    ),
    # ----- regularisers -----
    Concept(
        "l1", "L1 penalty", "regularizer",
        "J + λ<sub>1</sub>·Σ|w|<br>dw ← dw + λ<sub>1</sub>·sign(w)",
        "Adds the size of every weight to the loss: pulls weights to exactly 0.",
        "When you want few weights that matter (many exactly 0), e.g. to see which inputs count. Only weights are "
        "penalised, never biases.",
        "A large λ<sub>1</sub> drives every weight to 0 and the model underfits. The pull is the same however small the "
        "weight, so with a large α weights jitter around 0 instead of settling.",
        _penalty_plot(PENALTY_COEFFICIENT, 0.0),
    ),
    Concept(
        "l2", "L2 penalty (weight decay)", "regularizer",
        "J + (λ<sub>2</sub>/2)·Σw<sup>2</sup><br>dw ← dw + λ<sub>2</sub>·w",
        "Adds the squared weights to the loss: keeps every weight small.",
        "Overfitting: the training loss keeps falling while the validation loss rises. Try λ<sub>2</sub> from 0.0001 "
        "to 0.01. Only weights are penalised, never biases.",
        "From λ<sub>2</sub> = 1 the penalty outweighs the loss itself, and with a large α each step overshoots 0 and "
        "the weights diverge. The losses the app plots leave the penalty out, so training and validation compare.",
        _penalty_plot(0.0, PENALTY_COEFFICIENT),
    ),
    Concept(
        "dropout", "Dropout", "regularizer",
        "training: a ← a ⊙ d / (1 − p),  d<sub>j</sub> = 1 with probability 1 − p, else 0<br>prediction: a unchanged",
        "Drops a share p of a layer's inputs at random in every training step.",
        "A large network that overfits: a Dropout layer (rate p = 0.1 to 0.5) after a hidden dense layer makes units "
        "unable to rely on each other.",
        "The training loss is noisier and often higher than the validation loss, because validation runs without "
        "dropout: that is expected. Too high a rate on a small network underfits.",
    ),
    # ----- settings -----
    Concept(
        "learning_rate", "Learning rate α", "setting",
        "w ← w − α·dw,  b ← b − α·db",
        "How big each step of gradient descent is.",
        "Change it in the toolbar while training and watch the loss plot (the change is marked). Try it in tens: "
        "0.001, 0.01, 0.1.",
        "<b>Too large:</b> the loss jumps up, oscillates or becomes NaN (the app goes back to the last good epoch and "
        "says so). <b>Too small:</b> the loss crawls down for thousands of epochs. The right α depends on the "
        "optimizer: Adam likes 0.001 to 0.01, SGD often needs more.",
    ),
    Concept(
        "batch_size", "Batch size", "setting",
        "dw = (1/B)·Σ<sub>i in the mini-batch</sub> dw<sup>(i)</sup><br>updates per epoch = ⌈m<sub>train</sub> / B⌉",
        "How many samples each weight update averages over.",
        "B = m<sub>train</sub> is the course's full-batch gradient descent; B = 32 is a usual mini-batch; B = 1 is "
        "stochastic gradient descent.",
        "Small batches make a noisy loss curve and many updates per epoch (slower epochs); large batches make few "
        "updates per epoch, so they need more epochs or a larger α.",
    ),
    Concept(
        "epochs", "Epochs", "setting",
        "one epoch = every training sample once = ⌈m<sub>train</sub> / B⌉ updates",
        "How long to train: Play stops at this many epochs.",
        "Enough for the training loss to level off; watch the validation loss to decide when to stop.",
        "More is not always better: when the validation loss turns up while the training loss keeps falling, the "
        "network is overfitting. With too small an α more epochs only crawl.",
    ),
    Concept(
        "val_fraction", "Validation share", "setting",
        "m<sub>val</sub> = round(f·m) samples held out (at least 1 when f &gt; 0),  m<sub>train</sub> = m − m<sub>val</sub>",
        "The share of samples the network never trains on, to measure how well it generalises.",
        "Keep about 20 % to see overfitting (validation loss rising). 0 % for tiny data such as the worked example.",
        "A validation part of a few samples gives a jumpy, unreliable validation loss. The training seed decides which "
        "samples are held out.",
    ),
    Concept(
        "standardize", "Standardize inputs", "setting",
        "x′ = (x − μ) / σ for each feature, μ and σ measured on the training samples",
        "Shifts and scales every feature to mean 0 and standard deviation 1.",
        "Features on different scales (a house's area next to its number of rooms): one α then suits every weight.",
        "Without it a large feature makes a large gradient: an α that suits one weight diverges for another. The "
        "learned weights are for the standardised inputs, so undo the scaling before comparing them with true ones.",
    ),
    Concept(
        "shuffle", "Shuffle every epoch", "setting",
        "each epoch: a new random order of the training samples (drawn from the seed), then mini-batches",
        "Draws the mini-batches in a new order each epoch.",
        "Almost always, with mini-batches smaller than the data.",
        "Without it, data sorted by class gives mini-batches of one class and the loss swings. With B = m<sub>train</sub> "
        "it changes nothing.",
    ),
    Concept(
        "seed", "Training seed", "setting",
        "seed → initial weights, validation split, shuffles, dropout masks",
        "The same seed gives the same run, number for number.",
        "Keep the seed to compare two settings fairly; change it to see how much of a result is luck.",
        "One lucky seed proves little: try three before drawing a conclusion.",
    ),
    Concept(
        "clip_norm", "Gradient clipping", "setting",
        "g = all of dw and db as one vector,  ‖g‖ = √(Σ g<sub>i</sub><sup>2</sup>)<br>"
        "g ← g · min(1, c / ‖g‖)  before each step (c = 0: no clipping)",
        "Shrinks a mini-batch's whole gradient to length c when it is longer, keeping its direction.",
        "Recurrent networks, whose gradients through many time steps can explode; also a deep dense network with a "
        "large α. Watch the gradient norms and pick c a little above their usual size (1 to 5 is common).",
        "Too small a c makes every step the same length, so training slows like a small α. Clipping does not help a "
        "vanishing gradient, only an exploding one, and it cannot rescue inputs that are not standardized.",
    ),
    Concept(
        "bptt_steps", "Truncated backpropagation through time", "setting",
        "k steps: the gradient through h<sub>t</sub> (and an LSTM's c<sub>t</sub>) stops at t = T − k, T − 2k, …<br>"
        "∂L/∂h<sub>T−k</sub> keeps only the output's own part: h<sub>T−k</sub> counts as a constant for the steps after it "
        "(k = 0: full BPTT)",
        "Backpropagates through at most k time steps at a time, in chunks counted back from the last step.",
        "Long sequences, where the backward pass through every step is slow or its gradient explodes; a next-value or "
        "next-character task, whose targets at each step depend mostly on the recent past. Pick k at least as long as "
        "the dependencies the network must learn.",
        "The network cannot learn a dependency longer than k steps: with one output at the end, the steps before the "
        "last chunk get no gradient at all. The forward pass still reads the whole sequence. k ≥ T changes nothing.",
    ),
    # ----- what the views show -----
    Concept(
        "hidden_state", "Hidden state hₜ", "view",
        "h<sub>t</sub> = g(W·x<sub>t</sub> + U·h<sub>t−1</sub> + b),  h<sub>0</sub> = 0  (SimpleRNN; gated layers below)<br>"
        "one number per unit and time step: the heatmap has units as rows and steps t = 1 … T as columns",
        "What a recurrent layer carries from one time step to the next: its memory of the sequence so far.",
        "Read a heatmap row as one unit over time: a unit that switches when a marked value arrives (the adding "
        "problem) and then holds still is remembering it. Compare samples with the Sample box, layers with the layer box.",
        "tanh keeps h<sub>t</sub> within −1 … 1, so the colours are fixed at ±1; rows stuck at ±1 are saturated units, "
        "whose gradient is almost 0. The heatmap is of one sample in prediction mode: dropout is off.",
    ),
    Concept(
        "gates", "Gates (LSTM, GRU)", "view",
        "LSTM: i, f, o = σ(W·x<sub>t</sub> + U·h<sub>t−1</sub> + b) per gate,  c<sub>t</sub> = f⊙c<sub>t−1</sub> + i⊙g,  "
        "h<sub>t</sub> = o⊙tanh(c<sub>t</sub>)<br>"
        "GRU: r, z = σ(…),  h<sub>t</sub> = (1 − z)⊙n + z⊙h<sub>t−1</sub>",
        "Each gate is a number in 0 … 1 per unit and step that lets information through (1) or shuts it out (0).",
        "LSTM: the input gate i writes into the cell, the forget gate f keeps the cell (f near 1 is a long memory), the "
        "output gate o shows it in h<sub>t</sub>. GRU: the update gate z keeps the old state, the reset gate r chooses "
        "how much of it shapes the new one.",
        "A forget gate near 1 lets the gradient through many steps unchanged: that is why an LSTM learns long "
        "dependencies a SimpleRNN cannot. Gates that sit at 0 or 1 everywhere have saturated and barely learn.",
    ),
    Concept(
        "vanishing_gradient", "Vanishing gradient through time", "view",
        "∂L/∂h<sub>t</sub> = ∂L/∂h<sub>t+1</sub> · ∂h<sub>t+1</sub>/∂h<sub>t</sub> + (what step t's output adds)<br>"
        "SimpleRNN: ∂h<sub>t+1</sub>/∂h<sub>t</sub> = diag(g′(z<sub>t+1</sub>))·U, once per step back",
        "Going back in time the gradient is multiplied once per step; factors below 1 shrink it to nothing, above 1 blow it up.",
        "Read the curve of ‖∂L/∂h<sub>t</sub>‖ from the right (the last step) to the left: a ratio "
        "‖∂L/∂h<sub>1</sub>‖ / ‖∂L/∂h<sub>T</sub>‖ far below 1 means the first steps barely change the weights. Try "
        "a SimpleRNN, then an LSTM, on the adding problem.",
        "A vanishing gradient is not cured by a larger learning rate (it scales every step alike) nor by gradient "
        "clipping (which only shortens long gradients): gated layers (LSTM, GRU) are the cure. An exploding one is "
        "cured by clipping.",
    ),
    Concept(
        "temperature", "Sampling temperature τ", "view",
        "p<sub>k</sub> ∝ p̂<sub>k</sub><sup>1/τ</sup>  (p̂: the network's softmax over the characters)<br>"
        "τ = 1: as predicted,  τ → 0: always the likeliest,  τ &gt; 1: flatter",
        "How boldly sampled text draws each next character from the network's prediction.",
        "Below 1 for text that stays close to what the network finds likely; about 1 to see what it really learned; "
        "above 1 for surprises. The lowest setting is greedy: always the likeliest character.",
        "Greedy text often loops (the same few words again and again): that is the likeliest path, not a bug. A high "
        "temperature makes even a well-trained network spell badly.",
    ),
    Concept(
        "dtype", "Precision", "setting",
        "float32: about 7 significant digits<br>float64: about 16 significant digits",
        "The number type of every weight, activation and gradient.",
        "float32 for speed; float64 to check a calculation by hand digit for digit.",
        "In float32 the course's dz = a − y = −0.0066928509 comes out as −0.0066928267: differences in the 7th digit "
        "are rounding, not bugs. float64 takes twice the memory and is slower.",
    ),
)

CONCEPTS: dict[str, Concept] = {c.key: c for c in _CONCEPTS}


def concept(key: str) -> Concept:
    """The concept called ``key``; KeyError naming the known keys otherwise."""
    if key not in CONCEPTS:
        raise KeyError(f"no help for {key!r}; there is help for {', '.join(CONCEPTS)}")
    return CONCEPTS[key]


def concepts_of(kind: str) -> list[Concept]:
    """The concepts of ``kind`` (one of KINDS), in the order the help lists them."""
    return [c for c in _CONCEPTS if c.kind == kind]
