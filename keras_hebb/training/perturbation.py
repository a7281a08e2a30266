"""The interface of a training-time input perturbation."""

import tensorflow as tf


class InputPerturbation:
    """Changes a training batch before the forward pass of `HaHModel.train_step`.

    Subclasses implement `perturb(model, x, y, seed)`, where `x` is a batch
    of images in [0, 1], `(batch, height, width, channels)`, `y` its integer
    labels `(batch,)` and `seed` a `(2,)` int tensor for TensorFlow's
    stateless random ops. The seed is `(self.seed, model.optimizer.iterations)`:
    every step draws anew, the same step always draws the same, and a run
    resumed from a checkpoint (which restores the optimizer's step count)
    draws what an uninterrupted run would have.

    Args:
        seed: int, the seed of the perturbation's random draws.
    """

    def __init__(self, seed=0):
        if not isinstance(seed, int):
            raise TypeError(f"`seed` must be an int. Received: seed={seed!r}")
        self.seed = seed

    def __call__(self, model, x, y):
        """The perturbed batch: `x`'s shape and dtype, values in [0, 1]."""
        # The step's seed; the train step is TensorFlow's, so are its ops.
        seed = tf.stack(
            [
                tf.constant(self.seed, tf.int64),
                tf.cast(model.optimizer.iterations, tf.int64),
            ]
        )
        return tf.stop_gradient(self.perturb(model, x, y, seed))

    def perturb(self, model, x, y, seed):
        raise NotImplementedError
