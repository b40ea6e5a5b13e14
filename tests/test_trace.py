"""core.trace and ``main.py inspect``: the course's numbers, exactly, for one sample or a few.

The worked examples of the course (logistic regression by hand, softmax on (5, 2, −1, 3)) to
10 decimals; random networks of every activation and loss against an independent float64
computation written here in plain NumPy, in the course's layout (columns are samples); dW and
db against the engine's own backward pass; and the network's training state left untouched.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.backend import get_backend
from core.cli import main
from core.files import load_model, save_data_npz, save_model
from core.losses import get_loss
from core.network import Network, Preprocess
from core.trace import trace, trace_lines

ROOT = Path(__file__).resolve().parents[1]
SLOPE = 0.2
HIDDEN = ("linear", "sigmoid", "tanh", "relu", "leaky_relu", "softmax")
HEADS = [("sigmoid", "binary_crossentropy"), ("softmax", "categorical_crossentropy"), ("linear", "mse"),  # fused
         ("tanh", "mse"), ("sigmoid", "mse"), ("relu", "mse"), ("sigmoid", "categorical_crossentropy")]  # chain rule


def float64() -> object:
    return get_backend("numpy", "float64")


def logistic_network() -> Network:
    """The course's one-unit logistic regression: w = (0.5, 0.5), b = 1, float64, no preprocess."""
    network = Network({"input_shape": [2], "layers": [{"type": "dense", "units": 1, "activation": "sigmoid"}]}, float64())
    network.set_parameters([{"W": np.array([[0.5, 0.5]]), "b": np.array([1.0])}])
    return network


WORKED = {"z": 5.0, "a": 0.9933071491, "da": -1.0067379470, "dz": -0.0066928509, "db": -0.0066928509,
          "dw1": -0.0334642546, "dw2": -0.0200785528, "w1": 0.5003346425, "w2": 0.5002007855, "b": 1.0000669285}


def worked_values(layer: dict) -> dict:
    """The worked example's numbers from one layer of ``Trace.to_json(0.01)``."""
    return {"z": layer["z"][0][0], "a": layer["a"][0][0], "da": layer["da"][0][0], "dz": layer["dz"][0][0],
            "db": layer["db"][0], "dw1": layer["dW"][0][0], "dw2": layer["dW"][0][1],
            "w1": layer["W_new"][0][0], "w2": layer["W_new"][0][1], "b": layer["b_new"][0]}


def test_logistic_regression_by_hand_gives_the_course_numbers_exactly():
    result = trace(logistic_network(), np.array([[5.0, 3.0]]), np.array([[1.0]]))
    assert result.loss_name == "binary_crossentropy" and result.fused
    got = worked_values(result.to_json(0.01)["layers"][0])
    for key, want in WORKED.items():
        assert got[key] == pytest.approx(want, abs=5e-11), key
    assert result.layers[0].a_prev.tolist() == [[5.0], [3.0]]
    assert result.loss == pytest.approx(-np.log(0.9933071490757153), rel=1e-12)


def test_the_worked_example_through_the_command_line(tmp_path, capsys):
    model, data = tmp_path / "logistic.npz", tmp_path / "one.npz"
    save_model(model, logistic_network())
    save_data_npz(data, np.array([[5.0, 3.0]]), np.array([1.0]))
    assert main(["inspect", str(model), "--data", str(data), "--lr", "0.01", "--json"]) == 0
    got = worked_values(json.loads(capsys.readouterr().out)["layers"][0])
    for key, want in WORKED.items():
        assert got[key] == pytest.approx(want, abs=5e-11), key
    assert main(["inspect", str(model), "--data", str(data), "--lr", "0.01"]) == 0
    text = capsys.readouterr().out
    for line in ("z[1] = W[1]·a[0] + b[1] = (5)", "a[1] = sigmoid(z[1]) = (0.993307149076)", "da[1] = dL/da[1] = (-1.006737947)",
                 "dz[1] = (a[1] − y)/m = (-0.00669285092428)", "dW[1] = dz[1]·a[0]ᵀ = [[-0.0334642546214, -0.0200785527729]]",
                 "W[1] := W[1] − α·dW[1] (α = 0.01) = [[0.500334642546, 0.500200785528]]",
                 "b[1] := b[1] − α·db[1] = (1.00006692851)"):
        assert line in text, line


