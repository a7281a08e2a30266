"""Named experiment settings: smoke (tests), cpu (2 cores, 45 min), paper (GPU)."""

import dataclasses

PAPER_BUDGETS = (("linf", 2 / 255), ("linf", 8 / 255), ("l2", 0.25), ("l2", 0.5))
PAPER_NOISE_STDS = (0.02, 0.05, 0.1, 0.15, 0.2)
PAPER_ROBUST_BUDGETS = (("linf", 2 / 255), ("l2", 0.25))


@dataclasses.dataclass(frozen=True)
class AttackBudgets:
    """How hard each attack of the set tries (AutoAttack's standard: 100 steps,
    9 target classes, 1 restart)."""

    apgd_steps: int = 100
    apgd_targets: int = 9
    pgd_steps: int = 20
    pgd_restarts: int = 5
    spsa_iterations: int = 20
    spsa_samples: int = 128
    sweep_steps: tuple = (10, 20, 50, 100)
    sweep_restarts: tuple = (1, 5)
    eps_multiples: tuple = (1, 2, 4, 8, 16, 32)
    tolerance: float = 0.02


@dataclasses.dataclass(frozen=True)
class Preset:
    """Everything that sizes one baseline-against-HaH experiment.

    `None` for a limit means the whole split.
    """

    name: str
    depth: int = 16
    width: float = 1.0
    epochs: int = 100
    batch_size: int = 128
    learning_rate: float = 1e-3
    lr_drops: tuple = (0.6, 0.8)
    train_limit: int | None = None
    test_limit: int | None = None
    validation_limit: int = 2000
    noise_examples: int | None = None
    noise_stds: tuple = PAPER_NOISE_STDS
    noise_draws: int = 3
    snr_std: float = 0.1
    probe_examples: int = 1000
    attack_examples: int = 1000
    attack_steps: int = 20
    attack_budgets: tuple = PAPER_BUDGETS
    robust_examples: int = 1000
    masking_examples: int = 1000
    robust_budgets: tuple = PAPER_ROBUST_BUDGETS
    robust_attacks: AttackBudgets = AttackBudgets()
    seed: int = 2022

    def to_dict(self):
        return dataclasses.asdict(self)


PRESETS = {
    "smoke": Preset(
        name="smoke",
        depth=11,
        width=1 / 16,
        epochs=2,
        batch_size=32,
        train_limit=128,
        test_limit=64,
        validation_limit=32,
        noise_examples=32,
        noise_stds=(0.05, 0.2),
        noise_draws=1,
        probe_examples=16,
        attack_examples=16,
        attack_steps=3,
        robust_examples=6,
        masking_examples=6,
        robust_budgets=(("linf", 2 / 255),),
        robust_attacks=AttackBudgets(
            apgd_steps=5,
            apgd_targets=2,
            pgd_steps=3,
            pgd_restarts=2,
            spsa_iterations=2,
            spsa_samples=8,
            sweep_steps=(2, 3, 4),
            eps_multiples=(1, 32),
        ),
    ),
    "cpu": Preset(
        name="cpu",
        depth=16,
        width=0.25,
        epochs=10,
        test_limit=None,
        noise_examples=2000,
        probe_examples=500,
        attack_examples=500,
        robust_examples=200,
        masking_examples=100,
        robust_attacks=AttackBudgets(apgd_steps=50, apgd_targets=3),
    ),
    "paper": Preset(name="paper", attack_examples=10_000, robust_examples=10_000),
}


def get_preset(name):
    """The preset called `name`, with a clear error for an unknown name."""
    if name not in PRESETS:
        raise ValueError(f"Unknown preset {name!r}; choose one of {sorted(PRESETS)}.")
    return PRESETS[name]
