"""The headless command line: ``python main.py train|predict|data|export|inspect ...``.

Every user error (bad option, an empty path, bad file, bad setting, an output that cannot
be written) prints one line on stderr and exits with status 2; nothing prints a traceback.
``train`` and ``export`` check that every output can be written before they load or train
anything, and that no output (nor the data file an exported program writes beside it) names
an input: the session file, or a data file the session's runs read. ``train --config RUN.epochlab`` continues the session file's current run from its
saved trainer state (bit for bit as if it had never stopped); ``train --config EXPERIMENT.json``
starts from the experiment's ``weights`` when it gives them (``--init`` replaces them); ``--save`` writes a session
file when its name ends in ``.epochlab``, else a model file. Ctrl-C (SIGINT) and SIGTERM mean the same: before training
starts they end the run at once; during training the current mini-batch finishes, the
partial epoch is discarded, the outputs asked for are written for the last complete epoch,
and the exit status is 130.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

import numpy as np

from .backend import BACKENDS, DTYPES, BackendUnavailable, get_backend
from .data import DataError, Dataset, a_or_an, encode_targets
from .epochlab import (
    PATH_KEYS,
    SessionFile,
    data_folder,
    dataset_fingerprint,
    is_session_path,
    load_network,
    load_session,
    load_session_dataset,
    save_session,
)
from .experiment import Experiment, apply_weights, check_split, layers_text, load_dataset, network_spec, parse_layers
from .files import FileFormatError, check_writable, load_model, save_model, write_history_csv
from .layer_types import check_layers_fit
from .layers import SpecError
from .limits import available_memory_bytes, format_bytes
from .loaders import MISSING_POLICIES, ReadImage, describe_dataset, detect_format, parse_image_size
from .loaders.npz import load_npz_inputs
from .losses import LOSSES
from .network import Network
from .optimizers import OPTIMIZERS
from .realdata import REAL_DATASETS
from .run import Marker, Run, Session
from .synthetic import SYNTHETIC
from .trainer import (
    ConfigError,
    Report,
    Trainer,
    TrainingConfig,
    check_loss_fits,
    check_targets_fit,
    check_token_ids,
    takes_token_ids,
)

if TYPE_CHECKING:
    from .export import ExportSource

DEFAULT_HIDDEN = "8:tanh,8:tanh"
DATASET_NAMES = sorted(set(SYNTHETIC) | set(REAL_DATASETS))
DATA_HELP = "data file: CSV/TSV or other delimited text (.gz too), .npz with arrays X and y, an MNIST IDX images file, or a folder with one subfolder of PNG/JPEG images per class"
USER_ERRORS = (ConfigError, SpecError, DataError, FileFormatError, BackendUnavailable, ValueError, OSError)
INTERRUPTED = 130  # the shell's status for a run ended by SIGINT (128 + 2)
INTERRUPT_SIGNALS = (signal.SIGINT, signal.SIGTERM)
DEFAULT_DTYPE = "float32"
FILE_ONLY = "--target, --labels, --image-size, --rgb, --window, --horizon and --columns"  # options that need a data file
# the options that describe an experiment: a session file's run keeps its own
EXPERIMENT_OPTIONS = ("dataset", "samples", "noise", "steps", "data", "target", "labels", "missing", "image_size", "rgb", "window",
                      "horizon", "columns", "layers",
                      "output_activation", "init", "loss", "optimizer", "lr", "batch_size", "l1", "l2", "clip_norm", "bptt_steps",
                      "val_split", "seed", "no_standardize", "no_shuffle")
EXPORTS = {"script": ("py", "a standalone NumPy training script"), "notebook": ("ipynb", "a Jupyter notebook of the same"),
           "torch": ("py", "a PyTorch training script"),
           "onnx": ("onnx", "an ONNX file of the trained network (needs the onnx package)"),
           "history": ("csv", "every epoch of the current run as CSV"), "model": ("npz", "the current weights as a model file")}


class UsageError(Exception):
    """A command line that cannot run; printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _path(text: str) -> str:
    """A path option's value: any non-empty text (an empty one would silently mean "none")."""
    if not text:
        raise argparse.ArgumentTypeError("an empty path; give a file name")
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python main.py", description="Epoch Lab: train and use networks without the window.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = commands.add_parser("train", help="train a network and report every epoch")
    source = train.add_argument_group("data and network")
    source.add_argument("--config", type=_path,
                        help="experiment JSON file (dataset, network, training, initial weights; other options override it), or a session "
                             "file RUN.epochlab whose current run continues (--epochs N: N more epochs)")
    source.add_argument("--dataset", choices=DATASET_NAMES, help="a built-in dataset (synthetic or real)")
    source.add_argument("--samples", type=int, help="samples to generate for a built-in dataset")
    source.add_argument("--noise", type=float, help="noise of a built-in dataset")
    source.add_argument("--steps", type=int, metavar="T", help="sequence length of a built-in sequence task (" +
                        ", ".join(f"{name} {info.steps}" for name, info in SYNTHETIC.items() if info.is_sequence) + " by default)")
    source.add_argument("--data", type=_path, help=DATA_HELP)
    _add_file_options(source)
    source.add_argument("--layers", help='hidden layers, e.g. "8:tanh,8:tanh", "32:relu,dropout:0.2" or '
                        '"conv:8:3:relu,maxpool:2,flatten,32:relu" (see the README); "" or none: no hidden layer')
    source.add_argument("--output-activation", choices=["linear", "sigmoid", "softmax", "tanh", "relu"], help="override the output layer's activation")
    source.add_argument("--init", type=_path, metavar="MODEL.npz",
                        help="start from the weights (and standardization) in this model file (or a session file's current ones), "
                             "not the experiment's")
    settings = train.add_argument_group("training")
    settings.add_argument("--loss", choices=LOSSES, help="default: suggested by the data")
    settings.add_argument("--optimizer", choices=OPTIMIZERS)
    settings.add_argument("--lr", type=float, help="learning rate α")
    settings.add_argument("--batch-size", type=int)
    settings.add_argument("--epochs", type=int)
    settings.add_argument("--l1", type=float)
    settings.add_argument("--l2", type=float)
    settings.add_argument("--clip-norm", type=float, metavar="C",
                          help="clip each mini-batch's gradient to a global norm of at most C (default 0: off)")
    settings.add_argument("--bptt-steps", type=int, metavar="K",
                          help="truncate backpropagation through time in recurrent layers to chunks of K steps "
                               "back from the last (default 0: through the whole sequence)")
    settings.add_argument("--val-split", type=float, help="validation fraction in [0, 1); 0: none")
    settings.add_argument("--seed", type=int)
    settings.add_argument("--no-standardize", action="store_true", help="feed raw inputs (default: standardize on the training part)")
    settings.add_argument("--no-shuffle", action="store_true", help="keep the sample order in every epoch")
    settings.add_argument("--backend", choices=BACKENDS, default="numpy")
    settings.add_argument("--dtype", choices=list(DTYPES), help="default: the experiment's (float32 unless it says), or a session file's own")
    output = train.add_argument_group("output")
    output.add_argument("--save", type=_path, metavar="MODEL.npz|RUN.epochlab",
                        help="write the trained model here, or the whole session (runs, checkpoints, state) to an .epochlab")
    output.add_argument("--history", type=_path, metavar="FILE.csv", help="write one CSV row per epoch of the run here")
    output.add_argument("--json", action="store_true", help="print one JSON object per epoch instead of the progress bar")

    predict = commands.add_parser("predict", help="print a model's outputs for every sample of a data file")
    predict.add_argument("model", type=_path, help="model file written by train --save (or a session file RUN.epochlab)")
    predict.add_argument("--data", type=_path, required=True,
                         help=".npz data file with an array X, or with --window a table read as a time series")
    series = predict.add_argument_group("a table as a time series (as the model was trained on it)")
    _add_series_options(series)
    series.add_argument("--target", metavar="COLUMN", help="with --window: the column the model forecasts (default: the "
                        "first input column)")
    series.add_argument("--missing", choices=MISSING_POLICIES, help="with --window: rows with missing values: drop them "
                        "(default; no window crosses one), or fill with the column mean / most frequent value")
    predict.add_argument("--json", action="store_true", help="print one JSON list per sample")

    data = commands.add_parser("data", help="show what a data file (or built-in dataset) holds, without training")
    data.add_argument("file", type=_path, metavar="FILE", help=DATA_HELP + "; or a built-in dataset name")
    _add_file_options(data)

    inspect = commands.add_parser("inspect", help="print one sample's forward and backward pass in the course's notation")
    inspect.add_argument("model", type=_path, help="model file written by train --save (or a session file RUN.epochlab)")
    inspect.add_argument("--data", type=_path, help=DATA_HELP + ", with its targets (default for a session file: its own data)")
    _add_file_options(inspect)
    inspect.add_argument("--sample", type=int, default=0, metavar="I", help="the sample to trace (0-based; default 0)")
    inspect.add_argument("--loss", choices=LOSSES, help="default: a session file's own, else the one the output layer suits")
    inspect.add_argument("--lr", type=float, metavar="α", help="also show W and b after one gradient-descent step on the sample")
    inspect.add_argument("--json", action="store_true", help='print {"loss": …, "layers": [{"a_prev", "z", …}]} instead')

    export = commands.add_parser("export", help="write a session file's run as a script, notebook, model or history")
    export.add_argument("session", type=_path, metavar="RUN.epochlab", help="session file written by train --save or the window")
    for name, (suffix, what) in EXPORTS.items():
        export.add_argument(f"--{name}", type=_path, metavar=f"F.{suffix}", help=f"write {what} here")
    return parser


