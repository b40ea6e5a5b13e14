"""The split of forecasting windows: the validation part is the last stretch of windows, apart
from the training part, and the trainer, the views, the exports and split_indices agree on it."""

from __future__ import annotations

import numpy as np
import pytest

from core.backend import get_backend
from core.experiment import network_spec, parse_layers
from core.export.source import ExportSource
from core.insight import split_of
from core.layers import SpecError
from core.loaders import LoadOptions, load_file
from core.network import Network
from core.sequences import sine_forecast
from core.trainer import ConfigError, Trainer, TrainingConfig, split_indices
from core.z_distribution import ZDistributionProbe

WINDOW, HORIZON = 4, 2


@pytest.fixture
def series(tmp_path):
    """Windows of a table whose column ``row`` is the row number (0 … 59) and ``value`` a wave."""
    path = tmp_path / "series.csv"
    path.write_text("row,value\n" + "".join(f"{i},{np.sin(i / 3):.6f}\n" for i in range(60)), encoding="utf-8")
    return load_file(path, LoadOptions(window=WINDOW, horizon=HORIZON, columns=("row", "value"), target="row"))


def rows_of(data, indices):
    """Every row number a window of ``indices`` reads or forecasts."""
    windows = data.X.reshape(-1, WINDOW, 2)[indices, :, 0]
    return set(windows.ravel().astype(int)) | set(data.y[indices, 0].astype(int))


def test_the_validation_windows_are_the_last_and_share_no_row_with_the_training_windows(series):
    train, val = split_indices(series, 0.25, 3)
    m = series.n_samples
    np.testing.assert_array_equal(val, np.arange(m - round(m * 0.25), m))
    assert train.max() == val.min() - (WINDOW + HORIZON - 1) - 1  # the T + h − 1 windows between are left out
    assert not rows_of(series, train) & rows_of(series, val)
    assert rows_of(series, np.append(train, train[-1] + 1)) & rows_of(series, val)


def test_the_trainer_and_the_export_split_as_split_indices_does(series):
    spec = network_spec(series, parse_layers("8"))
    config = TrainingConfig(val_fraction=0.25, seed=5, batch_size=8)
    trainer = Trainer(Network(spec, get_backend("numpy", "float64"), seed=0), series, config)
    train, val = split_indices(series, config.val_fraction, config.seed)
    assert (trainer.train_size, trainer.val_size) == (len(train), len(val))
    np.testing.assert_allclose(trainer.backend.to_host(trainer.y_val)[:, 0], series.y[val, 0])
    np.testing.assert_allclose(trainer.network.preprocess.mean, series.X[train].mean(axis=0))  # fitted on that training part
    view_train, view_val = split_of(trainer)  # what the views mark as training and validation
    np.testing.assert_array_equal(view_train, train)
    np.testing.assert_array_equal(view_val, val)
    assert ZDistributionProbe()(trainer).train_size == len(train)
    network = Network(spec, get_backend("numpy", "float64"), seed=0)
    with pytest.raises(SpecError, match="split by time"):  # the exported programs would split at random
        ExportSource.of(network, network.params.copy(), series, config, 1)
    whole = ExportSource.of(network, network.params.copy(), series, TrainingConfig(val_fraction=0.0), 1)
    assert len(whole.split()[0]) == series.n_samples


def test_independent_windows_and_plain_rows_are_still_split_at_random(series):
    sine = sine_forecast(40, 5)  # random starts: independent windows
    np.testing.assert_array_equal(split_indices(sine, 0.25, 1)[1], split_indices(40, 0.25, 1)[1])
    assert not np.array_equal(split_indices(40, 0.25, 1)[1], np.arange(30, 40))
    assert len(split_indices(series, 0.0, 1)[1]) == 0 and len(split_indices(series, 0.0, 1)[0]) == series.n_samples


def test_too_few_windows_for_the_gap_are_refused(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("v\n" + "".join(f"{i}\n" for i in range(12)), encoding="utf-8")
    data = load_file(path, LoadOptions(window=5))  # 7 windows: 2 validate, 5 left out before them, none to train on
    with pytest.raises(ConfigError, match="7 windows are too few: a validation part of the last 2 needs 5 windows left out"):
        split_indices(data, 0.25, 0)
