"""The concept help's content: every choice the engine offers has help, and the curves the
help plots are the engine's own functions with their true derivatives."""

from __future__ import annotations

import re

import numpy as np
import pytest

from core.activations import ACTIVATIONS, get_activation
from core.concepts import CONCEPTS, KIND_TITLES, KINDS, concept, concepts_of
from core.initializers import INITIALIZERS
from core.layer_types import LAYER_TYPES
from core.losses import LOSSES, get_loss
from core.optimizers import OPTIMIZERS

TAG = re.compile(r"</?(sub|sup|b|i|br)>")
ENTITY = re.compile(r"&(gt|lt|amp|nbsp);")
REGULARIZERS = ("l1", "l2", "dropout")
SETTINGS = ("learning_rate", "batch_size", "epochs", "val_fraction", "standardize", "shuffle", "seed", "dtype", "clip_norm", "bptt_steps")
VIEWS = ("hidden_state", "gates", "vanishing_gradient", "temperature")  # what the recurrent views show
TEXTS = ("formula_html", "summary", "when_to_use", "pitfalls")


def keys_of(kind: str) -> set[str]:
    return {c.key for c in concepts_of(kind)}


@pytest.mark.parametrize("item", CONCEPTS.values(), ids=list(CONCEPTS))
def test_every_concept_has_a_title_a_formula_a_summary_when_to_use_and_pitfalls(item):
    assert item.kind in KINDS and item.title.strip() and CONCEPTS[item.key] is item
    for field in TEXTS:
        assert len(getattr(item, field).strip()) >= 10, f"{item.key}.{field} is empty"
    assert "\n" not in item.summary


@pytest.mark.parametrize("item", CONCEPTS.values(), ids=list(CONCEPTS))
def test_the_rich_text_is_well_formed(item):
    """Only the tags the panel renders, each closed, and no bare < or & (Qt would swallow text)."""
    for field in TEXTS:
        text = getattr(item, field)
        for tag in ("sub", "sup", "b", "i"):
            assert text.count(f"<{tag}>") == text.count(f"</{tag}>"), f"{item.key}.{field}: unclosed <{tag}>"
        bare = ENTITY.sub("", TAG.sub("", text))
        assert "<" not in bare and ">" not in bare and "&" not in bare, f"{item.key}.{field}: {bare}"


def test_every_activation_loss_optimizer_and_initializer_of_the_engine_has_help():
    """Fails when the engine gains one (in its registry) without a concept."""
    assert keys_of("layer") | {"dropout"} == set(LAYER_TYPES)
    assert keys_of("activation") == set(ACTIVATIONS)
    assert keys_of("loss") == set(LOSSES)
    assert keys_of("optimizer") == set(OPTIMIZERS)
    assert keys_of("initializer") == set(INITIALIZERS)
    assert keys_of("regularizer") == set(REGULARIZERS)
    assert keys_of("setting") == set(SETTINGS)
    assert keys_of("view") == set(VIEWS)
    assert set(KIND_TITLES) == set(KINDS)


def test_a_concept_is_found_by_its_key_and_an_unknown_key_is_named():
    assert concept("adam").title == "Adam"
    with pytest.raises(KeyError, match="no help for 'swish'.*sigmoid"):
        concept("swish")


def test_the_formulas_are_in_the_course_notation():
    assert "σ(z) = 1 / (1 + e<sup>−z</sup>)" in concept("sigmoid").formula_html
    assert "a(1 − a)" in concept("sigmoid").formula_html
    assert "w ← w − α·dw" in concept("sgd").formula_html
    assert "1 − a<sup>2</sup>" in concept("tanh").formula_html
    for key, symbol in (("momentum", "μ"), ("rmsprop", "ρ"), ("adam", "β<sub>2</sub>")):
        assert "←" in concept(key).formula_html and symbol in concept(key).formula_html


def test_the_pitfalls_the_course_warns_of_are_there():
    assert "Saturation" in concept("sigmoid").pitfalls
    assert "Dead ReLUs" in concept("relu").pitfalls
    assert "one-unit softmax cannot learn" in concept("softmax").pitfalls
    assert "Too large" in concept("learning_rate").pitfalls
    assert "Symmetry" in concept("zeros").pitfalls


