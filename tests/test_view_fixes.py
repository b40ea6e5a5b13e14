"""The inspection views on their own, fed with real probe payloads: clear() forgets what
they showed, their labels and ticks are legible at the sizes they get in the window, every
control explains itself, and a refresh rebuilds nothing."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from PySide6.QtGui import QPainter, QPicture
from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QApplication, QComboBox

from app.style import configure_pyqtgraph
from app.views.activations import ActivationsView
from app.views.boundary import BoundaryView
from app.views.confusion import ConfusionView
from app.views.network_graph import NetworkGraphView
from app.views.regression_fit import RegressionFitView
from app.views.weight_history import WeightHistoryView
from core import insight
from core.experiment import default_experiment, load_dataset
from core.network import Network
from core.trainer import Trainer

SIZES = ((400, 300), (500, 300), (700, 500))
DIGITS = [{"type": "dense", "units": 128, "activation": "relu"}, {"type": "dense", "units": 64, "activation": "relu"},
          {"type": "dense", "units": 10, "activation": "softmax"}]


def make_trainer(dataset=None, layers=None, epochs=1) -> Trainer:
    experiment = default_experiment()
    data = load_dataset(dataset or experiment.dataset)
    spec = {"input_shape": [data.n_features], "layers": layers} if layers else experiment.network
    trainer = Trainer(Network(spec, seed=0), data, experiment.training)
    for _ in range(epochs):
        trainer.run_epoch()
    return trainer


@pytest.fixture(scope="module")
def trainers():
    return {"spiral": make_trainer(), "digits": make_trainer({"name": "digits"}, DIGITS),
            "iris": make_trainer({"name": "iris"}, [{"type": "dense", "units": 3, "activation": "softmax"}]),
            "housing": make_trainer({"name": "housing"}, [{"type": "dense", "units": 1, "activation": "linear"}]),
            "sine": make_trainer({"name": "sine"}, [{"type": "dense", "units": 8, "activation": "tanh"},
                                                    {"type": "dense", "units": 1, "activation": "linear"}])}


def shown(qtbot, view, size=(600, 400)):
    """Show ``view`` at ``size`` and let it lay out."""
    configure_pyqtgraph()
    if not view.isVisible():
        qtbot.addWidget(view)
        view.show()
    view.resize(*size)
    for _ in range(3):
        QApplication.processEvents()
    return view


def drawn_labels(axis):
    """(scene rect, text) of every tick label ``axis`` draws now."""
    picture = QPicture()
    painter = QPainter(picture)
    try:
        if axis.style["tickFont"]:
            painter.setFont(axis.style["tickFont"])
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [(axis.mapRectToScene(rect), text) for rect, _, text in specs[2]] if specs else []


def visible_rect(view, plot):
    """The part of ``plot``'s view box the canvas shows, in scene coordinates."""
    canvas = view.canvas
    return plot.vb.sceneBoundingRect() & canvas.mapToScene(canvas.viewport().rect()).boundingRect()


def overlapping(rects):
    """The pairs of rects that overlap (by more than a pixel)."""
    return [(a, b) for a, b in itertools.combinations(rects, 2) if (a & b).width() > 1 and (a & b).height() > 1]


# ----- 1. clear() forgets everything ---------------------------------------------------------------

def test_clear_forgets_the_boundary_picture(qtbot, trainers):
    view = shown(qtbot, BoundaryView())
    t = trainers["spiral"]
    view.show_data(insight.boundary_data(t), insight.raw_split(t), ("x1", "x2"))
    assert view.image.image is not None and view.readout.text()
    view.clear()
    assert view.showing_note() and view.readout.text() == ""
    assert view.image.image is None and len(view.train_points.data) == 0 and len(view.val_points.data) == 0


def test_clear_and_a_reason_forget_the_confusion_matrix(qtbot, trainers):
    view = shown(qtbot, ConfusionView())
    view.show_data(insight.confusion_data(trainers["iris"]))
    assert "right" in view.readout.text()
    view.show_data(insight.confusion_data(trainers["housing"]))  # a regression: the view does not apply
    assert view.showing_note() and "right" not in view.readout.text()
    view.show_data(insight.confusion_data(trainers["iris"]))
    view.clear()
    assert view.showing_note() and view.readout.text() == "" and view.image.image is None
    assert not any(view.cells.texts)


