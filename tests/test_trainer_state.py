"""Trainer state: restore(state()) continues bit for bit (between epochs and inside one, with
shuffling, Dropout and every optimizer), through to_parts/from_parts and a file's round trip;
the divergence rollback brings every generator back; branches with changed settings; what
does not fit is refused; live setting changes are recorded; Dropout masks come from a host
generator; optimizers' state_dict."""

from __future__ import annotations

import dataclasses
import io
import json
import warnings

import numpy as np
import pytest

from core.backend import cupy_status, get_backend
from core.experiment import network_spec
from core.layers import Dropout
from core.network import Network
from core.optimizers import OPTIMIZERS, make_optimizer
from core.synthetic import synthetic
from core.trainer import ConfigError, Report, Trainer, TrainingConfig
from core.trainer_state import TrainerState

HIDDEN = [
    {"type": "dense", "units": 8, "activation": "relu", "initializer": "he_normal"},
    {"type": "dropout", "rate": 0.3},
    {"type": "dense", "units": 6, "activation": "tanh"},
]
SETTINGS = {"optimizer": "adam", "learning_rate": 0.02, "batch_size": 16, "l2": 0.001, "seed": 3}  # 96 training rows: 6 batches


def make(samples=120, hidden=HIDDEN, backend=None, **config):
    dataset = synthetic("moons", samples=samples, seed=1)
    net = Network(network_spec(dataset, hidden), backend, seed=4)
    return net, Trainer(net, dataset, TrainingConfig(**{**SETTINGS, **config}))


def numbers(report: Report) -> Report:
    """The report without its timings."""
    return dataclasses.replace(report, seconds=0.0, samples_per_second=0.0)


def records(trainer: Trainer) -> list[dict]:
    return [{k: v for k, v in record.items() if k != "seconds"} for record in trainer.history.records()]


def through_a_file(state: TrainerState) -> TrainerState:
    """``state`` after to_parts, json.dumps / np.savez, json.loads / np.load(allow_pickle=False), from_parts."""
    meta, arrays = state.to_parts()
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    buffer.seek(0)
    with np.load(buffer, allow_pickle=False) as loaded:
        return TrainerState.from_parts(json.loads(json.dumps(meta)), {name: loaded[name] for name in loaded.files})


def advance(trainer: Trainer, epochs: int, batches: int) -> None:
    trainer.run(epochs)
    for _ in range(batches):
        trainer.step_batch()


# ----- restore == uninterrupted ---------------------------------------------------------------
@pytest.mark.parametrize("batches", [0, 2])
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_restore_then_n_epochs_equals_n_more_epochs_of_the_original(optimizer, batches):
    net, trainer = make(optimizer=optimizer, nesterov=optimizer == "momentum")
    advance(trainer, 2, batches)
    state = trainer.state()
    reports = [numbers(r) for r in trainer.run(3)]

    net_copy, copy = make(optimizer=optimizer, nesterov=optimizer == "momentum")
    copy.restore(state)
    assert (copy.epoch, copy.cursor, len(copy.history)) == (2, batches, 0)
    assert [numbers(r) for r in copy.run(3)] == reports  # losses over the partial epoch's outputs too
    assert np.array_equal(net_copy.params, net.params)
    assert records(copy) == records(trainer)[-3:] and [r["epoch"] for r in copy.history.records()] == [3, 4, 5]
    mine, theirs = copy.optimizer.state_dict(), trainer.optimizer.state_dict()
    assert (mine["steps"], mine["settings"]) == (theirs["steps"], theirs["settings"])
    for name, slot in theirs["slots"].items():
        assert np.array_equal(mine["slots"][name], slot)


@pytest.mark.parametrize("batches", [0, 4])
def test_state_survives_a_files_round_trip_and_still_restores_exactly(batches):
    net, trainer = make()
    advance(trainer, 1, batches)
    state = through_a_file(trainer.state())
    trainer.run(2)
    net_copy, copy = make()
    copy.restore(state)
    copy.run(2)
    assert np.array_equal(net_copy.params, net.params)
    assert records(copy) == records(trainer)[-2:]


def test_restoring_into_the_trainer_itself_rewinds_it():
    net, trainer = make()
    advance(trainer, 1, 3)
    state = trainer.state()
    first = [numbers(r) for r in trainer.run(2)]
    params = net.params.copy()
    trainer.restore(state)
    assert [numbers(r) for r in trainer.run(2)] == first
    assert np.array_equal(net.params, params)


