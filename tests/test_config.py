import dataclasses

import pytest

from keras_hebb.run.config import (
    ConfigError,
    RunConfig,
    check_config,
    config_yaml,
    from_dict,
    load_config,
    preset_names,
)


def test_presets_are_configurations_over_the_defaults():
    assert preset_names("run") == ["cpu", "paper", "smoke"]
    assert preset_names("variants") == ["ablation", "paper"]
    paper = load_config("paper")
    defaults = RunConfig()
    assert paper.training == defaults.training and paper.data == defaults.data
    assert paper.network_args == {"depth": 16, "width": 1.0}
    assert paper.evaluation.attack_examples == 10_000
    cpu = load_config("cpu")
    assert (cpu.training.epochs, cpu.network_args["width"]) == (10, 0.25)
    # Fewer images than the paper preset, never a weaker attack.
    assert cpu.robustness.attacks.strength == "standard"
    assert load_config("smoke").robustness.attacks.strength == "standard"
    assert cpu.robustness.attacks.pgd_steps == 20  # a default, not in cpu.yaml
    assert (
        list(cpu.variants) == ["baseline", "hah"]
        and cpu.reference_variant() == "baseline"
    )


def test_the_ablation_changes_one_component_per_variant():
    config = load_config("cpu", "ablation")
    assert config.builder_arguments("hah") == {"depth": 16, "width": 0.25}
    assert config.builder_arguments("no_threshold") == {
        "depth": 16,
        "width": 0.25,
        "threshold": "none",
    }
    assert len(config.variants) == 9
    assert config.label("no_cost") == "HaH, alpha 0"
    assert config.variants["baseline_threshold"].network == "baseline_vgg"


def test_dotted_overrides_reach_every_level():
    config = load_config(
        "smoke",
        overrides=[
            "training.epochs=7",
            "training.seeds=[1,2,3]",
            "network_args.width=0.5",
            "variants.hah.args.keep=0.1",
            "variants.extra.network=hah_vgg",
            "robustness.attacks.pgd_steps=9",
            "evaluation.attack_budgets=[{norm: l2, eps: 0.5}]",
            "data.train_limit=null",
        ],
    )
    assert config.training.epochs == 7 and config.training.seeds == [1, 2, 3]
    assert config.builder_arguments("hah") == {"depth": 11, "width": 0.5, "keep": 0.1}
    assert list(config.variants) == ["baseline", "hah", "extra"]
    assert config.robustness.attacks.pgd_steps == 9
    assert config.evaluation.attack_budgets[0].norm == "l2"
    assert config.data.train_limit is None


def test_a_record_made_before_autoattack_still_reads():
    from keras_hebb.run.config import from_dict

    record = load_config("cpu").to_dict()
    record["robustness"]["attacks"].update(apgd_steps=50, apgd_targets=3)
    assert from_dict(record).robustness.attacks.pgd_steps == 20


def test_a_config_file_replaces_the_variants_and_overrides_come_last(tmp_path):
    file = tmp_path / "mine.yaml"
    file.write_text(
        "variants:\n  a: {network: hah_vgg, args: {keep: 0.3}}\n"
        "  b: {network: baseline_vgg}\ntraining: {epochs: 3}\n"
    )
    config = load_config("smoke", files=[file], overrides=["training.epochs=4"])
    assert list(config.variants) == ["a", "b"] and config.reference_variant() == "a"
    assert config.training.epochs == 4
    assert config.variant_set == "mine"


