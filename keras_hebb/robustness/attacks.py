"""Adversarial attacks behind one interface, on [0, 1] inputs.

Every attack is an object with a budget (`norm`, `eps`) and a `name`, whose
`generate(model, images, labels)` returns adversarial images (NumPy, same
shape) inside the budget's ball around `images` and inside [0, 1]. Gradient
attacks come from CleverHans (`cleverhans.tf2.attacks`) and from the
adversarial-robustness-toolbox (APGD); `Transfer` and `BPDA` wrap another
attack. `attack_accuracy` and `worst_case_accuracy` score them.
"""

import time
import weakref

import numpy as np
import tensorflow as tf
from cleverhans.tf2.attacks.fast_gradient_method import fast_gradient_method
from cleverhans.tf2.attacks.momentum_iterative_method import (
    momentum_iterative_method,
)
from cleverhans.tf2.attacks.projected_gradient_descent import (
    projected_gradient_descent,
)

from keras_hebb.progress import say
from keras_hebb.robustness.bpda import straight_through_model
from keras_hebb.robustness.budgets import Budget
from keras_hebb.robustness.predict import predicted_classes
from keras_hebb.validation import check_model_inputs, check_positive_int

NORMS = {"linf": np.inf, "l2": 2}


def norm_order(norm):
    """ "linf" -> np.inf, "l2" -> 2, with a clear error otherwise."""
    if norm not in NORMS:
        raise ValueError(f"`norm` must be one of {tuple(NORMS)}. Received: {norm!r}")
    return NORMS[norm]


def budget_name(norm, eps):
    """How attack names show their budget: 'L_inf 2/255', 'L2 0.25'."""
    return Budget(norm, eps).label


def project(adversarial, images, norm, eps):
    """Projects onto the eps-ball of `norm` around `images`, then into [0, 1]."""
    delta = adversarial - images
    if norm == "linf":
        delta = np.clip(delta, -eps, eps)
    else:
        flat = delta.reshape(len(delta), -1)
        norms = np.linalg.norm(flat, axis=1, keepdims=True)
        flat = flat * np.minimum(1.0, eps / np.maximum(norms, 1e-12))
        delta = flat.reshape(delta.shape)
    return np.clip(images + delta, 0.0, 1.0).astype(images.dtype)


class Attack:
    """Base class: an attack with a budget.

    Subclasses implement `attack_batch(model, x, y)` on NumPy arrays; the
    base class batches, then projects the result onto the budget (so a
    rounding error of a library can never leave the ball).

    Args:
        eps: positive float, the budget in the chosen norm.
        norm: "linf" or "l2".
        batch_size: images per call of `attack_batch`.
    """

    norms = ("linf", "l2")

    def __init__(self, eps, norm="linf", batch_size=100):
        norm_order(norm)
        if norm not in self.norms:
            raise ValueError(
                f"{type(self).__name__} supports norms {self.norms}. "
                f"Received: norm={norm!r}"
            )
        if not eps > 0:
            raise ValueError(f"`eps` must be positive. Received: eps={eps}")
        check_positive_int("batch_size", batch_size)
        self.eps = float(eps)
        self.norm = norm
        self.batch_size = batch_size

    @property
    def name(self):
        return f"{type(self).__name__} {budget_name(self.norm, self.eps)}"

    def generate(self, model, images, labels):
        """Adversarial versions of `images` (float32 NHWC in [0, 1]) for `model`."""
        images, labels = check_model_inputs(model, images, labels)
        batches = [
            self.attack_batch(
                model, images[i : i + self.batch_size], labels[i : i + self.batch_size]
            )
            for i in range(0, len(images), self.batch_size)
        ]
        return project(np.concatenate(batches), images, self.norm, self.eps)

    def attack_batch(self, model, x, y):
        raise NotImplementedError

    def for_model(self, model, build):
        """`build(model)`, built once per model (compiled functions, copies):
        the latest model's is kept, so retracing happens once, not per batch."""
        cached = getattr(self, "_built_for", None)
        if cached is None or cached[0] is not model:
            self._built_for = (model, build(model))
        return self._built_for[1]