def test_a_state_is_a_read_only_copy():
    net, trainer = make()
    advance(trainer, 1, 2)
    state = trainer.state()
    saved = state.params.copy()
    trainer.run(2)
    assert np.array_equal(state.params, saved) and (state.epoch, state.cursor) == (1, 2)
    arrays = state.to_parts()[1]
    assert all(not a.flags.writeable for a in arrays.values())
    assert state.nbytes == sum(a.nbytes for a in arrays.values())
    assert sorted(arrays) == ["epoch_start.optimizer.m", "epoch_start.optimizer.v", "epoch_start.params",
                              "optimizer.m", "optimizer.v", "outputs", "params"]
    assert arrays["outputs"].shape == (32, 1) and arrays["params"].shape == (net.params.size,)
    between = trainer.state()
    assert between.epoch_start is None and between.outputs is None and between.nbytes == 3 * net.params.nbytes
    assert between.settings == {"learning_rate": 0.02, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7}


def test_changing_a_states_json_parts_does_not_change_the_trainer():
    net, trainer = make()
    net_ref, trainer_ref = make()
    advance(trainer, 1, 2)
    trainer_ref.run(2)
    state = trainer.state()
    for generators in (state.generators, state.epoch_start.generators):
        generators["shuffle"]["state"]["state"] += 1
        generators["dropout"]["layer1"]["state"]["state"] += 1
    state.epoch_start.optimizer["settings"]["learning_rate"] = 9.0
    trainer.discard_partial_epoch()
    trainer.run(1)
    assert np.array_equal(net.params, net_ref.params)


# ----- rollback: every generator goes back ----------------------------------------------------
HUGE = 1e38  # a learning rate that makes the float32 weights overflow within an epoch
@pytest.mark.parametrize("optimizer", ["adam", "momentum"])
def test_diverge_then_continue_equals_never_diverged_with_shuffling_and_dropout(optimizer):
    net, trainer = make(optimizer=optimizer)
    net_ref, trainer_ref = make(optimizer=optimizer)
    trainer.run(2)
    trainer_ref.run(5)
    trainer.set_learning_rate(HUGE)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = trainer.run_epoch()
    assert report.diverged and not report.complete and trainer.epoch == 2
    trainer.set_learning_rate(SETTINGS["learning_rate"])
    trainer.run(3)
    assert np.array_equal(net.params, net_ref.params)
    assert records(trainer) == records(trainer_ref)


def test_divergence_inside_an_epoch_rolls_back_to_its_start():
    net, trainer = make()
    net_ref, trainer_ref = make()
    advance(trainer, 1, 2)
    trainer_ref.run(3)
    trainer.set_learning_rate(HUGE)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reports = [trainer.step_batch() for _ in range(3)]  # the weights overflow float32 within three steps
    assert [bool(r.diverged) for r in reports] == [False, False, True] and trainer.cursor == 0
    trainer.set_learning_rate(SETTINGS["learning_rate"])
    trainer.run(2)
    assert np.array_equal(net.params, net_ref.params)


def test_discard_after_a_mid_epoch_restore_goes_back_to_the_epochs_start():
    net, trainer = make()
    net_ref, trainer_ref = make()
    advance(trainer, 2, 3)
    trainer_ref.run(2)
    _, copy = make()
    copy.restore(trainer.state())
    copy.discard_partial_epoch()
    assert np.array_equal(copy.network.params, net_ref.params) and (copy.epoch, copy.cursor) == (2, 0)
    copy.run(1)
    trainer_ref.run(1)
    assert np.array_equal(copy.network.params, net_ref.params)


# ----- branches -------------------------------------------------------------------------------
@pytest.mark.parametrize("change", [{"learning_rate": 0.005}, {"optimizer": "rmsprop"}, {"l2": 0.05}, {"l1": 0.01},
                                    {"batch_size": 8}])
def test_a_branch_with_changed_settings_runs_and_differs(change):
    net, trainer = make()
    trainer.run(2)
    state = trainer.state()
    trainer.run(2)
    net_branch, branch = make(**change)
    branch.restore(state)
    assert np.array_equal(net_branch.params, state.params) and branch.epoch == 2
    same_kind = branch.optimizer.name == state.optimizer["name"]
    assert branch.optimizer.steps == (state.optimizer["steps"] if same_kind else 0)
    assert branch.learning_rate == TrainingConfig(**{**SETTINGS, **change}).learning_rate
    reports = branch.run(2)
    assert all(r.complete for r in reports) and [r.epoch for r in reports] == [3, 4]
    assert not np.array_equal(net_branch.params, net.params)


