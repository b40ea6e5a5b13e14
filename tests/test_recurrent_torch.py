"""The recurrent layers and Embedding hold their weights as PyTorch does, so weights carry
over: copied into ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` / ``nn.Embedding`` they give the same
outputs and the same gradients (float64, to 1e-10).

It runs under the Python that EPOCHLAB_TORCH_PYTHON names (a Python with torch and numpy),
or this one when it has torch; skipped otherwise."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
from test_export_torch import torch_python

from core.backend import get_backend
from core.network import Network

F64 = get_backend("numpy", "float64")
SAMPLES, STEPS, FEATURES, UNITS = 3, 5, 4, 6

TORCH_SIDE = """
import json, sys
import numpy as np
import torch

torch.set_default_dtype(torch.float64)
arrays = np.load(sys.argv[1])
case = json.loads(sys.argv[2])
kind, sequences = case["kind"], case["sequences"]
if kind == "embedding":
    layer = torch.nn.Embedding(*arrays["W"].shape)
    layer.weight.data = torch.from_numpy(arrays["W"])
    out = layer(torch.from_numpy(arrays["x"]).long())
else:
    make = {"rnn": lambda: torch.nn.RNN(arrays["x"].shape[2], case["units"], nonlinearity="tanh", batch_first=True),
            "lstm": lambda: torch.nn.LSTM(arrays["x"].shape[2], case["units"], batch_first=True),
            "gru": lambda: torch.nn.GRU(arrays["x"].shape[2], case["units"], batch_first=True)}[kind]
    layer = make()
    layer.weight_ih_l0.data = torch.from_numpy(arrays["W"])
    layer.weight_hh_l0.data = torch.from_numpy(arrays["U"])
    layer.bias_ih_l0.data = torch.from_numpy(arrays["b"])
    layer.bias_hh_l0.data = torch.from_numpy(arrays["bh"] if "bh" in arrays else np.zeros_like(arrays["b"]))
    out, _ = layer(torch.from_numpy(arrays["x"]))
    if not sequences:
        out = out[:, -1]
(out * torch.from_numpy(arrays["weights"])).sum().backward()
grads = {name: p.grad.numpy() for name, p in layer.named_parameters()}
np.savez(sys.argv[3], out=out.detach().numpy(), **grads)
"""

CASES = [("rnn", False), ("rnn", True), ("lstm", False), ("lstm", True), ("gru", False), ("gru", True), ("embedding", True)]


def engine_side(kind: str, sequences: bool) -> tuple[Network, np.ndarray, np.ndarray, np.ndarray]:
    """A one-layer network of ``kind``, an input batch, the engine's output and L = Σ output ⊙ weights's weights."""
    rng = np.random.default_rng(7)
    if kind == "embedding":
        spec = {"input_shape": [STEPS], "layers": [{"type": "embedding", "vocabulary": 9, "dimension": UNITS}]}
        x = rng.integers(0, 9, (SAMPLES, STEPS)).astype(np.float64)
    else:
        spec = {"input_shape": [STEPS, FEATURES], "layers": [{"type": kind, "units": UNITS, "return_sequences": sequences}]}
        x = rng.standard_normal((SAMPLES, STEPS, FEATURES))
    network = Network(spec, backend=F64, seed=2)
    layer = network.layers[0]
    for name, value in layer.params.items():  # biases start at 0: make them count
        if name != "W" or kind != "embedding":
            value[...] += 0.3 * rng.standard_normal(value.shape)
    out = layer.forward(x, True)
    weights = rng.standard_normal(out.shape)
    layer.backward(weights, False)
    return network, x, out, weights


@pytest.mark.parametrize(("kind", "sequences"), CASES)
def test_pytorch_gives_the_same_outputs_and_gradients(kind, sequences, tmp_path, child_env):
    python = torch_python()
    if python is None:
        pytest.skip("no Python with torch: set EPOCHLAB_TORCH_PYTHON")
    network, x, out, weights = engine_side(kind, sequences)
    layer = network.layers[0]
    arrays = {name: np.asarray(value) for name, value in layer.params.items()}
    np.savez(tmp_path / "in.npz", x=x, weights=weights, **arrays)
    script = tmp_path / "torch_side.py"
    script.write_text(TORCH_SIDE, encoding="utf-8")
    case = json.dumps({"kind": kind, "sequences": sequences, "units": UNITS})
    done = subprocess.run([python, str(script), str(tmp_path / "in.npz"), case, str(tmp_path / "out.npz")],
                          capture_output=True, text=True, env=child_env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    theirs = np.load(tmp_path / "out.npz")
    np.testing.assert_allclose(out, theirs["out"], rtol=0, atol=1e-10)
    names = {"W": "weight_ih_l0", "U": "weight_hh_l0", "b": "bias_ih_l0", "bh": "bias_hh_l0"}
    if kind == "embedding":
        names = {"W": "weight"}
    for name, grad in layer.grads.items():
        np.testing.assert_allclose(grad, theirs[names[name]], rtol=0, atol=1e-10, err_msg=name)
    if kind in ("rnn", "lstm"):  # one bias here is PyTorch's two: both get the same gradient
        np.testing.assert_allclose(layer.grads["b"], theirs["bias_hh_l0"], rtol=0, atol=1e-10)
