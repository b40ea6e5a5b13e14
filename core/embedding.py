"""Embedding: each token id of a sequence looked up as a learned vector.

Input: token ids (m, T), whole numbers 0 … vocabulary − 1 held as floats (a Dataset stores
float64), rounded to the nearest integer. Output: (m, T, dimension), row ``id`` of W
(vocabulary, dimension) for each id: what a recurrent layer takes. W is PyTorch's
``nn.Embedding.weight``, drawn from N(0, 1) as there.

Backward: dW[v] = Σ of the output gradients at every position holding id v (a scatter-add
over the m·T positions); the ids have no gradient, so nothing goes back to the input.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .layers import Layer, ParamSpec, SpecError

Array = Any


def _whole(value: object, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise SpecError(f"{name} must be a whole number ≥ 1, got {value!r}")
    return value


class Embedding(Layer):
    """Token ids (T,) per sample → vectors (T, dimension)."""

    kind = "embedding"
    weight_name = "W"
    weight_axes = ("token", "dimension")
    takes_sequences = True

    def __init__(self, vocabulary: int, dimension: int):
        super().__init__()
        self.vocabulary, self.dimension = _whole(vocabulary, "vocabulary"), _whole(dimension, "dimension")
        self._ids: Array = None  # the last training batch's ids (m·T,)

    def infer_output_shape(self, input_shape):
        if len(input_shape) != 1:
            raise SpecError(f"Embedding needs token ids (steps,) per sample, got shape {input_shape}")
        return (input_shape[0], self.dimension)

    def param_specs(self):
        return [ParamSpec("W", (self.vocabulary, self.dimension), True)]

    def initial_values(self, rng):
        return {"W": rng.standard_normal((self.vocabulary, self.dimension))}

    def token_ids(self, x: Array) -> Array:
        """The ids (m·T,) int64 of a batch x (m, T); SpecError when one is outside 0 … vocabulary − 1."""
        xp = self.backend.xp
        ids = xp.rint(x).astype(np.int64).reshape(-1)
        if ids.size:
            low, high = int(ids.min()), int(ids.max())
            if low < 0 or high >= self.vocabulary:
                bad = low if low < 0 else high
                raise SpecError(f"token id {bad} is outside the embedding's vocabulary: ids must be 0 to {self.vocabulary - 1}")
        return ids

    def forward(self, x, training):
        """x (m, T) → (m, T, dimension)."""
        ids = self.token_ids(x)
        if training:
            self._ids = ids
        return self.params["W"][ids].reshape(x.shape[0], x.shape[1], self.dimension)

    def backward(self, grad, need_input_grad, grad_is_dz=False):
        """dW from dL/d(output) (m, T, dimension); token ids have no gradient (returns None)."""
        xp = self.backend.xp
        d_w = self.grads["W"]
        d_w.fill(0)
        xp.add.at(d_w, self._ids, grad.reshape(-1, self.dimension))

    def describe(self):
        return f"Embedding({self.vocabulary}, {self.dimension})"

    def to_spec(self):
        return {"type": "embedding", "vocabulary": self.vocabulary, "dimension": self.dimension}
