"""Adversarial accuracy under CleverHans gradient attacks."""

import numpy as np
import tensorflow as tf
from cleverhans.tf2.attacks.projected_gradient_descent import (
    projected_gradient_descent,
)

NORMS = {"linf": np.inf, "l2": 2}


def norm_order(norm):
    """"linf" -> np.inf, "l2" -> 2, with a clear error otherwise."""
    if norm not in NORMS:
        raise ValueError(f"`norm` must be one of {tuple(NORMS)}. Received: {norm!r}")
    return NORMS[norm]


def pgd_attack(model, eps, norm="linf", steps=20, step_size=None):
    """A compiled PGD attack: `attack(images, labels) -> adversarial images`.

    CleverHans' `projected_gradient_descent` with a random start, on [0, 1]
    inputs, untargeted, on the cross-entropy of the model's logits.

    Args:
        model: a model mapping [0, 1] images to logits.
        eps: the perturbation budget in the chosen norm.
        norm: "linf" or "l2".
        steps: number of PGD iterations.
        step_size: step per iteration; defaults to 2.5 * eps / steps.
    """
    order = norm_order(norm)
    if not eps > 0 or not isinstance(steps, int) or steps < 1:
        raise ValueError(
            f"`eps` must be positive and `steps` a positive int. "
            f"Received: eps={eps}, steps={steps!r}"
        )
    step_size = min(eps, 2.5 * eps / steps) if step_size is None else step_size

    def logits(x):
        return model(x, training=False)

    @tf.function(reduce_retracing=True)
    def attack(images, labels):
        return projected_gradient_descent(
            logits, images, eps, step_size, steps, order,
            clip_min=0.0, clip_max=1.0, y=labels, rand_init=True,
            sanity_checks=False,
        )

    return attack


def pgd_accuracy(model, images, labels, eps, norm="linf", steps=20, step_size=None,
                 batch_size=100):
    """Accuracy on PGD adversarial examples of NumPy images in [0, 1].

    Returns:
        (accuracy, adversarial images as a NumPy array).
    """
    attack = pgd_attack(model, eps, norm, steps, step_size)
    adversarial = []
    for start in range(0, len(images), batch_size):
        x = tf.constant(images[start : start + batch_size])
        y = tf.constant(labels[start : start + batch_size], tf.int64)
        adversarial.append(attack(x, y).numpy())
    adversarial = np.concatenate(adversarial)
    predictions = model.predict(adversarial, batch_size=batch_size, verbose=0)
    return float(np.mean(np.argmax(predictions, -1) == labels)), adversarial