def _add_file_options(group: argparse._ActionsContainer) -> None:
    group.add_argument("--target", metavar="COLUMN", help="the target column of a table: its name or 0-based position "
                       "(default: a column named target/label/class/y, else the last; with --window: the first input column)")
    group.add_argument("--labels", type=_path, metavar="FILE",
                       help="the labels file of an IDX images file (default: found beside it)")
    group.add_argument("--missing", choices=MISSING_POLICIES, help="rows with missing values: drop them (default), "
                       "or fill with the column mean / most frequent value")
    group.add_argument("--image-size", metavar="HxW", type=_image_size, help="resize the images of a folder, e.g. 28x28")
    group.add_argument("--rgb", action="store_true", help="read the images of a folder in colour (default: grey)")
    _add_series_options(group)


def _add_series_options(group: argparse._ActionsContainer) -> None:
    group.add_argument("--window", type=int, metavar="T", help="read a table as a time series: each sample is T consecutive "
                       "rows of the input columns, its target the target column --horizon rows after the last")
    group.add_argument("--horizon", type=int, metavar="H", help="with --window: how many rows ahead the target lies (default 1)")
    group.add_argument("--columns", type=_column_list, metavar="A,B,…", help="with --window: the input columns, names or 0-based "
                       "positions separated by commas (default: every numeric column)")


