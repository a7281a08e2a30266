"""Small records made in milliseconds by the library's own summaries, for
the report tests: two networks ("baseline", "hah"), two seeds, a few
figures each, every number drawn from a fixed seed."""

import numpy as np

from keras_hebb.robustness.budgets import Budget
from keras_hebb.run.comparison import summarise
from keras_hebb.run.config import load_config
from keras_hebb.run.corruption_report import seed_record, summarise_corruptions
from keras_hebb.run.folder import RunFolder
from keras_hebb.run.records import (
    CorruptionsRecord,
    MetricKey,
    ResultsRecord,
    RobustnessRecord,
)
from keras_hebb.run.robust_accuracy import summarise_robustness

NAMES = ("baseline", "hah")
SEEDS = (2022, 2023)
IMAGES = 40
BUDGETS = (Budget("linf", 2 / 255), Budget("l2", 0.25))
PROVENANCE = {"git_commit": "0123456789abcdef", "git_dirty": False, "versions": {}}
CONVS = ("conv1", "conv2")
BUDGETS_YAML = "[{norm: linf, eps: 0.00784313725490196}, {norm: l2, eps: 0.25}]"


def fixture_config(*overrides):
    return load_config(
        "smoke",
        overrides=[
            "training.seeds=[2022,2023]",
            "evaluation.noise_kinds=[gaussian]",
            "evaluation.noise_stds=[0.1,0.2]",
            f"evaluation.attack_budgets={BUDGETS_YAML}",
            f"robustness.budgets={BUDGETS_YAML}",
            *overrides,
        ],
    )


def right_or_wrong(rng, accuracy):
    return (rng.random(IMAGES) < accuracy).astype("float32")


def network_figures(rng, name):
    """(figures, per-image scores) of one network as `evaluate_network`
    gives them, HaH sparser and more robust than the baseline."""
    hah = name == "hah"
    per_image = {"clean": right_or_wrong(rng, 0.7 if hah else 0.8)}
    noise = {}
    for std in ("0.1", "0.2"):
        scores = right_or_wrong(rng, (0.6 if hah else 0.4) - float(std))
        per_image[str(MetricKey.noise("gaussian", std))] = scores
        noise[std] = float(scores.mean())
    adversarial = {}
    for budget in BUDGETS:
        scores = right_or_wrong(rng, 0.3 if hah else 0.1)
        per_image[str(MetricKey.pgd(budget))] = scores
        adversarial[budget.key] = float(scores.mean())
    figures = {
        "train_seconds": 10.0 + rng.random(),
        "history": {
            "epoch": [0.0, 1.0],
            "val_accuracy": [0.5, 0.6 + rng.random() / 10],
        },
        "clean_accuracy": float(per_image["clean"].mean()),
        "noise_accuracy": {"gaussian": noise},
        "snr_db": {conv: 5.0 + rng.random() + 3 * hah for conv in CONVS},
        "sparsity": {
            conv: {
                "nonzero": (0.2 if hah else 0.5) + rng.random() / 20,
                "top_to_rest": 2.0 + rng.random(),
            }
            for conv in CONVS
        },
        "sparse_blocks": list(CONVS) if hah else [],
        "adversarial_accuracy": adversarial,
    }
    return figures, per_image


def results_record():
    return results_and_scores(fixture_config(), np.random.default_rng(0))[0]


def filled_run(path, *overrides, rng_seed=0):
    """A `RunFolder` at `path` holding a results record of `fixture_config`
    with `overrides` and every network's per-image scores."""
    record, per_image = results_and_scores(
        fixture_config(*overrides), np.random.default_rng(rng_seed)
    )
    run = RunFolder(path)
    for name, by_seed in per_image.items():
        for seed, scores in by_seed.items():
            run.network(name, seed).write_evaluation(
                record.variants[name][str(seed)], scores
            )
    run.write_record("results", record)
    return run


def results_and_scores(config, rng):
    """(the `ResultsRecord` of `config`'s two networks and seeds, their
    per-image scores {name: {seed: {metric key: (images,)}}})."""
    figures, per_image = {}, {}
    for name in NAMES:
        figures[name], per_image[name] = {}, {}
        for seed in SEEDS:
            figures[name][seed], per_image[name][seed] = network_figures(rng, name)
    return ResultsRecord.of(
        {
            "config": config.to_dict(),
            "provenance": PROVENANCE,
            "deterministic": True,
            "replicas": 1,
            "data_source": "a fixture",
            "test_images": IMAGES,
            "variants": {
                name: {str(seed): f for seed, f in by_seed.items()}
                for name, by_seed in figures.items()
            },
            **summarise(config.evaluation, "baseline", figures, per_image),
        }
    ), per_image


def budget_result(rng, name):
    robust = right_or_wrong(rng, 0.3 if name == "hah" else 0.1)
    attacks = {
        "AutoAttack standard L_inf 2/255": float(robust.mean()),
        "PGD-20x5 L_inf 2/255": float(robust.mean()) + 0.05,
    }
    if name == "hah":
        attacks["transfer from baseline: PGD-20x5 L_inf 2/255"] = 0.5
    return {
        "examples": IMAGES,
        "clean": 0.8,
        "worst_case": float(robust.mean()),
        "robust_images": robust.tolist(),
        "per_attack": attacks,
        "autoattack": {
            "running": {
                "clean": 0.8,
                "apgd-ce": 0.4,
                "apgd-t": 0.35,
                "fab-t": 0.35,
                "square": float(robust.mean()),
            }
        },
        "checks": {"more steps": {"verdict": "pass", "summary": "no change"}},
    }


def robustness_record():
    config = fixture_config()
    rng = np.random.default_rng(1)
    by_seed = {
        str(seed): {
            name: {budget.key: budget_result(rng, name) for budget in BUDGETS}
            for name in NAMES
        }
        for seed in SEEDS
    }
    summary, comparisons = summarise_robustness(config, by_seed, "baseline")
    return RobustnessRecord.of(
        {
            "config": config.to_dict(),
            "provenance": PROVENANCE,
            "data_source": "a fixture",
            "models": {
                str(s): {n: f"{n}/seed_{s}/model.keras" for n in NAMES} for s in SEEDS
            },
            "reference": "baseline",
            "attacks": config.to_dict()["robustness"]["attacks"],
            "by_seed": by_seed,
            "summary": summary,
            "comparisons": comparisons,
            "seconds": 90.0,
        }
    )


def corruption_results(rng):
    results = {}
    for name in NAMES:
        accuracy = {
            corruption: {severity: 0.3 + rng.random() / 2 for severity in (1, 2)}
            for corruption in ("gaussian_noise", "fog")
        }
        copies_right = rng.integers(0, 5, IMAGES)
        results[name] = (accuracy, copies_right, 0.8 if name == "baseline" else 0.7)
    return results


def corruptions_record():
    config = fixture_config()
    rng = np.random.default_rng(2)
    by_seed = {
        str(seed): seed_record(corruption_results(rng), "baseline") for seed in SEEDS
    }
    for record in by_seed.values():
        for figures in record.values():
            figures["copies"] = 4
    summary, comparisons = summarise_corruptions(by_seed, "baseline", config.evaluation)
    return CorruptionsRecord.of(
        {
            "config": config.to_dict(),
            "provenance": PROVENANCE,
            "data_source": "a fixture's corruptions",
            "test_images": IMAGES,
            "models": {
                str(s): {n: f"{n}/seed_{s}/model.keras" for n in NAMES} for s in SEEDS
            },
            "reference": "baseline",
            "by_seed": by_seed,
            "summary": summary,
            "comparisons": comparisons,
            "seconds": 30.0,
        }
    )
