"""The records a run writes and its reports render, as objects.

- `MetricKey`: which per-image score a figure is ("clean", a noise of a kind
  and std, or PGD at a budget), with the string that keys it in
  `per_image.npz` and in a record's comparisons, and its label in tables.
- `ResultsRecord` (`results.json`), `RobustnessRecord` (`robustness.json`)
  and `CorruptionsRecord` (`corruptions.json`): the top-level parts of each
  record as fields, with what every report asks of them (the networks'
  names and labels, the seeds, how many images a figure rests on).
  `to_dict` gives the JSON record and `from_dict` reads one back; the two
  are inverse, for every record committed so far.

The figures inside a record (per-seed figures, spreads, comparisons) stay
the JSON mappings `keras_hebb.run.comparison` and
`keras_hebb.robustness.evaluation` make; their keys are `MetricKey` and
`Budget` keys.
"""

import dataclasses
import json
import math

from keras_hebb.robustness.budgets import NOISE_KINDS, Budget

PGD_PREFIX = "pgd_"


@dataclasses.dataclass(frozen=True)
class MetricKey:
    """One per-image score: "clean", noise (`kind`, `std`) or PGD at `budget`.

    `str(key)` is its key in `per_image.npz` and in comparisons; `parse`
    reads one back. A noise kind may hold an underscore: the std is what
    follows the last one.

    >>> str(MetricKey.noise("gaussian", 0.1)), MetricKey.parse("pgd_l2_0.25").budget
    ('gaussian_0.1', Budget(norm='l2', eps=0.25))
    """

    kind: str
    std: float | None = None
    budget: Budget | None = None

    def __post_init__(self):
        if not self._valid():
            raise ValueError(
                "A metric is MetricKey('clean'), MetricKey.noise(kind, std >= 0) with "
                f"kind in {NOISE_KINDS} or MetricKey.pgd(budget). Received: "
                f"kind={self.kind!r}, std={self.std!r}, budget={self.budget!r}"
            )

    def _valid(self):
        if self.kind == "clean":
            return self.std is None and self.budget is None
        if self.kind == "pgd":
            return self.std is None and isinstance(self.budget, Budget)
        return (
            self.kind in NOISE_KINDS
            and self.budget is None
            and self.std is not None
            and math.isfinite(self.std)
            and self.std >= 0
        )

    @classmethod
    def noise(cls, kind, std):
        return cls(kind, std=float(std))

    @classmethod
    def pgd(cls, budget):
        return cls("pgd", budget=budget)

    @classmethod
    def parse(cls, text):
        if text == "clean":
            return cls("clean")
        if text.startswith(PGD_PREFIX):
            return cls.pgd(Budget.parse(text[len(PGD_PREFIX) :]))
        kind, separator, std = text.rpartition("_")
        if not separator:
            raise ValueError(f"Not a metric key: {text!r}")
        return cls.noise(kind, float(std))

    @property
    def is_noise(self):
        return self.kind in NOISE_KINDS

    def __str__(self):
        if self.kind == "clean":
            return "clean"
        if self.kind == "pgd":
            return PGD_PREFIX + self.budget.key
        return f"{self.kind}_{self.std}"

    def label(self, attack_steps):
        """'clean accuracy', 'gaussian noise std 0.1', 'PGD-20 L_inf 2/255'."""
        if self.kind == "clean":
            return "clean accuracy"
        if self.kind == "pgd":
            return f"PGD-{attack_steps} {self.budget.label}"
        return f"{self.kind} noise std {self.std}"


def metric_keys(figures):
    """The `MetricKey`s of one network's figures (an `evaluate_network`
    record or its summary), in the order reports show them."""
    keys = [MetricKey("clean")]
    keys += [
        MetricKey.noise(kind, std)
        for kind, by_std in figures["noise_accuracy"].items()
        for std in by_std
    ]
    keys += [
        MetricKey.pgd(Budget.parse(budget))
        for budget in figures["adversarial_accuracy"]
    ]
    return keys


def figure_of(figures, key):
    """The figure of `key` in one network's figures or summary."""
    if key.kind == "clean":
        return figures["clean_accuracy"]
    if key.kind == "pgd":
        return figures["adversarial_accuracy"][key.budget.key]
    by_std = figures["noise_accuracy"][key.kind]
    return next(value for std, value in by_std.items() if float(std) == key.std)