def _column_list(text: str) -> list[str]:
    columns = [part.strip() for part in text.split(",")]
    if not all(columns):
        raise argparse.ArgumentTypeError(f"{text!r} leaves a column name empty; write names or positions separated by commas")
    return columns


def _image_size(text: str) -> tuple[int, int]:
    try:
        return parse_image_size(text)
    except DataError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _file_options(args: argparse.Namespace) -> dict:
    """The dataset keys (see core.experiment.dataset_options) the file options set."""
    given = {"target": args.target, "labels": args.labels, "missing": args.missing, "image_size": args.image_size,
             "window": args.window, "horizon": args.horizon, "columns": args.columns}
    options = {k: v for k, v in given.items() if v is not None}
    if args.rgb:
        options["grey"] = False
    return options


def _training_config(args: argparse.Namespace, base: TrainingConfig) -> TrainingConfig:
    overrides = {
        "loss": args.loss, "optimizer": args.optimizer, "learning_rate": args.lr, "batch_size": args.batch_size,
        "epochs": args.epochs, "l1": args.l1, "l2": args.l2, "clip_norm": args.clip_norm,
        "bptt_steps": args.bptt_steps, "val_fraction": args.val_split, "seed": args.seed,
    }
    merged = {**base.to_json(), **{k: v for k, v in overrides.items() if v is not None}}
    if args.no_standardize:
        merged["standardize"] = False
    if args.no_shuffle:
        merged["shuffle"] = False
    return TrainingConfig.from_json(merged)


def _experiment(args: argparse.Namespace) -> tuple[Experiment, str]:
    """The experiment the options describe, and the folder relative data paths start from."""
    if args.config:
        experiment, base = Experiment.load(args.config), str(Path(args.config).parent)
    else:
        experiment, base = Experiment({"name": "spiral"}, {}), "."
    if args.data and args.dataset:
        raise UsageError("give either --dataset or --data, not both")
    if args.data:
        experiment.dataset = {"path": args.data}
        base = "."
    elif args.dataset:
        experiment.dataset = {"name": args.dataset}
    file_options = _file_options(args)
    generator_options = {"samples": args.samples, "noise": args.noise, "steps": args.steps}
    generator_options = {key: value for key, value in generator_options.items() if value is not None}
    if "inline" in experiment.dataset and (file_options or generator_options):
        raise UsageError(f"{args.config}: its data is written into it; --target, --labels, --missing, --image-size, --rgb, "
                         "--window, --horizon, --columns, --samples, --noise and --steps do not apply (give --data or --dataset "
                         "for other data)")
    if "path" not in experiment.dataset and set(file_options) - {"missing"}:
        raise UsageError(f"{FILE_ONLY} apply to --data files")
    experiment.dataset.update(file_options)
    experiment.dataset.update(generator_options)
    experiment.training = _training_config(args, experiment.training)
    if "name" in experiment.dataset:
        experiment.dataset.setdefault("seed", experiment.training.seed)
    elif "path" in experiment.dataset and experiment.training.loss and "window" not in experiment.dataset:
        # the loss decides whether float labels are classes (a time series forecasts numbers)
        experiment.dataset["task"] = "regression" if experiment.training.loss == "mse" else "classes"
    return experiment, base


def _progress(report: Report, total: int, stream: TextIO) -> None:
    width = 30
    filled = int(width * report.epoch / max(total, 1))
    val = f" val {report.val_loss:.4f}" if report.val_loss is not None else ""
    metric = f" {report.metric_name} {report.train_metric:.3f}"
    stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] epoch {report.epoch}/{total} loss {report.train_loss:.4f}{val}{metric}  ")
    stream.flush()


