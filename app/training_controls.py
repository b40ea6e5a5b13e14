"""The Training tab: optimizer, mini-batches, epochs target, penalties, seed, backend and precision.

Two kinds of change leave this panel. ``liveSettingChanged(name, value)`` carries an
optimizer setting that applies at the next mini-batch of the running training (momentum,
β₁, β₂, ρ; the learning rate lives in the run toolbar); ``targetChanged`` the epochs
target; everything else needs a fresh run and emits ``settingsChanged``.

The window shows only settings its boxes can hold: :meth:`TrainingSettings.check_config`
refuses (ConfigError naming the key) a value beyond a box's range, which the box would
otherwise clamp silently, before anything is shown.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QSpinBox, QVBoxLayout, QWidget

from core.backend import DTYPES, cupy_status
from core.trainer import ConfigError, TrainingConfig

from .accessibility import describe
from .widgets import LogSpinBox, hint_label, shrinking

OPTIMIZER_TITLES = {"sgd": "SGD", "momentum": "SGD with momentum", "rmsprop": "RMSprop", "adam": "Adam"}
OPTIMIZER_SETTINGS = {"sgd": (), "momentum": ("momentum", "nesterov"), "rmsprop": ("rho",), "adam": ("beta1", "beta2")}
BACKENDS = (("numpy", "NumPy (CPU)"), ("cupy", "CuPy (CUDA GPU)"))
PRECISION_TITLES = {"float32": "float32 (fast)", "float64": "float64 (exact, as hand calculations)"}  # by core.backend.DTYPES name


def check_box_holds(key: str, value: float, box: QSpinBox | QDoubleSpinBox) -> None:
    """Raise ConfigError when ``value`` of the setting ``key`` (``training.seed``) lies beyond
    the range of ``box``, which would clamp it."""
    if not box.minimum() <= value <= box.maximum():
        low, high, given = (f"{v:,}" if isinstance(v, int) else f"{v:g}" for v in (box.minimum(), box.maximum(), value))
        raise ConfigError(f"{key}: {given} is beyond what the window can set ({low} to {high})")


def _fraction_spin(name: str, title: str, tooltip: str) -> QDoubleSpinBox:
    """A number box for a decay rate in [0, 1), with its accessible name ``title``."""
    spin = QDoubleSpinBox()
    spin.setObjectName(name)
    spin.setRange(0.0, 0.9999)
    spin.setDecimals(4)
    spin.setSingleStep(0.01)
    spin.setKeyboardTracking(False)
    describe(spin, title, tooltip)
    return spin


class TrainingSettings(QWidget):
    """Form for the training settings the run toolbar does not hold."""

    settingsChanged = Signal()  # a setting that needs a fresh run changed
    liveSettingChanged = Signal(str, float)  # optimizer setting name, new value
    targetChanged = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.optimizer = QComboBox()
        self.optimizer.setObjectName("optimizerCombo")
        for name, title in OPTIMIZER_TITLES.items():
            self.optimizer.addItem(title, name)
        self.optimizer.setAccessibleName("Optimizer")  # its tooltip shows the chosen method's update rule
        self.momentum = _fraction_spin("momentumSpin", "Momentum", "μ: how much of the previous step each update keeps (changeable while training)")
        self.nesterov = QCheckBox("Nesterov look-ahead")
        self.nesterov.setObjectName("nesterovCheck")
        describe(self.nesterov, "Nesterov look-ahead", "Take the gradient where the momentum step lands, not where the weights are")
        self.beta1 = _fraction_spin("beta1Spin", "Beta 1", "β₁: decay of the running mean of gradients (changeable while training)")
        self.beta2 = _fraction_spin("beta2Spin", "Beta 2", "β₂: decay of the running mean of squared gradients (changeable while training)")
        self.rho = _fraction_spin("rhoSpin", "Rho", "ρ: decay of the running mean of squared gradients (changeable while training)")
        optimizer_box = QGroupBox("Optimizer")
        self._optimizer_form = QFormLayout(optimizer_box)
        self._optimizer_form.addRow("Method", self.optimizer)
        self._optimizer_form.addRow("Momentum μ", self.momentum)
        self._optimizer_form.addRow("", self.nesterov)
        self._optimizer_form.addRow("β₁", self.beta1)
        self._optimizer_form.addRow("β₂", self.beta2)
        self._optimizer_form.addRow("ρ", self.rho)
        self._optimizer_form.addRow(hint_label("The learning rate α is in the toolbar: change it while training and watch the loss."))

        self.batch_size = QSpinBox()
        self.batch_size.setObjectName("batchSizeSpin")
        self.batch_size.setRange(1, 1_000_000)
        describe(self.batch_size, "Batch size", "Samples per mini-batch: one weight update per mini-batch")
        self.batches_hint = hint_label()
        self.epochs = QSpinBox()
        self.epochs.setObjectName("epochsSpin")
        self.epochs.setRange(1, 10_000_000)
        self.epochs.setSingleStep(50)
        describe(self.epochs, "Epochs target", "Play stops when training reaches this many epochs")
        self.shuffle = QCheckBox("Shuffle the samples every epoch")
        self.shuffle.setObjectName("shuffleCheck")
        describe(self.shuffle, "Shuffle every epoch", "Draw the mini-batches in a new random order each epoch (same seed, same orders)")
        batches_box = QGroupBox("Mini-batches and epochs")
        batches_form = QFormLayout(batches_box)
        batches_form.addRow("Batch size", self.batch_size)
        batches_form.addRow(self.batches_hint)
        batches_form.addRow("Epochs target", self.epochs)
        batches_form.addRow(self.shuffle)

        self.l1 = LogSpinBox(0.0, 10.0, 0.0, smallest_positive=1e-5)
        self.l1.setObjectName("l1Spin")
        describe(self.l1, "L1 penalty", "L1 penalty λ₁·Σ|w| on the weights (not the biases)")
        self.l2 = LogSpinBox(0.0, 10.0, 0.0, smallest_positive=1e-5)
        self.l2.setObjectName("l2Spin")
        describe(self.l2, "L2 penalty", "L2 penalty (λ₂/2)·Σw² on the weights (not the biases): its gradient is λ₂·w")
        penalty_box = QGroupBox("Regularization")
        penalty_form = QFormLayout(penalty_box)
        penalty_form.addRow("L1 λ₁", self.l1)
        penalty_form.addRow("L2 λ₂", self.l2)
        self.clip_norm = LogSpinBox(0.0, 100.0, 0.0, smallest_positive=1e-3)
        self.clip_norm.setObjectName("clipNormSpin")
        describe(self.clip_norm, "Gradient clipping", "Scale each mini-batch's gradient down to a global norm of at most c "
                                                      "(0: off); for recurrent networks, whose gradients can explode")
        penalty_form.addRow("Clip ‖g‖ ≤", self.clip_norm)
        self.bptt_steps = QSpinBox()
        self.bptt_steps.setObjectName("bpttStepsSpin")
        self.bptt_steps.setRange(0, 100_000)
        self.bptt_steps.setSpecialValueText("full")
        describe(self.bptt_steps, "BPTT steps", "Truncated backpropagation through time: recurrent layers pass the gradient back "
                                                "through at most this many steps, in chunks counted back from the last step "
                                                "(full: through the whole sequence)")
        penalty_form.addRow("BPTT steps", self.bptt_steps)

        self.seed = QSpinBox()
        self.seed.setObjectName("trainingSeedSpin")
        self.seed.setRange(0, 2**31 - 1)
        describe(self.seed, "Training seed", "Seeds the initial weights, the validation split and the shuffles: same seed, same run")
        self.standardize = QCheckBox("Standardize (mean 0, std 1)")
        self.standardize.setObjectName("standardizeCheck")
        describe(self.standardize, "Standardize inputs",
                 "Shift and scale each feature to mean 0 and standard deviation 1 (measured on the training samples). "
                 "Not for token ids: a network that starts with an Embedding takes them as they are")
        self.backend = QComboBox()
        self.backend.setObjectName("backendCombo")
        describe(self.backend, "Backend", "Where the numbers are computed: NumPy on the CPU or CuPy on a CUDA GPU")
        for name, title in BACKENDS:
            self.backend.addItem(title, name)
        available, why = cupy_status()
        if not available:
            cupy_item = self.backend.model().item(self.backend.findData("cupy"))
            cupy_item.setEnabled(False)
            cupy_item.setToolTip(f"Not available: {why}")
            self.backend.setToolTip(f"CuPy (GPU) is not available here: {why}")
        self.precision = shrinking(QComboBox())
        self.precision.setObjectName("precisionCombo")
        describe(self.precision, "Precision",
                 "The number type of every weight, activation and gradient. float32: about 7 significant digits, fast. "
                 "float64: about 16, so the numbers agree with a calculation by hand (in float32 the course's "
                 "dz = a − y = −0.0066928509 comes out as −0.0066928267)")
        for name in DTYPES:
            self.precision.addItem(PRECISION_TITLES[name], name)
        run_box = QGroupBox("Run")
        run_form = QFormLayout(run_box)
        run_form.addRow("Seed", self.seed)
        run_form.addRow(self.standardize)
        run_form.addRow("Backend", self.backend)
        run_form.addRow("Precision", self.precision)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for box in (optimizer_box, batches_box, penalty_box, run_box):
            layout.addWidget(box)
        layout.addStretch(1)

        for spin in (self.batch_size, self.epochs, self.seed, self.bptt_steps):
            spin.setKeyboardTracking(False)
        self.optimizer.currentIndexChanged.connect(self._on_optimizer)
        for widget in (self.batch_size, self.l1, self.l2, self.clip_norm, self.bptt_steps, self.seed):
            widget.valueChanged.connect(self.settingsChanged)
        for check in (self.nesterov, self.shuffle, self.standardize):
            check.toggled.connect(self.settingsChanged)
        for combo in (self.backend, self.precision):
            combo.currentIndexChanged.connect(self.settingsChanged)
        self.epochs.valueChanged.connect(self.targetChanged)
        for name, spin in self._live_spins().items():
            spin.valueChanged.connect(lambda value, name=name: self.liveSettingChanged.emit(name, value))
        self._show_optimizer_rows()

    def _live_spins(self) -> dict[str, QDoubleSpinBox]:
        return {"momentum": self.momentum, "beta1": self.beta1, "beta2": self.beta2, "rho": self.rho}

    def _number_boxes(self) -> dict[str, QSpinBox | QDoubleSpinBox]:
        """The TrainingConfig fields this form holds in number boxes, and their boxes."""
        return {"batch_size": self.batch_size, "epochs": self.epochs, "l1": self.l1, "l2": self.l2, "clip_norm": self.clip_norm,
                "bptt_steps": self.bptt_steps, "seed": self.seed, **self._live_spins()}

    def check_config(self, config: TrainingConfig) -> None:
        """Raise ConfigError when a number of ``config`` lies beyond its box's range (see the module docstring)."""
        for name, box in self._number_boxes().items():
            check_box_holds(f"training.{name}", getattr(config, name), box)

    def set_config(self, config: TrainingConfig, backend: str = "numpy", dtype: str = "float32") -> None:
        """Show ``config``, ``backend`` and the precision ``dtype`` without emitting (a number
        beyond its box is clamped: see :meth:`check_config`)."""
        boxes = self._number_boxes()
        widgets = [*boxes.values(), self.optimizer, self.nesterov, self.shuffle, self.standardize, self.backend, self.precision]
        for widget in widgets:
            widget.blockSignals(True)
        for name, box in boxes.items():
            box.setValue(min(max(getattr(config, name), box.minimum()), box.maximum()))
        self.optimizer.setCurrentIndex(self.optimizer.findData(config.optimizer))
        self.nesterov.setChecked(config.nesterov)
        self.shuffle.setChecked(config.shuffle)
        self.standardize.setChecked(config.standardize)
        self.backend.setCurrentIndex(self.backend.findData(backend))
        self.precision.setCurrentIndex(self.precision.findData(dtype))
        for widget in widgets:
            widget.blockSignals(False)
        self._show_optimizer_rows()

    def values(self) -> dict:
        """The TrainingConfig fields this form holds, as keyword arguments."""
        return {name: box.value() for name, box in self._number_boxes().items()} | {
            "optimizer": self.optimizer.currentData(), "shuffle": self.shuffle.isChecked(),
            "standardize": self.standardize.isChecked(), "nesterov": self.nesterov.isChecked(),
        }

    def backend_name(self) -> str:
        return self.backend.currentData()

    def dtype_name(self) -> str:
        """The chosen precision: "float32" or "float64" (a name core.backend.get_backend takes)."""
        return self.precision.currentData()

    def set_training_size(self, samples: int) -> None:
        """Show how many mini-batches an epoch of ``samples`` training samples makes."""
        batches = -(-samples // self.batch_size.value()) if samples else 0
        self.batches_hint.setText(f"{batches} mini-batch{'es' if batches != 1 else ''} per epoch "
                                  f"({samples} training samples): {batches} weight update{'s' if batches != 1 else ''} per epoch")

    def _on_optimizer(self) -> None:
        self._show_optimizer_rows()
        self.settingsChanged.emit()

    def _show_optimizer_rows(self) -> None:
        shown = OPTIMIZER_SETTINGS[self.optimizer.currentData()]
        rows = {"momentum": self.momentum, "nesterov": self.nesterov, "beta1": self.beta1, "beta2": self.beta2, "rho": self.rho}
        for name, widget in rows.items():
            self._optimizer_form.setRowVisible(widget, name in shown)
        self.optimizer.setToolTip({"sgd": "w ← w − α·dw", "momentum": "v ← μ·v − α·dw;  w ← w + v",
                                   "rmsprop": "s ← ρ·s + (1 − ρ)·dw²;  w ← w − α·dw / (√s + ε)",
                                   "adam": "m ← β₁m + (1 − β₁)dw;  v ← β₂v + (1 − β₂)dw²;  w ← w − α·m̂ / (√v̂ + ε)"}
                                  [self.optimizer.currentData()])

