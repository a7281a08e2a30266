"""Carlini-Wagner L2 (CleverHans), adapted to Keras 3 optimizers."""

import numpy as np
import tensorflow as tf
from cleverhans.tf2.attacks.carlini_wagner_l2 import CarliniWagnerL2 as CleverHansCW

from keras_hebb._compat.cleverhans import ResettableAdam
from keras_hebb.robustness.attacks import Attack


class CarliniWagnerL2(Attack):
    """Minimum-norm L2 attack of Carlini and Wagner, scored within an L2 budget.

    CW finds small perturbations without a fixed budget; the base class then
    projects them onto the L2 ball of radius `eps`, so the accuracy is the one
    at that budget.

    Args:
        eps: the L2 budget for scoring.
        steps: Adam iterations per binary-search step.
        binary_search_steps: searches over the loss trade-off constant.
        learning_rate: Adam's step size.
        initial_const: first trade-off constant.
    """

    norms = ("l2",)

    def __init__(
        self,
        eps,
        steps=100,
        binary_search_steps=5,
        learning_rate=5e-3,
        initial_const=1e-2,
    ):
        super().__init__(eps, "l2", batch_size=1)
        self.steps = steps
        self.binary_search_steps = binary_search_steps
        self.learning_rate = learning_rate
        self.initial_const = initial_const

    @property
    def name(self):
        return f"CW-L2-{self.steps} l2 {self.eps:g}"

    def attack_batch(self, model, x, y):
        # CleverHans 4.0.0 shapes CW's trade-off constant like the whole input
        # instead of like the batch: that only runs one image at a time, and
        # then sums the constant over every pixel. Dividing the initial
        # constant by the image size gives back the intended trade-off.
        attack = CleverHansCW(
            lambda images: model(images, training=False),
            batch_size=1,
            clip_min=0.0,
            clip_max=1.0,
            binary_search_steps=self.binary_search_steps,
            max_iterations=self.steps,
            learning_rate=self.learning_rate,
            initial_const=self.initial_const / float(np.prod(x.shape[1:])),
        )
        attack.optimizer = ResettableAdam(self.learning_rate)
        # Without labels, CleverHans attacks the model's own predictions.
        return np.asarray(attack.attack(tf.constant(x)))