class _Interrupts:
    """SIGINT (Ctrl-C) and SIGTERM while ``train`` runs, both handled alike.

    Until a trainer is attached they raise KeyboardInterrupt: nothing is worth saving yet.
    Once one is (:meth:`attach`), a signal asks it to stop after the current mini-batch and
    is remembered in ``signalled``; the caller then discards the partial epoch, writes the
    outputs and exits 130. Nothing is raised in the middle of an epoch or of a write, so a
    repeated signal cannot cut a saved file or the trainer's bookkeeping short. The handlers
    that were there before come back on exit. Outside the main thread (where Python handles
    no signals) it changes nothing.
    """

    def __init__(self) -> None:
        self.trainer: Trainer | None = None
        self.signalled = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _Interrupts:
        if threading.current_thread() is threading.main_thread():
            self._previous = {number: signal.signal(number, self._handle) for number in INTERRUPT_SIGNALS}
        return self

    def __exit__(self, *exc: object) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)

    def attach(self, trainer: Trainer) -> None:
        self.trainer = trainer

    def _handle(self, signum: int, frame: object) -> None:
        if self.trainer is None:
            raise KeyboardInterrupt
        self.signalled = True
        self.trainer.request_stop()


def _check_outputs(args: argparse.Namespace) -> dict[str, str]:
    """``train``'s outputs, checked as :func:`_check_paths` does; ``--save`` may replace the
    session file ``--config`` (it is read whole before it is replaced). Returns the targets."""
    config = args.config if args.config and args.save and is_session_path(args.config) else None
    same_session = config is not None and os.path.realpath(config) == os.path.realpath(args.save)
    return _check_paths([("--save", args.save), ("--history", args.history)],
                        [("--config", None if same_session else args.config), ("--data", args.data), ("--init", args.init)])


def _check_paths(outputs: Sequence[tuple[str, str | os.PathLike | None]],
                 inputs: Sequence[tuple[str, str | os.PathLike | None]]) -> dict[str, str]:
    """Refuse, before anything is loaded or trained, an output that cannot be written, two
    outputs naming one file, or an output naming an input file (options with None are not given).
    Returns the outputs' real paths → their options (for :func:`_check_inputs`)."""
    targets: dict[str, str] = {}
    for option, path in outputs:
        if path is None:
            continue
        try:
            target = os.path.realpath(check_writable(path))
        except FileFormatError as exc:
            raise UsageError(f"{option}: {exc}") from None
        if target in targets:
            raise UsageError(f"{targets[target]} and {option} name the same file {path}")
        targets[target] = option
    _check_inputs(targets, inputs)
    return targets


def _check_inputs(targets: dict[str, str], inputs: Sequence[tuple[str, str | os.PathLike | None]]) -> None:
    """Refuse an output of ``targets`` (real path → option) that names one of the ``inputs``."""
    for option, path in inputs:
        if path and os.path.realpath(path) in targets:  # writing there would destroy an input
            raise UsageError(f"{targets[os.path.realpath(path)]} would overwrite the {option} file {path}")


def _session_inputs(path: str, saved: SessionFile) -> list[tuple[str, str]]:
    """The data files the session file ``path`` reads (those of its experiment and of every run's), as inputs."""
    files = []
    for experiment in (saved.experiment.to_json(), *(run.experiment for run in saved.session.runs)):
        dataset = experiment.get("dataset")
        for key in PATH_KEYS if isinstance(dataset, dict) else ():
            if isinstance(dataset.get(key), str) and dataset[key]:
                files.append(("session's data", str(data_folder(path) / dataset[key])))
    return files


@dataclass(eq=False)
class _Job:
    """What ``train`` trains: the trainer, the session and its run that records the epochs, the
    experiment (its data paths relative to ``base``), whether to keep checkpoints (for a
    session file), the session file read (if any) and how many epochs to run."""

    trainer: Trainer
    session: Session
    run: Run
    experiment: Experiment
    base: str
    checkpoints: bool
    epochs: int
    saved: SessionFile | None = None


def _new_job(args: argparse.Namespace, read_image: ReadImage | None) -> _Job:
    """A new run of the experiment the options describe, in a new session of its own."""
    experiment, base = _experiment(args)
    trainer = _build_trainer(args, experiment, base, read_image)
    experiment.network = trainer.network.spec()
    if args.init:  # the run started from the model file's weights, not the experiment's
        experiment.weights = None
    session = Session()
    run = session.start_run(experiment.to_json(), trainer.metric_name)
    checkpoints = bool(args.save) and is_session_path(args.save)
    if checkpoints:
        run.checkpoints.add(trainer.state())
    return _Job(trainer, session, run, experiment, base, checkpoints, trainer.config.epochs)


