"""The Layers table: numbers to 4 significant digits that always fit their column."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from PySide6.QtWidgets import QStyle

from app.layer_stats import LayerStatsView, compact_number
from core.trainer import LayerStats


@pytest.mark.parametrize(("value", "text"), [
    (1.5474e-05, "15.47e-6"), (0.0015474, "0.001547"), (0.1, "0.1"), (1.23456, "1.235"), (1234.5, "1234"),
    (9999.6, "10e3"), (12_345.678, "12.35e3"), (3.2e9, "3.2e9"), (999.96e-6, "0.001"), (0.0, "0"),
    (float("inf"), "inf"), (float("nan"), "nan"), (None, "—"), (4.9e-324, "4.941e-324"), (1.797e308, "179.7e306"),
])
def test_numbers_have_four_significant_digits_and_engineering_exponents(value, text):
    assert compact_number(value) == text and len(text) <= 10


def test_every_number_fits_its_column_unelided(qtbot):
    view = LayerStatsView()
    qtbot.addWidget(view)
    view.resize(260, 160)
    view.show()
    view.set_layers(["Dense(64, relu)", "Dense(10, softmax)"])
    values = (1.5474e-05, 888.84e-9, 1.797e308, 12_345.678)
    report = SimpleNamespace(layers=(LayerStats(1, "", values[0], values[1], 0.25), LayerStats(2, "", values[2], values[3], None)))
    view.show_report(report)
    margin = 2 * (view.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1)
    texts = []
    for row in range(2):
        for column in (1, 2, 3):
            text = view.item(row, column).text()
            texts.append(text)
            assert view.fontMetrics().horizontalAdvance(text) + margin < view.columnWidth(column), (text, view.columnWidth(column))
    assert texts == ["15.47e-6", "888.8e-9", "25%", "179.7e306", "12.35e3", "—"]
