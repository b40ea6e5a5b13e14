"""The trainer and a network's non-trainable state (network.state: BatchNorm's running
statistics): saved in states and files, restored with them, rewound with the epoch on a
divergence or a discard, never touched by the optimizer or the L1/L2 penalty; a state
without it (a file written before state existed) means the network's initial state. The
layer statistics name each layer's weights by ``weight_name``, whatever their shape.

A tiny layer of the test's own keeps a running mean of its inputs in training, so these
tests do not wait for BatchNorm."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from test_trainer_state import through_a_file

from core.layer_types import LAYER_TYPES
from core.layers import Layer, ParamSpec
from core.network import Network
from core.synthetic import synthetic
from core.trainer import ConfigError, Trainer, TrainingConfig
from core.trainer_state import TrainerState


class RunningMean(Layer):
    """Passes its input through; in training, running_mean ← 0.5·running_mean + 0.5·batch mean (per feature)."""

    kind = "running_mean_probe"

    def state_specs(self):
        return [ParamSpec("running_mean", self.input_shape, False)]

    def initial_state(self):
        return {"running_mean": np.full(self.input_shape, 7.0)}

    def forward(self, x, training):
        if training:
            mean = self.state["running_mean"]
            mean *= 0.5
            mean += 0.5 * x.mean(axis=0)
        return x

    def backward(self, grad, need_input_grad, grad_is_dz=False):
        return grad if need_input_grad else None

    def to_spec(self):
        return {"type": self.kind}


class Shaped(Layer):
    """A layer whose weights are a (2, 2, 2) kernel called "K" (not "W") that it never uses."""

    kind = "shaped_weights_probe"
    weight_name = "K"

    def param_specs(self):
        return [ParamSpec("K", (2, 2, 2), True)]

    def initial_values(self, rng):
        return {"K": np.full((2, 2, 2), 0.5)}

    def forward(self, x, training):
        return x

    def backward(self, grad, need_input_grad, grad_is_dz=False):
        self.grads["K"][...] = 1.0
        return grad if need_input_grad else None

    def to_spec(self):
        return {"type": self.kind}


LAYERS = [{"type": "dense", "units": 6, "activation": "tanh"}, {"type": "running_mean_probe"},
          {"type": "dense", "units": 1, "activation": "sigmoid"}]
SETTINGS = {"optimizer": "adam", "learning_rate": 0.02, "batch_size": 16, "l2": 0.01, "l1": 0.001, "seed": 3}  # 6 batches


@pytest.fixture(autouse=True)
def probe_layers(monkeypatch):
    monkeypatch.setitem(LAYER_TYPES, RunningMean.kind, RunningMean)
    monkeypatch.setitem(LAYER_TYPES, Shaped.kind, Shaped)


def make(layers=LAYERS, **config):
    dataset = synthetic("moons", samples=120, seed=1)
    network = Network({"input_shape": [2], "layers": layers}, seed=4)
    return network, Trainer(network, dataset, TrainingConfig(**{**SETTINGS, **config}))


def numbers(report):
    return dataclasses.replace(report, seconds=0.0, samples_per_second=0.0)


def test_training_moves_the_state_but_neither_the_optimizer_nor_the_penalty_sees_it():
    network, trainer = make()
    assert network.state_count == 6 and trainer.optimizer.state_dict()["slots"]["m"].size == network.params.size
    trainer.run(2)
    expected = np.asarray(network.layers[0].forward(trainer.x_train, False))  # not the exact running mean, but near it
    running = network.state_by_layer()[1]["running_mean"]
    assert not np.allclose(running, 7.0) and np.abs(running).max() < np.abs(expected).max() + 1
    # with the layer's state set far off, the optimizer and the penalty leave it alone for a step of the others
    network.state[...] = 1e6
    network.layers[1].forward = lambda x, training: x  # training no longer moves it either
    trainer.step_batch()
    assert (network.state == np.float32(1e6)).all()


@pytest.mark.parametrize("batches", [0, 2])
def test_restore_through_a_file_continues_bit_for_bit_with_the_state(batches):
    network, trainer = make()
    trainer.run(2)
    for _ in range(batches):
        trainer.step_batch()
    state = through_a_file(trainer.state())
    assert state.network_state.shape == (6,)
    assert (state.epoch_start is not None and state.epoch_start.network_state is not None) == bool(batches)
    reports = [numbers(r) for r in trainer.run(2)]

    copy_network, copy = make()
    copy.restore(state)
    assert np.array_equal(copy_network.state, state.network_state)
    assert [numbers(r) for r in copy.run(2)] == reports
    assert np.array_equal(copy_network.params, network.params) and np.array_equal(copy_network.state, network.state)


def test_stepping_an_epoch_batch_by_batch_equals_running_it():
    network, trainer = make()
    trainer.run(3)
    stepped_network, stepped = make()
    for _ in range(3 * stepped.batches_per_epoch):
        stepped.step_batch()
    assert np.array_equal(stepped_network.params, network.params) and np.array_equal(stepped_network.state, network.state)


def test_a_state_without_the_networks_state_or_with_a_broken_one_is_refused():
    """Layers with state are newer than the files without 'network_state': such a file of a
    network with state is damaged, and so is one whose running variance is negative."""
    _, trainer = make()
    trainer.run(2)
    meta, arrays = trainer.state().to_parts()
    old = TrainerState.from_parts(meta, {name: array for name, array in arrays.items() if name != "network_state"})
    assert old.network_state is None
    network, other = make()
    other.run(1)
    with pytest.raises(ConfigError, match="has none of the running statistics"):
        other.restore(old)
    layers = [{"type": "dense", "units": 6, "activation": "relu"}, {"type": "batchnorm"},
              {"type": "dense", "units": 1, "activation": "sigmoid"}]
    _, bn = make(layers)
    bn.run(1)
    state = bn.state()
    broken = dataclasses.replace(state, network_state=-np.abs(state.network_state) - 1)
    with pytest.raises(ConfigError, match=r"layer 2 \(BatchNorm\): running_var holds a negative variance"):
        bn.restore(broken)
    bn.restore(state)  # the intact state still restores


def test_a_dense_network_writes_no_state_and_a_misfit_is_refused():
    dense = [{"type": "dense", "units": 6, "activation": "tanh"}, {"type": "dense", "units": 1, "activation": "sigmoid"}]
    _, trainer = make(dense)
    trainer.run(1)
    assert trainer.state().network_state is None and "network_state" not in trainer.state().to_parts()[1]
    _, other = make()
    state = other.state()
    wrong = dataclasses.replace(state, network_state=np.zeros(5, np.float32))
    with pytest.raises(ConfigError, match="5 non-trainable numbers .* this network has 6"):
        other.restore(wrong)
    meta, arrays = other.state().to_parts()
    with pytest.raises(ValueError, match="'network_state' has shape"):
        TrainerState.from_parts(meta, {**arrays, "network_state": np.zeros((2, 3), np.float32)})


def test_discard_and_divergence_rewind_the_state_with_the_epoch():
    network, trainer = make()
    trainer.run(1)
    start = network.state.copy()
    trainer.step_batch()
    assert not np.array_equal(network.state, start)
    trainer.discard_partial_epoch()
    assert np.array_equal(network.state, start)

    network.params[0] = np.inf  # the next epoch diverges at once
    saved = network.state.copy()
    report = trainer.run_epoch()
    assert report.diverged and np.array_equal(network.state, saved)


def test_layer_statistics_follow_weight_name_whatever_the_shape():
    layers = [{"type": "dense", "units": 4, "activation": "relu"}, {"type": "shaped_weights_probe"},
              {"type": "dense", "units": 1, "activation": "sigmoid"}]
    network, trainer = make(layers, l1=0.0, l2=0.0)
    stats = trainer.run_epoch().layers
    kernel = network.layers[1].params["K"]
    assert kernel.shape == (2, 2, 2) and not np.allclose(kernel, 0.5)  # trained
    assert stats[1].weight_norm == pytest.approx(float(np.sqrt((kernel**2).sum()))) and stats[1].grad_norm == pytest.approx(np.sqrt(8))
    assert stats[0].dead_fraction is not None and stats[1].dead_fraction is None
    assert stats[2].weight_norm == pytest.approx(float(np.linalg.norm(network.layers[2].params["W"])))


@pytest.mark.parametrize("batches", [0, 3])
def test_batchnorm_running_statistics_survive_a_restore_bit_for_bit(batches):
    """The real BatchNorm (core.batchnorm): its running statistics are the network's state."""
    layers = [{"type": "dense", "units": 6, "activation": "relu"}, {"type": "batchnorm"},
              {"type": "dense", "units": 1, "activation": "sigmoid"}]
    network, trainer = make(layers)
    assert network.state_count == 12  # running_mean and running_var of 6 features
    trainer.run(1)
    for _ in range(batches):
        trainer.step_batch()
    state = through_a_file(trainer.state())
    running = network.state_by_layer()[1]
    assert not np.allclose(running["running_mean"], 0) and not np.allclose(running["running_var"], 1)
    reports = [numbers(r) for r in trainer.run(2)]
    copy_network, copy = make(layers)
    copy.restore(state)
    assert [numbers(r) for r in copy.run(2)] == reports  # the validation losses use the running statistics
    assert np.array_equal(copy_network.state, network.state) and np.array_equal(copy_network.params, network.params)
