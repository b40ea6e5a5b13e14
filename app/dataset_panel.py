"""The Data tab: choose and generate a dataset, preview it, read its summary.

The panel works on a ``core.data.Dataset`` plus a *source*: the JSON object an experiment
file stores for it (``{"name": "spiral", "samples": 500, "noise": 0.1, "seed": 0}`` for a
built-in set, ``{"path": "data.npz"}`` for a file, ``{"inline": {...}}`` for data written
into the experiment, as the presets' is). Built-in sets are generated here; anything else —
a file the Load data dialog reads, an experiment's own data — comes in through one method,
:meth:`DatasetPanel.set_dataset`, which shows the data as an entry at the top of the list
and keeps it (and its source) as the choice: picking it again after another dataset brings
it back. The panel never builds networks: it emits ``datasetChanged`` and the window
decides what follows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from core.data import Dataset, counted, image_size_text
from core.features import engineer, engineered_names, plane_features
from core.insight import sample_target_text
from core.realdata import REAL_DATASETS, dataset_metadata, load_real
from core.synthetic import SYNTHETIC, synthetic
from core.trainer import ConfigError, split_indices

from .accessibility import describe
from .feature_toggles import FeatureToggles
from .image_grid import ImageGrid
from .style import CLASS_COLORS, TARGET_COLORMAP, TRAIN_COLOR, style_plot_item
from .training_controls import check_box_holds
from .widgets import hint_label, shrinking

LOADED = "__loaded__"  # combo item data of a dataset set from elsewhere
REAL_ONLY = tuple(name for name in REAL_DATASETS if name not in SYNTHETIC)  # shipped real data, no generator settings
TITLES = {  # every built-in dataset of core.synthetic and core.realdata, as a user sees it
    "circle": "Circle", "xor": "XOR", "gaussian": "Gaussian clouds", "spiral": "Spiral", "moons": "Moons",
    "blobs": "Blobs (four classes)", "spiral3": "Spiral, three arms", "plane": "Plane", "sine": "Sine", "housing": "Housing prices",
    "iris": "Iris", "wine": "Wine", "breast_cancer": "Breast cancer (diagnostic)", "breast_cancer_original": "Breast cancer (original)",
    "spambase": "Spambase (spam e-mail)", "digits": "Digits (8×8 images)",
    "digits_rgb": "Coloured digits (8×8×3 images)", "mnist_5k": "MNIST (5,000 images)",
    "sine_forecast": "Sine forecast (sequences)", "adding": "Adding problem (sequences)", "parity": "Parity of bits (sequences)",
    "copy": "Copy (sequences)", "reverse": "Reverse (sequences)", "chars": "Next character (Shakespeare)",
}
SAMPLES_RANGE = (20, 200_000)  # what the generators are offered
SAMPLES_TIP = "How many samples the generator draws"
STEPS_RANGE = (1, 1000)  # sequence lengths the Steps box offers
STEPS_TIP = "How many steps each sequence has (T): the length the recurrent layers run over"
NOISE_TIP = "How much random noise the generator adds to each sample"
PREVIEW_IMAGES = 36  # images the preview of image data shows at most
PREVIEW_PER_CLASS = 12  # of one class at most (two classes: 12 each; ten: 3 each)
PREVIEW_SEED = 0  # the images shown are always the same ones
SEQUENCE_LINES = 12  # samples of sequence data the preview draws
LEGEND_CLASSES = 10  # more classes than this get no legend (chars has 58)


def sentence(text: str) -> str:
    """``text`` with its first letter capitalised and the rest as it is (T stays T, XOR stays XOR)."""
    return text[:1].upper() + text[1:]


def generator_kind(name: str) -> str:
    """How the Data tab groups the generator ``name``: "classification", "regression" (by the
    first word of its description) or "sequence"."""
    info = SYNTHETIC[name]
    if info.is_sequence:
        return "sequence"
    return "regression" if info.description.startswith("regression") else "classification"


def dataset_title(name: str) -> str:
    """The name a user sees for the built-in dataset ``name``; any other name (a loaded file's) as it is."""
    return TITLES.get(name, name)


class DataPreview(pg.PlotWidget):
    """A static scatter of the data: training points filled, validation points hollow.

    2+ features: the first two features, coloured by class (or by target for regression);
    one feature: the target against it, points joined by a faint line in x order.
    Sequences and token ids: a few samples as lines over their steps (:meth:`show_sequences`).
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("dataPreview")
        self.setMinimumHeight(160)
        item = self.getPlotItem()
        item.setMouseEnabled(False, False)
        item.hideButtons()
        item.setMenuEnabled(False)
        self.legend = item.addLegend(offset=(-6, 6), labelTextSize="9pt", brush=pg.mkBrush(255, 255, 255, 210))

    def sizeHint(self) -> QSize:
        return QSize(320, 240)

    def show_data(self, dataset: Dataset, validation: np.ndarray) -> None:
        """Draw ``dataset``; ``validation`` is a (m,) bool mask of its validation rows."""
        item = self.getPlotItem()
        item.clear()
        self.legend.clear()
        if dataset.is_sequence or "tokens" in dataset.meta:
            self.show_sequences(dataset, validation)
            return
        X, y = dataset.X, dataset.y
        one_feature = dataset.n_features == 1
        title = None
        if one_feature and dataset.task == "regression":
            x_values, y_values = X[:, 0], y[:, 0]
            order = np.argsort(x_values)
            item.plot(x_values[order], y_values[order], pen=pg.mkPen("#9aa1ab", width=1))
            self._scatter(x_values, y_values, validation, [pg.mkColor(TRAIN_COLOR)] * len(x_values))
            style_plot_item(item, dataset.feature_names[0], dataset.target_names[0], grid=True)
            item.setAspectLocked(False)
        else:
            x_values = X[:, 0]
            y_values = X[:, 1] if not one_feature else np.zeros(len(X))
            if dataset.task == "regression":
                target = y[:, 0]
                span = float(np.ptp(target)) or 1.0
                colors = pg.colormap.get(TARGET_COLORMAP).map((target - target.min()) / span, mode="qcolor")
                self._scatter(x_values, y_values, validation, colors)
                title = f"colour: {dataset.target_names[0]} from {target.min():.3g} (purple) to {target.max():.3g} (yellow)"
            else:
                for k, name in enumerate(dataset.class_names):
                    members = y == k
                    color = pg.mkColor(CLASS_COLORS[k % len(CLASS_COLORS)])
                    self._scatter(x_values[members], y_values[members], validation[members], [color] * int(members.sum()))
                    self.legend.addItem(pg.ScatterPlotItem(symbol="o", size=9, brush=pg.mkBrush(color), pen=None), f"class {name}")
            style_plot_item(item, dataset.feature_names[0], dataset.feature_names[1] if not one_feature else "", grid=True)
            item.setAspectLocked(dataset.task != "regression" or dataset.n_features == 2)
        self.legend.addItem(pg.ScatterPlotItem(symbol="o", size=9, brush=None, pen=pg.mkPen("#30363d", width=1.6)), "validation")
        if dataset.n_features > 2:
            title = f"first 2 of {dataset.n_features} features; {title or 'colour: class'}"
        item.setTitle(title, size="9pt", color="#5b6472")
        item.autoRange()

    def show_sequences(self, dataset: Dataset, validation: np.ndarray) -> None:
        """A few samples (:func:`preview_rows`, SEQUENCE_LINES) of sequence or token data as
        lines of their first feature over the steps 1 … T, coloured by class or target;
        validation samples dashed."""
        item = self.getPlotItem()
        rows = preview_rows(dataset, SEQUENCE_LINES)
        steps = dataset.sample_shape[0]
        values = dataset.X[rows].reshape(len(rows), steps, -1)[:, :, 0]
        colors = self._row_colors(dataset, rows)
        for values_of, color, held_out in zip(values, colors, validation[rows], strict=True):
            pen = pg.mkPen(color, width=1.6, style=Qt.PenStyle.DashLine if held_out else Qt.PenStyle.SolidLine)
            item.plot(np.arange(1, steps + 1), values_of, pen=pen)
        if dataset.task != "regression" and len(dataset.class_names) <= LEGEND_CLASSES:
            for k, name in enumerate(dataset.class_names):
                self.legend.addItem(pg.PlotDataItem(pen=pg.mkPen(CLASS_COLORS[k % len(CLASS_COLORS)], width=2)), f"class {name}")
        what = "token ids" if "tokens" in dataset.meta else "first feature" if dataset.sample_shape[1:] not in ((), (1,)) else "value"
        colour = "class" if dataset.task != "regression" else dataset.target_names[0]
        dashed = ", dashed: validation" if validation[rows].any() else ""
        style_plot_item(item, "step", what, grid=True)
        item.setAspectLocked(False)
        item.setTitle(f"{len(rows)} samples over {steps} steps, colour: {colour}{dashed}", size="9pt", color="#5b6472")
        item.autoRange()

    @staticmethod
    def _row_colors(dataset: Dataset, rows: np.ndarray) -> list[QColor]:
        """One colour per row: its class's, or its first target's on the target colormap."""
        if dataset.task != "regression":
            return [pg.mkColor(CLASS_COLORS[int(k) % len(CLASS_COLORS)]) for k in dataset.y[rows]]
        target = dataset.y[rows, 0]
        span = float(np.ptp(target)) or 1.0
        return pg.colormap.get(TARGET_COLORMAP).map((target - target.min()) / span, mode="qcolor")

    def _scatter(self, x: np.ndarray, y: np.ndarray, validation: np.ndarray, colors: list[QColor]) -> None:
        """Training points (~validation) filled, validation points as rings; colors per point."""
        train = ~validation
        item = self.getPlotItem()
        filled = pg.ScatterPlotItem(x[train], y[train], size=7, pen=pg.mkPen(255, 255, 255, 160, width=0.6),
                                    brush=[pg.mkBrush(c) for c, t in zip(colors, train, strict=True) if t])
        rings = pg.ScatterPlotItem(x[validation], y[validation], size=8, brush=None,
                                   pen=[pg.mkPen(c, width=1.8) for c, v in zip(colors, validation, strict=True) if v])
        item.addItem(filled)
        item.addItem(rings)


def preview_rows(dataset: Dataset, limit: int = PREVIEW_IMAGES, seed: int = PREVIEW_SEED) -> np.ndarray:
    """The dataset rows the image preview shows, class by class (ascending within a class):
    the same number of each class (``limit`` // classes, 1 to PREVIEW_PER_CLASS; fewer if a
    class has fewer), drawn with ``seed``, the first ``limit`` // that many classes; for
    regression ``limit`` rows. Reads the labels only, never the pixels."""
    rng = np.random.default_rng(seed)
    if dataset.task == "regression":
        return np.sort(rng.choice(dataset.n_samples, size=min(limit, dataset.n_samples), replace=False))
    classes = len(dataset.class_names)
    per_class = max(1, min(PREVIEW_PER_CLASS, limit // classes))
    picked = []
    for k in range(min(classes, limit // per_class)):
        members = np.flatnonzero(dataset.y == k)
        picked.append(np.sort(rng.choice(members, size=min(per_class, len(members)), replace=False)))
    return np.concatenate(picked)


class ImagePreview(QWidget):
    """Image data as images: a few samples of each class (:func:`preview_rows`) with their
    labels, validation ones framed, and a line saying what is shown."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.grid = ImageGrid("imagePreviewGrid")
        self.grid.setAccessibleName("Sample images of the dataset with their labels")
        self.grid.setToolTip("A few images of each class with their labels, always the same ones; an orange frame marks a "
                             "validation sample. Hover an image for its sample number.")
        self.caption = hint_label()
        self.caption.setObjectName("imagePreviewCaption")
        self.rows = np.zeros(0, dtype=np.int64)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.grid, 1)
        layout.addWidget(self.caption)

    def sizeHint(self) -> QSize:
        return QSize(320, 280)

    def show_data(self, dataset: Dataset, validation: np.ndarray) -> None:
        """Draw samples of the image data ``dataset``; ``validation`` is a (m,) bool mask of its validation rows."""
        rows = self.rows = preview_rows(dataset)
        images = dataset.images(rows)
        labels = [sample_target_text(dataset, int(row)) for row in rows]
        marked = validation[rows].tolist()
        tips = [f"sample {row:,}: {label} ({'validation' if held_out else 'training'})"
                for row, label, held_out in zip(rows.tolist(), labels, marked, strict=True)]
        self.grid.set_images(images, labels, marked, tips)
        shape = image_size_text(dataset.sample_shape)
        if dataset.task == "regression":
            which = f"{len(rows)} drawn at random, with their targets"
        else:
            per_class = int(np.max(np.bincount(dataset.y[rows])))
            shown_classes = len(np.unique(dataset.y[rows]))
            of_classes = "" if shown_classes == len(dataset.class_names) else f" of the first {shown_classes} classes"
            which = f"{per_class} of each class{of_classes}"
        self.caption.setText(f"{which}, of {dataset.n_samples:,} images of {shape} pixels; orange frame: validation")


