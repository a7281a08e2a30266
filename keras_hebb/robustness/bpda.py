"""Straight-through (BPDA) copies of a network: attacks that see through thresholds."""

import keras

from keras_hebb._compat import nested_layers
from keras_hebb.layers import THRESHOLDS, DivisiveNormalization


def straight_through_model(model, divisive_normalization=False):
    """The same model and weights, with straight-through backward passes.

    Every threshold (`FractionalThreshold`, `AdaptiveThreshold`) at any depth
    gets the identity as its gradient, and with
    `divisive_normalization=True` every `DivisiveNormalization` treats its
    divisor as a constant in the backward pass. Forward outputs are
    unchanged, so accuracy is the same; gradient attacks on the copy are the
    BPDA attacks of Athalye et al. (2018), and their adversarial examples
    are evaluated on the original.

    The copy is rebuilt from `keras.saving.serialize_keras_object`, so it
    finds the thresholds that subclassed layers create in `__init__` (which
    their configs do not list) as well as those of nested models.

    Args:
        model: a Keras model that Keras can serialize (functional, with
            nested functional or Sequential models, or with registered
            subclassed layers), e.g. `hah_vgg`.
        divisive_normalization: also make divisive normalisation straight-through.

    Returns:
        A new model of the same class, sharing no variables with `model`.
    """
    targets = THRESHOLDS + ((DivisiveNormalization,) if divisive_normalization else ())
    clone = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(model)
    )
    for layer in nested_layers(clone):
        if isinstance(layer, targets):
            layer.straight_through = True
    clone.set_weights(model.get_weights())
    return clone