def test_softmax_by_hand():
    """A one-layer softmax with W = 0 and b = the logits: a = softmax(5, 2, −1, 3)."""
    network = Network({"input_shape": [1], "layers": [{"type": "dense", "units": 4, "activation": "softmax"}]}, float64())
    network.set_parameters([{"W": np.zeros((4, 1)), "b": np.array([5.0, 2.0, -1.0, 3.0])}])
    result = trace(network, np.array([[7.0]]), np.array([[1.0, 0.0, 0.0, 0.0]]))
    assert result.layers[0].z[:, 0].tolist() == [5.0, 2.0, -1.0, 3.0]
    assert result.layers[0].a[:, 0] == pytest.approx([0.842034, 0.041922, 0.002087, 0.113957], abs=5e-7)
    assert result.loss == pytest.approx(-np.log(result.layers[0].a[0, 0]), rel=1e-12)


# ----- an independent float64 computation, in the course's layout --------------------------------
def g(name: str, z: np.ndarray) -> np.ndarray:
    if name == "softmax":
        e = np.exp(z - z.max(axis=0))
        return e / e.sum(axis=0)
    return {"linear": lambda: z, "sigmoid": lambda: 1 / (1 + np.exp(-z)), "tanh": lambda: np.tanh(z),
            "relu": lambda: np.maximum(z, 0), "leaky_relu": lambda: np.where(z > 0, z, SLOPE * z)}[name]()


def dz_of(name: str, z: np.ndarray, a: np.ndarray, da: np.ndarray) -> np.ndarray:
    if name == "softmax":  # the Jacobian diag(a) − a·aᵀ of each column, applied to da
        return a * (da - (da * a).sum(axis=0))
    slope = {"linear": 1.0, "sigmoid": a * (1 - a), "tanh": 1 - a**2, "relu": (z > 0) * 1.0,
             "leaky_relu": np.where(z > 0, 1.0, SLOPE)}[name]
    return da * slope


def reference(weights: list[tuple[np.ndarray, np.ndarray, str]], loss: str, x: np.ndarray, y: np.ndarray) -> dict:
    """Loss and per layer a_prev, z, a, da, dz, dW, db for X (n, m) = x.T, Y = y.T, by the course's formulas."""
    A, Y, m = x.T, y.T, x.shape[0]
    layers = []
    for W, b, name in weights:
        Z = W @ A + b[:, None]
        layers.append({"a_prev": A, "z": Z, "a": g(name, Z), "W": W, "name": name})
        A = layers[-1]["a"]
    k = Y.shape[0]
    value = {"mse": lambda: ((A - Y) ** 2).sum() / (m * k),
             "binary_crossentropy": lambda: -(Y * np.log(A) + (1 - Y) * np.log(1 - A)).sum() / m,
             "categorical_crossentropy": lambda: -(Y * np.log(A)).sum() / m}[loss]()
    da = {"mse": lambda: 2 * (A - Y) / (m * k), "binary_crossentropy": lambda: (A - Y) / (A * (1 - A)) / m,
          "categorical_crossentropy": lambda: -Y / A / m}[loss]()
    for layer in reversed(layers):
        layer["da"] = da
        layer["dz"] = dz_of(layer["name"], layer["z"], layer["a"], da)
        layer["dW"], layer["db"] = layer["dz"] @ layer["a_prev"].T, layer["dz"].sum(axis=1)
        da = layer["W"].T @ layer["dz"]
    return {"loss": value, "layers": layers}


