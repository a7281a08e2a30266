"""The common-corruptions report of a run's networks, or of any saved model files.

For every network: accuracy under each corruption and severity of
`config.corruptions` (`keras_hebb.run.corruption_data`), the mean corruption
accuracy, and the corruption error (CE per corruption, mCE) against the
reference network of the same seed. Summarised over seeds, and each variant
compared with the reference image by image on the per-image mean over all
corrupted copies (paired bootstrap). Writes `corruptions.json`,
`corruptions.md` and `corruption_accuracy.png` (a heat map per network).
"""

import time

import keras
import numpy as np

from keras_hebb import data as data_module
from keras_hebb.data.constants import CIFAR10_SHAPE
from keras_hebb.progress import say
from keras_hebb.robustness.common_corruptions import (
    corrupted_correct,
    corruption_accuracy,
    corruption_errors,
    mean_corruption_accuracy,
    relative_corruption_errors,
)
from keras_hebb.robustness.noise import correct
from keras_hebb.run import statistics
from keras_hebb.run.comparison import compare_scores
from keras_hebb.run.corruption_data import corrupted_test_set
from keras_hebb.run.folder import RunFolder
from keras_hebb.run.inputs import test_arrays
from keras_hebb.run.provenance import provenance
from keras_hebb.run.records import CorruptionsRecord
from keras_hebb.run.report import write_with_report
from keras_hebb.run.robust_accuracy import models_record, report_networks
from keras_hebb.saving import load_model


def evaluate_models(files, corrupted):
    """{name: (accuracy by corruption and severity, per image the number of
    its corrupted copies classified right, clean accuracy on the same images
    or None)} of the model files of one seed."""
    results = {}
    for name, path in files.items():
        model = load_model(path)
        right = corrupted_correct(model, corrupted.images, corrupted.labels)
        copies_right = np.sum([r for by in right.values() for r in by.values()], axis=0)
        clean = (
            None
            if corrupted.clean is None
            else float(np.mean(correct(model, corrupted.clean, corrupted.labels)))
        )
        results[name] = (corruption_accuracy(right), copies_right, clean)
        keras.backend.clear_session()
    return results


def seed_record(results, reference):
    """One seed's figures per network: CE and mCE against `reference` (and
    the relative ones where the clean images are known), and per image the
    number of its corrupted copies classified right."""
    record = {}
    reference_accuracy, _, reference_clean = results[reference]
    for name, (accuracy, copies_right, clean) in results.items():
        errors, mce = corruption_errors(accuracy, reference_accuracy)
        record[name] = {
            "accuracy": {
                c: {str(s): a for s, a in by.items()} for c, by in accuracy.items()
            },
            "mean_accuracy": mean_corruption_accuracy(accuracy),
            "corruption_error": errors,
            "mce": mce,
            "copies": sum(len(by) for by in accuracy.values()),
            "copies_right": copies_right.astype(int).tolist(),
        }
        if clean is not None:
            relative, relative_mce = relative_corruption_errors(
                accuracy, clean, reference_accuracy, reference_clean
            )
            record[name].update(
                clean_accuracy=clean,
                relative_corruption_error=relative,
                relative_mce=relative_mce,
            )
    return record


def per_image_scores(figures):
    """Per image, the fraction of its corrupted copies classified right, from
    one network's record of `seed_record`."""
    return np.asarray(figures["copies_right"], dtype="float64") / figures["copies"]


def summarise_corruptions(by_seed, reference, evaluation):
    """Spreads over seeds of every figure, and the paired comparisons."""
    seeds = list(by_seed)
    names = list(by_seed[seeds[0]])

    def over(value_of, name):
        return statistics.spread(
            [value_of(by_seed[s][name]) for s in seeds], evaluation.confidence
        )

    first = by_seed[seeds[0]][names[0]]
    summary = {
        name: {
            "mean_accuracy": over(lambda r: r["mean_accuracy"], name),
            "mce": over(lambda r: r["mce"], name),
            **(
                {
                    key: over(lambda r, k=key: r[k], name)
                    for key in ("clean_accuracy", "relative_mce")
                }
                if "relative_mce" in first
                else {}
            ),
            "accuracy": {
                corruption: {
                    severity: over(
                        lambda r, c=corruption, s=severity: r["accuracy"][c][s], name
                    )
                    for severity in by_severity
                }
                for corruption, by_severity in first["accuracy"].items()
            },
            "corruption_error": {
                corruption: over(lambda r, c=corruption: r["corruption_error"][c], name)
                for corruption in first["corruption_error"]
            },
        }
        for name in names
    }
    comparisons = {
        name: compare_scores(
            {s: per_image_scores(by_seed[s][reference]) for s in seeds},
            {s: per_image_scores(by_seed[s][name]) for s in seeds},
            evaluation,
        )
        for name in names
        if name != reference
    }
    return summary, comparisons


def run_corruptions(config, output, paths=None):
    """The corruption report of a run folder's networks (every variant and
    seed of `config`), or of the model files `paths`; written to `output`.

    Returns:
        The `CorruptionsRecord` written to `<output>/corruptions.json`.
    """
    run = RunFolder(output)
    files, reference = report_networks(config, run, paths)
    images, labels = test_arrays(config, config.corruptions.examples)
    if images.shape[1:] != CIFAR10_SHAPE:
        raise ValueError(
            f"The common corruptions are CIFAR-10-C's, made for 32x32 RGB images; "
            f"{config.data.source} has {images.shape[1:]} images."
        )
    start, origin = time.perf_counter(), provenance()
    corrupted = corrupted_test_set(
        config.corruptions,
        images,
        labels,
        data_module.describe_source(config.data.source),
    )
    by_seed = {}
    for seed, seed_files in files.items():
        say(f"corruptions: seed {seed}: {list(seed_files)}")
        results = evaluate_models(seed_files, corrupted)
        by_seed[str(seed)] = seed_record(results, reference)
    summary, comparisons = summarise_corruptions(by_seed, reference, config.evaluation)
    record = CorruptionsRecord.of(
        {
            "config": config.to_dict(),
            "provenance": origin,
            "data_source": corrupted.source,
            "test_images": len(corrupted.labels),
            "models": models_record(files),
            "reference": reference,
            "by_seed": by_seed,
            "summary": summary,
            "comparisons": comparisons,
            "seconds": time.perf_counter() - start,
        }
    )
    write_with_report(run, "corruptions", record)
    say(f"corruptions in {run.file('corruptions.md')} ({record.seconds:.0f} s)")
    return record
