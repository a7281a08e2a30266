"""Adversarial training: PGD (Madry et al. 2018) and FGSM with a random start
(Wong, Rice and Kolter 2020), inside the compiled train step."""

import tensorflow as tf
from cleverhans.tf2.attacks.fast_gradient_method import fast_gradient_method
from cleverhans.tf2.utils import clip_eta

from keras_hebb.robustness.attacks import norm_order
from keras_hebb.robustness.budgets import check_budget
from keras_hebb.training.perturbation import InputPerturbation
from keras_hebb.validation import check_positive_float, check_positive_int


def random_start(x, norm, eps, seed):
    """A uniform random point of the `norm` ball of radius `eps` around each
    image of `x`, clipped to [0, 1]."""
    if norm == "linf":
        delta = tf.random.stateless_uniform(tf.shape(x), seed, -eps, eps, dtype=x.dtype)
    else:
        direction = tf.random.stateless_normal(tf.shape(x), seed, dtype=x.dtype)
        axes = list(range(1, len(x.shape)))
        direction /= (
            tf.sqrt(tf.reduce_sum(direction**2, axis=axes, keepdims=True)) + 1e-12
        )
        # Uniform in the ball: the radius's d-th power is uniform.
        dimension = tf.cast(tf.reduce_prod(tf.shape(x)[1:]), x.dtype)
        u = tf.random.stateless_uniform(tf.shape(x)[:1], seed + 1, dtype=x.dtype) ** (
            1.0 / dimension
        )
        delta = direction * eps * tf.reshape(u, [-1] + [1] * len(axes))
    return tf.clip_by_value(x + delta, 0.0, 1.0)


class AdversarialTraining(InputPerturbation):
    """Trains on adversarial images found by PGD on the current weights.

    Each step starts (with `random_start`) from a uniform random point of the
    budget's ball, takes `steps` steps of size `step_size` up the
    cross-entropy of the model's logits (CleverHans' fast gradient method:
    the gradient's sign for L_inf, the gradient normalised for L2), and
    projects back into the ball and [0, 1] after each. The attack runs the
    model with `training=False` and leaves its weights alone; the training
    step then minimises the loss on the result. Costs about `steps + 1`
    forward-and-backward passes per step.

    `AdversarialTraining(8/255, steps=7, step_size=2/255)` is the authors'
    PGD training; `fgsm_rs(8/255)` is the one-step "fast" version.

    Args:
        eps: positive float, the budget's radius in [0, 1] pixel units.
        norm: "linf" or "l2".
        steps: positive int, attack steps per training step.
        step_size: positive float; default `2.5 * eps / steps`.
        random_start: start from a random point of the ball (else from `x`).
        seed: int, the seed of the random starts.
    """

    def __init__(
        self, eps, norm="linf", steps=7, step_size=None, random_start=True, seed=0
    ):
        super().__init__(seed)
        check_budget(norm, eps)
        check_positive_int("steps", steps)
        step_size = 2.5 * eps / steps if step_size is None else step_size
        check_positive_float("step_size", step_size)
        self.eps = float(eps)
        self.norm = norm
        self.steps = steps
        self.step_size = float(step_size)
        self.random_start = bool(random_start)

    def perturb(self, model, x, y, seed):
        adversarial = (
            random_start(x, self.norm, self.eps, seed) if self.random_start else x
        )
        for _ in range(self.steps):
            adversarial = fast_gradient_method(
                lambda images: model(images, training=False),
                adversarial,
                self.step_size,
                norm_order(self.norm),
                clip_min=0.0,
                clip_max=1.0,
                y=tf.cast(y, tf.int64),
                sanity_checks=False,
            )
            delta = clip_eta(adversarial - x, norm_order(self.norm), self.eps)
            adversarial = tf.clip_by_value(x + delta, 0.0, 1.0)
        return adversarial


def fgsm_rs(eps, norm="linf", step_size=None, seed=0):
    """ "Fast" adversarial training: one step from a random start, step
    `1.25 * eps` by default (Wong, Rice and Kolter 2020)."""
    step_size = 1.25 * eps if step_size is None else step_size
    return AdversarialTraining(eps, norm, 1, step_size, True, seed)
