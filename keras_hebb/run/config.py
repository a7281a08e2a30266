"""The typed configuration of a run: variants, data, training, evaluation.

A run trains every network variant with every seed, evaluates each trained
network and compares every variant with a reference variant. Everything it
does is in one `RunConfig`, built in layers, each overriding the last:

1. the defaults below (the paper's sizes: VGG16, 100 epochs, all images);
2. a named run preset, `keras_hebb/run/presets/run/<name>.yaml` (`smoke`,
   `cpu`, `paper`): how big the run is;
3. a named variant set, `keras_hebb/run/presets/variants/<name>.yaml`
   (`paper`: the paper's baseline and HaH network; `ablation`: HaH with
   one component changed at a time): which networks are compared. A layer
   that sets `variants` replaces the variants before it;
4. YAML files given with `--config`;
5. dotted `key=value` overrides: `training.epochs=20`,
   `training.seeds=[1,2,3]`, `network_args.width=0.5` (`network_args.depth=null`
   leaves a default's argument out, for networks without it),
   `variants.hah.args.keep=0.1`.

The configuration library is OmegaConf (structured configs over these
dataclasses): it types every value and names the dotted key of a bad one.
`load_config` adds the list of valid keys or values to each error and checks
what types alone cannot (ranges, names, the builders' argument names) before
anything trains. Nothing here imports TensorFlow, except `check_config` with
`check_arguments=True` (the builders' signatures).

Example:

>>> config = load_config("cpu", "ablation", overrides=["training.epochs=20"])
>>> config.training.epochs, sorted(config.variants)[:2]
(20, ['adaptive', 'baseline'])
"""

import dataclasses
import difflib
import importlib.resources
import math
import pathlib
import typing

import yaml
from omegaconf import MISSING, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from keras_hebb.data.options import AUGMENTATIONS, VALIDATION_SOURCES
from keras_hebb.models.registry import NETWORKS
from keras_hebb.precision import PRECISIONS
from keras_hebb.robustness.budgets import NOISE_KINDS, NORMS, STRENGTHS, AttackBudgets
from keras_hebb.robustness.corruption_names import CORRUPTIONS, SEVERITY_LEVELS
from keras_hebb.training import TRAINING_MODES

OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("step", "constant", "cosine")
PRESET_KINDS = ("run", "variants")


class ConfigError(ValueError):
    """A configuration key or value that a run cannot use; the message names it."""


@dataclasses.dataclass
class Budget:
    """One perturbation budget: a norm ("linf" or "l2") and a radius."""

    norm: str = "linf"
    eps: float = 2 / 255


@dataclasses.dataclass
class TrainingModeConfig:
    """How a variant's training images are perturbed (`keras_hebb.training`).

    `kind`: "standard" (not at all), "gaussian_noise" (noise of std `std`),
    "pgd" (`steps` steps of `step_size` in the `norm` ball of radius `eps`,
    from a random start) or "fgsm_rs" (one step from a random start).
    `step_size` null: 2.5 * eps / steps for PGD, 1.25 * eps for FGSM-RS.
    """

    kind: str = "standard"
    std: float = 0.1
    norm: str = "linf"
    eps: float = 8 / 255
    steps: int = 7
    step_size: float | None = None


@dataclasses.dataclass
class VariantConfig:
    """One network of the comparison: a registered builder, its arguments and
    its training mode.

    `args` override the run's `network_args` for this variant; `label` is
    how tables and plots name it (default: the variant's key).
    """

    network: str = MISSING
    label: str = ""
    args: dict[str, typing.Any] = dataclasses.field(default_factory=dict)
    training_mode: TrainingModeConfig = dataclasses.field(
        default_factory=TrainingModeConfig
    )


@dataclasses.dataclass
class DataConfig:
    """Where images come from and how many are used (`None`: the whole split).

    `source`: "tfds" (CIFAR-10), "tfds:<name>" (any tensorflow-datasets
    image-classification dataset, read from `tfds_data_dir` when set) or a
    `{train,test}/<class>/` image folder. `image_size`: `[height, width]`
    to resize every image to (None: the images' own, single size).
    `validation_source`: "train" holds the last `validation_limit` training
    images out for validation; "test" validates on the first
    `validation_limit` test images (monitoring only, as the committed
    `cpu` results did). `augment`: one of "crop_flip", "crop", "none".
    """

    source: str = "tfds"
    train_limit: int | None = None
    test_limit: int | None = None
    validation_limit: int = 2000
    validation_source: str = "train"
    image_size: list[int] | None = None
    augment: str = "crop_flip"
    tfds_data_dir: str | None = None


