"""The issue's learning claims for recurrent networks, each trained by the Trainer with settings
a user can choose in the app (TrainingConfig fields, layer specs), seeded:

- the adding problem of 30 steps: an LSTM solves it (validation MSE < 0.01) where a SimpleRNN
  of the same size, with the same settings and epochs, stays near the baseline of always
  guessing 1 (MSE about 0.17);
- sine forecasting: an LSTM's validation MSE < 1e-3 (tests/test_recurrent.py does it with a GRU);
- the parity of 8 bits: a GRU classifies ≥ 99 % of the validation part right, and ≥ 99 % of
  all 256 bit strings.

Each setting was checked on 12 or more seeds of the data and the weights (the worst seed is
given beside each test), so a test does not pass by a lucky seed and rounding differences
(another BLAS, another thread count) do not tip it over.
"""

from __future__ import annotations

import itertools

import numpy as np

from core.data import Dataset
from core.experiment import network_spec
from core.network import Network
from core.sequences import adding_problem, parity, sine_forecast
from core.trainer import Report, Trainer, TrainingConfig


def train(data: Dataset, recurrent: dict, epochs: int, **settings) -> tuple[Network, list[Report]]:
    """A ``recurrent`` layer and the output layer the task suggests, trained ``epochs`` epochs."""
    network = Network(network_spec(data, [recurrent]), seed=0)
    reports = Trainer(network, data, TrainingConfig(seed=0, **settings)).run(epochs)
    assert len(reports) == epochs and all(r.complete for r in reports)
    return network, reports


def test_an_lstm_solves_the_adding_problem_of_30_steps_where_a_simple_rnn_of_the_same_size_fails():
    """16 units each, Adam α = 0.02, gradients clipped to ‖g‖ ≤ 1, 25 epochs of 800 sequences.

    Over 12 seeds the LSTM gets below 0.01 by epoch 9 to 18 and ends at 0.001-0.0025, the
    SimpleRNN never goes below 0.13 in any epoch: the error signal from the output fades over
    the steps back to the two marked values. Inputs are left as they are (values in [0, 1),
    marks 0/1): standardized, the LSTM needs half the epochs but the SimpleRNN also creeps
    down, to 0.07-0.09 after 15 epochs on some seeds.
    """
    data = adding_problem(1000, 30, seed=0)
    settings = {"learning_rate": 0.02, "batch_size": 32, "clip_norm": 1.0, "standardize": False}
    val_mse = {kind: [r.val_loss for r in train(data, {"type": kind, "units": 16}, 25, **settings)[1]] for kind in ("lstm", "rnn")}
    assert val_mse["lstm"][-1] < 0.01, val_mse["lstm"]
    assert min(val_mse["rnn"]) > 0.1, val_mse["rnn"]


def test_an_lstm_forecasts_a_sine_wave():
    """8 units, the app's default settings (Adam α = 0.01, batches of 32, standardized inputs),
    20 epochs of 320 windows of 20 noisy steps. Over 12 seeds the MSE is below 1e-3 by epoch 7 to
    12 and ends at 1e-4 to 5e-4; repeating the last value of the window scores 0.03."""
    _, reports = train(sine_forecast(400, 20, seed=0), {"type": "lstm", "units": 8}, 20)
    assert reports[-1].val_loss < 1e-3, [r.val_loss for r in reports]


def test_a_gru_learns_the_parity_of_8_bits():
    """16 units, Adam α = 0.01, batches of 64, standardized inputs (bits ±1), 50 epochs of 1600
    strings. Parity is all or nothing: the accuracy stays near 50 % for a while and then jumps
    to 100 % within a few epochs, at epoch 12 to 33 over 16 seeds (28 here). Without
    standardization (bits 0/1: a 0 bit moves no input weight) the jump comes at epoch 29 to 73
    over 12 seeds; unstandardized with 1000 strings, batches of 32 and 40 epochs it came on none
    of 6 seeds. After 50 epochs 14 of 16 seeds get all 256 strings right; the others miss 1 and 2."""
    network, reports = train(parity(2000, 8, seed=0), {"type": "gru", "units": 16}, 50, learning_rate=0.01, batch_size=64)
    assert reports[-1].val_metric >= 0.99, [r.val_metric for r in reports]
    every = np.array(list(itertools.product((0.0, 1.0), repeat=8)))
    right = (network.predict(every)[:, 0] > 0.5) == (every.sum(axis=1) % 2 == 1)
    assert right.mean() >= 0.99, every[~right]  # over the whole input space, not only the strings sampled
