"""The reference AutoAttack (Croce and Hein 2020) on a Keras model.

`AutoAttack` runs the authors' own code (the `pyautoattack` package, pinned)
on a Keras classifier through `TorchClassifier`, the TensorFlow-to-PyTorch
bridge. At `strength="standard"` it is AutoAttack's standard version
unchanged: APGD-CE (100 steps), APGD-T (100 steps over the 9 highest other
classes), FAB-T (9 target classes) and Square (5,000 queries), each run on
the images the earlier ones left robust, with hyperparameters fixed by its
authors. `strength="reduced"` is a far weaker run for tests only; every name
and report says so.

Our networks are deterministic, so AutoAttack's randomised version (EoT) is
not needed; its own check for randomness (one of its `checks`) confirms it
on each run.
"""

import contextlib
import dataclasses
import logging
import re
import time

import numpy as np
import pyautoattack
import torch

from keras_hebb.progress import say
from keras_hebb.robustness.attacks import Attack, budget_name
from keras_hebb.robustness.budgets import AUTOATTACK_ATTACKS, strength_label
from keras_hebb.robustness.predict import predicted_classes
from keras_hebb.robustness.torch_bridge import TorchClassifier, nchw, nhwc
from keras_hebb.validation import check_model_inputs

NORM_NAMES = {"linf": "Linf", "l2": "L2"}
# Tests only: a few steps of each attack, so that a suite can run it.
REDUCED = {"steps": 5, "target_classes": 2, "square_queries": 20}
LOGGER = "auto-attack"
PERTURBED = re.compile(r"^(\S+) - \d+/\d+ - (\d+) out of \d+ successfully perturbed$")


@dataclasses.dataclass
class AutoAttackRun:
    """What one run of AutoAttack found.

    Attributes:
        strength: "standard" or "reduced".
        running: robust accuracy on the clean images ("clean") and after each
            of AutoAttack's attacks in order, as AutoAttack prints it.
        flags: the warnings of AutoAttack's own checks (randomness, softmax
            outputs, zero gradients, a stronger Square, ...); empty when none
            fired.
        adversarial: `(n, height, width, channels)` images: each image that
            an attack fooled the model on, the clean image elsewhere.
        robust: bool `(n,)`, the images no attack fooled the model on
            (clean-correct included).
        seconds: wall time.
    """

    strength: str
    running: dict
    flags: list
    adversarial: np.ndarray
    robust: np.ndarray
    seconds: float

    def to_dict(self):
        return {
            "strength": self.strength,
            "running": self.running,
            "flags": self.flags,
            "seconds": self.seconds,
        }


class AutoAttackLog(logging.Handler):
    """Collects what AutoAttack logs: how many images each attack fooled, the
    warnings of its checks, and its progress lines (passed on to `say`)."""

    def __init__(self, model_name, verbose=True):
        super().__init__(logging.DEBUG)
        self.model_name = model_name
        self.verbose = verbose
        self.fooled = {}
        self.flags = []

    def emit(self, record):
        message = record.getMessage()
        perturbed = PERTURBED.match(message)
        if record.levelno >= logging.WARNING:
            self.flags.append(message)
        elif perturbed:
            attack, count = perturbed.groups()
            self.fooled[attack] = self.fooled.get(attack, 0) + int(count)
        elif self.verbose and message.startswith("robust accuracy after"):
            say(f"{self.model_name}: AutoAttack: {message}")


@contextlib.contextmanager
def capturing(handler):
    """AutoAttack's log, every level, to `handler` alone while the block runs."""
    logger = logging.getLogger(LOGGER)
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