@pytest.mark.parametrize(
    "override, message",
    [
        (
            "training.epoch=3",
            r"unknown key 'training.epoch'. Did you mean 'training.epochs'\?",
        ),
        ("trainig.epochs=3", r"Valid keys of the top level: \['corruptions', 'data', "),
        (
            "variants.hah.netwrk=x",
            r"Valid keys of variants.hah: \['args', 'label', 'network', 'training_mode'\]",
        ),
        (
            "training.epochs=ten",
            r"'ten' of type 'str' could not be converted to Integer",
        ),
        (
            "training.optimizer=adamw",
            r"training.optimizer: 'adamw' is not one of \['adam', 'sgd'\]",
        ),
        ("training.schedule=linear", r"training.schedule: 'linear' is not one of"),
        ("training.epochs=0", r"training.epochs: must be a positive int, got 0"),
        (
            "training.seeds=[1,1]",
            r"training.seeds: must be a non-empty list of distinct",
        ),
        ("training.lr_drops=[1.5]", r"training.lr_drops: fractions of the epochs"),
        (
            "variants.hah.network=densenet",
            r"variants.hah.network: .densenet. is not one of \[.baseline_lenet., .*.hah_vgg.*\]",
        ),
        (
            "variants.hah.args.kep=0.1",
            r"variants.hah.args.kep: hah_vgg takes no argument 'kep'; it takes \[.*'keep'",
        ),
        (
            "network_args.widht=0.5",
            r"network_args.widht: no variant's builder takes it \(\['baseline_vgg', 'hah_vgg'\]\)",
        ),
        (
            "evaluation.noise_kinds=[pink]",
            r"evaluation.noise_kinds: 'pink' is not one of \['gaussian', 'uniform'\]",
        ),
        (
            "evaluation.attack_budgets=[{norm: l1, eps: 1}]",
            r"evaluation.attack_budgets\[0\].norm: 'l1' is not one of",
        ),
        (
            "robustness.budgets=[{norm: l2, eps: -1}]",
            r"robustness.budgets\[0\].eps: must be positive",
        ),
        (
            "reference=nobody",
            r"reference: 'nobody' is not a variant; variants: \['baseline', 'hah'\]",
        ),
        ("evaluation.confidence=95", r"evaluation.confidence: must be in \(0, 1\)"),
        (
            "variants.hah.training_mode.kind=mixup",
            (
                r"variants.hah.training_mode.kind: 'mixup' is not one of "
                r"\['standard', 'gaussian_noise', 'pgd', 'fgsm_rs'\]"
            ),
        ),
        (
            "variants.hah.training_mode.std=0",
            r"variants.hah.training_mode.std: must be positive",
        ),
        (
            "variants.hah.training_mode.stpes=3",
            (
                r"unknown key 'variants.hah.training_mode.stpes'. Did you mean "
                r"'variants.hah.training_mode.steps'"
            ),
        ),
        (
            "robustness.attacks.strength=weak",
            (
                r"robustness.attacks.strength: 'weak' is not one of "
                r"\['standard', 'reduced'\]"
            ),
        ),
        (
            "robustness.attacks.apgd_steps=50",
            r"unknown key 'robustness.attacks.apgd_steps'",
        ),
        ("epochs", r"Overrides must be dotted key=value pairs"),
    ],
)
def test_a_bad_key_or_value_names_it_and_what_is_valid(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config("smoke", overrides=[override])


def test_unknown_presets_and_files_are_named(tmp_path):
    with pytest.raises(
        ConfigError, match=r"Unknown run preset 'huge'; choose one of \['cpu'"
    ):
        load_config("huge")
    with pytest.raises(ConfigError, match=r"Unknown variants preset 'all'"):
        load_config("cpu", "all")
    with pytest.raises(ConfigError, match="is not a file"):
        load_config("cpu", files=[tmp_path / "none.yaml"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("training: [unclosed\n")
    with pytest.raises(ConfigError, match="bad.yaml is not valid YAML"):
        load_config("cpu", files=[bad])
    typo = tmp_path / "typo.yaml"
    typo.write_text("trainng: {epochs: 3}\n")
    with pytest.raises(ConfigError, match=r"\(in .*typo.yaml\): unknown key 'trainng'"):
        load_config("cpu", files=[typo])


def test_every_problem_is_listed_at_once():
    config = load_config("smoke")
    config = dataclasses.replace(
        config,
        training=dataclasses.replace(config.training, epochs=-1, batch_size=0),
    )
    with pytest.raises(ConfigError) as error:
        check_config(config, check_arguments=False)
    assert "training.epochs" in str(error.value) and "training.batch_size" in str(
        error.value
    )


def test_the_resolved_configuration_round_trips():
    config = load_config("cpu", "ablation", overrides=["training.seeds=[3,4]"])
    assert from_dict(config.to_dict()) == config
    text = config_yaml(config)
    assert "no_implicit_norm:" in text and "seeds:\n  - 3\n  - 4" in text


@pytest.mark.parametrize(
    "kind, expected",
    [
        ("standard", "NoneType"),
        ("gaussian_noise", "GaussianNoiseTraining"),
        ("pgd", "AdversarialTraining"),
        ("fgsm_rs", "AdversarialTraining"),
    ],
)
def test_each_training_mode_reaches_its_network_and_its_record(kind, expected):
    from keras_hebb.run.networks import build_network
    from keras_hebb.run.setting import training_setting

    config = load_config("smoke", overrides=[f"variants.hah.training_mode.kind={kind}"])
    model = build_network(config, "hah", 1)
    assert type(model.training_perturbation).__name__ == expected
    if kind == "fgsm_rs":
        assert model.training_perturbation.steps == 1
        assert model.training_perturbation.step_size == pytest.approx(1.25 * 8 / 255)
    setting = training_setting(config, "hah", 1)
    assert ("training_mode" in setting) == (kind != "standard")
    assert "training_mode" not in training_setting(config, "baseline", 1)