def test_a_mid_epoch_state_is_refused_by_a_branch_that_batches_differently():
    _, trainer = make()
    advance(trainer, 1, 2)
    state = trainer.state()
    _, other = make(batch_size=8)
    with pytest.raises(ConfigError, match=r"inside epoch 2, .*batch_size 16 → 8"):
        other.restore(state)
    _, same_batches = make(learning_rate=0.001)  # the same batches: fine
    same_batches.restore(state)
    assert same_batches.run_epoch().complete


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"hidden": [{"type": "dense", "units": 5, "activation": "tanh"}]}, "parameters"),
    ({"hidden": [HIDDEN[0], HIDDEN[2], HIDDEN[1]]}, "Dropout at layer1, this network has it at layer2"),
    ({"samples": 140}, "training samples"),
])
def test_a_state_of_another_network_or_data_is_refused(kwargs, match):
    _, trainer = make()
    trainer.run(1)
    net, other = make(**kwargs)
    params = net.params.copy()
    with pytest.raises(ConfigError, match=match):
        other.restore(trainer.state())
    assert np.array_equal(net.params, params) and other.epoch == 0


# ----- live settings --------------------------------------------------------------------------
def test_setting_changes_are_recorded_with_their_positions_and_restored():
    _, trainer = make()
    advance(trainer, 1, 3)
    trainer.set_setting("learning_rate", 0.05)
    trainer.set_setting("beta1", 0.8)
    for bad in [("learning_rate", 0.0), ("beta1", 1.0), ("beta2", float("nan")), ("momentum", 0.5), ("epsilon", 0.1)]:
        with pytest.raises(ConfigError):
            trainer.set_setting(*bad)
    trainer.set_learning_rate(0.04)
    assert trainer.setting_changes == ((1.5, "learning_rate", 0.05), (1.5, "beta1", 0.8), (1.5, "learning_rate", 0.04))
    state = through_a_file(trainer.state())
    assert state.setting_changes == trainer.setting_changes
    _, copy = make()
    copy.restore(state)
    assert copy.setting_changes == trainer.setting_changes
    assert (copy.learning_rate, copy.optimizer.beta1) == (0.04, 0.8)
    assert numbers(copy.run_epoch()) == numbers(trainer.run_epoch())


def test_set_setting_names_what_an_optimizer_has():
    _, trainer = make(optimizer="momentum")
    with pytest.raises(ConfigError, match=r"'beta1' is not a live setting of the momentum optimizer \(it has learning_rate, momentum\)"):
        trainer.set_setting("beta1", 0.5)
    trainer.set_setting("momentum", 0.5)
    assert trainer.optimizer.momentum == 0.5 and trainer.setting_changes == ((0.0, "momentum", 0.5),)


# ----- from_parts refuses what does not fit ---------------------------------------------------
def _drop(key):
    return lambda meta, arrays: arrays.pop(key)


MUTATIONS = {
    "missing params": (_drop("params"), "missing array 'params'"),
    "missing slot": (_drop("optimizer.v"), "missing array 'optimizer.v'"),
    "missing outputs": (_drop("outputs"), "needs a 2-D array 'outputs'"),
    "extra array": (lambda meta, arrays: arrays.update(extra=np.zeros(3)), "unexpected array 'extra'"),
    "short slot": (lambda meta, arrays: arrays.update({"optimizer.m": arrays["optimizer.m"][:-1]}), "'optimizer.m' has shape"),
    "other dtype": (lambda meta, arrays: arrays.update(params=arrays["params"].astype(np.float64)), "'optimizer.m' is float32"),
    "integer params": (lambda meta, arrays: arrays.update(params=np.zeros(3, int)), "'params' is int64"),
    "outputs rows": (lambda meta, arrays: arrays.update(outputs=arrays["outputs"][:5]), "'outputs' has shape"),
    "missing key": (lambda meta, arrays: meta.pop("generators"), "missing generators"),
    "negative cursor": (lambda meta, arrays: meta.update(cursor=-1), "cursor must be a whole number"),
    "no epoch start": (lambda meta, arrays: meta.update(epoch_start=None), "needs an epoch_start object"),
    "bad config": (lambda meta, arrays: meta["config"].update(batch_size=0), "trainer state config.batch_size: expected a whole number"),
    "bad optimizer": (lambda meta, arrays: meta["optimizer"].update(name="lbfgs"), "unknown optimizer 'lbfgs'"),
    "other optimizer": (lambda meta, arrays: meta["optimizer"].update(name="sgd", settings={"learning_rate": 0.1}),
                        "the optimizer is sgd but the config says adam"),
    "bad setting": (lambda meta, arrays: meta["optimizer"]["settings"].update(beta1=2.0), "beta1 must be in"),
    "bad generator": (lambda meta, arrays: meta["generators"]["dropout"].update(layer1={"x": 1}), "dropout.layer1 is not"),
    "bad change": (lambda meta, arrays: meta.update(setting_changes=[[1.0, "lr"]]), "a setting change must be"),
}


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_from_parts_refuses_a_damaged_state_with_one_line(mutation):
    _, trainer = make()
    advance(trainer, 1, 2)
    meta, arrays = trainer.state().to_parts()
    meta, arrays = json.loads(json.dumps(meta)), dict(arrays)
    change, match = MUTATIONS[mutation]
    change(meta, arrays)
    with pytest.raises(ValueError, match=match) as info:
        TrainerState.from_parts(meta, arrays)
    assert "\n" not in str(info.value) and str(info.value).startswith("trainer state")