def logits_function(model):
    """`x -> model(x, training=False)`, differentiable in `x` even where the model
    is not: a model with no gradient path to its input (a rounding layer, say)
    gets a zero gradient instead of crashing CleverHans on `None`."""

    def logits(x):
        connected = 0.0 * tf.reduce_sum(x, axis=list(range(1, len(x.shape))))
        return model(x, training=False) + connected[:, None]

    return logits


class FGSM(Attack):
    """One gradient-sign (L_inf) or gradient (L2) step of size eps (CleverHans)."""

    def attack_batch(self, model, x, y):
        return fast_gradient_method(
            logits_function(model),
            tf.constant(x),
            self.eps,
            norm_order(self.norm),
            clip_min=0.0,
            clip_max=1.0,
            y=tf.constant(y, tf.int64),
        ).numpy()


class PGD(Attack):
    """Projected gradient descent with random starts (CleverHans).

    Each restart starts from a new random point; per example the first
    restart that fools the model is kept, so the result is the worst case
    over restarts.

    Args:
        eps, norm, batch_size: as `Attack`.
        steps: iterations per restart.
        restarts: number of random starts.
        step_size: step per iteration; defaults to 2.5 * eps / steps.
    """

    def __init__(
        self, eps, norm="linf", steps=20, restarts=1, step_size=None, batch_size=100
    ):
        super().__init__(eps, norm, batch_size)
        check_positive_int("steps", steps)
        check_positive_int("restarts", restarts)
        self.steps = steps
        self.restarts = restarts
        self.step_size = min(eps, 2.5 * eps / steps) if step_size is None else step_size

    @property
    def name(self):
        return f"PGD-{self.steps}x{self.restarts} {budget_name(self.norm, self.eps)}"

    def attack_batch(self, model, x, y):
        attack = compiled_pgd(model, self.norm)
        steps = tf.constant(self.steps, tf.int32)
        best = x.copy()
        fooled = np.zeros(len(x), bool)
        for restart in range(self.restarts):
            candidate = attack(
                tf.constant(x),
                tf.constant(y, tf.int64),
                steps,
                self.eps,
                self.step_size,
            ).numpy()
            best[~fooled] = candidate[~fooled]
            if restart + 1 < self.restarts:
                fooled |= predicted_classes(model, candidate) != y
        return best


# model -> {norm: PGD's compiled function}: one `tf.function` per model and norm.
_COMPILED_PGD = weakref.WeakKeyDictionary()


def compiled_pgd(model, norm):
    """CleverHans' PGD on `model` as one `tf.function` of (x, y, steps, eps,
    step_size), shared by every `PGD` of that model and norm.

    With `steps` a tensor, CleverHans' step loop becomes one `tf.while_loop`
    and one trace serves every step count: as a Python int it unrolled into
    `steps` copies of the model's forward and backward pass, traced and
    optimised again for every attack (a PGD-100 sweep of VGG16 traced a
    graph of 100 gradient passes). `eps` and `step_size` stay Python floats
    (a trace per budget): CleverHans asserts `step_size <= eps` in Python.
    """
    by_norm = _COMPILED_PGD.setdefault(model, {})
    if norm not in by_norm:
        # A weak reference: a function holding the model would keep its key
        # alive in the cache for good.
        traced_model = weakref.ref(model)

        @tf.function(reduce_retracing=True)
        def attack(x, y, steps, eps, step_size):
            return projected_gradient_descent(
                logits_function(traced_model()),
                x,
                eps,
                step_size,
                steps,
                norm_order(norm),
                clip_min=0.0,
                clip_max=1.0,
                y=y,
                rand_init=True,
                sanity_checks=False,
            )

        by_norm[norm] = attack
    return by_norm[norm]


