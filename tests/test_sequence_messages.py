"""What the command line says of layers that do not fit sequence or token data, and the
article before a layer's name."""

from __future__ import annotations

import pytest

from core.backend import get_backend
from core.cli import main
from core.data import a_or_an
from core.experiment import network_spec, parse_layers
from core.export.source import check_exportable
from core.layer_types import check_layers_fit
from core.layers import SpecError
from core.network import Network
from core.sequences import adding_problem


@pytest.mark.parametrize(("phrase", "said"), [
    ("LSTM(8)", "an LSTM(8)"), ("GRU(4)", "a GRU(4)"), ("SimpleRNN(3)", "a SimpleRNN(3)"),
    ("Embedding(58, 8)", "an Embedding(58, 8)"), ("Dense(4)", "a Dense(4)"), ("AvgPool2D(2×2)", "an AvgPool2D(2×2)"),
    ("MaxPool2D(2×2)", "a MaxPool2D(2×2)"), ("Conv2D(4, 3×3)", "a Conv2D(4, 3×3)"),
])
def test_the_article_follows_the_first_sound(phrase, said):
    assert a_or_an(phrase) == said


def test_an_export_names_an_lstm_with_an():
    data = adding_problem(20, 5)
    network = Network(network_spec(data, parse_layers("lstm:3")), get_backend("numpy", "float64"))
    with pytest.raises(SpecError, match="this one has an LSTM"):
        check_exportable(network)


def test_a_convolution_on_sequences_names_the_sequence_shape(capsys):
    assert main(["train", "--dataset", "adding", "--layers", "conv:4:3", "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert "a convolution or pooling layer needs images (H, W, C); this data is sequences of 30 steps × 2 features" in err
    assert "(60,)" not in err


def test_an_embedding_without_a_recurrent_layer_after_it_says_so(capsys):
    assert main(["train", "--dataset", "chars", "--layers", "embedding:58:8", "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert "an Embedding gives a (steps, dimension) vector sequence" in err and "return_sequences" not in err
    check_layers_fit((32,), parse_layers("embedding:58:8,gru:4"))  # these fit
    check_layers_fit((32,), parse_layers("embedding:58:8,flatten"))
    check_layers_fit((30, 2), parse_layers("flatten,8"))
