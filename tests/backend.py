"""Gradients on the Keras backend the tests run on (TensorFlow, JAX or torch).

The tests marked `backends` use these instead of `tf.GradientTape`, so
that `KERAS_BACKEND=jax pytest -m backends` (and `KERAS_BACKEND=torch`) runs
them there (`test_backends.py` does).
"""

import os

import keras
import numpy as np

# JAX compiles every op with XLA, and the suite's programs are tiny: LLVM's
# optimisation passes took most of that time and bought nothing measurable
# (docs/performance.md, "The test suite"). Under TensorFlow the flag saved
# nothing, so only JAX processes get it.
JAX_XLA_FLAGS = "--xla_backend_optimization_level=0"


def environment_on(backend):
    """This process's environment for a subprocess on Keras' `backend`."""
    environment = {**os.environ, "KERAS_BACKEND": backend}
    if backend == "jax":
        flags = environment.get("XLA_FLAGS", "")
        environment["XLA_FLAGS"] = f"{flags} {JAX_XLA_FLAGS}".strip()
    return environment


def on_jax():
    return keras.backend.backend() == "jax"


def on_torch():
    return keras.backend.backend() == "torch"


def on_tensorflow():
    return keras.backend.backend() == "tensorflow"


def numpy(x):
    """`x` (a tensor of any backend, tracked by autograd or not) as NumPy."""
    return keras.ops.convert_to_numpy(x)


def input_gradient(function, x):
    """The gradient of `sum(function(x))` with respect to `x`, a NumPy array."""
    x = keras.ops.convert_to_tensor(np.asarray(x, "float32"))
    if on_jax():
        import jax

        return np.asarray(jax.grad(lambda v: keras.ops.sum(function(v)))(x))
    if on_torch():
        import torch

        x = x.detach().requires_grad_()
        (gradient,) = torch.autograd.grad(keras.ops.sum(function(x)), [x])
        return gradient.cpu().numpy()
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
    if on_torch():
        import torch

        x = x.detach().requires_grad_()
        total = objective(x, model(x), model.losses)
        sources = [x, *(v.value for v in variables)]
        found = torch.autograd.grad(total, sources, allow_unused=True)
        return [
            np.zeros(tuple(s.shape), "float32") if g is None else g.cpu().numpy()
            for s, g in zip(sources, found)
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