class DatasetPanel(QWidget):
    """Dataset choice, generation settings, validation share, preview and summary.

    Attributes:
        dataset: the current ``core.data.Dataset``.
        source: the JSON object that reproduces it (see the module docstring).
    """

    datasetChanged = Signal()  # the user asked for other data; read .dataset and .source
    validationFractionChanged = Signal(float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.dataset: Dataset | None = None
        self.source: dict = {}
        self._split_seed = 0
        self._loaded: tuple[Dataset, dict] | None = None  # the data of the entry at the top of the list

        self.combo = shrinking(QComboBox())
        self.combo.setObjectName("datasetCombo")
        previous = None
        for name in SYNTHETIC:
            kind = generator_kind(name)
            if previous is not None and kind != previous:
                self.combo.insertSeparator(self.combo.count())
            previous = kind
            self.combo.addItem(dataset_title(name), name)
            self.combo.setItemData(self.combo.count() - 1, SYNTHETIC[name].description, Qt.ItemDataRole.ToolTipRole)
        self.combo.insertSeparator(self.combo.count())
        for name in REAL_ONLY:
            meta = dataset_metadata(name)
            self.combo.addItem(dataset_title(name), name)
            self.combo.setItemData(self.combo.count() - 1, f"{meta['title']}. {meta.get('citation', '')}", Qt.ItemDataRole.ToolTipRole)
        describe(self.combo, "Dataset", "The data to learn from: generated toy sets (choose their size, noise and seed) or real data")
        self.load_file = QPushButton("Load file…")
        self.load_file.setObjectName("loadDataButton")
        describe(self.load_file, "Load a data file", "Load a CSV/TSV table, an .npz file, MNIST IDX files or a folder of images (Ctrl+L)")
        self.description = hint_label()
        self.description.setObjectName("datasetDescription")

        self.samples = QSpinBox()
        self.samples.setObjectName("samplesSpin")
        self.samples.setRange(*SAMPLES_RANGE)
        self.samples.setSingleStep(50)
        describe(self.samples, "Samples", SAMPLES_TIP)
        self.noise = QDoubleSpinBox()
        self.noise.setObjectName("noiseSpin")
        self.noise.setRange(0.0, 5.0)
        self.noise.setSingleStep(0.05)
        self.noise.setDecimals(2)
        describe(self.noise, "Noise", NOISE_TIP)
        self.steps = QSpinBox()
        self.steps.setObjectName("stepsSpin")
        self.steps.setRange(*STEPS_RANGE)
        describe(self.steps, "Steps", STEPS_TIP)
        self.seed = QSpinBox()
        self.seed.setObjectName("dataSeedSpin")
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setMinimumWidth(self.seed.fontMetrics().horizontalAdvance("00000") + 30)  # not the width of 2³¹ − 1
        describe(self.seed, "Data seed", "The random seed that draws the samples: the same seed gives the same data")
        self.regenerate = QPushButton("Regenerate")
        self.regenerate.setObjectName("regenerateButton")
        describe(self.regenerate, "Regenerate", "Draw a new sample of this dataset (next seed)")
        self.validation = QSpinBox()
        self.validation.setObjectName("validationSpin")
        self.validation.setRange(0, 90)
        self.validation.setSingleStep(5)
        self.validation.setSuffix(" %")
        describe(self.validation, "Validation share", "The share of samples held out to measure how well the network generalises")
        for spin in (self.samples, self.noise, self.steps, self.seed, self.validation):
            spin.setKeyboardTracking(False)

        settings = QGroupBox("Dataset")
        form = self._form = QFormLayout(settings)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Dataset", self.combo)
        form.addRow("Your data", self.load_file)
        form.addRow(self.description)
        form.addRow("Samples", self.samples)
        form.addRow("Noise", self.noise)
        form.addRow("Steps", self.steps)
        self._seed_row = QHBoxLayout()
        self._seed_row.addWidget(self.seed, 1)
        self._seed_row.addWidget(self.regenerate)
        form.addRow("Seed", self._seed_row)
        self.engineered = FeatureToggles()
        self.engineered.setObjectName("engineeredInputs")
        self.engineered.changed.connect(self._on_engineered)
        form.addRow(QLabel("Extra inputs"))
        form.addRow(self.engineered)  # the whole width: three boxes side by side
        form.addRow("Validation", self.validation)

        self.preview = DataPreview()
        self.image_preview = ImagePreview()
        self.preview_stack = QStackedWidget()  # the scatter, or the images of image data
        self.preview_stack.setObjectName("previewStack")
        self.preview_stack.addWidget(self.preview)
        self.preview_stack.addWidget(self.image_preview)
        self.summary = QLabel()
        self.summary.setObjectName("datasetSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        preview_box = QGroupBox("Preview")
        preview_box.setObjectName("previewBox")
        preview_box.setCheckable(True)  # unchecked: the plot folds away, the summary stays
        preview_box.setChecked(True)
        preview_box.setToolTip("The data as a scatter plot (training points filled, validation points hollow), or image data as "
                               "sample images with their labels. Untick to fold the preview away and give the settings the room.")
        preview_box.setAccessibleName("Show the data preview")
        preview_box.toggled.connect(self._fold_preview)
        preview_layout = QVBoxLayout(preview_box)
        preview_layout.addWidget(self.preview_stack, 1)
        preview_layout.addWidget(self.summary)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(settings)
        layout.addWidget(preview_box, 1)

        self.combo.currentIndexChanged.connect(self._on_choice)
        for spin in (self.samples, self.noise, self.steps, self.seed):
            spin.valueChanged.connect(self._generate)
        self.regenerate.clicked.connect(self._on_regenerate)
        self.load_file.clicked.connect(self.open_loader)
        self.validation.valueChanged.connect(self._on_validation)

    # ----- state from outside -------------------------------------------------------------------
    def check_source(self, source: dict, val_fraction: float) -> None:
        """Raise ConfigError when a number of ``source`` (a built-in generator's samples,
        noise, seed) or the validation share lies beyond what its box can show, which would
        clamp it."""
        if "path" not in source and source.get("name") in SYNTHETIC:
            for key, box in (("noise", self.noise), ("steps", self.steps), ("seed", self.seed)):
                if source.get(key) is not None:
                    check_box_holds(f"dataset.{key}", source[key], box)
            samples = source.get("samples")
            if samples is not None and not SAMPLES_RANGE[0] <= samples <= SAMPLES_RANGE[1]:
                low, high = SAMPLES_RANGE
                raise ConfigError(f"dataset.samples: {samples:,} is beyond what the window can set ({low:,} to {high:,})")
        check_box_holds("training.val_fraction (%)", round(val_fraction * 100), self.validation)

    def set_dataset(self, dataset: Dataset, source: dict, label: str | None = None) -> None:
        """Show ``dataset`` (from ``source``, see the module docstring) without emitting.

        A built-in source selects its entry and settings; any other source (a file, a
        loader, an experiment's inline data) becomes the entry at the top of the list, named
        ``label`` (default: the dataset's name), and stays the choice: :attr:`source` keeps
        it whole (the inline data too), so the experiment saved from it keeps it.
        """
        self.dataset, self.source = dataset, dict(source)
        name = source.get("name")
        built_in = self._generated()
        real = "path" not in source and name in REAL_ONLY
        widgets = (self.combo, self.noise, self.steps, self.seed)
        for widget in widgets:
            widget.blockSignals(True)
        try:
            self._show_source(dataset, source, label, built_in, real)
        finally:
            for widget in widgets:
                widget.blockSignals(False)
        self._refresh()

    def _show_source(self, dataset: Dataset, source: dict, label: str | None, built_in: bool, real: bool) -> None:
        """Select ``source``'s entry in the combo (and a generator's noise and seed); signals blocked."""
        name = source.get("name")
        loaded_index = self.combo.findData(LOADED)
        if built_in or real:
            if loaded_index >= 0:
                self.combo.removeItem(loaded_index)
            self._loaded = None
            self.combo.setCurrentIndex(self.combo.findData(name))
            if built_in:
                info = SYNTHETIC[name]
                self.noise.setValue(float(source.get("noise", info.noise)))
                self.steps.setValue(int(source.get("steps") or info.steps or self.steps.minimum()))
                self.seed.setValue(int(source.get("seed", 0)))
            return
        self._loaded = (dataset, dict(source))
        text = f"{label or dataset.name} ({'own data' if 'inline' in source else 'loaded'})"
        if loaded_index < 0:
            self.combo.insertItem(0, text, LOADED)
            loaded_index = 0
        self.combo.setItemText(loaded_index, text)
        self.combo.setCurrentIndex(loaded_index)

    def set_validation_fraction(self, fraction: float) -> None:
        self.validation.blockSignals(True)
        self.validation.setValue(round(fraction * 100))
        self.validation.blockSignals(False)
        self._refresh()

    def validation_fraction(self) -> float:
        return self.validation.value() / 100

    def _fold_preview(self, shown: bool) -> None:
        self.preview_stack.setVisible(shown)
        self.summary.setEnabled(True)  # a folded box disables its children: the summary stays readable

    def set_split_seed(self, seed: int) -> None:
        """The training seed, which decides the training/validation split the preview shows."""
        self._split_seed = seed
        self._refresh()

    # ----- user actions -------------------------------------------------------------------------
    def _on_choice(self) -> None:
        name = self.combo.currentData()
        if name == LOADED:
            self._choose_loaded()
            return
        if name in REAL_ONLY:
            self.dataset, self.source = self._engineered(load_real(name), {"name": name})
            self._refresh()
            self.datasetChanged.emit()
            return
        info = SYNTHETIC[name]
        for spin, value in ((self.samples, info.samples), (self.noise, info.noise), (self.steps, info.steps or self.steps.minimum())):
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)
        self._generate()

    def _choose_loaded(self) -> None:
        """The entry at the top of the list chosen again: its data back (after another dataset)."""
        if self._loaded is None or self.source == self._loaded[1]:
            return
        self.dataset, self.source = self._loaded[0], dict(self._loaded[1])
        self._refresh()
        self.datasetChanged.emit()

    def open_loader(self) -> None:
        """Ask for a file or image folder with the Load data dialog; show what it loads."""
        from .data_loader import LoadDataDialog

        dialog = LoadDataDialog(self)
        if dialog.exec() and dialog.dataset is not None:
            self.set_dataset(dialog.dataset, dialog.source, Path(dialog.source["path"]).name)
            self.datasetChanged.emit()

    def _on_regenerate(self) -> None:
        self.seed.blockSignals(True)
        self.seed.setValue(self.seed.value() + 1)
        self.seed.blockSignals(False)
        self._generate()

    def _generate(self) -> None:
        name = self.combo.currentData()
        if name == LOADED:
            return
        info = SYNTHETIC[name]
        source = {"name": name, "samples": self.samples.value()}
        if not info.noise_free:
            source["noise"] = round(self.noise.value(), 6)
        if info.is_sequence:
            source["steps"] = self.steps.value()
        source["seed"] = self.seed.value()
        try:
            dataset = synthetic(name, source["samples"], source.get("noise"), source["seed"], steps=source.get("steps"))
        except ValueError as exc:  # a length the task cannot have (copy: an odd one), more than memory holds
            self.description.setText(f"{sentence(str(exc))}; the data shown is the last that could be made.")
            return
        self.dataset, self.source = self._engineered(dataset, source)
        self._refresh()
        self.datasetChanged.emit()

    def _engineered(self, dataset: Dataset, source: dict) -> tuple[Dataset, dict]:
        """Another built-in dataset keeps the extra inputs ticked, when it is 2-D too."""
        names = self.engineered.selected()
        if not names or plane_features(dataset) != 2:
            return dataset, source
        return engineer(dataset, names), {**source, "engineered": names}

    def _on_engineered(self, names: list[str]) -> None:
        """Extra inputs ticked or unticked: the same data with those columns after x1, x2."""
        if self.dataset is None:
            return
        self.dataset = engineer(self.dataset, names)
        self.source = {key: value for key, value in self.source.items() if key != "engineered"} | (
            {"engineered": names} if names else {})
        self._refresh()
        self.datasetChanged.emit()

    def _show_engineered(self) -> None:
        features = plane_features(self.dataset)
        self.engineered.set_available(features == 2, f"This data has {features} features; extra inputs need exactly two (x1, x2)")
        self.engineered.set_selected(engineered_names(self.dataset))

    def _on_validation(self) -> None:
        self._refresh()
        self.validationFractionChanged.emit(self.validation_fraction())

    def _generated(self) -> bool:
        """Whether the current data comes from a generator (and its settings apply)."""
        return "path" not in self.source and self.source.get("name") in SYNTHETIC

    def _show_generator_settings(self) -> None:
        """Samples, Noise, Steps and Seed are a generator's settings. For other data Samples
        shows the real count, read-only, and the other rows are hidden. Steps shows for a
        sequence task only; Noise is disabled (its tooltip says why) for a task without noise."""
        generated, count = self._generated(), self.dataset.n_samples
        low, high = SAMPLES_RANGE if generated else (min(SAMPLES_RANGE[0], count), max(SAMPLES_RANGE[1], count))
        self.samples.blockSignals(True)
        self.samples.setRange(low, high)
        self.samples.setValue(count)
        self.samples.blockSignals(False)
        self.samples.setEnabled(generated)
        self.samples.setToolTip(SAMPLES_TIP if generated else f"This data has {count:,} samples; only generated datasets can change it")
        self._form.setRowVisible(self.noise, generated)
        self._form.setRowVisible(self._seed_row, generated)
        info = SYNTHETIC[self.source["name"]] if generated else None
        self._form.setRowVisible(self.steps, bool(info and info.is_sequence))
        self.noise.setEnabled(not (info and info.noise_free))
        self.noise.setToolTip(f"No noise here: {info.noise_free}" if info and info.noise_free else NOISE_TIP)

    def _refresh(self) -> None:
        dataset = self.dataset
        if dataset is None:
            return
        self._show_generator_settings()
        self._show_engineered()
        name = self.source.get("name")
        text = SYNTHETIC[name].description if name in SYNTHETIC and "path" not in self.source else dataset.description
        self.description.setText(sentence(text) or "Loaded data")
        validation = np.zeros(dataset.n_samples, bool)
        try:
            train_idx, val_idx = split_indices(dataset, self.validation_fraction(), self._split_seed)
            split_text = f"Training {counted(len(train_idx), 'sample')}, validation {len(val_idx)}."
            validation[val_idx] = True
        except ConfigError as exc:  # a series too short for its validation part
            split_text = f"No validation part: {exc}"

        shown = self.image_preview if dataset.is_image else self.preview
        shown.show_data(dataset, validation)
        self.preview_stack.setCurrentWidget(shown)
        if "path" in self.source:
            origin = f"from {self.source['path']}"
        elif "inline" in self.source:
            origin = "the experiment's own data"
        elif "attribution" in dataset.meta:
            origin = f"built-in real data — {dataset.meta['attribution']}"
        else:
            origin = f"built-in, seed {self.source.get('seed', 0)}"
        self.summary.setText(f"<b>{dataset_title(dataset.name)}</b> ({origin}): {dataset.summary()}.<br>"
                             + split_text)