@dataclasses.dataclass
class TrainingConfig:
    """How every variant is trained; each seed gives one trained network.

    `schedule`: "step" multiplies the learning rate by 0.1 after each
    fraction of the epochs in `lr_drops`; "cosine" decays it to zero;
    "constant" keeps it. `precision`: "float32", or "mixed_bfloat16"
    (bfloat16 compute, float32 weights; see `keras_hebb.precision`).
    """

    epochs: int = 100
    batch_size: int = 128
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    momentum: float = 0.9
    schedule: str = "step"
    lr_drops: list[float] = dataclasses.field(default_factory=lambda: [0.6, 0.8])
    seeds: list[int] = dataclasses.field(default_factory=lambda: [2022])
    precision: str = "float32"


@dataclasses.dataclass
class EvaluationConfig:
    """The figures of every trained network, and the statistics comparing them.

    Each `*_examples` takes the first images of the test set (`None`: all
    test images); every variant is evaluated on the same images, so
    comparisons are paired. `histogram_conv` names the conv layer whose
    activation histogram is recorded (the second: the first sparse block of
    the paper's VGG; skipped in a network without it). `confidence` is the
    level of every interval, `bootstrap_resamples` the paired bootstrap's
    resamples.
    """

    noise_kinds: list[str] = dataclasses.field(
        default_factory=lambda: list(NOISE_KINDS)
    )
    noise_stds: list[float] = dataclasses.field(
        default_factory=lambda: [0.02, 0.05, 0.1, 0.15, 0.2]
    )
    noise_draws: int = 3
    noise_examples: int | None = None
    snr_std: float = 0.1
    probe_examples: int = 1000
    histogram_conv: str = "conv2"
    attack_examples: int = 1000
    attack_steps: int = 20
    attack_budgets: list[Budget] = dataclasses.field(
        default_factory=lambda: [
            Budget("linf", 2 / 255),
            Budget("linf", 8 / 255),
            Budget("l2", 0.25),
            Budget("l2", 0.5),
        ]
    )
    confidence: float = 0.95
    bootstrap_resamples: int = 2000


@dataclasses.dataclass
class RobustnessConfig:
    """Worst-case robust accuracy over the attack set, and the masking checks.

    The default budgets are the paper's (L_inf 2/255, L2 0.25) and
    RobustBench's standard ones (L_inf 8/255, L2 0.5).
    """

    examples: int = 1000
    masking_examples: int = 1000
    budgets: list[Budget] = dataclasses.field(
        default_factory=lambda: [
            Budget("linf", 2 / 255),
            Budget("linf", 8 / 255),
            Budget("l2", 0.25),
            Budget("l2", 0.5),
        ]
    )
    attacks: AttackBudgets = dataclasses.field(default_factory=AttackBudgets)


@dataclasses.dataclass
class CorruptionConfig:
    """The common-corruptions evaluation (`keras-hebb corruptions`).

    `source`: "generated" (CIFAR-10-C's corruptions made from the first
    `examples` test images with `seed`, cached in `cache`, default
    `~/.cache/keras-hebb/corruptions`), "tfds" (tensorflow-datasets'
    `cifar10_corrupted` in its local data dir) or a folder of the published
    CIFAR-10-C `.npy` arrays.
    """

    examples: int = 10000
    corruptions: list[str] = dataclasses.field(
        default_factory=lambda: list(CORRUPTIONS)
    )
    severities: list[int] = dataclasses.field(
        default_factory=lambda: list(SEVERITY_LEVELS)
    )
    seed: int = 0
    source: str = "generated"
    cache: str = ""


