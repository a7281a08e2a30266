"""Read-outs of a trained network's internal tensors by conv layer."""

import keras

from keras_hebb.layers.adaptive_threshold import AdaptiveThreshold
from keras_hebb.layers.fractional_threshold import FractionalThreshold
from keras_hebb.layers.hah_cost import HaHCost

THRESHOLDS = (FractionalThreshold, AdaptiveThreshold)


def conv_layers(model):
    """The model's top-level conv layers (a `HaHCost` counts as its conv), in order."""
    return [
        layer
        for layer in model.layers
        if isinstance(layer, (HaHCost, keras.layers.Conv2D))
    ]


def conv_name(layer):
    """The conv's own name: a `HaHCost` is named after the conv it wraps."""
    return layer.layer.name if isinstance(layer, HaHCost) else layer.name


def block_outputs(model):
    """Each conv block's activation: its threshold's output, or else its ReLU's.

    Blocks are found by following each conv to the first ReLU after it, then
    to a threshold directly after that ReLU's successors, if any. Returns a
    dict conv name -> symbolic tensor.
    """
    outputs = {}
    layers = model.layers
    for conv in conv_layers(model):
        index = layers.index(conv)
        block = {}
        for layer in layers[index + 1 :]:
            if isinstance(layer, (HaHCost, keras.layers.Conv2D, keras.layers.Dense)):
                break
            if isinstance(layer, keras.layers.ReLU) and "relu" not in block:
                block["relu"] = layer.output
            if isinstance(layer, THRESHOLDS):
                block["threshold"] = layer.output
        if block:
            outputs[conv_name(conv)] = block.get("threshold", block.get("relu"))
    return outputs


def probe(model, tensors):
    """A model from the same inputs to a dict of the given internal tensors."""
    return keras.Model(model.inputs, tensors)
