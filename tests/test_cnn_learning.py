"""Small CNNs learn the built-in image data, through the engine and through the CLI."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import main
from core.experiment import layers_text, network_spec, parse_layers
from core.files import load_model
from core.layers import SpecError
from core.network import Network
from core.realdata import load_real
from core.trainer import Trainer, TrainingConfig

ROOT = Path(__file__).resolve().parent.parent
DIGITS_CNN = "conv:8:3:relu,maxpool:2,flatten,32:relu"


def image_data(name: str):
    data = load_real(name)
    side = int(round(data.n_features ** 0.5))
    return data if len(data.sample_shape) == 3 else dataclasses.replace(data, sample_shape=(side, side, 1))


def train(data, layers: str, epochs: int, batch_size: int, learning_rate: float) -> float:
    net = Network(network_spec(data, parse_layers(layers)), seed=0)
    assert net.input_shape == data.sample_shape
    trainer = Trainer(net, data, TrainingConfig(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate))
    for _ in range(epochs):
        report = trainer.run_epoch()
    return report.val_metric


def test_digits_8x8_cnn_reaches_97_percent():
    assert train(image_data("digits"), "conv:8:3:relu,maxpool:2,flatten", epochs=10, batch_size=32, learning_rate=0.01) >= 0.97


def test_mnist_5k_cnn_reaches_95_percent():
    """About 5 s an epoch here (2 shared CPUs): 5 epochs."""
    layers = "conv:8:3:relu,maxpool:2,conv:16:3:relu,maxpool:2,flatten"
    assert train(image_data("mnist_5k"), layers, epochs=5, batch_size=64, learning_rate=0.005) >= 0.95


def test_batchnorm_cnn_learns_digits():
    layers = "conv:8:3:linear,batchnorm,conv:8:3:relu:stride=2,avgpool:2,flatten"
    assert train(image_data("digits"), layers, epochs=8, batch_size=32, learning_rate=0.01) >= 0.9


def test_layers_text_round_trips():
    for text in (DIGITS_CNN, "conv:16:3x2:tanh:stride=2:padding=valid,avgpool:3:stride=2,batchnorm:momentum=0.2,flatten",
                 "8:tanh:he_normal,dropout:0.3,4:relu", "none"):
        assert layers_text(parse_layers(text)) == text


@pytest.mark.parametrize(("text", "message"), [
    ("conv:8", "bad layer 'conv:8': write conv:FILTERS:KERNEL[:ACTIVATION][:stride=S][:padding=same|valid]"),
    ("conv:8:3:relu:strides=2", "unknown option 'strides' (options of conv: stride, padding)"),
    ("conv:8:3:stride=2:relu", "the NAME=VALUE options go last"),
    ("maxpool:two", "bad layer 'maxpool:two': write maxpool:SIZE[:stride=S]"),
    ("avgpool:2:stride=x", "stride must be a whole number, got 'x'"),
    ("flatten:1", "write flatten (nothing after it)"),
    ("batchnorm:momentum=high", "momentum must be a number, got 'high'"),
    ("relu:8", "or one of conv:FILTERS:KERNEL"),
    ("conv:8:3:padding=same:padding=valid", "padding is given twice"),
])
def test_bad_layer_text_is_one_clear_error(text, message):
    with pytest.raises(SpecError) as info:
        parse_layers(text)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_cli_trains_and_saves_a_cnn_on_digits(capsys, tmp_path):
    model = tmp_path / "cnn.npz"
    status = main(["train", "--dataset", "digits", "--layers", DIGITS_CNN, "--epochs", "2", "--json", "--save", str(model)])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert [json.loads(line)["epoch"] for line in out.splitlines()] == [1, 2]
    net = load_model(model)
    assert net.input_shape == (8, 8, 1)
    assert [layer.describe() for layer in net.layers] == ["Conv2D(8, 3×3, relu)", "MaxPool2D(2)", "Flatten", "Dense(32, relu)",
                                                          "Dense(10, softmax)"]


def test_cli_dense_on_images_without_flatten_says_to_add_one(capsys):
    status = main(["train", "--dataset", "digits", "--layers", "conv:8:3:relu,32:relu", "--epochs", "1"])
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "layer 2 (dense)" in err and "add a Flatten layer first" in err


def test_cli_init_with_other_layers_shows_them_in_the_layer_syntax(capsys, tmp_path):
    model = tmp_path / "cnn.npz"
    assert main(["train", "--dataset", "digits", "--layers", DIGITS_CNN, "--epochs", "1", "--save", str(model)]) == 0
    capsys.readouterr()
    status = main(["train", "--dataset", "digits", "--init", str(model), "--layers", "conv:4:3:relu,flatten", "--epochs", "1"])
    _, err = capsys.readouterr()
    assert status == 2 and f"hidden layers {DIGITS_CNN}, softmax output" in err


def test_main_py_trains_a_cnn(child_env):
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "train", "--dataset", "digits", "--layers",
                             "conv:4:3:relu:stride=2,avgpool:2,flatten", "--epochs", "1", "--json"],
                            capture_output=True, text=True, env=child_env, cwd=ROOT, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1])["epoch"] == 1
