"""Perturbation budgets, noise kinds and attack strengths: their one naming.

A budget is a norm ("linf" or "l2") and a radius eps in [0, 1] pixel units.
Results key each budget by `budget_key` and show it by `budget_label`.
"""

import dataclasses
import math

NORMS = ("linf", "l2")
# Zero-mean additive noises of a given standard deviation (`noise.add_noise`).
NOISE_KINDS = ("gaussian", "uniform")


def check_budget(norm, eps):
    """Raises a `ValueError` naming a bad norm or eps."""
    if norm not in NORMS:
        raise ValueError(f"`norm` must be one of {NORMS}. Received: norm={norm!r}")
    if not (isinstance(eps, (int, float)) and math.isfinite(eps) and eps > 0):
        raise ValueError(
            f"`eps` must be a positive finite float. Received: eps={eps!r}"
        )


def budget_key(norm, eps):
    """The results' key of a budget: `budget_key("linf", 2 / 255)` is
    "linf_0.00784314"."""
    return f"{norm}_{eps:.6g}"


def parse_budget_key(key):
    """(norm, eps) of a `budget_key`."""
    norm, eps = key.split("_")
    return norm, float(eps)


def budget_label(key):
    """'linf_0.00784314' -> 'L_inf 2/255'; 'l2_0.25' -> 'L2 0.25'.

    L_inf radii that are whole multiples of 1/255 are shown as such.
    """
    norm, eps = parse_budget_key(key)
    if norm == "linf" and abs(eps * 255 - round(eps * 255)) < 1e-3:
        return f"L_inf {round(eps * 255):d}/255"
    return f"{'L_inf' if norm == 'linf' else 'L2'} {eps:g}"


@dataclasses.dataclass
class AttackBudgets:
    """How hard each attack of the robust-accuracy set tries (by default
    AutoAttack's standard: APGD 100 steps, 9 target classes, 1 restart;
    Square 5000 queries), and the masking checks' sweeps and tolerance."""

    apgd_steps: int = 100
    apgd_targets: int = 9
    square_queries: int = 5000
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