@dataclasses.dataclass
class RunConfig:
    """Everything one run does. `network_args` go to every variant's builder
    that takes them (the run's network size); `reference` is the variant the
    others are compared with (default: the first)."""

    name: str = "paper"
    variant_set: str = "paper"
    reference: str = ""
    variants: dict[str, VariantConfig] = dataclasses.field(default_factory=dict)
    network_args: dict[str, typing.Any] = dataclasses.field(
        default_factory=lambda: {"depth": 16, "width": 1.0}
    )
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    training: TrainingConfig = dataclasses.field(default_factory=TrainingConfig)
    evaluation: EvaluationConfig = dataclasses.field(default_factory=EvaluationConfig)
    robustness: RobustnessConfig = dataclasses.field(default_factory=RobustnessConfig)
    corruptions: CorruptionConfig = dataclasses.field(default_factory=CorruptionConfig)

    def reference_variant(self):
        """The name of the variant the others are compared with."""
        return self.reference or next(iter(self.variants))

    def label(self, variant):
        """How tables and plots name `variant`."""
        return self.variants[variant].label or variant

    def builder_arguments(self, variant):
        """The keyword arguments `variant`'s builder is called with: the
        `network_args` it takes (a null one is left out: the builder's
        default), then the variant's own `args`."""
        from keras_hebb.models.registry import builder_parameters

        accepted = builder_parameters(self.variants[variant].network)
        shared = {
            k: v
            for k, v in self.network_args.items()
            if k in accepted and v is not None
        }
        return {**shared, **self.variants[variant].args}

    def to_dict(self):
        """The resolved configuration as plain data (what outputs record)."""
        return dataclasses.asdict(self)


def preset_folder(kind):
    return importlib.resources.files("keras_hebb.run") / "presets" / kind


def preset_names(kind):
    """The names of the shipped presets of `kind` ("run" or "variants")."""
    return sorted(
        path.name[: -len(".yaml")]
        for path in preset_folder(kind).iterdir()
        if path.name.endswith(".yaml")
    )


def preset_text(kind, name):
    """The YAML text of the shipped preset `name`, with a clear error."""
    if name not in preset_names(kind):
        raise ConfigError(
            f"Unknown {kind} preset {name!r}; choose one of {preset_names(kind)}."
        )
    return (preset_folder(kind) / f"{name}.yaml").read_text()


def valid_keys(path):
    """The keys that may follow the dotted `path` (a list of keys)."""
    node, dict_key_next = RunConfig, False
    for key in path:
        if node is None:
            return None
        if dict_key_next:
            # A key of a dict of dataclasses (a variant's name): any is valid.
            dict_key_next = False
            continue
        hints = typing.get_type_hints(node)
        hint = hints.get(key)
        if hint is None:
            return sorted(hints)
        if typing.get_origin(hint) is dict:
            value_type = typing.get_args(hint)[1]
            node = value_type if dataclasses.is_dataclass(value_type) else None
            dict_key_next = True
            continue
        node = hint if dataclasses.is_dataclass(hint) else None
    return sorted(typing.get_type_hints(node)) if node is not None else None


def explain(error, origin):
    """A `ConfigError` for an OmegaConf error, naming the key and what is valid."""
    key = getattr(error, "full_key", None) or ""
    message = str(error).split("\n")[0]
    hint = ""
    if key:
        parts = key.split(".")
        keys = valid_keys(parts[:-1])
        if keys is not None and parts[-1] not in keys:
            close = difflib.get_close_matches(parts[-1], keys, n=1)
            hint = f" Valid keys of {'.'.join(parts[:-1]) or 'the top level'}: {keys}."
            if close:
                hint = f" Did you mean {'.'.join(parts[:-1] + close)!r}?" + hint
            message = f"unknown key {key!r}"
    where = f" (in {origin})" if origin else ""
    return ConfigError(f"Bad configuration{where}: {message}.{hint}".replace("..", "."))


def merge(base, layer, origin, replace_variants=True):
    """`layer` (an OmegaConf node) merged over `base`. With
    `replace_variants`, a `variants` key in `layer` replaces the variants of
    `base`, and the reference with them unless `layer` names one (a preset
    or file defines a comparison); dotted overrides change or add single
    variants instead."""
    try:
        if replace_variants and "variants" in layer:
            base = base.copy()
            base.variants = {}
            base.reference = ""
        return OmegaConf.merge(base, layer)
    except OmegaConfBaseException as error:
        raise explain(error, origin) from None


def parse_overrides(overrides):
    """Dotted `key=value` strings as one OmegaConf node (values read as YAML)."""
    bad = [item for item in overrides if "=" not in item or item.startswith("=")]
    if bad:
        raise ConfigError(
            f"Overrides must be dotted key=value pairs such as training.epochs=20; "
            f"received {bad}."
        )
    try:
        return OmegaConf.from_dotlist(list(overrides))
    except OmegaConfBaseException as error:
        raise explain(error, "overrides") from None


