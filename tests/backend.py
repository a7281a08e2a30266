"""Gradients on the Keras backend the tests run on (TensorFlow or JAX).

The tests marked `backends` use these instead of `tf.GradientTape`, so
that `KERAS_BACKEND=jax pytest -m backends` runs them on JAX
(`test_backends.py` does).
"""

import keras
import numpy as np


def on_jax():
    return keras.backend.backend() == "jax"


def input_gradient(function, x):
    """The gradient of `sum(function(x))` with respect to `x`, a NumPy array."""
    x = keras.ops.convert_to_tensor(np.asarray(x, "float32"))
    if on_jax():
        import jax

        return np.asarray(jax.grad(lambda v: keras.ops.sum(function(v)))(x))
    import tensorflow as tf

    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(function(x))
    return tape.gradient(total, x).numpy()


def gradients(model, objective, x, variables):
    """The gradients of `objective(x, outputs, losses)` with respect to `x` and
    to `variables` (trainable variables of `model`), as NumPy arrays: zeros
    where the objective does not depend on one.

    `outputs` is `model(x)`, `losses` the costs its layers add (`model.losses`).
    """
    x = keras.ops.convert_to_tensor(np.asarray(x, "float32"))
    if on_jax():
        import jax

        trainable = [v.value for v in model.trainable_variables]
        non_trainable = [v.value for v in model.non_trainable_variables]

        def total(x, trainable):
            outputs, _, losses = model.stateless_call(
                trainable, non_trainable, x, return_losses=True
            )
            return objective(x, outputs, losses)

        d_x, d_trainable = jax.grad(total, argnums=(0, 1))(x, trainable)
        position = {id(v): i for i, v in enumerate(model.trainable_variables)}
        return [np.asarray(d_x)] + [
            np.asarray(d_trainable[position[id(v)]]) for v in variables
        ]
    import tensorflow as tf

    with tf.GradientTape() as tape:
        tape.watch(x)
        total = objective(x, model(x), model.losses)
    sources = [x, *variables]
    return [
        np.zeros(s.shape, "float32") if g is None else np.asarray(g)
        for s, g in zip(sources, tape.gradient(total, sources))
    ]
