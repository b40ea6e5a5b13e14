"""The plain NumPy side of bench_trainer.py: the dense workloads as a straightforward
hand-written MLP (a list of weight matrices, a forward loop, a backward loop and SGD),
the yardstick of what NumPy alone does with no engine around it.

Float32 like the engine, weights (inputs, units) drawn Glorot-uniform, SGD with the same
learning rate and batch size, a new permutation every epoch and the epoch's shuffled copy
of the data; the output activation fused into the loss's gradient (sigmoid + binary
cross-entropy, softmax + categorical cross-entropy: dZ = (p − y) / m). Nothing is
computed beyond the training steps. Run inside the Epoch Lab worker (bench_trainer_ours.py),
so that both are measured in the same process.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from bench_trainer_common import LEARNING_RATE, Workload


def plain_mlp(workload: Workload, x: np.ndarray, labels: np.ndarray, seed: int) -> Callable[[], None]:
    """A function that trains one epoch of ``workload``'s MLP on x (samples, inputs) float32 and labels (samples,)."""
    rng = np.random.default_rng(seed)
    sizes = workload.sizes
    weights = [rng.uniform(-1, 1, (n, u)).astype(np.float32) * np.float32(np.sqrt(6 / (n + u)))
               for n, u in zip(sizes[:-1], sizes[1:], strict=True)]
    biases = [np.zeros(u, np.float32) for u in sizes[1:]]
    sigmoid = workload.output_activation == "sigmoid"
    targets = labels[:, None].astype(np.float32) if sigmoid else np.eye(sizes[-1], dtype=np.float32)[labels]
    tanh = workload.hidden_activation == "tanh"
    last = len(weights) - 1
    lr = np.float32(LEARNING_RATE)

    def run_epoch() -> None:
        order = rng.permutation(len(x))
        epoch_x, epoch_y = x[order], targets[order]
        for start in range(0, len(x), workload.batch_size):
            xb, yb = epoch_x[start : start + workload.batch_size], epoch_y[start : start + workload.batch_size]
            activations = [xb]
            for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
                z = activations[-1] @ w + b
                if i < last:
                    activations.append(np.tanh(z) if tanh else np.maximum(z, 0))
            if sigmoid:
                p = 1 / (1 + np.exp(-z))
            else:
                p = np.exp(z - z.max(axis=1, keepdims=True))
                p /= p.sum(axis=1, keepdims=True)
            dz = (p - yb) / np.float32(len(xb))
            for i in range(last, -1, -1):
                dw, db = activations[i].T @ dz, dz.sum(axis=0)
                if i:
                    da = dz @ weights[i].T
                    a = activations[i]
                    dz = da * (1 - a * a) if tanh else da * (a > 0)
                weights[i] -= lr * dw
                biases[i] -= lr * db

    return run_epoch