def load_config(preset="cpu", variants="paper", files=(), overrides=()):
    """The resolved, checked `RunConfig` of a run preset, a variant set,
    YAML files and dotted overrides (in that order of precedence, last wins).

    Raises:
        ConfigError: an unknown preset, file, key or a bad value, named.
    """
    config = OmegaConf.structured(RunConfig)
    config = merge(
        config, OmegaConf.create(preset_text("run", preset)), f"run preset {preset}"
    )
    config = merge(
        config,
        OmegaConf.create(preset_text("variants", variants)),
        f"variant set {variants}",
    )
    config.variant_set = variants
    for file in files:
        path = pathlib.Path(file)
        if not path.is_file():
            raise ConfigError(f"--config {path} is not a file.")
        try:
            layer = OmegaConf.load(path)
        except (yaml.YAMLError, OmegaConfBaseException) as error:
            raise ConfigError(f"{path} is not valid YAML: {error}") from None
        config = merge(config, layer, str(path))
        if "variants" in layer:
            # The file defines the comparison: it names the variant set.
            config.variant_set = path.stem
    config = merge(config, parse_overrides(overrides), "overrides", False)
    try:
        resolved = OmegaConf.to_object(config)
    except OmegaConfBaseException as error:
        raise explain(error, "") from None
    check_config(resolved)
    return resolved


def config_yaml(config):
    """The resolved configuration as YAML text."""
    return OmegaConf.to_yaml(OmegaConf.structured(config))


# Attack strengths that records made before the reference AutoAttack joined
# the attack set carry (ART's APGD and Square); nothing reads them now.
RETIRED_ATTACK_KEYS = ("apgd_steps", "apgd_targets", "square_queries")


def from_dict(record):
    """The `RunConfig` recorded by `RunConfig.to_dict` (an output's record);
    a record's retired attack strengths (`RETIRED_ATTACK_KEYS`) are left out."""
    attacks = record.get("robustness", {}).get("attacks", {})
    record = {
        **record,
        "robustness": {
            **record.get("robustness", {}),
            "attacks": {
                k: v for k, v in attacks.items() if k not in RETIRED_ATTACK_KEYS
            },
        },
    }
    try:
        config = OmegaConf.merge(OmegaConf.structured(RunConfig), record)
        return OmegaConf.to_object(config)
    except OmegaConfBaseException as error:
        raise explain(error, "recorded configuration") from None