def _continued_job(args: argparse.Namespace, targets: dict[str, str], read_image: ReadImage | None) -> _Job:
    """The current run of the session file ``--config``, restored to its saved state; ``--epochs``
    more epochs (default: up to its experiment's epochs). ``targets``: the outputs (see
    :func:`_check_paths`), which must not name the session's data files."""
    given = [f"--{name.replace('_', '-')}" for name in EXPERIMENT_OPTIONS
             if getattr(args, name) is not None and getattr(args, name) is not False]  # --seed 0 is given too
    if given:
        raise UsageError(f"{args.config}: a saved run keeps its own data, network and settings; leave out {', '.join(given)} "
                         "(start a new run with a JSON --config to change them)")
    path = args.config
    saved = load_session(path)
    _check_inputs(targets, _session_inputs(path, saved))
    run = saved.session.current
    if run is None:
        raise UsageError(f"{path}: has no current run to continue")
    state = saved.state
    dtype = _session_dtype(saved)
    if args.dtype and args.dtype != dtype:
        raise UsageError(f"{path}: its run trains in {dtype}; leave out --dtype {args.dtype} to continue it")
    experiment = saved.experiment
    if state is not None:
        experiment.training = TrainingConfig.from_json(state.config)
    if args.epochs is not None:  # the usual range check of --epochs
        TrainingConfig.from_json({**experiment.training.to_json(), "epochs": args.epochs})
    dataset = load_session_dataset(path, saved, read_image=read_image)
    network = load_network(path, get_backend(args.backend, dtype))
    # a file without a data fingerprint (older ones) finds out here that its data changed
    source = experiment.dataset.get("path") or experiment.dataset.get("name")
    changed = f"{path}: " if saved.data_fingerprint else f"{path}: its data file {source} has changed since the session was saved; "
    try:
        trainer = Trainer(network, dataset, experiment.training)
    except ConfigError as exc:
        raise ConfigError(f"{changed}{exc}") from None
    if state is not None:
        if state.train_size != trainer.train_size:
            raise ConfigError(f"{changed}its trainer state was trained on {state.train_size} training samples, "
                              f"this data and split give {trainer.train_size}")
        if not np.array_equal(state.params, network.backend.to_host(network.params)):
            raise FileFormatError(f"{path}: its current weights (layer*.W, layer*.b) are not its trainer state's params")
        try:
            trainer.restore(state)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    epochs = args.epochs if args.epochs is not None else max(0, experiment.training.epochs - trainer.epoch)
    return _Job(trainer, saved.session, run, experiment, str(data_folder(path)), True, epochs, saved)


def _session_dtype(saved: SessionFile) -> str:
    """The dtype the session file's run trains in (its trainer state's; the default before any training)."""
    return DEFAULT_DTYPE if saved.state is None else saved.state.params.dtype.name


def _build_trainer(args: argparse.Namespace, experiment: Experiment, base: str, read_image: ReadImage | None) -> Trainer:
    config = dataclasses.replace(experiment.training, dtype=args.dtype or experiment.training.dtype)
    backend = get_backend(args.backend, config.dtype)
    dataset = load_dataset(experiment.dataset, base, read_image=read_image)
    if experiment.dataset.get("task") == "classes":
        _check_labels_are_classes(dataset, config.loss)
    if args.init:
        network = load_model(args.init, backend)
        _check_init_matches(args, network.spec())
    else:
        spec = experiment.network
        if args.layers is not None or args.output_activation or not spec:
            if args.layers is not None:
                hidden = parse_layers(args.layers)
            else:
                hidden = spec["layers"][:-1] if spec else parse_layers(DEFAULT_HIDDEN)
            check_layers_fit(dataset.sample_shape, hidden)
            spec = network_spec(dataset, hidden, args.output_activation)
        network = Network(spec, backend, seed=config.seed)
        if experiment.weights is not None:
            try:
                apply_weights(network, experiment.weights)
            except ConfigError as exc:
                raise ConfigError(f"{args.config}: {exc}") from None
    check_split(dataset, config)
    return Trainer(network, dataset, config)


def _check_init_matches(args: argparse.Namespace, spec: dict) -> None:
    """``--layers`` and ``--output-activation`` given with ``--init`` must describe the
    network of the model file (its weights are used as they are), not silently be ignored."""
    *hidden, head = spec["layers"]
    differs = args.output_activation and args.output_activation != head.get("activation")
    if args.layers is not None:
        asked = parse_layers(args.layers)
        differs = differs or len(asked) != len(hidden) or any(
            layer.get(key) != value for want, layer in zip(asked, hidden, strict=False)
            for key, value in want.items() if key != "initializer")
    if differs:
        shown = layers_text(hidden)
        raise UsageError(f"{args.init}: its network (hidden layers {shown}, {head.get('activation')} output) is not the one "
                         "--layers / --output-activation ask for; leave them out with --init")


def _check_labels_are_classes(dataset: Dataset, loss: str) -> None:
    """A cross-entropy ``loss`` made the target of a data file classes: refuse when its
    values are continuous numbers (class names such as "0.37"), not labels."""
    fractional = [name for name in dataset.class_names if _is_fraction(name)]
    if fractional:
        raise UsageError(f"--loss {loss} needs class labels, but the target holds {len(dataset.class_names)} different "
                         f"numbers such as {fractional[0]}: it is continuous; use --loss mse (regression)")


def _is_fraction(text: str) -> bool:
    try:
        value = float(text)
    except ValueError:
        return False
    return math.isfinite(value) and value != round(value)


