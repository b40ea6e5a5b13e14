"""The Qt-free probe payloads behind the views (core.insight): no Qt needed."""

from __future__ import annotations

import numpy as np

from core import insight
from core.experiment import default_experiment, load_dataset
from core.network import Network
from core.trainer import Trainer


def make_trainer(dataset=None, layers=None) -> Trainer:
    experiment = default_experiment()
    data = load_dataset(dataset or experiment.dataset)
    spec = {"input_shape": [data.n_features], "layers": layers} if layers else experiment.network
    return Trainer(Network(spec, seed=0), data, experiment.training)


def test_histogram_ring_is_bounded_and_restarts_for_a_new_trainer():
    trainer = make_trainer()
    ring = insight.WeightHistogramRing(bins=10, columns=3)
    for _ in range(5):
        trainer.run_epoch()
        data = ring(trainer)
    label, edges, epochs, counts = data.layers[0]
    assert list(epochs) == [3, 4, 5] and counts.shape == (3, 10) and len(edges) == 11
    assert counts.max() == 1.0  # each column scaled to its densest bin
    assert ring(trainer).layers[0][2].tolist() == [3, 4, 5]  # same epoch: the last column is replaced
    fresh = ring(make_trainer())
    assert fresh.layers[0][2].tolist() == [0]


def test_boundary_and_confusion_payloads():
    trainer = make_trainer()
    boundary = insight.boundary_data(trainer, resolution=20)
    assert boundary.outputs.shape == (20, 20, 1) and boundary.classes.shape == (20, 20) and not boundary.reason
    confusion = insight.confusion_data(trainer)
    assert confusion.matrix.sum() == trainer.val_size
    sine = make_trainer({"name": "sine"}, [{"type": "dense", "units": 1, "activation": "linear"}])
    assert insight.boundary_data(sine).reason and insight.confusion_data(sine).reason


def test_graph_fit_and_activation_payloads():
    trainer = make_trainer()
    graph = insight.graph_data(trainer, thumbnail_resolution=12)
    assert [w.shape for w in graph.weights] == [(8, 2), (8, 8), (1, 8)]
    assert [m.shape for m in graph.maps] == [(8, 12, 12), (8, 12, 12), (1, 12, 12)]
    probe = insight.ActivationProbe()
    probe.index = 3
    acts = probe(trainer)
    assert acts.index == 3 and [len(a) for a in acts.activations] == [8, 8, 1]
    housing = make_trainer({"name": "housing"}, [{"type": "dense", "units": 1, "activation": "linear"}])
    fit = insight.fit_data(housing)
    assert fit.kind == "scatter" and fit.learned.shape == (6,) and fit.true.shape == (6,)
    assert np.isclose(fit.r2, insight.r2_score(fit.actual, fit.predicted))
