"""The training recipe of a run: learning-rate schedule, optimizer, the
training mode's perturbation, and op determinism."""

import math

import keras
import tensorflow as tf


def learning_rate_schedule(training):
    """The learning rate of each epoch under `training.schedule`: "step"
    (x0.1 after each fraction of the epochs in `training.lr_drops`),
    "cosine" (half a cosine from the rate to zero) or "constant"."""
    rate, epochs = training.learning_rate, training.epochs
    drops = [int(fraction * epochs) for fraction in training.lr_drops]

    def schedule(epoch, lr=None):
        if training.schedule == "step":
            return rate * 0.1 ** sum(epoch >= drop for drop in drops)
        if training.schedule == "cosine":
            return rate * 0.5 * (1 + math.cos(math.pi * epoch / epochs))
        return rate

    return schedule


def optimizer(training):
    """The Keras optimizer `training.optimizer` names."""
    if training.optimizer == "sgd":
        return keras.optimizers.SGD(training.learning_rate, momentum=training.momentum)
    return keras.optimizers.Adam(training.learning_rate)


def make_deterministic(seed):
    """Seeds Python, NumPy, TensorFlow and Keras and turns on TensorFlow's op
    determinism: same seed, same machine, same results, bit for bit.

    The cost: ops without a deterministic kernel raise instead of running,
    and on GPU some kernels are slower (none measurable on CPU for these
    networks).
    """
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def training_perturbation(mode, seed):
    """The `keras_hebb.training` perturbation of a `TrainingModeConfig`
    (None for "standard"), drawing from `seed`."""
    from keras_hebb.training.adversarial_training import AdversarialTraining, fgsm_rs
    from keras_hebb.training.noise_training import GaussianNoiseTraining

    if mode.kind == "gaussian_noise":
        return GaussianNoiseTraining(mode.std, seed)
    if mode.kind == "pgd":
        return AdversarialTraining(
            mode.eps, mode.norm, mode.steps, mode.step_size, True, seed
        )
    if mode.kind == "fgsm_rs":
        return fgsm_rs(mode.eps, mode.norm, mode.step_size, seed)
    return None
