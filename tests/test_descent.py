"""core.descent (f(x) = x² + 2 and gradient descent on it) and the 1-D descent view."""

from __future__ import annotations

import numpy as np
import pytest

from core import descent


def test_function_derivative_and_the_courses_difference_quotient():
    assert descent.f(2.0) == 6.0 and descent.f_prime(2.0) == 4.0
    quotient = descent.difference_quotient()
    assert (quotient.x, quotient.h) == (2.0, 0.0001)
    assert quotient.f_x == 6.0 and quotient.f_x_h == pytest.approx(6.00040001, abs=1e-12)
    assert quotient.value == pytest.approx(4.0001, abs=1e-9)
    assert descent.difference_quotient(-1.0, 1e-3).value == pytest.approx(-2.0 + 1e-3, abs=1e-9)  # f'(x) + h, exactly


def test_a_step_is_x_minus_alpha_times_2x():
    for x, alpha in ((2.0, 0.1), (-3.5, 0.7), (10.0, 1.3)):
        assert descent.step(x, alpha) == x - alpha * 2 * x
    xs = descent.iterates(2.0, 0.1, 5)
    np.testing.assert_allclose(xs, 2.0 * 0.8 ** np.arange(6), rtol=1e-15)


def test_what_each_learning_rate_does():
    assert descent.outcome(descent.iterates(2.0, 0.1, 200)) == "converged"
    assert descent.outcome(descent.iterates(2.0, 0.5, 1)) == "converged"  # one step to the minimum
    zigzag = descent.iterates(2.0, 0.9, 4)
    assert np.all(np.sign(zigzag) == [1, -1, 1, -1, 1]) and np.all(np.diff(np.abs(zigzag)) < 0)
    oscillating = descent.iterates(2.0, 1.0, 4)
    assert oscillating.tolist() == [2.0, -2.0, 2.0, -2.0, 2.0] and descent.outcome(oscillating) == "oscillates"
    diverging = descent.iterates(2.0, 1.1, 80)
    assert descent.outcome(diverging) == "diverged" and descent.outcome(diverging[:3]) is None
    assert "diverges" in descent.behaviour(1.1) and "oscillates" in descent.behaviour(1.0)
    assert "one step" in descent.behaviour(0.5) and "zig-zag" in descent.behaviour(0.8)


def test_the_view_steps_resets_and_plays(qtbot):
    from app.views.descent_1d import DescentView

    view = DescentView()
    qtbot.addWidget(view)
    view.show()
    assert view.name == "descent1d" and view.objectName() == "descent1d"
    assert "4.0001" in view.quotient_label.text() and "6.00040001" in view.quotient_label.text()
    view.x0_spin.setValue(2.0)
    view.alpha_spin.setValue(0.1)
    view.step_button.click()
    assert view.xs.tolist() == [2.0, 1.6]
    assert view.table.rowCount() == 2 and view.table.item(1, 1).text().startswith("1.6")
    view.refresh()
    view.reset_button.click()
    assert view.xs.tolist() == [2.0]
    view.timer.setInterval(1)  # play fast
    view.alpha_spin.setValue(1.0)
    view.play_button.click()
    qtbot.waitUntil(lambda: not view.timer.isActive(), timeout=10_000)
    assert view.xs[-1] == view.xs[-3] and "oscillates" in view.status_label.text()
    view.alpha_spin.setValue(1.2)
    view.reset_button.click()
    view.play_button.click()
    qtbot.waitUntil(lambda: not view.timer.isActive(), timeout=10_000)
    assert "diverged" in view.status_label.text() and abs(view.xs[-1]) > 1e6
    view.new_run()  # the view needs no trainer: a new run keeps its state
    assert len(view.xs) > 3
