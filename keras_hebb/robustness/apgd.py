"""APGD-CE and APGD-T (Croce and Hein 2020) from the adversarial-robustness-toolbox."""

import numpy as np
from art.attacks.evasion import AutoProjectedGradientDescent

from keras_hebb.robustness.art_classifier import art_classifier
from keras_hebb.robustness.attacks import Attack, budget_name, norm_order

LOSSES = {"ce": "cross_entropy", "dlr": "difference_logits_ratio"}


class APGD(Attack):
    """Auto-PGD: step sizes halved at checkpoints, momentum 0.75 (ART's implementation).

    `APGD(eps, loss="ce")` is AutoAttack's APGD-CE. `APGD(eps, loss="dlr",
    targeted=True)` is APGD-T: for each of the `target_classes` classes
    ranked highest by the clean logits (the true class excluded), a targeted
    run on the examples still classified correctly, keeping every success.
    ART's targeted DLR loss is its untargeted DLR with the sign flipped
    toward the target, not AutoAttack's targeted DLR.

    Args:
        eps, norm, batch_size: as `Attack`.
        loss: "ce" (cross-entropy) or "dlr" (difference of logits ratio).
        targeted: run targeted attacks on the top `target_classes` classes.
        steps: iterations per run.
        restarts: random restarts per run.
        target_classes: number of target classes for `targeted=True`.
    """

    def __init__(
        self,
        eps,
        norm="linf",
        loss="ce",
        targeted=False,
        steps=100,
        restarts=1,
        target_classes=9,
        batch_size=100,
    ):
        super().__init__(eps, norm, batch_size)
        if loss not in LOSSES:
            raise ValueError(
                f"`loss` must be one of {tuple(LOSSES)}. Received: {loss!r}"
            )
        self.loss = loss
        self.targeted = targeted
        self.steps = steps
        self.restarts = restarts
        self.target_classes = target_classes

    @property
    def name(self):
        kind = "T" if self.targeted else self.loss.upper()
        return f"APGD-{kind}-{self.steps} {budget_name(self.norm, self.eps)}"

    def _art_attack(self, model):
        return AutoProjectedGradientDescent(
            art_classifier(model),
            norm=norm_order(self.norm),
            eps=self.eps,
            eps_step=2 * self.eps,
            max_iter=self.steps,
            targeted=self.targeted,
            nb_random_init=self.restarts,
            batch_size=self.batch_size,
            loss_type=LOSSES[self.loss],
            verbose=False,
        )

    def attack_batch(self, model, x, y):
        classes = model.output_shape[-1]
        if self.loss == "dlr" and classes < 3:
            raise ValueError(
                "APGD's DLR loss compares the three largest logits: it needs a "
                f"model of at least 3 classes; this one has {classes}. Use loss='ce'."
            )
        attack = self.for_model(model, self._art_attack)
        if not self.targeted:
            return attack.generate(x, y=np.eye(classes)[y]).astype("float32")
        ranked = np.argsort(-model.predict(x, verbose=0), axis=1)
        others = np.array(
            [[c for c in row if c != label] for row, label in zip(ranked, y)]
        )
        adversarial = x.copy()
        for rank in range(min(self.target_classes, classes - 1)):
            still_right = np.argmax(model.predict(adversarial, verbose=0), axis=1) == y
            if not still_right.any():
                break
            targets = np.eye(classes)[others[still_right, rank]]
            adversarial[still_right] = attack.generate(x[still_right], y=targets)
        return adversarial
