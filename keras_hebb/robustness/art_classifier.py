"""A Keras logits model as an adversarial-robustness-toolbox classifier."""

import keras
from art.estimators.classification import TensorFlowV2Classifier


def art_classifier(model):
    """`model` (a Keras classifier of [0, 1] images to logits) as ART's
    `TensorFlowV2Classifier`, with cross-entropy on the logits."""
    return TensorFlowV2Classifier(
        model,
        nb_classes=model.output_shape[-1],
        input_shape=tuple(model.input_shape[1:]),
        loss_object=keras.losses.CategoricalCrossentropy(from_logits=True),
        clip_values=(0.0, 1.0),
    )
