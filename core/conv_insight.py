"""What a convolutional network has learned and what it sees, for the kernel and feature-map
views: probes that run in the trainer's process (``app.trainer_process.Probe``) and return
host copies only.

* :class:`KernelProbe`: the kernels W (filters F, KH, KW, C_in) of one chosen Conv2D layer,
  exactly as the network holds them (its dtype), with every conv layer's label for the view's
  choice. Cost: one copy of one layer's W (a few thousand numbers at most).
* :class:`FeatureMapProbe`: for one chosen sample, the raw input image (H, W, C) and the
  output (H', W', C') of every Conv2D and pooling layer, from the network's own prediction-
  mode pass (``Network.forward_all`` on the flattened sample, the input standardization
  applied). Cost: one forward pass of one sample.

A layer is a convolution or pooling layer by its ``kind`` (:data:`MAP_KINDS`); a network
without a Conv2D gets :data:`NO_CONV` as its ``reason`` and no arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .insight import raw_forward_all, sample_target_text

CONV_KIND = "conv2d"
MAP_KINDS = (CONV_KIND, "maxpool2d", "avgpool2d")  # the layers whose outputs are feature maps (H', W', C')
NO_CONV = "This network has no convolutional layer; add one in the Network tab"


def shape_text(shape: tuple[int, ...]) -> str:
    """(8, 8, 4) → "8×8×4"."""
    return "×".join(str(int(s)) for s in shape)


def layer_label(index: int, layer) -> str:
    """"layer 1: Conv2D(8, 3×3, relu) 8×8×8": the layer's number (from 1), its description and output shape."""
    return f"layer {index + 1}: {layer.describe()} {shape_text(layer.output_shape)}"


def conv_indices(network) -> list[int]:
    """The positions in ``network.layers`` of its Conv2D layers."""
    return [i for i, layer in enumerate(network.layers) if layer.kind == CONV_KIND]


@dataclass(frozen=True)
class ConvLayer:
    """A conv layer the kernel view can show: ``index`` in network.layers, ``label`` ("layer 1: Conv2D(8, 3×3, relu)"),
    ``channels`` C_in of its input and ``rgb``: it is the network's first layer and its input has 3 channels
    (the image's colours), so its kernels can be shown as colours."""

    index: int
    label: str
    channels: int
    rgb: bool


@dataclass(frozen=True)
class KernelData:
    """The kernels of one conv layer: ``kernels`` (F, KH, KW, C_in), a host copy of the layer's W in
    the network's dtype; ``layer`` the one shown (one of ``layers``, every conv layer of the network).
    ``reason`` says why there is nothing to show (then ``layers`` is empty and ``kernels`` None)."""

    layers: tuple[ConvLayer, ...]
    layer: ConvLayer | None
    kernels: np.ndarray | None
    epoch: int
    reason: str = ""


class KernelProbe:
    """The kernels of the conv layer ``layer`` (its index in network.layers; set it from the window
    with ``configure_probe("kernels", layer=i)``); None, or an index that is no conv layer (a new
    network), shows the first conv layer."""

    def __init__(self) -> None:
        self.layer: int | None = None

    def __call__(self, trainer) -> KernelData:
        network = trainer.network
        indices = conv_indices(network)
        if not indices:
            return KernelData((), None, None, trainer.epoch, NO_CONV)
        layers = tuple(self._describe(network, i) for i in indices)
        chosen = layers[indices.index(self.layer)] if self.layer in indices else layers[0]
        conv = network.layers[chosen.index]
        kernels = network.backend.to_host(conv.params[conv.weight_name]).copy()
        return KernelData(layers, chosen, kernels, trainer.epoch)

    @staticmethod
    def _describe(network, index: int) -> ConvLayer:
        layer = network.layers[index]
        channels = int(layer.input_shape[-1])
        rgb = channels == 3 and index == 0
        return ConvLayer(index, f"layer {index + 1}: {layer.describe()}", channels, rgb)


@dataclass(frozen=True)
class LayerMaps:
    """One conv or pooling layer's output for the sample: ``maps`` (H', W', C') in the network's
    dtype, ``index`` in network.layers, ``label`` (:func:`layer_label`)."""

    index: int
    label: str
    maps: np.ndarray


@dataclass(frozen=True)
class FeatureMapData:
    """The feature maps of sample ``sample``: ``image`` (H, W, C) the sample as the data hold it
    (before standardization), ``target`` its class or values as text, ``layers`` every conv and
    pooling layer's :class:`LayerMaps` in order. ``reason`` says why there is nothing to show."""

    sample: int
    image: np.ndarray | None
    target: str
    layers: tuple[LayerMaps, ...]
    epoch: int
    reason: str = ""


class FeatureMapProbe:
    """The feature maps of sample ``index`` (a row of the dataset; set it from any thread, like the
    activations' probe; clamped to the data)."""

    def __init__(self) -> None:
        self.index = 0

    def __call__(self, trainer) -> FeatureMapData:
        network, data = trainer.network, trainer.dataset
        index = min(max(int(self.index), 0), data.n_samples - 1)
        if not conv_indices(network):
            return FeatureMapData(index, None, "", (), trainer.epoch, NO_CONV)
        x = data.X[index: index + 1]
        outputs = raw_forward_all(network, x)  # (1, *output_shape) per layer, host
        layers = tuple(LayerMaps(i, layer_label(i, layer), outputs[i][0].copy())
                       for i, layer in enumerate(network.layers) if layer.kind in MAP_KINDS)
        image = np.asarray(x[0]).reshape(network.input_shape).copy()
        return FeatureMapData(index, image, sample_target_text(data, index), layers, trainer.epoch)