def test_activations_losses_and_penalties_have_curves_the_others_none():
    for item in CONCEPTS.values():
        curved = item.kind in ("activation", "loss") or item.key in ("l1", "l2")
        assert (item.plot is not None) == curved, item.key
        assert (item.curve(np.array([0.5])) is not None) == curved, item.key


Z = np.array([-4.0, -1.3, -0.2, 0.7, 2.5])


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_an_activation_curve_is_the_engines_forward_and_backward(name):
    value, slope = concept(name).curve(Z)
    if name == "softmax":  # the first of two units, the second at z = 0
        pre = np.stack([Z, np.zeros_like(Z)], axis=1)
        upstream = np.stack([np.ones_like(Z), np.zeros_like(Z)], axis=1)
    else:
        pre, upstream = Z.reshape(-1, 1).copy(), np.ones((len(Z), 1))
    engine = get_activation(name)
    a = engine.forward(pre, np)
    np.testing.assert_array_equal(value, a[:, 0])
    np.testing.assert_array_equal(slope, engine.backward(a, upstream, np.empty_like(a), np)[:, 0])


def test_the_activation_curves_are_the_course_formulas():
    sigmoid = 1 / (1 + np.exp(-Z))
    expected = {"linear": (Z, np.ones_like(Z)), "sigmoid": (sigmoid, sigmoid * (1 - sigmoid)),
                "tanh": (np.tanh(Z), 1 - np.tanh(Z) ** 2), "relu": (np.maximum(Z, 0), (Z > 0) * 1.0),
                "leaky_relu": (np.maximum(Z, 0.01 * Z), np.where(Z > 0, 1.0, 0.01)),
                "softmax": (sigmoid, sigmoid * (1 - sigmoid))}  # softmax(z, 0)₁ = σ(z)
    for name, (value, slope) in expected.items():
        got_value, got_slope = concept(name).curve(Z)
        np.testing.assert_allclose(got_value, value, rtol=1e-12, atol=1e-15, err_msg=name)
        np.testing.assert_allclose(got_slope, slope, rtol=1e-12, atol=1e-15, err_msg=name)


A = np.array([0.05, 0.3, 0.5, 0.8, 0.97])


@pytest.mark.parametrize("name", LOSSES)
def test_a_loss_curve_is_the_engines_loss_of_one_sample_with_target_1(name):
    value, slope = concept(name).curve(A)
    loss = get_loss(name)
    for i, a in enumerate(A):
        prediction, target = np.array([[a]]), np.array([[1.0]])
        assert value[i] == loss.value(prediction, target, np)
        assert slope[i] == pytest.approx(loss.gradient(prediction, target, np)[0, 0], rel=1e-14)
    course = {"mse": ((A - 1) ** 2, 2 * (A - 1)), "binary_crossentropy": (-np.log(A), -1 / A),
              "categorical_crossentropy": (-np.log(A), -1 / A)}[name]  # for y = 1 both cross-entropies are −log a
    np.testing.assert_allclose(value, course[0], rtol=1e-12)
    np.testing.assert_allclose(slope, course[1], rtol=1e-12)


@pytest.mark.parametrize("item", [c for c in CONCEPTS.values() if c.plot is not None], ids=lambda c: c.key)
def test_each_plotted_derivative_equals_a_central_difference_quotient(item):
    """f′(x) ≈ (f(x + h) − f(x − h)) / 2h inside the plotted range, away from the kink at 0."""
    low, high = item.plot.low, item.plot.high
    x = low + (high - low) * np.array([0.13, 0.31, 0.47, 0.62, 0.88])
    assert np.all(np.abs(x) > 0.05)
    h = 1e-6
    quotient = (item.curve(x + h)[0] - item.curve(x - h)[0]) / (2 * h)
    np.testing.assert_allclose(item.curve(x)[1], quotient, rtol=1e-5, atol=1e-7)


def test_a_curve_samples_its_range():
    x, value, slope = concept("tanh").plot.samples(11)
    assert x[0] == concept("tanh").plot.low and x[-1] == concept("tanh").plot.high
    assert value.shape == slope.shape == (11,)
    np.testing.assert_allclose(value, np.tanh(x), rtol=1e-12)