class _Record:
    """What the three records share: dict round trips, JSON, labels, seeds."""

    @classmethod
    def from_dict(cls, record):
        names = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(record) - names)
        if unknown:
            raise ValueError(f"{cls.__name__} has no field(s) {unknown}")
        return cls(**record)

    def to_dict(self):
        """The JSON record, in the order of its fields; absent optional
        fields (None) are left out."""
        return {
            field.name: getattr(self, field.name)
            for field in dataclasses.fields(self)
            if getattr(self, field.name) is not None
        }

    @classmethod
    def of(cls, record):
        """The record of a mapping as it will read back from JSON (keys as
        strings, tuples as lists), so that a record made now and one read
        from disk are the same."""
        return cls.from_dict(json.loads(json.dumps(record)))

    @classmethod
    def from_json(cls, text):
        return cls.from_dict(json.loads(text))

    def labels(self):
        """{name: label} of the networks it summarises, in its order: the
        configured label, or the name (saved model files)."""
        configured = self.config["variants"]
        return {
            name: (configured.get(name) or {}).get("label") or name
            for name in self.summary
        }

    @property
    def names(self):
        return list(self.summary)

    @property
    def evaluation(self):
        return self.config["evaluation"]


@dataclasses.dataclass(frozen=True)
class ResultsRecord(_Record):
    """`results.json`: every network's figures per seed, their spreads over
    seeds ("summary") and each variant against the reference
    ("comparisons", keyed by `MetricKey`), with the configuration and
    provenance. `models` is set when saved model files were evaluated."""

    config: dict
    provenance: dict
    deterministic: bool | None = None
    replicas: int | None = None
    models: dict | None = None
    data_source: str = ""
    test_images: int = 0
    variants: dict = dataclasses.field(default_factory=dict)
    reference: str = ""
    sparse_blocks: list = dataclasses.field(default_factory=list)
    summary: dict = dataclasses.field(default_factory=dict)
    comparisons: dict = dataclasses.field(default_factory=dict)

    @property
    def seeds(self):
        return self.config["training"]["seeds"]

    def image_counts(self):
        """How many test images each kind of figure rests on."""
        total, evaluation = self.test_images, self.evaluation
        return {
            "clean": total,
            "noise": min(evaluation["noise_examples"] or total, total),
            "attack": min(evaluation["attack_examples"], total),
            "probe": min(evaluation["probe_examples"], total),
        }

    def images_of(self, key):
        """How many test images the figure of `key` rests on."""
        counts = self.image_counts()
        if key.kind == "clean":
            return counts["clean"]
        return counts["attack"] if key.kind == "pgd" else counts["noise"]

    def metric_keys(self):
        return metric_keys(self.summary[self.names[0]])


class _PerSeedRecord(_Record):
    """A record of figures per seed in "by_seed"."""

    @property
    def seeds(self):
        return list(self.by_seed)


@dataclasses.dataclass(frozen=True)
class RobustnessRecord(_PerSeedRecord):
    """`robustness.json`: per seed and network, each budget's worst case
    over the attack set, each attack and check ("by_seed"); the worst case
    over seeds ("summary") and against the reference ("comparisons"), both
    keyed by `Budget` key."""

    config: dict
    provenance: dict
    data_source: str = ""
    models: dict = dataclasses.field(default_factory=dict)
    reference: str = ""
    attacks: dict = dataclasses.field(default_factory=dict)
    by_seed: dict = dataclasses.field(default_factory=dict)
    summary: dict = dataclasses.field(default_factory=dict)
    comparisons: dict = dataclasses.field(default_factory=dict)
    seconds: float = 0.0

    def budgets(self):
        return [Budget.parse(key) for key in self.summary[self.names[0]]]

    def images_of(self, budget):
        """How many test images the figures at `budget` rest on."""
        first_seed = next(iter(self.by_seed.values()))
        return first_seed[next(iter(first_seed))][budget.key]["examples"]

    @property
    def reduced(self):
        return self.attacks.get("strength") == "reduced"


@dataclasses.dataclass(frozen=True)
class CorruptionsRecord(_PerSeedRecord):
    """`corruptions.json`: per seed and network, the accuracy under each
    corruption and severity, mean corruption accuracy and (relative) mCE
    ("by_seed"); their spreads over seeds ("summary") and each network
    against the reference, image by image ("comparisons")."""

    config: dict
    provenance: dict
    data_source: str = ""
    test_images: int = 0
    models: dict = dataclasses.field(default_factory=dict)
    reference: str = ""
    by_seed: dict = dataclasses.field(default_factory=dict)
    summary: dict = dataclasses.field(default_factory=dict)
    comparisons: dict = dataclasses.field(default_factory=dict)
    seconds: float = 0.0

    def corruptions(self):
        return list(self.summary[self.names[0]]["accuracy"])

    def severities(self):
        return list(next(iter(self.summary[self.names[0]]["accuracy"].values())))

    @property
    def relative(self):
        """Whether the clean images are known, and so the relative mCE."""
        return "relative_mce" in self.summary[self.names[0]]
