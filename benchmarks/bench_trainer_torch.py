"""The PyTorch side of bench_trainer.py: the same network as an ``nn.Linear`` stack in CPU
eager mode (a convolutional workload: ``nn.Conv2d(padding="same")`` + ReLU +
``nn.MaxPool2d(2)`` per convolution, on NCHW images, then ``nn.Flatten`` and the dense
layers; a recurrent one: ``nn.LSTM(batch_first=True)`` on (m, T, F), its last hidden state
h_T into the dense layers), float32, ``torch.optim.SGD`` with the same learning rate, the same batch
sizes, and a per-epoch shuffle by ``randperm`` and an index gather.

The output activation is fused into the loss as PyTorch recommends (``BCEWithLogitsLoss``
for a sigmoid output, ``CrossEntropyLoss`` on class indices for softmax): the same
losses as Epoch Lab's, which fuses them the same way in its gradient.

Runs under a separate interpreter that has torch (PyTorch is never a dependency of the
app): ``python bench_trainer_torch.py --threads N``, N being the thread count of the
engine's BLAS. Speaks the protocol of bench_trainer_common.py; answers that it cannot run
when torch or NumPy is missing.
"""

from __future__ import annotations

import argparse
import platform
import re
from collections.abc import Callable

from bench_trainer_common import LEARNING_RATE, Workload, make_data, refuse, serve


def load(workload: Workload, seed: int) -> dict[str, Callable[[], None]]:
    """Build the workload's model, data and optimizer; return a function that trains one epoch."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    x, labels = make_data(workload)
    inputs = torch.from_numpy(x)
    layers: list[nn.Module] = []
    sizes = list(workload.sizes)
    if workload.convolutional:
        height, width, channels = workload.image
        inputs = inputs.reshape(len(x), height, width, channels).permute(0, 3, 1, 2).contiguous()  # NCHW
        for filters in workload.filters:
            layers += [nn.Conv2d(channels, filters, 3, padding="same"), _activation(nn, workload), nn.MaxPool2d(2)]
            channels, height, width = filters, height // 2, width // 2
        layers.append(nn.Flatten())
        sizes[0] = channels * height * width
    elif workload.recurrent:
        inputs = inputs.reshape(len(x), *workload.sequence)
        layers.append(_last_hidden(nn, nn.LSTM(workload.sequence[1], workload.lstm_units, batch_first=True)))
        sizes[0] = workload.lstm_units
    for fan_in, units in zip(sizes[:-2], sizes[1:-1], strict=True):
        layers += [nn.Linear(fan_in, units), _activation(nn, workload)]
    layers.append(nn.Linear(sizes[-2], sizes[-1]))  # logits; the loss applies the activation
    model = nn.Sequential(*layers)
    if workload.output_activation == "sigmoid":
        targets, loss_fn = torch.from_numpy(labels.astype("float32")[:, None]), nn.BCEWithLogitsLoss()
    else:
        targets, loss_fn = torch.from_numpy(labels), nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    generator = torch.Generator().manual_seed(seed)
    samples, batch = workload.samples, workload.batch_size

    def run_epoch() -> None:
        order = torch.randperm(samples, generator=generator)
        epoch_x, epoch_y = inputs[order], targets[order]
        for start in range(0, samples, batch):
            optimizer.zero_grad()
            loss = loss_fn(model(epoch_x[start : start + batch]), epoch_y[start : start + batch])
            loss.backward()
            optimizer.step()

    return {"torch": run_epoch}


def _last_hidden(nn, lstm):
    """A module that runs ``lstm`` over (m, T, F) and returns its last hidden state h_T (m, units)."""

    class LastHidden(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = lstm

        def forward(self, x):
            _, (h, _) = self.lstm(x)
            return h[-1]

    return LastHidden()


def _activation(nn, workload: Workload):
    return nn.Tanh() if workload.hidden_activation == "tanh" else nn.ReLU()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, required=True, help="intra-op threads, matching the engine's BLAS")
    args = parser.parse_args()
    try:
        import numpy  # noqa: F401 - the data is made with NumPy
        import torch
    except ImportError as exc:
        refuse(f"{exc} (Python {platform.python_version()})")
        return
    torch.set_num_threads(args.threads)
    build = torch.__config__.show()
    blas = re.search(r"BLAS_INFO=(\w+)", build)
    info = {
        "side": "PyTorch",
        "python": platform.python_version(),
        "library": f"torch {torch.__version__}",
        "blas": {
            "library": blas.group(1) if blas else "?",
            "architecture": torch.backends.cpu.get_cpu_capability(),
            "threading": torch.__config__.parallel_info().strip().splitlines()[-1].split(":")[-1].strip(),
        },
        "threads": torch.get_num_threads(),
    }
    serve(info, load)


if __name__ == "__main__":
    main()