def random_case(hidden: str, head: str, depth: int, seed: int, dtype: str = "float64", m: int = 3):
    """A network of ``depth`` dense layers (hidden ones ``hidden``, output ``head``), weights
    drawn here, inputs x (m, 3) and targets y (m, k) that suit the output."""
    rng = np.random.default_rng(seed)
    sizes = [3, *rng.integers(2, 5, depth - 1).tolist(), 3 if head != "sigmoid" or seed % 2 else 1]
    layers = [{"type": "dense", "units": int(n), "activation": hidden, "slope": SLOPE} for n in sizes[1:-1]]
    layers.append({"type": "dense", "units": sizes[-1], "activation": head})
    network = Network({"input_shape": [3], "layers": layers}, get_backend("numpy", dtype))
    values = [{"W": rng.normal(0, 0.8, (o, i)), "b": rng.normal(0, 0.3, o)} for i, o in zip(sizes, sizes[1:], strict=False)]
    network.set_parameters(values)
    x = rng.normal(0, 1.5, (m, 3))
    k = sizes[-1]
    y = np.eye(k)[rng.integers(0, k, m)] if head == "softmax" or k > 1 and head == "sigmoid" else rng.integers(0, 2, (m, k)) * 1.0
    if head not in ("softmax", "sigmoid"):
        y = rng.normal(0, 1, (m, k))
    stored = [(np.asarray(p["W"], np.float64), np.asarray(p["b"], np.float64)) for p in network.parameters_by_layer()]
    weights = [(W, b, spec["activation"]) for (W, b), spec in zip(stored, layers, strict=True)]
    return network, weights, x, y


def assert_matches(layers: list[dict], want: dict, loss: float) -> None:
    assert loss == pytest.approx(want["loss"], rel=1e-10, abs=1e-14)
    assert len(layers) == len(want["layers"])
    for got, ref in zip(layers, want["layers"], strict=True):
        for key in ("a_prev", "z", "a", "da", "dz", "dW", "db"):
            np.testing.assert_allclose(np.asarray(got[key], dtype=np.float64), ref[key], rtol=1e-9, atol=1e-13, err_msg=key)


CASES = [(hidden, head, loss, 2 + (i % 2)) for i, (hidden, (head, loss)) in
         enumerate((h, hl) for h in HIDDEN for hl in HEADS)]


@pytest.mark.parametrize(("hidden", "head", "loss", "depth"), CASES)
def test_trace_equals_an_independent_float64_computation(hidden, head, loss, depth):
    network, weights, x, y = random_case(hidden, head, depth, seed=len(hidden) * 7 + len(head) + depth)
    result = trace(network, x, y, loss)
    assert_matches(result.to_json()["layers"], reference(weights, loss, x, y), result.loss)
    for layer in result.layers:  # course shapes: columns are samples
        assert layer.z.shape == layer.a.shape == (layer.W.shape[0], len(x)) and layer.a_prev.shape == (layer.W.shape[1], len(x))
        assert layer.dW.shape == layer.W.shape and layer.db.shape == layer.b.shape


@pytest.mark.parametrize(("hidden", "head", "loss"), [("tanh", "sigmoid", "binary_crossentropy"),
                                                     ("relu", "softmax", "categorical_crossentropy"),
                                                     ("leaky_relu", "linear", "mse"), ("sigmoid", "tanh", "mse")])
def test_inspect_json_equals_the_independent_computation_in_float64_for_a_float32_model(tmp_path, capsys, hidden, head, loss):
    """A float32 model with standardization: inspect works in float64 on its stored weights."""
    network, weights, x, y = random_case(hidden, head, 3, seed=11, dtype="float32", m=4)
    mean, std = np.array([0.5, -1.0, 2.0]), np.array([2.0, 0.5, 4.0])
    network.preprocess = Preprocess(mean, std)
    model, data = tmp_path / "model.npz", tmp_path / "data.npz"
    save_model(model, network)
    raw = x * std + mean
    if head == "softmax":  # every class present, so the labels read back as the same one-hot columns
        y = np.eye(y.shape[1])[np.arange(len(y)) % y.shape[1]]
    labels = y.argmax(axis=1) if head == "softmax" else y
    save_data_npz(data, raw, labels)
    for sample in (0, 3):
        assert main(["inspect", str(model), "--data", str(data), "--sample", str(sample), "--json"]) == 0
        got = json.loads(capsys.readouterr().out)
        row = slice(sample, sample + 1)
        want = reference(weights, loss, (raw[row] - mean) / std, y[row])
        assert_matches(got["layers"], want, got["loss"])
        assert "W_new" not in got["layers"][0]


