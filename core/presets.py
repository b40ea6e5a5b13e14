"""The course's worked examples as ready-made experiments (presets).

Each :class:`Preset` is a hand-made experiment: its own data written into it (one sample),
its initial weights given exactly, float64, plain gradient descent on that one sample, no
standardization, so that stepping one mini-batch shows the numbers the course computes by
hand. ``PRESETS`` lists them in menu order; :func:`preset` gives one by key, as a fresh copy
the caller may change.

- ``logistic_by_hand``: x = (5, 3), y = 1, w = (0.5, 0.5), b = 1, α = 0.01; after one step
  w1 = 0.5003346425, w2 = 0.5002007855, b = 1.0000669285.
- ``softmax_by_hand``: one input x1 = 1 and a softmax layer of 4 units with W = (5, 2, −1, 3)ᵀ,
  b = 0, so z = (5, 2, −1, 3) and a = (0.842034, 0.041922, 0.002087, 0.113957).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .experiment import Experiment
from .trainer import ConfigError

# one sample, one step, the numbers as they are: what every preset's training shares
BY_HAND = {"optimizer": "sgd", "learning_rate": 0.01, "batch_size": 1, "epochs": 1, "seed": 0, "val_fraction": 0.0,
           "shuffle": False, "standardize": False, "dtype": "float64"}


@dataclass(frozen=True)
class Preset:
    """A worked example: ``key`` (stable, for code), ``title`` (the menu's text), ``summary``
    (one line, the menu item's tooltip), ``note`` (a paragraph for the student: what to do,
    the exact values, where the slides round) and the ``experiment`` itself."""

    key: str
    title: str
    summary: str
    note: str
    experiment: Experiment


LOGISTIC = Preset(
    key="logistic_by_hand",
    title="Logistic regression by hand",
    summary="The course's worked example: one sample x = (5, 3), y = 1, w = (0.5, 0.5), b = 1, one gradient step with α = 0.01",
    note=(
        "The course's logistic regression, computed by hand on one sample. The sample is x = (x1, x2) = (5, 3) with y = 1; "
        "the network is one sigmoid unit that starts from w = (w1, w2) = (0.5, 0.5) and b = 1. It trains with plain "
        "gradient descent, α = 0.01, in float64, on the inputs as they are (no standardization). Step one mini-batch "
        "(Shift+→) and compare with your own calculation: z = w1·x1 + w2·x2 + b = 0.5·5 + 0.5·3 + 1 = 5, "
        "a = σ(z) = 0.9933071491, the loss L = −log a = 0.0067153485, da = −y/a + (1 − y)/(1 − a) = −1.0067379470, "
        "dz = a − y = −0.0066928509 = db, dw1 = x1·dz = −0.0334642546, dw2 = x2·dz = −0.0200785528; then "
        "w1 := w1 − α·dw1 = 0.5003346425, w2 := 0.5002007855 and b := b − α·db = 1.0000669285. "
        "The slides round too early and slip: they write a = 0.99307 (σ(5) is 0.99331), dz = −0.00693 "
        "(it is −0.0066929) and go on with −0.00695, so dw1 = −0.03475 and dw2 = −0.02085 (exactly −0.03346 and "
        "−0.02008); da = −1.006978 (−1.006738); and w1 = 0.503475, w2 = 0.502085, b = 1.000693 move ten times too "
        "far: 0.5 − 0.01·(−0.03475) is 0.5003475, not 0.503475."
    ),
    experiment=Experiment.from_json({
        "dataset": {"inline": {"X": [[5, 3]], "y": [1], "classes": ["0", "1"], "features": ["x1", "x2"],
                               "name": "Logistic regression by hand"}},
        "network": {"input_shape": [2], "layers": [{"type": "dense", "units": 1, "activation": "sigmoid"}]},
        "training": {**BY_HAND, "loss": "binary_crossentropy"},
        "weights": [{"W": [[0.5, 0.5]], "b": [1]}],
    }),
)

SOFTMAX = Preset(
    key="softmax_by_hand",
    title="Softmax by hand",
    summary="The course's softmax example: the logits z = (5, 2, −1, 3) of four classes become probabilities "
            "(0.842034, 0.041922, 0.002087, 0.113957)",
    note=(
        "The course's softmax example: four classes (scene, animals, humans, vehicles) and the output logits "
        "z = (5, 2, −1, 3). The network has one input, x1 = 1, and a softmax layer of 4 units whose weights are "
        "W = (5, 2, −1, 3)ᵀ with b = 0, so z = W·x + b = W: each logit is a weight you can see and edit, and a "
        "gradient step moves exactly those numbers. The exponentials are e^z = (148.4131591, 7.3890561, "
        "0.3678794, 20.0855369), their sum 176.2556316, and a = e^z / Σ e^z = (0.842034, 0.041922, 0.002087, "
        "0.113957): they add up to 1 and the largest is scene (the \"hard max\" (1, 0, 0, 0)). The sample is a scene, "
        "y = (1, 0, 0, 0), so the loss is −log 0.842034 = 0.171935 and dz = a − y = (−0.157966, 0.041922, 0.002087, "
        "0.113957) = dW = db (x1 = 1). Step one mini-batch (Shift+→): with α = 0.01, W becomes (5.0015797, "
        "1.9995808, −1.0000209, 2.9988604) and b (0.0015797, −0.0004192, −0.0000209, −0.0011396). "
        "The slides round a to three decimals: (0.842, 0.042, 0.002, 0.114)."
    ),
    experiment=Experiment.from_json({
        "dataset": {"inline": {"X": [[1]], "y": [0], "classes": ["scene", "animals", "humans", "vehicles"],
                               "features": ["x1"], "name": "Softmax by hand"}},
        "network": {"input_shape": [1], "layers": [{"type": "dense", "units": 4, "activation": "softmax"}]},
        "training": {**BY_HAND, "loss": "categorical_crossentropy"},
        "weights": [{"W": [[5], [2], [-1], [3]], "b": [0, 0, 0, 0]}],
    }),
)

PRESETS: tuple[Preset, ...] = (LOGISTIC, SOFTMAX)


def preset(key: str) -> Preset:
    """The preset ``key`` with an experiment of its own (changing it changes no other copy);
    ConfigError naming the known keys for an unknown one."""
    for candidate in PRESETS:
        if candidate.key == key:
            return replace(candidate, experiment=Experiment.from_json(candidate.experiment.to_json()))
    raise ConfigError(f"unknown preset {key!r}; choose one of {', '.join(p.key for p in PRESETS)}")
