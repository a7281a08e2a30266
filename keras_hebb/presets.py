"""Named experiment settings: smoke (tests), cpu (2 cores, 45 min), paper (GPU)."""

import dataclasses

PAPER_BUDGETS = (("linf", 2 / 255), ("linf", 8 / 255), ("l2", 0.25), ("l2", 0.5))
PAPER_NOISE_STDS = (0.02, 0.05, 0.1, 0.15, 0.2)


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
    ),
    "cpu": Preset(
        name="cpu",
        depth=16,
        width=0.25,
        epochs=8,
        test_limit=None,
        noise_examples=2000,
        probe_examples=500,
        attack_examples=500,
    ),
    "paper": Preset(name="paper", attack_examples=10_000),
}


def get_preset(name):
    """The preset called `name`, with a clear error for an unknown name."""
    if name not in PRESETS:
        raise ValueError(f"Unknown preset {name!r}; choose one of {sorted(PRESETS)}.")
    return PRESETS[name]
