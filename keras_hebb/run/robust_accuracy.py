"""The robustness report of a run's networks, or of any saved model files.

For every trained network: the per-example worst case over the attack set
(`keras_hebb.robustness.evaluation`) at each of `config.robustness.budgets`,
each attack's own accuracy and the gradient-masking checks. Networks of one
seed are attacked together: each one's transfer attack comes from the
reference variant's network of the same seed (the reference's from the
second variant). The worst case is then summarised over seeds and each
variant compared with the reference image by image (paired bootstrap,
McNemar per seed). Writes `robustness.json` and `robustness.md`.
"""

import time

import keras
import numpy as np

from keras_hebb import data as data_module
from keras_hebb.progress import say
from keras_hebb.robustness.evaluation import robustness_evaluation
from keras_hebb.run import statistics
from keras_hebb.run.comparison import compare_scores
from keras_hebb.run.folder import RunFolder, model_files
from keras_hebb.run.inputs import test_arrays
from keras_hebb.run.provenance import provenance
from keras_hebb.run.records import RobustnessRecord
from keras_hebb.run.report import write_with_report
from keras_hebb.saving import load_model


def report_networks(config, run, paths=None):
    """({seed: {name: model file}}, reference name) of a report: every network
    of the `RunFolder` `run` with the configuration's reference, or the model
    files `paths` under seed 0, the first the reference."""
    if paths:
        files = model_files(paths)
        return {0: files}, next(iter(files))
    return (
        run.networks(config.variants, config.training.seeds),
        config.reference_variant(),
    )


def models_record(files):
    """A record's "models": {seed: {name: path}} as JSON strings."""
    return {
        str(seed): {name: str(path) for name, path in seed_files.items()}
        for seed, seed_files in files.items()
    }


def evaluate_seed(config, files, images, labels):
    """Robustness records of the networks of one seed, attacked together."""
    robustness = config.robustness
    models = {name: load_model(path) for name, path in files.items()}
    order = [config.reference_variant()] if config.reference_variant() in models else []
    order += [name for name in models if name not in order]
    record = robustness_evaluation(
        {name: models[name] for name in order},
        images,
        labels,
        [(b.norm, b.eps) for b in robustness.budgets],
        robustness.attacks,
        robustness.masking_examples,
    )
    keras.backend.clear_session()
    return record


def summarise_robustness(config, by_seed, reference):
    """Worst case per variant and budget over seeds, and each variant against
    the reference image by image."""
    variants = list(next(iter(by_seed.values())))
    budgets = list(next(iter(by_seed.values()))[variants[0]])

    def robust(variant, budget):
        return {
            seed: np.asarray(models[variant][budget]["robust_images"], dtype="float64")
            for seed, models in by_seed.items()
        }

    summary = {
        variant: {
            budget: statistics.spread(
                [models[variant][budget]["worst_case"] for models in by_seed.values()],
                config.evaluation.confidence,
            )
            for budget in budgets
        }
        for variant in variants
    }
    comparisons = {
        variant: {
            budget: compare_scores(
                robust(reference, budget), robust(variant, budget), config.evaluation
            )
            for budget in budgets
        }
        for variant in variants
        if reference in variants and variant != reference
    }
    return summary, comparisons


def run_robustness(config, output, paths=None):
    """The robustness report of a run folder's networks (every variant and
    seed of `config`), or of the model files `paths`; written to `output`.

    Returns:
        The `RobustnessRecord` written to `<output>/robustness.json`.
    """
    run = RunFolder(output)
    files, reference = report_networks(config, run, paths)
    images, labels = test_arrays(config, config.robustness.examples)
    start, origin = time.perf_counter(), provenance()
    by_seed = {}
    for seed, seed_files in files.items():
        keras.utils.set_random_seed(config.training.seeds[0] if paths else seed)
        say(f"robustness: seed {seed}: {list(seed_files)}")
        by_seed[str(seed)] = evaluate_seed(config, seed_files, images, labels)["models"]
    summary, comparisons = summarise_robustness(config, by_seed, reference)
    record = RobustnessRecord.of(
        {
            "config": config.to_dict(),
            "provenance": origin,
            "data_source": data_module.describe_source(config.data.source),
            "models": models_record(files),
            "reference": reference,
            "attacks": config.to_dict()["robustness"]["attacks"],
            "by_seed": by_seed,
            "summary": summary,
            "comparisons": comparisons,
            "seconds": time.perf_counter() - start,
        }
    )
    write_with_report(run, "robustness", record)
    say(f"robustness in {run.file('robustness.md')} ({record.seconds:.0f} s)")
    return record