# ----- Dropout masks from a host generator ----------------------------------------------------
def dropout_masks(backend) -> list[np.ndarray]:
    net = Network(network_spec(synthetic("moons", samples=40, seed=0), HIDDEN), backend, seed=9)
    layer = net.layers[1]
    x = backend.asarray(np.ones((5, 8)))
    return [backend.to_host(layer.forward(x, True)) for _ in range(2)]


def test_numpy_dropout_masks_are_those_of_a_host_generator():
    backend = get_backend("numpy", "float32")
    rng = np.random.default_rng(9 * 1000 + 1)  # the network's seed × 1000 + the layer's index
    expected = [(rng.random((5, 8), dtype=np.float32) >= 0.3) / np.float32(0.7) for _ in range(2)]
    masks = dropout_masks(backend)
    for mask, want in zip(masks, expected, strict=True):
        np.testing.assert_array_equal(mask, want.astype(np.float32))
    assert 0 < (masks[0] == 0).sum() < masks[0].size


@pytest.mark.skipif(not cupy_status()[0], reason="CuPy with a CUDA device is not available here")
def test_cupy_dropout_masks_equal_numpys():
    for cpu, gpu in zip(dropout_masks(get_backend("numpy", "float32")), dropout_masks(get_backend("cupy", "float32")),
                        strict=True):
        np.testing.assert_array_equal(gpu, cpu)


@pytest.mark.skipif(not cupy_status()[0], reason="CuPy with a CUDA device is not available here")
def test_cupy_state_restores_exactly_and_matches_numpy():
    backend = get_backend("cupy", "float64")
    net, trainer = make(backend=backend)
    advance(trainer, 1, 2)
    state = through_a_file(trainer.state())
    trainer.run(2)
    net_copy, copy = make(backend=backend)
    copy.restore(state)
    copy.run(2)
    assert np.array_equal(backend.to_host(net_copy.params), backend.to_host(net.params))
    net_cpu, cpu = make(backend=get_backend("numpy", "float64"))
    cpu.restore(state)  # a GPU state goes on on the CPU (to rounding)
    cpu.run(2)
    np.testing.assert_allclose(net_cpu.params, backend.to_host(net.params), rtol=1e-9, atol=1e-12)


def test_a_networks_dropout_layers_keep_their_generator_states_in_the_state():
    net, trainer = make()
    trainer.run(1)
    generators = trainer.state().generators
    assert set(generators) == {"shuffle", "dropout"} and set(generators["dropout"]) == {"layer1"}
    assert isinstance(net.layers[1], Dropout) and generators["dropout"]["layer1"] == net.layers[1].rng_state


# ----- optimizers -----------------------------------------------------------------------------
SLOTS = {"sgd": [], "momentum": ["velocity"], "rmsprop": ["square_mean"], "adam": ["m", "v"]}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_state_dict_names_its_slots_and_loads_back(name):
    opt = make_optimizer(name, {"learning_rate": 0.1})
    opt.bind(4, np, np.float64)
    w = np.zeros(4)
    for g in ([1.0, -2.0, 3.0, 0.5], [0.5, 0.5, -1.0, 2.0]):
        opt.step(w, np.array(g))
    state = opt.state_dict()
    assert (state["name"], state["steps"], sorted(state["slots"])) == (name, 2, SLOTS[name])
    assert state["settings"]["learning_rate"] == 0.1 and json.dumps(state["settings"])
    after = w.copy()
    opt.step(after, np.ones(4))

    other = make_optimizer(name, {"learning_rate": 0.7})
    other.bind(4, np, np.float64)
    other.load_state_dict(state)
    again = w.copy()
    other.step(again, np.ones(4))
    np.testing.assert_array_equal(again, after)
    assert other.learning_rate == 0.1


def test_optimizer_load_state_dict_refuses_another_optimizer_or_size():
    adam = make_optimizer("adam", {})
    adam.bind(3, np, np.float32)
    state = adam.state_dict()
    momentum = make_optimizer("momentum", {})
    momentum.bind(3, np, np.float32)
    with pytest.raises(ValueError, match="optimizer state of 'adam' given to 'momentum'"):
        momentum.load_state_dict(state)
    bigger = make_optimizer("adam", {})
    bigger.bind(4, np, np.float32)
    with pytest.raises(ValueError, match="slot 'm' has shape"):
        bigger.load_state_dict(state)
    with pytest.raises(ValueError, match="beta1 must be in"):
        adam.load_state_dict({**state, "settings": {"beta1": 1.5}})
    assert adam.beta1 == 0.9