def test_clear_and_a_reason_forget_the_regression_fit(qtbot, trainers):
    view = shown(qtbot, RegressionFitView())
    view.show_data(insight.fit_data(trainers["housing"]))
    assert "R²" in view.readout.text() and view.weights_plot.isVisible()
    view.show_data(insight.fit_data(trainers["digits"]))  # a classification: the view does not apply
    assert view.showing_note() and "R²" not in view.readout.text()
    view.show_data(insight.fit_data(trainers["housing"]))
    view.clear()
    assert view.showing_note() and view.readout.text() == ""
    assert len(view.points.data) == 0 and (view.curve.xData is None or len(view.curve.xData) == 0)
    assert not view.weights_plot.isVisible() and len(view.learned_bars.opts["width"]) == 0


def test_clear_forgets_the_network_graph(qtbot, trainers):
    view = shown(qtbot, NetworkGraphView())
    view.show_data(insight.graph_data(trainers["spiral"]))
    view.clear()
    assert view.showing_note() and view.readout.text() == "" and len(view.edges) == 0
    assert len(view.nodes.data) == 0 and all(item.xData is None or len(item.xData) == 0 for item in view.edge_items.values())
    assert not [item for item in view.plot.items if item.isVisible() and getattr(item, "image", None) is not None]
    assert not [label for label in view._labels if label.isVisible()]


def test_clear_forgets_the_activations(qtbot, trainers):
    view = shown(qtbot, ActivationsView())
    view.show_data(insight.ActivationProbe()(trainers["spiral"]))
    view.clear()
    assert view.showing_note() and view.readout.text() == "" and view.data is None
    assert not view.canvas.ci.items


def test_clear_forgets_the_weight_history(qtbot, trainers):
    view = shown(qtbot, WeightHistoryView())
    t = trainers["digits"]
    view.add_reports(t.history.recent)
    view.show_data(insight.WeightHistogramRing()(t))
    view.refresh()
    assert view.readout.text() and view.layer_combo.count() == 3
    view.clear()
    assert view.readout.text() == "" and view.layer_combo.count() == 0 and view.legend.text == ""
    assert view.density.image is None
    for plot in (view.grad_plot, view.dead_plot):
        assert not [item for item in plot.listDataItems() if item.xData is not None and len(item.xData)]
    assert not view.dead_note.isVisible()


# ----- 2. weights and gradients: integer epochs, a legible ‖dW‖ axis ------------------------------

def reports_at(trainer, epochs):
    """The trainer's reports relabelled with ``epochs`` (cycling through them)."""
    return [dataclasses.replace(trainer.history.recent[n % len(trainer.history.recent)], epoch=e) for n, e in enumerate(epochs)]


@pytest.mark.parametrize("epochs", [[1923, 1924], list(range(1, 6)), list(range(1, 3001))])
def test_weight_history_epoch_ticks_are_integers(qtbot, trainers, epochs):
    view = shown(qtbot, WeightHistoryView(), (700, 500))
    t = trainers["digits"]
    view.add_reports(reports_at(t, epochs))
    data = insight.WeightHistogramRing()(t)
    label, edges, _, counts = data.layers[0]
    view.show_data(insight.HistogramData(((label, edges, np.array([epochs[-1]]), counts),), epochs[-1]))
    view.refresh()
    view.show_data(insight.HistogramData(((label, edges, np.array([epochs[-1]]), counts),), epochs[-1]))
    view.refresh()  # a second probe result: drawn over the first
    QApplication.processEvents()
    for plot in (view.density_plot, view.dead_plot):  # the gradient plot shares the dead-ReLU plot's epochs
        labels = [text for _, text in drawn_labels(plot.getAxis("bottom"))]
        assert labels and all(text.lstrip("-").isdigit() for text in labels), labels
    assert view.grad_plot.vb.viewRange()[0] == view.dead_plot.vb.viewRange()[0]


@pytest.mark.parametrize("size", [(400, 300), (700, 500)])
@pytest.mark.parametrize("scale", [1.0, 1e-4])
def test_weight_history_gradient_axis_labels_do_not_pile_up(qtbot, trainers, size, scale):
    view = shown(qtbot, WeightHistoryView(), size)
    t = trainers["digits"]
    reports = []
    for n, report in enumerate(reports_at(t, range(1, 6))):  # norms within one decade: the case that piled up
        layers = tuple(dataclasses.replace(s, grad_norm=scale * (0.05 + 0.01 * n + 0.003 * s.index)) for s in report.layers)
        reports.append(dataclasses.replace(report, layers=layers))
    view.add_reports(reports)
    view.refresh()
    QApplication.processEvents()
    labels = drawn_labels(view.grad_plot.getAxis("left"))
    assert 2 <= len(labels) <= 6, labels
    assert not overlapping([rect for rect, _ in labels])


# ----- 3. confusion matrix: nothing overlaps ------------------------------------------------------