def problems_of(config):
    """Every value of `config` a run cannot use, as "key: problem" strings."""
    problems = []

    def need(ok, key, problem):
        if not ok:
            problems.append(f"{key}: {problem}")

    def positive(value, key, allow_none=False):
        need(
            (allow_none and value is None) or (isinstance(value, int) and value > 0),
            key,
            f"must be a positive int{' or null' if allow_none else ''}, got {value!r}",
        )

    def choice(value, key, choices):
        need(value in choices, key, f"{value!r} is not one of {list(choices)}")

    need(bool(config.variants), "variants", "no variants; a run needs at least one")
    for name, variant in config.variants.items():
        need(
            name.isidentifier(),
            f"variants.{name}",
            "a variant name must be an identifier",
        )
        choice(variant.network, f"variants.{name}.network", sorted(NETWORKS))
        mode, key = variant.training_mode, f"variants.{name}.training_mode"
        choice(mode.kind, f"{key}.kind", TRAINING_MODES)
        choice(mode.norm, f"{key}.norm", NORMS)
        for field in ("std", "eps"):
            value = getattr(mode, field)
            need(value > 0, f"{key}.{field}", f"must be positive, got {value}")
        positive(mode.steps, f"{key}.steps")
        need(
            mode.step_size is None or mode.step_size > 0,
            f"{key}.step_size",
            f"must be positive or null, got {mode.step_size}",
        )
    need(
        not config.reference or config.reference in config.variants,
        "reference",
        f"{config.reference!r} is not a variant; variants: {list(config.variants)}",
    )
    training = config.training
    positive(training.epochs, "training.epochs")
    positive(training.batch_size, "training.batch_size")
    choice(training.optimizer, "training.optimizer", OPTIMIZERS)
    choice(training.schedule, "training.schedule", SCHEDULES)
    choice(training.precision, "training.precision", PRECISIONS)
    need(
        training.learning_rate > 0 and math.isfinite(training.learning_rate),
        "training.learning_rate",
        f"must be positive, got {training.learning_rate}",
    )
    need(
        all(0 < drop < 1 for drop in training.lr_drops),
        "training.lr_drops",
        f"fractions of the epochs must be in (0, 1), got {training.lr_drops}",
    )
    need(
        bool(training.seeds) and len(set(training.seeds)) == len(training.seeds),
        "training.seeds",
        f"must be a non-empty list of distinct ints, got {training.seeds}",
    )
    data = config.data
    positive(data.train_limit, "data.train_limit", allow_none=True)
    positive(data.test_limit, "data.test_limit", allow_none=True)
    positive(data.validation_limit, "data.validation_limit")
    choice(data.validation_source, "data.validation_source", VALIDATION_SOURCES)
    choice(data.augment, "data.augment", AUGMENTATIONS)
    need(
        data.image_size is None
        or (len(data.image_size) == 2 and all(v > 0 for v in data.image_size)),
        "data.image_size",
        f"must be null or [height, width] > 0, got {data.image_size}",
    )
    evaluation = config.evaluation
    for kind in evaluation.noise_kinds:
        choice(kind, "evaluation.noise_kinds", NOISE_KINDS)
    need(
        all(std >= 0 for std in evaluation.noise_stds),
        "evaluation.noise_stds",
        f"must be non-negative, got {evaluation.noise_stds}",
    )
    positive(evaluation.noise_draws, "evaluation.noise_draws")
    positive(evaluation.noise_examples, "evaluation.noise_examples", allow_none=True)
    for key in (
        "probe_examples",
        "attack_examples",
        "attack_steps",
        "bootstrap_resamples",
    ):
        positive(getattr(evaluation, key), f"evaluation.{key}")
    need(
        0 < evaluation.confidence < 1,
        "evaluation.confidence",
        f"must be in (0, 1), got {evaluation.confidence}",
    )
    corruptions = config.corruptions
    positive(corruptions.examples, "corruptions.examples")
    for name in corruptions.corruptions:
        choice(name, "corruptions.corruptions", CORRUPTIONS)
    for severity in corruptions.severities:
        choice(severity, "corruptions.severities", SEVERITY_LEVELS)
    need(
        bool(corruptions.corruptions) and bool(corruptions.severities),
        "corruptions",
        "needs at least one corruption and one severity",
    )
    robustness = config.robustness
    positive(robustness.examples, "robustness.examples")
    positive(robustness.masking_examples, "robustness.masking_examples")
    choice(robustness.attacks.strength, "robustness.attacks.strength", STRENGTHS)
    for key, budgets in (
        ("evaluation.attack_budgets", evaluation.attack_budgets),
        ("robustness.budgets", robustness.budgets),
    ):
        for index, budget in enumerate(budgets):
            choice(budget.norm, f"{key}[{index}].norm", NORMS)
            need(
                budget.eps > 0,
                f"{key}[{index}].eps",
                f"must be positive, got {budget.eps}",
            )
    return problems


def argument_problems(config):
    """Variant arguments that their builder does not take, and network_args
    that no variant's builder takes, as "key: problem" strings."""
    from keras_hebb.models.registry import builder_parameters

    problems, taken = [], set()
    for name, variant in config.variants.items():
        parameters = builder_parameters(variant.network)
        taken.update(parameters)
        for key in variant.args:
            if key not in parameters:
                problems.append(
                    f"variants.{name}.args.{key}: {variant.network} takes no "
                    f"argument {key!r}; it takes {parameters}"
                )
    for key, value in config.network_args.items():
        if key not in taken and value is not None:
            problems.append(
                f"network_args.{key}: no variant's builder takes it "
                f"({sorted({v.network for v in config.variants.values()})})"
            )
    return problems


def check_config(config, check_arguments=True):
    """Raises a `ConfigError` listing every problem of `config`.

    With `check_arguments`, the variants' argument names are checked against
    their builders' signatures (which imports the builders, so TensorFlow).
    """
    problems = problems_of(config)
    if check_arguments and not problems:
        problems = argument_problems(config)
    if problems:
        raise ConfigError(
            "Bad configuration:\n" + "\n".join(f"  {problem}" for problem in problems)
        )