@pytest.mark.parametrize(("hidden", "head", "loss"), [(h, head, loss) for h in HIDDEN[:5] for head, loss in HEADS[:4]])
def test_dW_and_db_equal_the_engines_own_gradients(hidden, head, loss):
    network, _, x, y = random_case(hidden, head, 3, seed=5, m=6)
    result = trace(network, x, y, loss)
    out = network.forward(x, True)
    delta, fused = get_loss(loss).output_delta(out, y, network.output_activation, np.empty_like(out), np)
    network.backward(delta, fused)
    for layer, grads in zip(result.layers, network.gradients_by_layer(), strict=True):
        np.testing.assert_allclose(layer.dW, grads["W"], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(layer.db, grads["b"], rtol=1e-12, atol=1e-12)


def training_state(network: Network) -> dict:
    """What a trace must not touch: parameters, gradients, each layer's saved input/output and buffers, ReLU caches."""
    state = {"params": network.params.copy(), "grads": network.grads.copy()}
    for i, layer in enumerate(network.layers):
        state[i] = (id(layer._x), layer._x.copy(), id(layer._a), layer._a.copy(),
                    {m: tuple(id(b) for b in bufs) for m, bufs in layer._buffers.items()},
                    sorted(getattr(layer.activation, "_zeros", {})))
    return state


def assert_same_state(before: dict, after: dict) -> None:
    assert np.array_equal(before.pop("params"), after.pop("params"))
    assert np.array_equal(before.pop("grads"), after.pop("grads"))
    for i, b in before.items():
        a = after[i]
        assert b[0] == a[0] and np.array_equal(b[1], a[1]) and b[2] == a[2] and np.array_equal(b[3], a[3]) and b[4:] == a[4:]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_trace_leaves_the_training_buffers_and_gradients_alone(dtype):
    network, _, x, y = random_case("relu", "sigmoid", 3, seed=3, dtype=dtype, m=5)
    batch = network.backend.asarray(x)
    out = network.forward(batch, True)
    delta, fused = get_loss("binary_crossentropy").output_delta(out, network.backend.asarray(y), "sigmoid", np.empty_like(out), np)
    network.backward(delta, fused)
    before = training_state(network)
    result = trace(network, x[:2], y[:2])
    assert all(layer.a.dtype == np.float64 for layer in result.layers)
    assert_same_state(before, training_state(network))


def test_dropout_is_the_identity_when_inspecting():
    spec = {"input_shape": [2], "layers": [{"type": "dense", "units": 3, "activation": "tanh"}, {"type": "dropout", "rate": 0.5},
                                           {"type": "dense", "units": 1, "activation": "sigmoid"}]}
    network = Network(spec, float64(), seed=4)
    x, y = np.array([[0.3, -1.2], [2.0, 0.1]]), np.array([[1.0], [0.0]])
    result = trace(network, x, y)
    dropout = result.to_json(0.1)["layers"][1]
    assert dropout["z"] is None and dropout["dW"] is None and dropout["W_new"] is None
    np.testing.assert_array_equal(result.layers[1].a, result.layers[0].a)
    np.testing.assert_array_equal(result.layers[1].a_prev, result.layers[0].a)
    params = network.parameters_by_layer()
    want = reference([(params[0]["W"], params[0]["b"], "tanh"), (params[2]["W"], params[2]["b"], "sigmoid")],
                     "binary_crossentropy", x, y)
    assert_matches([result.to_json()["layers"][i] for i in (0, 2)], want, result.loss)
    np.testing.assert_array_equal(result.layers[1].da, result.layers[0].da)
    assert "dropout is the identity when inspecting" in "\n".join(trace_lines(result))


def test_inspect_reads_a_session_file_with_its_loss_and_standardization(tmp_path, capsys):
    session, data = tmp_path / "run.epochlab", tmp_path / "points.npz"
    assert main(["train", "--dataset", "gaussian", "--samples", "40", "--layers", "3:tanh", "--loss", "mse",
                 "--output-activation", "sigmoid", "--epochs", "1", "--save", str(session)]) == 0
    x = np.array([[0.5, -1.0], [2.0, 1.5]])
    save_data_npz(data, x, np.array([0.0, 1.0]))
    capsys.readouterr()
    assert main(["inspect", str(session), "--data", str(data), "--sample", "1", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    network = load_model(session)
    params = network.parameters_by_layer()
    weights = [(p["W"].astype(np.float64), p["b"].astype(np.float64), g) for p, g in zip(params, ("tanh", "sigmoid"), strict=True)]
    want = reference(weights, "mse", network.preprocess.apply(x[1:]), np.array([[1.0]]))  # the run's own loss, not the head's
    assert_matches(got["layers"], want, got["loss"])


def test_inspect_uses_a_session_files_own_data_without_data(tmp_path, capsys):
    from core.synthetic import synthetic

    session, model = tmp_path / "run.epochlab", tmp_path / "run.npz"
    assert main(["train", "--dataset", "gaussian", "--samples", "40", "--layers", "3:tanh", "--epochs", "1",
                 "--save", str(session)]) == 0
    capsys.readouterr()
    assert main(["inspect", str(session), "--sample", "5", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    data, network = synthetic("gaussian", 40, None, 0), load_model(session)
    want = trace(network, data.X[5:6], data.y[5:6, None].astype(np.float64), "binary_crossentropy")
    np.testing.assert_allclose(got["loss"], want.loss, rtol=1e-12)
    assert main(["train", "--dataset", "gaussian", "--samples", "40", "--epochs", "1", "--save", str(model)]) == 0
    capsys.readouterr()
    assert main(["inspect", str(model)]) == 2
    assert "a model file holds no data: give --data FILE" in capsys.readouterr().err


def test_inspect_refuses_a_sample_that_overflows(tmp_path, capsys):
    network = Network({"input_shape": [1], "layers": [{"type": "dense", "units": 1, "activation": "linear"}]}, float64())
    network.set_parameters([{"W": np.array([[1e300]]), "b": np.array([0.0])}])
    model, data = tmp_path / "big.npz", tmp_path / "far.npz"
    save_model(model, network)
    save_data_npz(data, np.array([[1e10]]), np.array([0.5]))
    assert main(["inspect", str(model), "--data", str(data)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "sample 0 overflows the model" in err and err.count("\n") == 1


def test_inspect_refuses_what_does_not_fit_in_one_line(tmp_path, capsys):
    model, data, wide = tmp_path / "logistic.npz", tmp_path / "one.npz", tmp_path / "wide.npz"
    save_model(model, logistic_network())
    save_data_npz(data, np.array([[5.0, 3.0], [1.0, 2.0]]), np.array([1.0, 0.0]))
    save_data_npz(wide, np.ones((2, 3)), np.array([1.0, 0.0]))
    cases = {"--sample 2 is out of range": ["--data", str(data), "--sample", "2"],
             "--sample -1 is out of range": ["--data", str(data), "--sample", "-1"],
             "has 3 features per sample but the model takes 2": ["--data", str(wide)],
             "categorical cross-entropy on one sigmoid unit": ["--data", str(data), "--loss", "categorical_crossentropy"],
             "--lr must be a finite number": ["--data", str(data), "--lr", "nan"],
             "no such file": ["--data", str(tmp_path / "gone.npz")]}
    for message, argv in cases.items():
        assert main(["inspect", str(model), *argv]) == 2, message
        err = capsys.readouterr().err
        assert err.startswith("error: ") and message in err and err.count("\n") == 1, err


def test_main_py_dispatches_inspect(tmp_path, child_env):
    model, data = tmp_path / "logistic.npz", tmp_path / "one.npz"
    save_model(model, logistic_network())
    save_data_npz(data, np.array([[5.0, 3.0]]), np.array([1.0]))
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "inspect", str(model), "--data", str(data), "--json"],
                          check=False, capture_output=True, text=True, env=child_env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["layers"][0]["z"] == [[5.0]]
