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


def blocks(model):
    """Each top-level conv with the layers after it up to the next conv or
    Dense: a list of (conv, [following layers])."""
    layers = model.layers
    result = []
    for conv in conv_layers(model):
        following = []
        for layer in layers[layers.index(conv) + 1 :]:
            if isinstance(layer, (HaHCost, keras.layers.Conv2D, keras.layers.Dense)):
                break
            following.append(layer)
        result.append((conv, following))
    return result


def block_outputs(model):
    """Each conv block's activation: its threshold's output, or else its ReLU's.

    Returns a dict conv name -> symbolic tensor, for the blocks that have a
    ReLU after their conv.
    """
    outputs = {}
    for conv, following in blocks(model):
        relus = [layer for layer in following if isinstance(layer, keras.layers.ReLU)]
        thresholds = [layer for layer in following if isinstance(layer, THRESHOLDS)]
        if relus:
            outputs[conv_name(conv)] = (thresholds or relus)[0].output
    return outputs


def sparse_blocks(model):
    """Names of the conv blocks that carry a HaH cost or a threshold, found by
    layer type: the blocks the method makes sparse."""
    return [
        conv_name(conv)
        for conv, following in blocks(model)
        if isinstance(conv, HaHCost)
        or any(isinstance(layer, THRESHOLDS) for layer in following)
    ]


def probe(model, tensors):
    """A model from the same inputs to a dict of the given internal tensors."""
    return keras.Model(model.inputs, tensors)
