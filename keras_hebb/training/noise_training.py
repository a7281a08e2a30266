"""Gaussian-noise augmentation: training on noisy images."""

import tensorflow as tf

from keras_hebb.training.perturbation import InputPerturbation
from keras_hebb.validation import check_positive_float


class GaussianNoiseTraining(InputPerturbation):
    """Trains on `clip(x + noise, 0, 1)`, noise ~ N(0, std^2) per pixel, drawn anew
    at every step; the noise of the evaluation's Gaussian sweep
    (`keras_hebb.robustness.noise.add_noise`).

    Only training sees the noise: `predict`, `evaluate` and the validation
    pass see the images as they are.

    Args:
        std: positive float, the noise's standard deviation in [0, 1] pixel
            units (0.1 in the authors' noise-trained networks).
        seed: int, the seed of the draws.

    Example:

    >>> model = keras_hebb.models.baseline_vgg(depth=11, width=0.125)
    >>> model.training_perturbation = GaussianNoiseTraining(std=0.1)
    >>> model.compile("adam", keras.losses.SparseCategoricalCrossentropy(
    ...     from_logits=True))
    >>> history = model.fit(x, y, epochs=1)
    """

    def __init__(self, std=0.1, seed=0):
        super().__init__(seed)
        check_positive_float("std", std)
        self.std = float(std)

    def perturb(self, model, x, y, seed):
        noise = tf.random.stateless_normal(
            tf.shape(x), seed, stddev=self.std, dtype=x.dtype
        )
        return tf.clip_by_value(x + noise, 0.0, 1.0)
