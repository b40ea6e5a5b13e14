"""The loss and metric plots' readouts and axis titles fit their plot: a number is shown whole
or not at all, never cut mid-digits, and the tooltip says everything."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QApplication

from app.history import RunHistory
from app.plots import EpochPlot
from core.trainer import Report

TRAIN_LOSS, VAL_LOSS = 0.05327, 0.046871  # shown as 0.05327 and 0.04687
TRAIN_R2, VAL_R2 = 0.702, 0.7043


def history(metric: str = "accuracy") -> RunHistory:
    runs = RunHistory()
    runs.clear(metric, {"training": {}})
    runs.extend([Report(epoch, 4, 4, TRAIN_LOSS, VAL_LOSS, TRAIN_R2, VAL_R2, metric, 0.03, 0.1, 1000.0, ())
                 for epoch in (1, 2, 3)])
    return runs


def drawn(label) -> tuple[str, float]:
    """The label's text as it reads (plain) and how wide it is drawn in the label's font."""
    document = QTextDocument()
    document.setDefaultFont(label.font())
    document.setDocumentMargin(0)
    document.setHtml(label.text())
    return document.toPlainText(), document.idealWidth()


def shown_plot(qtbot, kind: str, metric: str = "accuracy") -> EpochPlot:
    plot = EpochPlot(f"{kind}Plot", kind, history(metric))
    qtbot.addWidget(plot)
    if kind == "metric":
        plot.set_quantity(metric)
    plot.resize(900, 300)
    plot.show()
    qtbot.waitExposed(plot)
    plot.refresh()
    return plot


@pytest.mark.parametrize(("kind", "metric", "numbers"), [("loss", "accuracy", ("0.05327", "0.04687")),
                                                        ("metric", "r2", ("0.702", "0.704"))])
def test_a_narrow_readout_shows_each_number_whole_or_not_at_all(qtbot, kind, metric, numbers):
    plot = shown_plot(qtbot, kind, metric)
    text, _ = drawn(plot.readout)
    assert f"training {numbers[0]}" in text and f"validation {numbers[1]}" in text
    widths_without_validation = 0
    for width in range(120, 520, 8):
        plot.resize(width, 300)
        QApplication.processEvents()
        text, used = drawn(plot.readout)
        assert used <= plot.readout.contentsRect().width() or "━" not in text, (width, text)  # nothing cut
        cut = [number[:-k] for number in numbers for k in range(1, len(number) - 1)]
        words = text.split()
        assert not any(piece in words for piece in cut), (width, text)
        widths_without_validation += numbers[1] not in text
        assert plot.readout.toolTip().endswith(f"validation{' loss' if kind == 'loss' else ''} {numbers[1]}")
    assert 0 < widths_without_validation < 50  # at the narrowest it left validation out, not everywhere


def test_the_r2_axis_title_shortens_to_fit_a_short_plot(qtbot):
    plot = shown_plot(qtbot, "metric", "r2")
    axis = plot.canvas.getPlotItem().getAxis("left")
    assert axis.labelText == "R² (drawn from −1)"
    plot.resize(600, 110)
    QApplication.processEvents()
    assert axis.labelText in ("R² (from −1)", "R²") and axis.toolTip() == "R² (drawn from −1)"
    plot.resize(600, 400)
    QApplication.processEvents()
    assert axis.labelText == "R² (drawn from −1)"
