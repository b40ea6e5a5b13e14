"""What an export needs to reproduce a run, and the data file the exported programs load.

An :class:`ExportSource` is a run's starting point: the network spec, dtype and seed, its
initial parameters (epoch 0), its input standardization, the training settings, the data
and how many epochs to train. :func:`write_data_file` writes what the exported NumPy script,
notebook and PyTorch script load beside them (``<name>_data.npz``, read without pickles):

    ``X``          (m, n) float64 raw inputs, as the dataset holds them
    ``Y``          (m, k) float64 targets encoded as the output layer gives them
    ``W1``, ``b1``, …  each dense layer's initial weights (n[l], n[l-1]) and biases (n[l],),
                   numbered 1…L in the course's notation, in the network's dtype
    ``mean``, ``std``  (n,) the standardization, only when the run's was not fitted on its
                   own training part (a model file's, say): the programs fit it otherwise
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..backend import get_backend
from ..data import Dataset, a_or_an, encode_targets, suggested_head
from ..files import atomic_write
from ..layers import Dense, Dropout, SpecError
from ..network import Network, Preprocess, layer_seed
from ..trainer import TrainingConfig, split_indices, time_split_gap

if TYPE_CHECKING:
    from ..run import Run
    from ..trainer_state import ParameterEdit, TrainerState

SETTING_CONSTANTS = {"learning_rate": "LEARNING_RATE", "momentum": "MOMENTUM", "beta1": "BETA1", "beta2": "BETA2",
                     "rho": "RHO"}  # a live setting → the exported programs' constant for it


@dataclass(frozen=True)
class DenseStep:
    """Dense layer ``number`` (1…L) of the course's notation: n[l] units, activation g[l], and
    the Dropout layers applied to its output A[l] as (rate, generator seed), in order."""

    number: int
    units: int
    activation: str
    slope: float
    dropouts: tuple[tuple[float, int], ...]


def check_exportable(network: Network) -> None:
    """SpecError unless every layer of ``network`` is a dense or dropout layer: the exported
    programs and the ONNX model are written for those."""
    other = next((layer for layer in network.layers if not isinstance(layer, (Dense, Dropout))), None)
    if other is not None:
        raise SpecError(f"exports cover networks of dense and dropout layers; this one has {a_or_an(other.describe())} layer "
                        "(save the model as .npz instead)")


@dataclass(frozen=True, eq=False)
class ExportSource:
    """A run from its start: everything an exported program needs to train it again.

    ``initial`` is the flat (P,) parameter vector at epoch 0 in the network's layout;
    ``preprocess`` the input standardization the run used (None: raw inputs);
    ``setting_changes`` the live setting changes the run made, as (epochs done, mini-batches
    done of the next epoch, setting name, value), each from that mini-batch on;
    ``parameter_edits`` the numbers set by hand (:class:`~core.trainer_state.ParameterEdit`),
    which the programs set again before that mini-batch.
    """

    spec: dict
    dtype: str
    seed: int
    initial: np.ndarray
    preprocess: Preprocess | None
    config: TrainingConfig
    dataset: Dataset
    epochs: int
    setting_changes: tuple[tuple[int, int, str, float], ...] = ()
    parameter_edits: tuple[ParameterEdit, ...] = ()

    @classmethod
    def of(cls, network: Network, initial: np.ndarray, dataset: Dataset, config: TrainingConfig, epochs: int, *,
           setting_changes: tuple[tuple[float, str, float], ...] = (),
           parameter_edits: tuple[ParameterEdit, ...] = ()) -> ExportSource:
        """The run of ``network`` (its spec, dtype, seed and standardization) from ``initial``
        (P,) on ``dataset`` with ``config`` for ``epochs`` epochs, the live ``setting_changes``
        it made (``Trainer.setting_changes``: position in epochs done, name, value) and its hand
        ``parameter_edits`` (``Trainer.parameter_edits``). A network without a standardization gets
        the one its trainer would fit (``config.standardize``), so a network exported before it
        trains exports the same run."""
        check_exportable(network)
        if config.clip_norm:
            raise SpecError(f"the exported programs do not clip gradients; this run clips them to a norm of {config.clip_norm:g} "
                            "(export a run with clip_norm 0, or save the model as .npz)")
        if config.val_fraction > 0 and time_split_gap(dataset) is not None:
            raise SpecError("the exported programs split the samples at random; this run's forecasting windows are split by "
                            "time (the last windows validate, apart from those the training part sees): export a run with "
                            "no validation part (val_fraction 0), or save the model as .npz")
        initial = np.array(network.backend.to_host(initial), dtype=network.backend.dtype)
        if initial.shape != (network.parameter_count,):
            raise ValueError(f"the initial parameters have shape {initial.shape}, the network has {network.parameter_count}")
        preprocess = network.preprocess
        train_rows = split_indices(dataset, config.val_fraction, config.seed)[0]
        if preprocess is None and config.standardize:
            preprocess = Preprocess.fit(dataset.X[train_rows])
        batches = math.ceil(len(train_rows) / config.batch_size)
        changes = tuple((int(position), round((position - int(position)) * batches), name, float(value))
                        for position, name, value in setting_changes)
        for edit in parameter_edits:
            if edit.name not in network.layers[edit.layer].params:
                raise ValueError(f"the hand edit of {edit.name} at layer {edit.layer + 1} is of a layer without it")
        return cls(network.spec(), np.dtype(network.backend.dtype).name, network.seed, initial, preprocess,
                   config, dataset, int(epochs), changes, tuple(parameter_edits))

    # ----- what the programs are made of -------------------------------------------------------
    @property
    def loss(self) -> str:
        return self.config.loss or suggested_head(self.dataset.task, self.dataset.n_outputs)[1]

    @property
    def metric(self) -> str:
        """"r2" for regression, else "accuracy" (the key suffix of the per-epoch JSON)."""
        return "r2" if self.dataset.task == "regression" else "accuracy"

    def dense_steps(self) -> list[DenseStep]:
        """The dense layers in order with the Dropout layers after each; a Dropout before the
        first dense layer belongs to step 0 (the inputs A[0]). SpecError for a Dropout after
        the output layer: the output's fused gradient would pass through it."""
        steps = [DenseStep(0, self.spec["input_shape"][0], "", 0.0, ())]
        for index, layer in enumerate(self.spec["layers"]):
            if layer["type"] == "dense":
                steps.append(DenseStep(len(steps), layer["units"], layer.get("activation", "linear"),
                                       float(layer.get("slope", 0.01)), ()))
            elif layer["rate"] > 0:  # a rate of 0 draws no mask: the layer does nothing
                last = steps[-1]
                dropout = (float(layer["rate"]), layer_seed(self.seed, index))
                steps[-1] = DenseStep(last.number, last.units, last.activation, last.slope, (*last.dropouts, dropout))
        if steps[-1].dropouts:
            raise SpecError("a Dropout layer after the output layer cannot be exported: move it before the output layer")
        return steps

    @classmethod
    def of_run(cls, network: Network, run: Run, dataset: Dataset, latest: TrainerState | None) -> ExportSource:
        """The start of ``run`` (a core.run.Run): its epoch-0 checkpoint on ``dataset`` with the
        settings of its experiment and the live changes its ``latest`` state (or its latest
        checkpoint) records, for the epochs it has trained; ``network`` gives the spec, dtype,
        seed and standardization. ValueError for a run without its initial weights, such as a
        branch (its programs would have to replay its parent's run up to the branch)."""
        from ..experiment import Experiment  # core.experiment reaches the loaders; only an export needs it

        initial = initial_state(run)
        config = Experiment.from_json(run.experiment).training
        latest = latest if latest is not None else run.checkpoints.latest()
        return cls.of(network, initial.params, dataset, config, run.epochs or config.epochs,
                      setting_changes=latest.setting_changes, parameter_edits=latest.parameter_edits)

    def changes_by_batch(self) -> dict[tuple[int, int], dict[str, float]]:
        """The live setting changes by (epochs done, mini-batch of the next epoch), as the
        programs' constants and their new values."""
        changes: dict[tuple[int, int], dict[str, float]] = {}
        for epoch, batch, name, value in self.setting_changes:
            changes.setdefault((epoch, batch), {})[SETTING_CONSTANTS[name]] = value
        return changes

    def edits_by_batch(self, bias_column: bool) -> dict[tuple[int, int], list[tuple[str, int, tuple[int, ...], float]]]:
        """The hand edits by (epochs done, mini-batch of the next epoch), each as (array "W" or
        "b", dense layer number l (1…L), index, value): W's index (unit, input); b's (unit, 0)
        when ``bias_column`` (the NumPy program's b[l] is (n[l], 1)), else (unit,). A value is
        written with the fewest digits that give it back in the run's dtype (0.9, not 0.8999999761581421)."""
        numbers = {index: number for number, index in enumerate(
            (i for i, layer in enumerate(self.spec["layers"]) if layer["type"] == "dense"), start=1)}
        dtype = np.dtype(self.dtype).type
        edits: dict[tuple[int, int], list[tuple[str, int, tuple[int, ...], float]]] = {}
        for edit in self.parameter_edits:
            index = (*edit.index, 0) if edit.name == "b" and bias_column else tuple(edit.index)
            value = float(str(dtype(edit.value)))
            edits.setdefault((edit.epoch, edit.batch), []).append((edit.name, numbers[edit.layer], index, value))
        return edits

    def changed_constants(self) -> list[str]:
        """The constants the live setting changes set, in SETTING_CONSTANTS' order."""
        names = {name for *_, name, _ in self.setting_changes}
        return [constant for setting, constant in SETTING_CONSTANTS.items() if setting in names]

    def split(self) -> tuple[np.ndarray, np.ndarray]:
        """(train, validation) row indices, as the trainer splits the data."""
        return split_indices(self.dataset, self.config.val_fraction, self.config.seed)

    def fitted_standardization(self) -> bool:
        """Whether the run's standardization is the one fitted on its own training part (the
        programs then fit it themselves); False for raw inputs or a standardization given."""
        if self.preprocess is None:
            return False
        fitted = Preprocess.fit(self.dataset.X[self.split()[0]])
        return np.array_equal(fitted.mean, self.preprocess.mean) and np.array_equal(fitted.std, self.preprocess.std)

    def initial_layers(self) -> list[dict[str, np.ndarray]]:
        """Each layer's initial parameters, e.g. [{"W": (8, 2), "b": (8,)}, {}, …] in spec order."""
        network = Network(self.spec, get_backend("numpy", self.dtype), seed=self.seed)
        network.params[...] = self.initial
        return network.parameters_by_layer()

    def data_arrays(self) -> dict[str, np.ndarray]:
        """The data file's arrays (see the module docstring)."""
        n_outputs = self.dense_steps()[-1].units
        arrays = {"X": self.dataset.X.astype(np.float64), "Y": encode_targets(self.dataset, n_outputs)}
        dense = [p for p in self.initial_layers() if "W" in p]
        for number, params in enumerate(dense, start=1):
            arrays[f"W{number}"], arrays[f"b{number}"] = params["W"], params["b"]
        if self.preprocess is not None and not self.fitted_standardization():
            arrays["mean"], arrays["std"] = self.preprocess.mean, self.preprocess.std
        return arrays


def initial_state(run: Run) -> TrainerState:
    """``run``'s state at epoch 0, where the exported programs start; ValueError for a run
    without one, such as a branch (its programs would have to replay its parent's run)."""
    initial = run.checkpoints.get(0)
    if initial is None:
        where = f"a branch from epoch {run.branch_epoch}" if run.parent is not None else "a run without its initial weights"
        raise ValueError(f"{run.name} is {where}; the exported programs train from epoch 0, so export the run it started from")
    return initial


def data_file_for(path: str | os.PathLike) -> Path:
    """The data file an exported program at ``path`` loads: ``<stem>_data.npz`` beside it."""
    path = Path(path)
    return path.with_name(f"{path.stem}_data.npz")


def write_data_file(source: ExportSource, path: str | os.PathLike) -> Path:
    """Write the data file of the program at ``path`` (atomically); return its path."""
    target = data_file_for(path)
    arrays = source.data_arrays()
    atomic_write(target, lambda f: np.savez(f, **arrays))
    return target


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; return the path."""
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))
    return Path(path)
