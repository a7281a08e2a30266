"""SPSA (Uesato et al. 2018), CleverHans' gradient-free attack, adapted to Keras 3."""

import numpy as np
import tensorflow as tf
from cleverhans.tf2.attacks import spsa as cleverhans_spsa

from keras_hebb._compat.cleverhans import KerasLearningRateSPSAAdam
from keras_hebb.robustness.attacks import Attack, budget_name


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
        for image, label in zip(x, y):
            # CleverHans' `spsa` with its optimizer built for Keras 3.
            optimizer = KerasLearningRateSPSAAdam(
                lr=self.learning_rate, delta=self.delta, num_samples=self.samples
            )
            adversarial.append(
                cleverhans_spsa.projected_optimization(
                    lambda images, labels: (
                        -cleverhans_spsa.margin_logit_loss(
                            logits(images), labels, nb_classes=model.output_shape[-1]
                        )
                    ),
                    tf.constant(image[None]),
                    tf.constant([label], tf.int64),
                    self.eps,
                    self.iterations,
                    optimizer,
                    clip_min=0.0,
                    clip_max=1.0,
                    early_stop_loss_threshold=0.0,
                ).numpy()
            )
        return np.concatenate(adversarial)