def _train(job: _Job, interrupts: _Interrupts, on_report: Callable[[Report], None]) -> Report | None:
    """Run up to ``job.epochs`` epochs, handing each finished one (complete or diverged) to
    ``on_report``; stop on divergence or a signal. Returns the last one handed on. After a
    signal the network and optimizer are those of the last complete epoch."""
    last, trainer = None, job.trainer
    for _ in range(job.epochs):
        if interrupts.signalled:
            break
        report = trainer.run_epoch()
        if report.stopped:
            break
        on_report(report)
        last = report
        if report.diverged:
            break
    if interrupts.signalled:
        trainer.discard_partial_epoch()
    return last


def cmd_train(args: argparse.Namespace, read_image: ReadImage | None = None) -> int:
    targets = _check_outputs(args)
    with _Interrupts() as interrupts:
        continued = args.config and is_session_path(args.config)
        job = _continued_job(args, targets, read_image) if continued else _new_job(args, read_image)
        trainer, first = job.trainer, job.trainer.epoch
        total = first + job.epochs
        interactive = not args.json and sys.stderr.isatty()

        def on_report(report: Report) -> None:
            _record(job, report)
            if args.json:
                print(json.dumps(_finite_or_none(report.to_json())), flush=True)
            elif interactive:
                _progress(report, total, sys.stderr)

        interrupts.attach(trainer)
        last = _train(job, interrupts, on_report)
        if interactive:
            sys.stderr.write("\n")
        if interrupts.signalled and trainer.epoch == first:  # no complete epoch to keep
            print("interrupted before the first epoch finished; nothing written", file=sys.stderr)
            return INTERRUPTED
        written = _write_outputs(args, job)
        if interrupts.signalled:  # still inside: a repeated signal cannot cut this line short
            saved = f"; wrote {' and '.join(written)}" if written else ""
            print(f"interrupted after epoch {trainer.epoch}{saved}", file=sys.stderr)
            return INTERRUPTED
    if last is not None and last.diverged:
        print(f"training stopped: {last.diverged}", file=sys.stderr)
        return 1
    if not args.json and last is not None:
        val = f", validation loss {last.val_loss:.4f} {last.metric_name} {last.val_metric:.4f}" if last.val_loss is not None else ""
        print(f"epoch {last.epoch}: training loss {last.train_loss:.4f} {last.metric_name} {last.train_metric:.4f}{val}")
    return 0


def _record(job: _Job, report: Report) -> None:
    """Keep a finished epoch in the run: a complete one in its record (and a checkpoint when one
    is due), a divergence as a marker."""
    run, trainer = job.run, job.trainer
    if report.complete:
        run.record.append_report(report)
        if job.checkpoints and run.checkpoints.due(trainer.epoch):
            run.checkpoints.add(trainer.state())
    elif report.diverged:
        run.markers.append(Marker(float(trainer.epoch), report.diverged, "diverged"))


def _write_outputs(args: argparse.Namespace, job: _Job) -> list[str]:
    """Write the history (every epoch of the run) and the model or session file asked for;
    return their paths."""
    written = []
    if args.history:
        write_history_csv(args.history, job.session.records(job.run))
        written.append(args.history)
    if args.save and is_session_path(args.save):
        state = job.trainer.state()
        job.run.checkpoints.add(state)
        window = job.saved.window if job.saved else {}
        fingerprint = job.saved.data_fingerprint if job.saved and job.saved.data_fingerprint else None
        save_session(args.save, SessionFile(job.experiment, job.session, state, window,
                                            fingerprint or dataset_fingerprint(job.trainer.dataset)),
                     job.trainer.network, data_folder=job.base)
        written.append(args.save)
    elif args.save:
        save_model(args.save, job.trainer.network)
        written.append(args.save)
    return written


def _finite_or_none(record: dict) -> dict:
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in record.items()}


def cmd_export(args: argparse.Namespace, read_image: ReadImage | None = None) -> int:
    """Write what the session file ``args.session`` holds in the forms asked for (see EXPORTS)."""
    from . import export  # imported when used: train and predict start without it
    from .export.source import data_file_for

    asked = [(name, getattr(args, name)) for name in EXPORTS if getattr(args, name)]
    if not asked:
        raise UsageError(f"say what to export: {', '.join(f'--{name}' for name in EXPORTS)}")
    if not is_session_path(args.session):
        raise UsageError(f"{args.session}: export reads an Epoch Lab session file (.epochlab); "
                         "write one with train --save RUN.epochlab or the window's File ▸ Save")
    programs = {"script": export.write_numpy_script, "notebook": export.write_notebook, "torch": export.write_torch_script}
    derived = [(f"--{name}'s data file", data_file_for(path)) for name, path in asked if name in programs]
    targets = _check_paths([(f"--{name}", path) for name, path in asked] + derived, [("session", args.session)])
    saved = load_session(args.session)
    _check_inputs(targets, _session_inputs(args.session, saved))
    run = saved.session.current
    if run is None:
        raise UsageError(f"{args.session}: has no current run to export")
    network = load_network(args.session, get_backend("numpy", _session_dtype(saved)))
    source = _export_source(args.session, saved, run, network, read_image) if set(programs) & dict(asked).keys() else None
    for name, path in asked:
        if name == "history":
            write_history_csv(path, saved.session.records(run))
        elif name == "model":
            save_model(path, network)
        elif name == "onnx":
            export.write_onnx(network, path)
        else:
            programs[name](source, path)
        print(f"wrote {path}", file=sys.stderr)
    return 0


