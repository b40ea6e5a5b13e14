"""Where an epoch of a bench_trainer.py workload goes, layer by layer: the engine's forward
(training mode) and backward of each layer on one mini-batch, and the optimizer step.

For the convolutional workloads (C1, C2) this says whether the convolutions, the pooling
or the dense part is the bottleneck; for R1, the LSTM's share. Times are medians over ``--repeats`` calls, in ms, on
the workload's random data (bench_trainer_common.make_data); threads as NumPy's BLAS uses.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_layers.py --workloads C1,C2
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_trainer_common import WORKLOADS, make_data  # noqa: E402
from bench_trainer_ours import network_spec  # noqa: E402

from core.backend import get_backend  # noqa: E402
from core.network import Network  # noqa: E402
from core.optimizers import make_optimizer  # noqa: E402


def median_ms(call, repeats: int) -> float:
    call()  # buffers of this batch size made first
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def profile(name: str, repeats: int) -> None:
    workload = WORKLOADS[name]
    network = Network(network_spec(workload), get_backend("numpy", "float32"), 0)
    x, _ = make_data(workload)
    batch = network.backend.asarray(x[: workload.batch_size]).reshape(workload.batch_size, *network.input_shape)
    inputs, outputs = [], []
    for layer in network.layers:  # each layer's training-mode input, and its output's shape
        inputs.append(batch)
        batch = layer.forward(batch, True).copy()
        outputs.append(batch)
    print(f"{name} ({workload.describe()}, batch {workload.batch_size}): ms per call, median of {repeats}")
    total_forward = total_backward = 0.0
    for i, layer in enumerate(network.layers):
        grad = network.backend.xp.ones_like(outputs[i]) / outputs[i].size
        forward = median_ms(lambda layer=layer, x=inputs[i]: layer.forward(x, True), repeats)
        layer.forward(inputs[i], True)
        fused = i == len(network.layers) - 1  # the loss fuses with the output layer, as in training
        backward = median_ms(lambda layer=layer, g=grad, first=i == 0, fused=fused: layer.backward(g, not first, fused), repeats)
        total_forward, total_backward = total_forward + forward, total_backward + backward
        shape = "×".join(map(str, layer.output_shape))
        print(f"  {i + 1}. {layer.describe():<28} → {shape:<10} forward {forward:8.3f}  backward {backward:8.3f}")
    optimizer = make_optimizer("sgd", {"learning_rate": 0.01})
    optimizer.bind(network.params.size, network.backend.xp, network.backend.dtype)
    step = median_ms(lambda: optimizer.step(network.params, network.grads), repeats)
    print(f"  all layers: forward {total_forward:.3f}  backward {total_backward:.3f}; SGD step {step:.3f} "
          f"({network.parameter_count:,} parameters); × {workload.batches} mini-batches an epoch")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default="C1,C2", help="comma-separated names (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=50, help="calls per measurement (default: %(default)s)")
    args = parser.parse_args()
    for name in args.workloads.split(","):
        profile(name.strip().upper(), args.repeats)


if __name__ == "__main__":
    main()
