"""What bench_trainer.py and its two measuring workers share: the workloads, their data,
and the line protocol a worker answers on.

The driver (bench_trainer.py) never measures anything itself. It starts two workers,
``bench_trainer_ours.py`` (the project's Python: Epoch Lab's engine, and for the dense
workloads a plain NumPy MLP, in the same process) and ``bench_trainer_torch.py`` (PyTorch
CPU eager, a separate Python 3.11 environment), and alternates rounds of epochs between
the sides. Both workers import this module, so it must
run on Python 3.11 and need nothing beyond the standard library and NumPy.

Protocol: one JSON object per line. A worker first prints ``{"ok": true, "info": {...}}``
(what it runs on: library versions, BLAS, threads) or ``{"ok": false, "error": "..."}``
when it cannot run, then answers each request line:

- ``{"op": "load", "workload": {...}, "seed": 0}`` builds the network, data and optimizer of
  each side the worker has for it → ``{"ok": true, "sides": ["ours", "plain"]}``
- ``{"op": "epochs", "count": n, "side": "plain"}`` trains n full epochs of that side (the
  first one when "side" is left out) → ``{"ok": true, "seconds": [s1, ..., sn]}``, the wall
  time of each epoch

A failed request answers ``{"ok": false, "error": "<traceback>"}``. End of input ends it.
Both sides are timed by the same code (:func:`serve`), around the same unit of work: one
call that trains one whole epoch, per-epoch shuffle included.
"""

from __future__ import annotations

import json
import math
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    import numpy as np

LEARNING_RATE = 0.01  # plain SGD on both sides
DATA_SEED = 1234


@dataclass(frozen=True)
class Workload:
    """One benchmark network and its data.

    Attributes:
        name: "W1" …, "C1" …, "R1" …
        sizes: units per layer, input first: (784, 256, 128, 10) is 784 inputs, two hidden
            layers and 10 outputs. In a convolutional workload the input is the flattened
            image (H·W·C) and the dense layers come after the convolutions and a flatten; in a
            recurrent one it is the flattened sequence (T·F) and they come after the LSTM.
        hidden_activation: activation of every hidden dense layer and convolution ("tanh" or "relu").
        output_activation: "sigmoid" (one unit, binary cross-entropy) or "softmax"
            (k units, categorical cross-entropy).
        samples: training samples per epoch (all of the data; no validation part).
        batch_size: mini-batch size; the last batch of an epoch may be smaller.
        target: the ours/PyTorch throughput ratio the engine should reach.
        image: (H, W, C) of a convolutional workload's samples (channels last); None for a dense one.
        filters: per convolution (3×3, stride 1, "same" padding, then a 2×2 max-pooling), its filters.
        sequence: (T, F) of a recurrent workload's samples (steps, features per step); None otherwise.
        lstm_units: units of a recurrent workload's LSTM, which reads the sequence and hands its
            last hidden state h_T to the dense layers.
    """

    name: str
    sizes: tuple[int, ...]
    hidden_activation: str
    output_activation: str
    samples: int
    batch_size: int
    target: float
    image: tuple[int, int, int] | None = None
    filters: tuple[int, ...] = ()
    sequence: tuple[int, int] | None = None
    lstm_units: int = 0

    @property
    def convolutional(self) -> bool:
        return self.image is not None

    @property
    def recurrent(self) -> bool:
        return self.sequence is not None

    @property
    def dense(self) -> bool:
        """Only dense layers (the plain NumPy MLP has these workloads too)."""
        return not (self.convolutional or self.recurrent)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """One sample's shape as a Dataset holds it: (H, W, C), (T, F) or (inputs,)."""
        return self.image or self.sequence or (self.sizes[0],)

    @property
    def loss(self) -> str:
        """The loss, named as Epoch Lab names it."""
        return "binary_crossentropy" if self.output_activation == "sigmoid" else "categorical_crossentropy"

    @property
    def classes(self) -> int:
        """Classes in the labels: 2 for a single sigmoid output, else one per output unit."""
        return 2 if self.sizes[-1] == 1 else self.sizes[-1]

    @property
    def batches(self) -> int:
        """Mini-batch steps per epoch."""
        return math.ceil(self.samples / self.batch_size)

    def describe(self) -> str:
        """e.g. ``784-256-128-10 relu/softmax``, ``28×28×1 c16-p-c32-p-10 relu/softmax``, ``50×8 lstm64-10 softmax``."""
        if self.dense:
            return "-".join(map(str, self.sizes)) + f" {self.hidden_activation}/{self.output_activation}"
        if self.recurrent:
            layers = [f"lstm{self.lstm_units}", *map(str, self.sizes[1:])]
            return "×".join(map(str, self.sequence)) + " " + "-".join(layers) + f" {self.output_activation}"
        layers = [*(f"c{f}-p" for f in self.filters), *map(str, self.sizes[1:])]
        return "×".join(map(str, self.image)) + " " + "-".join(layers) + f" {self.hidden_activation}/{self.output_activation}"

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Workload:
        image = tuple(data["image"]) if data.get("image") else None
        sequence = tuple(data["sequence"]) if data.get("sequence") else None
        return cls(**{**data, "sizes": tuple(data["sizes"]), "image": image, "filters": tuple(data.get("filters", ())),
                      "sequence": sequence})


WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload("W1", (2, 8, 8, 1), "tanh", "sigmoid", samples=500, batch_size=10, target=8.0),
        Workload("W2", (64, 128, 64, 10), "relu", "softmax", samples=1797, batch_size=32, target=4.0),
        Workload("W3", (784, 256, 128, 10), "relu", "softmax", samples=10000, batch_size=128, target=1.6),
        Workload("W4", (784, 1024, 1024, 10), "relu", "softmax", samples=8192, batch_size=256, target=1.15),
        Workload("C1", (64, 10), "relu", "softmax", samples=1797, batch_size=32, target=2.0, image=(8, 8, 1), filters=(8,)),
        Workload("C2", (784, 10), "relu", "softmax", samples=5000, batch_size=64, target=0.8, image=(28, 28, 1),
                 filters=(16, 32)),
        Workload("R1", (400, 10), "tanh", "softmax", samples=2048, batch_size=32, target=0.8, sequence=(50, 8), lstm_units=64),
    )
}


def make_data(workload: Workload, seed: int = DATA_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Inputs x (samples, sizes[0]) float32 drawn from N(0, 1), and integer labels
    (samples,) in 0 … classes−1 given by a random linear teacher (argmax of x·T), so the
    task is learnable. The same seed gives the same arrays on both sides. An image
    workload's x holds each image flattened, row-major, channels last (as a Dataset does);
    a sequence workload's each sequence flattened step by step (T·F)."""
    import numpy as np  # here, not above: a worker without NumPy must still be able to refuse()

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((workload.samples, workload.sizes[0]), dtype=np.float32)
    teacher = rng.standard_normal((workload.sizes[0], workload.classes), dtype=np.float32)
    return x, (x @ teacher).argmax(axis=1).astype(np.int64)


def _send(stream: TextIO, message: dict) -> None:
    stream.write(json.dumps(message) + "\n")
    stream.flush()


def refuse(reason: str) -> None:
    """Tell the driver this worker cannot run (e.g. its library is missing)."""
    _send(sys.stdout, {"ok": False, "error": reason})


def serve(info: dict, load: Callable[[Workload, int], dict[str, Callable[[], None]]]) -> None:
    """Answer the protocol (see the module docstring) on stdin/stdout until end of input.

    Args:
        info: what this worker runs on, sent first.
        load: builds a workload's networks, data and optimizers from (workload, seed) and
            returns, per side (``"ours"``, ``"plain"``, ``"torch"``), a function that trains one whole epoch.
    """
    replies = sys.stdout
    sys.stdout = sys.stderr  # a stray print must not corrupt the protocol
    _send(replies, {"ok": True, "info": info})
    sides: dict[str, Callable[[], None]] = {}
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            if request["op"] == "load":
                sides = {}  # free the previous workload's arrays first
                sides = load(Workload.from_json(request["workload"]), int(request["seed"]))
                _send(replies, {"ok": True, "sides": list(sides)})
            elif request["op"] == "epochs":
                if not sides:
                    raise RuntimeError("no workload loaded")
                run_epoch = sides[request.get("side") or next(iter(sides))]
                seconds = []
                for _ in range(int(request["count"])):
                    start = time.perf_counter()
                    run_epoch()
                    seconds.append(time.perf_counter() - start)
                _send(replies, {"ok": True, "seconds": seconds})
            else:
                raise ValueError(f"unknown op {request['op']!r}")
        except Exception:
            _send(replies, {"ok": False, "error": traceback.format_exc()})