def _export_source(path: str, saved: SessionFile, run: Run, network: Network, read_image: ReadImage | None) -> ExportSource:
    """The exported programs' starting point: ``run`` from its initial weights (its epoch-0
    checkpoint) on its data, with its settings and the live changes it made to them (as its
    latest state records them), for the epochs it has trained."""
    from .export import ExportSource
    from .export.source import initial_state  # see cmd_export

    try:
        initial_state(run)  # refused before the data is read
    except ValueError as exc:
        raise UsageError(f"{path}: its current run: {exc}") from None
    dataset = load_session_dataset(path, saved, read_image=read_image)
    return ExportSource.of_run(network, run, dataset, saved.state)


def cmd_predict(args: argparse.Namespace) -> int:
    network = load_model(args.model)
    X, sample_shape = _predicted_inputs(args)
    _check_inputs_fit_model(network.input_shape, X.shape[1], sample_shape, args.data, tokens=takes_token_ids(network),
                            series=args.window is not None)
    check_token_ids(network, X)
    _check_fits_network(X, network, args.data)
    with np.errstate(over="ignore", invalid="ignore"):
        outputs = network.predict(X)
    finite = np.isfinite(outputs).all(axis=1)
    if not finite.all():
        raise UsageError(f"{args.data}: the model's outputs overflow for sample {int(np.argmin(finite))} (0-based): "
                         "its inputs are far larger than the data the model was trained on")
    for row in outputs:
        print(json.dumps([float(v) for v in row]) if args.json else " ".join(f"{v:.6g}" for v in row))
    return 0


def _predicted_inputs(args: argparse.Namespace) -> tuple[np.ndarray, tuple[int, ...]]:
    """(X (m, n), sample shape) of ``args.data``: an .npz file's X, or with --window the
    windows (m, T·F) of a table read as a time series, (T, F)."""
    series = {"window": args.window, "horizon": args.horizon, "columns": args.columns, "target": args.target,
              "missing": args.missing}
    if args.window is None:
        given = [f"--{name}" for name, value in series.items() if value is not None]
        if given:
            raise UsageError(f"{', '.join(given)} apply with --window (a table read as a time series)")
        if detect_format(args.data) == "table":
            raise UsageError(f"{args.data}: a table; to predict the windows of a time series give --window T (and --columns, "
                             "--horizon, --target as the model was trained); otherwise give an .npz file with an array X")
        return load_npz_inputs(args.data)
    if detect_format(args.data) != "table":
        raise UsageError(f"{args.data}: --window reads a table (CSV, TSV, …) as a time series; this is not one")
    dataset = load_dataset({"path": args.data, **{k: v for k, v in series.items() if v is not None}}, ".")
    return dataset.X, dataset.sample_shape


def _check_inputs_fit_model(input_shape: tuple[int, ...], features: int, sample_shape: tuple[int, ...], path: str, *,
                            tokens: bool = False, series: bool = False) -> None:
    """Refuse inputs of ``features`` values a sample (images or sequences of ``sample_shape``)
    that the model's ``input_shape`` does not take: it takes its own image or sequence shape,
    or the same number of values flattened. ``tokens``: the model takes token ids (its first
    layer is an Embedding); ``series``: the inputs are the windows of a table."""
    if math.prod(input_shape) == features and (len(sample_shape) == 1 or sample_shape == input_shape
                                               or len(input_shape) == 1):
        return
    words = _sample_words(sample_shape)
    held = f"its windows are {words}" if series else f"X holds {words} per sample"
    hint = ": give the --window and --columns the model was trained with" if series else ""
    raise UsageError(f"{path}: {held} but the model takes {_sample_words(input_shape, tokens=tokens)}{hint}")


def _sample_words(shape: tuple[int, ...], *, tokens: bool = False) -> str:
    """``8×8×1 images``, ``sequences of 20 steps × 1 feature``, ``32 token steps`` (``tokens``)
    or ``64 features``."""
    if len(shape) == 3:
        return "×".join(map(str, shape)) + " images"
    if len(shape) == 2:
        return f"sequences of {shape[0]} steps × {shape[1]} feature{'s' if shape[1] != 1 else ''}"
    if tokens:
        return f"{shape[0]} token step{'s' if shape[0] != 1 else ''} (ids)"
    return f"{shape[0]} features"