class MomentumIterative(Attack):
    """Momentum iterative method (Dong et al. 2018), CleverHans."""

    def __init__(
        self, eps, norm="linf", steps=20, decay=1.0, step_size=None, batch_size=100
    ):
        super().__init__(eps, norm, batch_size)
        self.steps = steps
        self.decay = decay
        self.step_size = eps / steps if step_size is None else step_size

    def attack_batch(self, model, x, y):
        return momentum_iterative_method(
            logits_function(model),
            tf.constant(x),
            self.eps,
            self.step_size,
            self.steps,
            norm_order(self.norm),
            clip_min=0.0,
            clip_max=1.0,
            y=tf.constant(y, tf.int64),
            decay_factor=self.decay,
            sanity_checks=False,
        ).numpy()


class Transfer(Attack):
    """Adversarial examples made by `attack` on `source_model`, scored on another."""

    def __init__(self, source_model, attack):
        super().__init__(attack.eps, attack.norm, attack.batch_size)
        self.source_model = source_model
        self.attack = attack

    @property
    def name(self):
        return f"transfer from {self.source_model.name}: {self.attack.name}"

    def attack_batch(self, model, x, y):
        return self.attack.attack_batch(self.source_model, x, y)


class BPDA(Attack):
    """`attack` run on a straight-through copy of the model (thresholds' gradient
    replaced by the identity, and optionally the divisive normalisation's
    divisor held constant); its examples are then scored on the model itself."""

    def __init__(self, attack, divisive_normalization=False):
        super().__init__(attack.eps, attack.norm, attack.batch_size)
        self.attack = attack
        self.divisive_normalization = divisive_normalization

    @property
    def name(self):
        return f"BPDA {self.attack.name}"

    def attack_batch(self, model, x, y):
        copy = self.for_model(
            model, lambda m: straight_through_model(m, self.divisive_normalization)
        )
        return self.attack.attack_batch(copy, x, y)


def attack_accuracy(model, attack, images, labels):
    """(accuracy on the attack's examples, boolean correct-per-example, examples)."""
    adversarial = attack.generate(model, images, labels)
    correct = predicted_classes(model, adversarial) == np.asarray(labels)
    return float(correct.mean()), correct, adversarial


def worst_case_accuracy(model, attacks, images, labels, verbose=True, robust=None):
    """Per-example worst case over a set of attacks, as AutoAttack reports it.

    An example counts as robust only if the model is right on the clean image
    and on every attack's adversarial example (and, where `robust` is given,
    a bool `(n,)` of what earlier attacks left robust, if it is True there).

    Returns:
        dict with "clean", "per_attack" (name -> accuracy), "seconds" (name ->
        the attack's wall time), "worst_case" and "robust" (bool `(n,)`:
        which examples every attack failed on).
    """
    images, labels = check_model_inputs(model, images, labels)
    clean_correct = predicted_classes(model, images) == labels
    result = {"clean": float(clean_correct.mean()), "per_attack": {}, "seconds": {}}
    robust = clean_correct if robust is None else clean_correct & robust
    for attack in attacks:
        start = time.perf_counter()
        accuracy, correct, _ = attack_accuracy(model, attack, images, labels)
        result["seconds"][attack.name] = time.perf_counter() - start
        result["per_attack"][attack.name] = accuracy
        robust &= correct
        if verbose:
            say(
                f"{model.name}: {attack.name}: {accuracy:.4f} "
                f"({result['seconds'][attack.name]:.0f} s; "
                f"worst case so far {robust.mean():.4f})"
            )
    result["worst_case"] = float(robust.mean())
    result["robust"] = robust
    return result


def pgd_accuracy(
    model, images, labels, eps, norm="linf", steps=20, step_size=None, batch_size=100
):
    """Accuracy under one PGD attack; returns (accuracy, adversarial images)."""
    attack = PGD(eps, norm, steps, step_size=step_size, batch_size=batch_size)
    accuracy, _, adversarial = attack_accuracy(model, attack, images, labels)
    return accuracy, adversarial
