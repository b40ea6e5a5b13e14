"""The validation images the network gets wrong, most confident mistakes first: the payload of
the misclassified gallery (``app.views.misclassified``), computed in the trainer's process by
:class:`MisclassifiedProbe`.

Image data are a Dataset whose ``sample_shape`` is (H, W, C) and whose rows (n = H·W·C
features) are those images flattened in row-major order, pixels in [0, 1]
(core.realdata for digits and MNIST, core.loaders for IDX files, .npz images and image folders).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .data import counted
from .insight import predicted_classes, split_of

GALLERY_LIMIT = 48  # mistakes sent to the view at most
CHUNK = 4096  # validation samples predicted at once (MNIST's 14,000 would be 88 MB of float64 pixels at once)


@dataclass(frozen=True)
class MisclassifiedData:
    """The wrong validation images, most confident first (w ≤ the probe's limit of them).

    Attributes:
        images: (w, H, W, C) float32 pixels in [0, 1]: the dataset's rows, reshaped.
        rows: (w,) int64 dataset row of each image.
        true_names, predicted_names: w class names each.
        confidence: (w,) float32 the network's output for the class it predicted (its
            probability under softmax, or under a one-unit sigmoid p or 1 − p).
        wrong: how many validation samples are wrong in all (≥ w).
        total: how many validation samples there are.
        epoch: the epochs completed when computed.
        reason: why there is no gallery (then the arrays are None and the counts 0).
    """

    images: np.ndarray | None
    rows: np.ndarray | None
    true_names: tuple[str, ...]
    predicted_names: tuple[str, ...]
    confidence: np.ndarray | None
    wrong: int
    total: int
    epoch: int
    reason: str = ""


def why_no_gallery(dataset, validation_samples: int) -> str:
    """Why the misclassified gallery cannot be drawn for ``dataset`` with ``validation_samples``
    held out ("" when it can)."""
    if not dataset.is_image:
        return ("The misclassified gallery needs image data (digits, MNIST or a folder of images); "
                f"this dataset is a table of {counted(dataset.n_features, 'feature')}.")
    if dataset.task == "regression":
        return "The misclassified gallery needs classification data; this dataset is a regression."
    if validation_samples == 0:
        return "There is no validation part: set a validation fraction above 0 on the Data tab."
    return ""


def predicted_confidence(outputs: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """The network's output (m, k) for each sample's ``predicted`` class (m,): the column itself,
    or for one sigmoid unit the output when it predicts class 1 and 1 − output when class 0."""
    if outputs.shape[1] == 1:
        p = outputs[:, 0]
        return np.where(predicted == 1, p, 1.0 - p)
    return np.take_along_axis(outputs, predicted[:, None], axis=1)[:, 0]


class MisclassifiedProbe:
    """Called with a trainer (in the trainer's process): its wrong validation images as a
    :class:`MisclassifiedData`, at most ``limit`` of them, sorted by the confidence of the
    wrong prediction, highest first (ties in dataset order)."""

    def __init__(self, limit: int = GALLERY_LIMIT) -> None:
        self.limit = limit

    def __call__(self, trainer) -> MisclassifiedData:
        data = trainer.dataset
        _, val_rows = split_of(trainer)
        reason = why_no_gallery(data, len(val_rows))
        if reason:
            return MisclassifiedData(None, None, (), (), None, 0, 0, trainer.epoch, reason)
        truth = data.y[val_rows].astype(np.int64)
        outputs = np.concatenate([trainer.network.predict(data.X[val_rows[start : start + CHUNK]])
                                  for start in range(0, len(val_rows), CHUNK)])
        predicted = predicted_classes(outputs)
        wrong = np.flatnonzero(predicted != truth)
        confidence = predicted_confidence(outputs[wrong], predicted[wrong])
        order = np.argsort(-confidence, kind="stable")[: self.limit]
        shown, names = wrong[order], data.class_names
        return MisclassifiedData(
            images=data.images(val_rows[shown]).astype(np.float32),
            rows=val_rows[shown].astype(np.int64),
            true_names=tuple(names[i] for i in truth[shown]),
            predicted_names=tuple(names[i] for i in predicted[shown]),
            confidence=confidence[order].astype(np.float32),
            wrong=len(wrong), total=len(truth), epoch=trainer.epoch)
