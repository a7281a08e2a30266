from keras import ops


def with_identity_gradient(inputs, outputs):
    """`outputs` in the forward pass, with the gradient of the identity of `inputs`.

    For an `outputs` that is either `inputs` or 0 elementwise (a threshold),
    `inputs + (outputs - inputs)` is exactly `outputs` in floating point.
    This is the straight-through (BPDA) estimator of Athalye et al. (2018).
    """
    return inputs + ops.stop_gradient(outputs - inputs)