class AutoAttack(Attack):
    """AutoAttack, the authors' code, standard version, on a Keras classifier.

    The robust accuracy it reports is the fraction of images that none of
    APGD-CE, APGD-T, FAB-T and Square fools the model on (clean-correct
    included). `evaluate` returns the running robust accuracy after each of
    the four and the warnings of AutoAttack's own checks; `generate` returns
    the adversarial images only.

    APGD-T's targeted DLR loss compares four logits, so the model needs at
    least 4 classes; with fewer than 10, APGD-T and FAB-T target every other
    class.

    Args:
        eps, norm: as `Attack` ("linf" or "l2").
        strength: "standard" (AutoAttack's fixed hyperparameters) or
            "reduced" (5 steps, 2 targets, 20 Square queries: tests only).
        seed: the attacks' random seed.
        batch_size: images per call of each attack.

    Example:

    >>> attack = AutoAttack(8 / 255)
    >>> attack.name
    'AutoAttack standard L_inf 8/255'
    """

    def __init__(self, eps, norm="linf", strength="standard", seed=0, batch_size=250):
        super().__init__(eps, norm, batch_size)
        strength_label(strength)  # validates it
        if not isinstance(seed, int) or seed < 0:
            raise ValueError(
                f"`seed` must be a non-negative int. Received: seed={seed!r}"
            )
        self.strength = strength
        self.seed = seed

    @property
    def name(self):
        return f"AutoAttack {strength_label(self.strength)} {budget_name(self.norm, self.eps)}"

    def reference(self, torch_model, classes):
        """The authors' `AutoAttack` object, standard version, at this strength."""
        reference = pyautoattack.AutoAttack(
            torch_model,
            norm=NORM_NAMES[self.norm],
            eps=self.eps,
            version="standard",
            seed=self.seed,
        )
        targets = reference.apgd_targeted.n_target_classes
        if self.strength == "reduced":
            for attack in (reference.apgd, reference.apgd_targeted, reference.fab):
                attack.n_iter = REDUCED["steps"]
            reference.square.n_queries = REDUCED["square_queries"]
            targets = REDUCED["target_classes"]
        reference.apgd_targeted.n_target_classes = min(targets, classes - 1)
        reference.fab.n_target_classes = min(targets, classes - 1)
        return reference

    def evaluate(self, model, images, labels, verbose=True):
        """Runs AutoAttack on `images` (float32 NHWC in [0, 1]) and their labels.

        Returns:
            An `AutoAttackRun`.
        """
        images, labels = check_model_inputs(model, images, labels)
        classes = model.output_shape[-1]
        if classes < 4:
            raise ValueError(
                "AutoAttack's APGD-T uses the targeted DLR loss, which compares "
                f"four logits: it needs a model of at least 4 classes; this one has "
                f"{classes}."
            )
        start = time.perf_counter()
        correct = predicted_classes(model, images) == labels
        log = AutoAttackLog(model.name, verbose)
        reference = self.reference(TorchClassifier(model), classes)
        with capturing(log):
            adversarial, _ = reference.run_standard_evaluation(
                nchw(images),
                torch.from_numpy(labels.astype("int64")),
                batch_size=self.batch_size,
            )
        adversarial = nhwc(adversarial)
        robust = correct & (predicted_classes(model, adversarial) == labels)
        running = running_accuracy(int(correct.sum()), log.fooled, len(labels))
        if round(running[tuple(AUTOATTACK_ATTACKS)[-1]] * len(labels)) != robust.sum():
            raise RuntimeError(
                f"AutoAttack reported {running} but {robust.sum()} of {len(labels)} "
                "adversarial images are classified correctly: the model is not "
                "deterministic, or pyautoattack's log lines changed"
            )
        return AutoAttackRun(
            strength=self.strength,
            running=running,
            flags=log.flags,
            adversarial=adversarial,
            robust=robust,
            seconds=time.perf_counter() - start,
        )

    def generate(self, model, images, labels):
        return self.evaluate(model, images, labels, verbose=False).adversarial


def running_accuracy(clean_correct, fooled, images):
    """{"clean": ..., attack: robust accuracy after it} from the counts of
    images each attack fooled, in AutoAttack's order."""
    running = {"clean": clean_correct / images}
    robust = clean_correct
    for attack in AUTOATTACK_ATTACKS:
        robust -= fooled.get(attack, 0)
        running[attack] = robust / images
    return running
