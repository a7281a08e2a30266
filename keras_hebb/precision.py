"""The numeric precision networks are built and trained in.

`"float32"` computes everything in float32. `"mixed_bfloat16"` is Keras'
mixed policy: weights stay float32, layers compute in bfloat16, which
oneDNN runs on AMX where the processor has it (Intel Sapphire Rapids and
later). The project's layers keep the parts that need it in float32 under
either policy:

- the HaH score's sums (`hah_score` casts its input; the K-th value it
  selects is the same in either precision, since the cast is exact),
- divisive normalisation's channel mean and division (its max pool and
  maximum select a value, exact in bfloat16),
- implicit normalisation's filter norms (from the float32 weights),
- the logits, so that the loss is float32.

The fractional threshold selects on its own bfloat16 input: its k-th value
is exact for the values it masks.
"""

import contextlib

PRECISIONS = ("float32", "mixed_bfloat16")


def at_least_float32(x):
    """`x` cast to float32 if its dtype is narrower (bfloat16, float16)."""
    # Keras is imported here, not above: the configuration (and with it the
    # command line's `--help`) reads PRECISIONS without loading TensorFlow.
    import keras

    return keras.ops.cast(x, keras.backend.result_type(x.dtype, "float32"))


def check_precision(precision):
    """Raises a ValueError unless `precision` is one of `PRECISIONS`."""
    if precision not in PRECISIONS:
        raise ValueError(
            f"`precision` must be one of {PRECISIONS}. Received: precision={precision!r}"
        )


@contextlib.contextmanager
def precision_policy(precision):
    """Layers created inside compute in `precision`; the global Keras dtype
    policy is restored on exit.

    Example:

    >>> with precision_policy("mixed_bfloat16"):
    ...     model = keras_hebb.models.hah_vgg(depth=11, width=0.125)
    >>> model.get_layer("conv7").compute_dtype
    'bfloat16'
    """
    import keras

    check_precision(precision)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)
