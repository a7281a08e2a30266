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

import pathlib
import time

import keras
import numpy as np

from keras_hebb import data as data_module
from keras_hebb.files import write_json, write_text
from keras_hebb.progress import say
from keras_hebb.robustness.evaluation import robustness_evaluation
from keras_hebb.run import statistics
from keras_hebb.run.comparison import compare_scores
from keras_hebb.run.experiment import seed_folder, test_arrays
from keras_hebb.run.provenance import provenance
from keras_hebb.saving import load_model


def run_models(config, output):
    """{seed: {variant: model file}} of a run folder, with a clear error for a
    missing file."""
    files = {
        seed: {
            variant: seed_folder(output, variant, seed) / "model.keras"
            for variant in config.variants
        }
        for seed in config.training.seeds
    }
    missing = [
        str(path)
        for by_variant in files.values()
        for path in by_variant.values()
        if not path.is_file()
    ]
    if missing:
        raise FileNotFoundError(
            f"{output} lacks {missing}; run `keras-hebb run` with this "
            "configuration and --output first"
        )
    return files


def file_models(paths):
    """{0: {name: file}} for model files given on the command line, named by
    their stem, or where stems repeat by their two parent folders (a run's
    `<variant>/seed_<s>/model.keras` is "<variant>_seed_<s>"), or else by
    their whole path."""
    paths = [pathlib.Path(p) for p in paths]
    for name_of in (
        lambda p: p.stem,
        lambda p: "_".join(p.parts[-3:-1]),
        lambda p: str(p.with_suffix("")),
    ):
        names = [name_of(p) for p in paths]
        if len(set(names)) == len(names):
            break
    return {0: dict(zip(names, paths))}


def report_networks(config, output, model_files=None):
    """({seed: {name: model file}}, reference name) of a report: every network
    of the run in `output`, with the configuration's reference, or
    `model_files` under seed 0, the first the reference."""
    if model_files:
        files = file_models(model_files)
        return files, next(iter(files[0]))
    return run_models(config, output), config.reference_variant()


def models_record(files):
    """The report record's "models": {seed: {name: path}} as JSON strings."""
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


def run_robustness(config, output, model_files=None):
    """The robustness report of a run folder's networks (every variant and
    seed of `config`), or of `model_files`; written to `output`.

    Returns:
        The record written to `<output>/robustness.json`.
    """
    from keras_hebb.run.report import robustness_markdown

    output = pathlib.Path(output)
    files, reference = report_networks(config, output, model_files)
    images, labels = test_arrays(config, config.robustness.examples)
    start, origin = time.perf_counter(), provenance()
    by_seed = {}
    for seed, seed_files in files.items():
        keras.utils.set_random_seed(config.training.seeds[0] if model_files else seed)
        say(f"robustness: seed {seed}: {list(seed_files)}")
        by_seed[str(seed)] = evaluate_seed(config, seed_files, images, labels)["models"]
    summary, comparisons = summarise_robustness(config, by_seed, reference)
    record = {
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
    output.mkdir(parents=True, exist_ok=True)
    write_json(output / "robustness.json", record)
    write_text(output / "robustness.md", robustness_markdown(record))
    say(f"robustness in {output / 'robustness.md'} ({record['seconds']:.0f} s)")
    return record
