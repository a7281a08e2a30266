"""Straight-through (BPDA) copies of a network: attacks that see through thresholds."""

THRESHOLDS = ("FractionalThreshold", "AdaptiveThreshold")


def straight_through_model(model, divisive_normalization=False):
    """The same functional model and weights, with straight-through backward passes.

    Every `FractionalThreshold` and `AdaptiveThreshold` gets the identity as
    its gradient, and with `divisive_normalization=True` every
    `DivisiveNormalization` treats its divisor as a constant in the backward
    pass. Forward outputs are unchanged, so accuracy is the same; gradient
    attacks on the copy are the BPDA attacks of Athalye et al. (2018), and
    their adversarial examples are evaluated on the original.

    Args:
        model: a functional Keras model (e.g. `hah_vgg`).
        divisive_normalization: also make divisive normalisation straight-through.

    Returns:
        A new model of the same class, sharing no variables with `model`.
    """
    targets = THRESHOLDS + (
        ("DivisiveNormalization",) if divisive_normalization else ()
    )
    config = model.get_config()
    if "layers" not in config:
        raise ValueError(
            "straight_through_model needs a functional model (built from "
            f"keras.Input); {model.name!r} is a {type(model).__name__} without "
            "a layer graph in its config."
        )
    for layer in config["layers"]:
        if layer["class_name"] in targets:
            layer["config"]["straight_through"] = True
    clone = type(model).from_config(config)
    clone.set_weights(model.get_weights())
    return clone
