"""The Square attack (Andriushchenko et al. 2020) from the adversarial-robustness-toolbox."""

from art.attacks.evasion import SquareAttack

from keras_hebb.robustness.art_classifier import art_classifier
from keras_hebb.robustness.attacks import Attack, budget_name, norm_order
from keras_hebb.validation import check_positive_int


class Square(Attack):
    """A query-based (black-box) L_inf attack: random square-shaped updates kept
    when they lower the margin of the true class. It uses only the model's
    outputs, so masked or hidden gradients do not stop it; AutoAttack's
    standard strength is 5000 queries and 1 restart.

    L_inf only: ART 1.20's L2 version divides each new window by its target
    norm where it should multiply (`delta_new /= norm * scale`), so its L2
    steps are mis-scaled; on a linear classifier whose L_inf version fooled
    most images, it fooled none.

    Args:
        eps, norm, batch_size: as `Attack`.
        queries: positive int, iterations (one query per image each).
        restarts: positive int, random restarts.
        p_init: initial fraction of the image a square covers.
    """

    norms = ("linf",)

    def __init__(
        self, eps, norm="linf", queries=5000, restarts=1, p_init=0.8, batch_size=100
    ):
        super().__init__(eps, norm, batch_size)
        check_positive_int("queries", queries)
        check_positive_int("restarts", restarts)
        if not 0 < p_init <= 1:
            raise ValueError(f"`p_init` must be in (0, 1]. Received: {p_init!r}")
        self.queries = queries
        self.restarts = restarts
        self.p_init = p_init

    @property
    def name(self):
        return f"Square-{self.queries} {budget_name(self.norm, self.eps)}"

    def _art_attack(self, model):
        return SquareAttack(
            art_classifier(model),
            norm=norm_order(self.norm),
            eps=self.eps,
            max_iter=self.queries,
            nb_restarts=self.restarts,
            p_init=self.p_init,
            batch_size=self.batch_size,
            verbose=False,
        )

    def attack_batch(self, model, x, y):
        attack = self.for_model(model, self._art_attack)
        classes = model.output_shape[-1]
        return attack.generate(x, y=(y[:, None] == range(classes)).astype("float32"))
