"""Perturbation budgets, noise kinds and attack strengths: their one naming.

A budget is a norm ("linf" or "l2") and a radius eps in [0, 1] pixel units.
`Budget` keys a budget in results and labels it in reports.
"""

import dataclasses
import math

NORMS = ("linf", "l2")
# Zero-mean additive noises of a given standard deviation (`noise.add_noise`).
NOISE_KINDS = ("gaussian", "uniform")
# The reference AutoAttack's strengths: its standard version, or a far weaker
# run for tests only.
STRENGTHS = ("standard", "reduced")
# AutoAttack's standard version, in its order: its own names and how reports
# show them.
AUTOATTACK_ATTACKS = {
    "apgd-ce": "APGD-CE",
    "apgd-t": "APGD-T",
    "fab-t": "FAB-T",
    "square": "Square",
}


def strength_label(strength):
    """How reports name a strength: 'standard' or 'REDUCED strength (tests only)'."""
    if strength not in STRENGTHS:
        raise ValueError(
            f"`strength` must be one of {STRENGTHS}. Received: strength={strength!r}"
        )
    return "standard" if strength == "standard" else "REDUCED strength (tests only)"


def check_budget(norm, eps):
    """Raises a `ValueError` naming a bad norm or eps."""
    if norm not in NORMS:
        raise ValueError(f"`norm` must be one of {NORMS}. Received: norm={norm!r}")
    if not (isinstance(eps, (int, float)) and math.isfinite(eps) and eps > 0):
        raise ValueError(
            f"`eps` must be a positive finite float. Received: eps={eps!r}"
        )


@dataclasses.dataclass(frozen=True, eq=False)
class Budget:
    """One perturbation budget: a norm ("linf" or "l2") and a radius `eps`.

    Its `key` names it in results ("linf_0.00784314") and `Budget.parse`
    reads a key back; its `label` is how reports show it ("L_inf 2/255").
    Budgets are equal when their keys are (eps to 6 significant digits), so
    that a budget read back from a key equals the one that made it.

    >>> Budget("linf", 2 / 255).key, Budget("l2", 0.25).label
    ('linf_0.00784314', 'L2 0.25')
    >>> Budget.parse("linf_0.00784314").label
    'L_inf 2/255'
    """

    norm: str
    eps: float

    def __post_init__(self):
        check_budget(self.norm, self.eps)

    def __eq__(self, other):
        return isinstance(other, Budget) and other.key == self.key

    def __hash__(self):
        return hash(self.key)

    @property
    def key(self):
        return f"{self.norm}_{self.eps:.6g}"

    @classmethod
    def parse(cls, key):
        """The budget of a `key`."""
        norm, separator, eps = key.partition("_")
        if not separator:
            raise ValueError(
                f"A budget key is '<norm>_<eps>', as 'linf_0.00784314'. Received: {key!r}"
            )
        return cls(norm, float(eps))

    @property
    def label(self):
        """L_inf radii that are whole multiples of 1/255 are shown as such."""
        steps = self.eps * 255
        if self.norm == "linf" and abs(steps - round(steps)) < 1e-3:
            return f"L_inf {round(steps):d}/255"
        return f"{'L_inf' if self.norm == 'linf' else 'L2'} {self.eps:g}"


@dataclasses.dataclass
class AttackBudgets:
    """How hard each attack of the robust-accuracy set tries, and the masking
    checks' sweeps and tolerance.

    `strength` is the reference AutoAttack's: "standard" (its fixed
    hyperparameters: APGD-CE and APGD-T 100 steps, 9 targets, FAB-T, Square
    5,000 queries) or "reduced" (tests only, labelled so in every report);
    `seed` is its random seed. The rest are the adaptive attacks run on top
    (PGD, BPDA-PGD and transfer; SPSA) and the masking checks' sweeps.
    """

    strength: str = "standard"
    seed: int = 0
    pgd_steps: int = 20
    pgd_restarts: int = 5
    spsa_iterations: int = 20
    spsa_samples: int = 128
    sweep_steps: list = dataclasses.field(default_factory=lambda: [10, 20, 50, 100])
    sweep_restarts: list = dataclasses.field(default_factory=lambda: [1, 5])
    eps_multiples: list = dataclasses.field(
        default_factory=lambda: [1, 2, 4, 8, 16, 32]
    )
    tolerance: float = 0.02