def confusion_payload(k, seed=0):
    rng = np.random.default_rng(seed)
    matrix = rng.integers(0, 9, (k, k)) + np.diag(rng.integers(30, 120, k))
    precision, recall = insight.precision_recall(matrix)
    return insight.ConfusionData(matrix, precision, recall, tuple(str(i) for i in range(k)), 7)


@pytest.mark.parametrize("size", [(400, 300), (700, 500)])
def test_confusion_matrix_texts_do_not_overlap(qtbot, size):
    view = shown(qtbot, ConfusionView(), size)
    for k in range(2, 11):
        view.show_data(confusion_payload(k))
        QApplication.processEvents()
        cells = view.cells.text_rects()
        assert len(cells) == k * k + 2 * k, k  # every count, precision and recall is written
        ticks = [rect for axis in ("bottom", "left") for rect, _ in drawn_labels(view.plot.getAxis(axis))]
        assert len(ticks) == 2 * (k + 1)
        assert not overlapping(cells + ticks), k
        inside = visible_rect(view, view.plot)
        assert all(inside.contains(rect) for rect in cells), k


# ----- 4. network graph: every label fully visible --------------------------------------------------

@pytest.mark.parametrize("name", ["spiral", "digits", "iris"])
@pytest.mark.parametrize("size", SIZES)
def test_network_graph_labels_are_whole(qtbot, trainers, name, size):
    view = shown(qtbot, NetworkGraphView(), size)
    view.show_data(insight.graph_data(trainers[name]))
    QApplication.processEvents()
    labels = [label for label in view._labels if label.isVisible()]
    assert len(labels) >= len(view.data.labels) + 1
    inside = visible_rect(view, view.plot)
    rects = [label.sceneBoundingRect() for label in labels]
    assert all(inside.contains(rect) for rect in rects), [label.toPlainText() for label, rect in zip(labels, rects, strict=True)
                                                         if not inside.contains(rect)]
    assert not overlapping(rects)
    titles = {label.toPlainText() for label in labels}
    assert all(any(label.split(": ", 1)[1].split("(")[0] in title for title in titles) for label in view.data.labels)


# ----- 5. activations: useful ticks on the bars -----------------------------------------------------

@pytest.mark.parametrize("size", [(400, 300), (700, 500)])
@pytest.mark.parametrize("name", ["spiral", "digits"])
def test_activation_bars_have_legible_ticks(qtbot, trainers, name, size):
    view = shown(qtbot, ActivationsView(), size)
    view.show_data(insight.ActivationProbe()(trainers[name]))
    QApplication.processEvents()
    plots = [item for item in view.canvas.ci.items if hasattr(item, "getAxis") and item.getAxis("left").isVisible()]
    assert plots
    for plot in plots:
        labels = drawn_labels(plot.getAxis("left"))
        assert len(labels) >= 2 and not overlapping([rect for rect, _ in labels]), [text for _, text in labels]
        values = [float(text.replace("−", "-")) for _, text in labels]
        low, high = plot.vb.viewRange()[1]
        assert min(values) <= low + 0.1 * (high - low) and max(values) >= high - 0.1 * (high - low)  # the ends are labelled


# ----- 6. a refresh updates items, it does not make new ones -------------------------------------

def test_refresh_reuses_items(qtbot, trainers):
    t = trainers["digits"]
    cases = [(NetworkGraphView(), lambda: (insight.graph_data(t),)),
             (ConfusionView(), lambda: (insight.confusion_data(t),)),
             (ActivationsView(), lambda: (insight.ActivationProbe()(t),))]
    for view, payload in cases:
        shown(qtbot, view)
        view.show_data(*payload())
        QApplication.processEvents()
        before = list(view.canvas.scene().items())
        t.run_epoch()
        view.show_data(*payload())
        QApplication.processEvents()
        assert view.canvas.scene().items() == before, type(view).__name__
        assert len(before) < 80, (type(view).__name__, len(before))  # no item per unit, cell or connection


# ----- 7. tooltips and accessible names ----------------------------------------------------------------

@pytest.mark.parametrize("kind", [ActivationsView, BoundaryView, ConfusionView, NetworkGraphView, RegressionFitView,
                                  WeightHistoryView])
def test_every_control_explains_itself(qtbot, kind):
    view = kind()
    qtbot.addWidget(view)
    controls = [w for t in (QAbstractButton, QComboBox, QAbstractSpinBox) for w in view.findChildren(t)
                if w is not view.export_button]  # the Export button is the base class's
    for widget in [*controls, view.canvas]:
        assert widget.toolTip() and widget.accessibleName(), widget.objectName()
