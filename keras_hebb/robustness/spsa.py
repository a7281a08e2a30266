"""SPSA (Uesato et al. 2018), CleverHans' gradient-free attack, adapted to Keras 3."""

import unittest.mock

import keras
import numpy as np
import tensorflow as tf
from cleverhans.tf2.attacks import spsa as cleverhans_spsa

from keras_hebb.robustness.attacks import Attack, budget_name


class Keras3SPSAAdam(cleverhans_spsa.SPSAAdam):
    """CleverHans' SPSA optimizer built with Keras 3's Adam constructor.

    CleverHans 4 calls `Adam(lr=...)`, which Keras 3 refuses (it takes
    `learning_rate=`), and reads `self.lr`. The rest of the optimizer is
    CleverHans' own: only Adam's beta_1, beta_2 and epsilon are used.
    """

    def __init__(
        self,
        lr=0.01,
        delta=0.01,
        num_samples=128,
        num_iters=1,
        compare_to_analytic_grad=False,
    ):
        keras.optimizers.Adam.__init__(self, learning_rate=float(lr))
        if num_samples % 2:
            raise ValueError(f"`num_samples` must be even. Received: {num_samples}")
        self.lr = float(lr)
        self._delta = delta
        self._num_samples = num_samples // 2
        self._num_iters = num_iters
        self._compare_to_analytic_grad = compare_to_analytic_grad


class SPSA(Attack):
    """Gradient-free L_inf attack on the logit margin (CleverHans `spsa`).

    Each of `iterations` Adam steps estimates the gradient from `samples`
    random +-delta perturbations; an image stops as soon as it is
    misclassified. It needs no gradient of the model, so it sees through
    gradient masking.

    Args:
        eps: L_inf budget.
        iterations: Adam steps per image.
        samples: perturbations per gradient estimate (even).
        learning_rate: Adam's step size.
        delta: the perturbations' size.
    """

    norms = ("linf",)

    def __init__(self, eps, iterations=20, samples=128, learning_rate=0.01, delta=0.01):
        super().__init__(eps, "linf", batch_size=1)
        if samples % 2 or samples < 2:
            raise ValueError(f"`samples` must be an even int >= 2. Received: {samples}")
        self.iterations = iterations
        self.samples = samples
        self.learning_rate = learning_rate
        self.delta = delta

    @property
    def name(self):
        return f"SPSA-{self.iterations}x{self.samples} {budget_name('linf', self.eps)}"

    def attack_batch(self, model, x, y):
        logits = self.for_model(
            model,
            lambda m: tf.function(
                lambda images: m(images, training=False), reduce_retracing=True
            ),
        )
        adversarial = []
        with unittest.mock.patch.object(cleverhans_spsa, "SPSAAdam", Keras3SPSAAdam):
            for image, label in zip(x, y):
                adversarial.append(
                    cleverhans_spsa.spsa(
                        logits,
                        tf.constant(image[None]),
                        tf.constant([label], tf.int64),
                        self.eps,
                        self.iterations,
                        clip_min=0.0,
                        clip_max=1.0,
                        early_stop_loss_threshold=0.0,
                        learning_rate=self.learning_rate,
                        delta=self.delta,
                        spsa_samples=self.samples,
                    ).numpy()
                )
        return np.concatenate(adversarial)