def _check_fits_network(X: np.ndarray, network: Network, path: str) -> None:
    """Refuse inputs ``X`` (m, n) that are not finite once standardized by the model and cast
    to its dtype, naming the first such sample and feature."""
    dtype = np.dtype(network.backend.dtype)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        fed = (network.preprocess.apply(X) if network.preprocess else X).astype(dtype)
    finite = np.isfinite(fed)
    if finite.all():
        return
    sample, feature = (int(i[0]) for i in np.nonzero(~finite))
    how = " once standardized by the model" if network.preprocess else ""
    raise UsageError(f"{path}: sample {sample}, feature {feature + 1} ({X[sample, feature]:.3g}) is beyond what {dtype.name} "
                     f"holds{how} ({float(np.finfo(dtype).max):.3g})")


def cmd_data(args: argparse.Namespace, read_image: ReadImage | None = None) -> int:
    """Print what ``args.file`` would load as: rows, features, task, classes, missing values."""
    file_options = _file_options(args)
    if not Path(args.file).exists() and args.file in DATASET_NAMES:
        if set(file_options) - {"missing"}:
            raise UsageError(f"{FILE_ONLY} apply to data files, not built-in datasets")
        choice = {"name": args.file, **file_options}
    else:
        choice = {"path": args.file, **file_options}
    dataset = load_dataset(choice, read_image=read_image)
    for line in describe_dataset(dataset):
        print(line)
    return 0


def cmd_inspect(args: argparse.Namespace, read_image: ReadImage | None = None) -> int:
    """Print the trace (core.trace) of sample ``args.sample`` of ``args.data`` through the model,
    in float64 whatever the model's dtype; with ``--lr``, the weights after one step on it."""
    from .trace import default_loss, numbers_text, trace, trace_lines  # imported when used, as export is

    if args.lr is not None and not (math.isfinite(args.lr) and args.lr >= 0):
        raise UsageError(f"--lr must be a finite number ≥ 0, got {args.lr:g}")
    network = load_model(args.model, get_backend("numpy", "float64"))
    if not network.is_dense:
        other = next(layer for layer in network.layers if layer.kind not in ("dense", "dropout"))
        raise UsageError(f"{args.model}: inspect traces networks of dense and dropout layers; this model has "
                         f"{a_or_an(other.describe())} layer")
    loss = args.loss or _session_loss(args.model) or default_loss(network)
    check_loss_fits(loss, network.output_activation, network.output_shape[0])
    dataset, source = _inspected_data(args, read_image)
    if (dataset.n_features,) != network.input_shape:
        raise UsageError(f"{source}: has {dataset.n_features} features per sample but the model takes {network.input_shape[0]}")
    check_targets_fit(loss, dataset)
    if not 0 <= args.sample < dataset.n_samples:
        raise UsageError(f"--sample {args.sample} is out of range: {source} has samples 0 to {dataset.n_samples - 1}")
    targets = encode_targets(dataset, network.output_shape[0])
    _check_fits_network(dataset.X, network, source)
    row = slice(args.sample, args.sample + 1)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        result = trace(network, dataset.X[row], targets[row], loss)
    if not result.finite:
        raise UsageError(f"{source}: sample {args.sample} overflows the model (its forward or backward pass is not finite "
                         "even in float64): its inputs are far larger than the data the model was trained on")
    if args.json:
        print(json.dumps(result.to_json(args.lr)))
    else:
        print(f"sample {args.sample} of {source}: x = {numbers_text(dataset.X[args.sample])}, "
              f"y = {numbers_text(targets[args.sample])}")
        for line in trace_lines(result, args.lr, standardized=network.preprocess is not None):
            print(line)
    return 0


def _inspected_data(args: argparse.Namespace, read_image: ReadImage | None) -> tuple[Dataset, str]:
    """The data ``inspect`` traces and what to call it: ``--data``, else a session file's own data."""
    if args.data is not None:
        return load_dataset({"path": args.data, **_file_options(args)}, read_image=read_image), args.data
    if not is_session_path(args.model):
        raise UsageError(f"{args.model}: a model file holds no data: give --data FILE (a session file's own data is used)")
    return load_session_dataset(args.model, load_session(args.model), read_image=read_image), f"{args.model}'s data"


def _session_loss(path: str) -> str | None:
    """The loss a session file's current run trains with (None for a model file, or one left to the data)."""
    if not is_session_path(path):
        return None
    saved = load_session(path)
    config = saved.state.config if saved.state is not None else saved.experiment.training.to_json()
    return config.get("loss") or None


def main(argv: Sequence[str] | None = None, read_image: ReadImage | None = None) -> int:
    """Run the command line; return the exit status (2 for any user error).

    ``read_image`` decodes images for image folders (core never imports Qt; app/main.py
    passes app.image_reader.read_image).
    """
    try:
        args = build_parser().parse_args(argv)
        if args.command == "predict":
            return cmd_predict(args)
        command = {"train": cmd_train, "data": cmd_data, "export": cmd_export, "inspect": cmd_inspect}[args.command]
        return command(args, read_image)
    except (UsageError, *USER_ERRORS) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except MemoryError as exc:  # a limit the checks before allocating could not see
        need = f" ({str(exc).splitlines()[0]})" if str(exc) else ""
        print(f"error: not enough memory{need}; {format_bytes(available_memory_bytes())} are available", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return INTERRUPTED
