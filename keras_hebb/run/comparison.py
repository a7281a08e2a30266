"""A run's figures summarised over seeds and compared with the reference variant.

`summarise` turns the per-seed figures and per-image scores of every variant
into the "summary" (each figure's mean, sd and t interval over seeds) and the
"comparisons" (each variant against the reference on the same test images:
the paired bootstrap of the difference over images, McNemar's test per seed
for right/wrong scores, the paired t-test over seeds, and a verdict) of
`results.json`. The statistics themselves are `keras_hebb.run.statistics`.
"""

import numpy as np

from keras_hebb.run import statistics
from keras_hebb.run.records import MetricKey


def per_image_metrics(per_image_of_variant):
    """The per-image score keys every seed of a variant has, in order."""
    seeds = list(per_image_of_variant.values())
    return [key for key in seeds[0] if all(key in s for s in seeds)]


def sparse_block_names(figures):
    """The conv blocks that are sparse blocks in any variant, in conv order."""
    names = {
        block
        for by_seed in figures.values()
        for seed_figures in by_seed.values()
        for block in seed_figures.get("sparse_blocks", [])
    }
    convs = next(iter(next(iter(figures.values())).values()))["sparsity"]
    return [conv for conv in convs if conv in names]


def mean_nonzero(seed_figures, blocks):
    """Mean fraction of non-zero activations over `blocks`."""
    return float(np.mean([seed_figures["sparsity"][b]["nonzero"] for b in blocks]))


def seed_values(by_seed, value_of):
    return [value_of(seed_figures) for seed_figures in by_seed.values()]


def summary_of_variant(by_seed, blocks, confidence):
    """Every figure of one variant as a spread over its seeds."""
    first = next(iter(by_seed.values()))

    def over_seeds(value_of):
        return statistics.spread(seed_values(by_seed, value_of), confidence)

    summary = {
        "seeds": len(by_seed),
        "clean_accuracy": over_seeds(lambda f: f["clean_accuracy"]),
        "noise_accuracy": {
            kind: {
                std: over_seeds(lambda f, k=kind, s=std: f["noise_accuracy"][k][s])
                for std in by_std
            }
            for kind, by_std in first["noise_accuracy"].items()
        },
        "adversarial_accuracy": {
            key: over_seeds(lambda f, k=key: f["adversarial_accuracy"][k])
            for key in first["adversarial_accuracy"]
        },
        "sparsity": {
            conv: {
                stat: over_seeds(lambda f, c=conv, s=stat: f["sparsity"][c][s])
                for stat in ("nonzero", "top_to_rest")
            }
            for conv in first["sparsity"]
        },
        "snr_db": {
            conv: over_seeds(lambda f, c=conv: f["snr_db"][c])
            for conv in first["snr_db"]
        },
    }
    if blocks:
        summary["sparse_nonzero"] = over_seeds(lambda f: mean_nonzero(f, blocks))
    if all(f["history"].get("val_accuracy") for f in by_seed.values()):
        summary["final_val_accuracy"] = over_seeds(
            lambda f: f["history"]["val_accuracy"][-1]
        )
    if all(f["train_seconds"] is not None for f in by_seed.values()):
        summary["train_seconds"] = over_seeds(lambda f: f["train_seconds"])
    return summary


def compare_scores(reference, other, evaluation, seed_base=0):
    """One per-image metric of a variant against the reference.

    Args:
        reference, other: {seed: per-image scores (images,)}, same seeds.
        evaluation: the run's `EvaluationConfig` (confidence, resamples).
        seed_base: the bootstrap's seed.
    """
    seeds = list(reference)
    pooled = statistics.paired_bootstrap(
        np.mean([reference[s] for s in seeds], axis=0),
        np.mean([other[s] for s in seeds], axis=0),
        evaluation.confidence,
        evaluation.bootstrap_resamples,
        seed=seed_base,
    )
    binary = all(
        np.isin(scores[s], (0.0, 1.0)).all()
        for scores in (reference, other)
        for s in seeds
    )
    return {
        **pooled,
        "verdict": statistics.verdict(pooled["interval"]),
        "mcnemar": (
            {str(s): statistics.mcnemar_test(reference[s], other[s]) for s in seeds}
            if binary
            else None
        ),
        "across_seeds": statistics.paired_seeds_test(
            [float(np.mean(reference[s])) for s in seeds],
            [float(np.mean(other[s])) for s in seeds],
        ),
    }


def compare_variant(evaluation, variant, reference, figures, per_image, blocks):
    """Every per-image metric of `variant` against `reference`, plus the
    sparsity over seeds."""
    comparisons = {}
    measured = per_image_metrics(per_image[variant])
    for index, key in enumerate(per_image_metrics(per_image[reference])):
        if key not in measured:
            continue
        comparisons[key] = {
            "label": MetricKey.parse(key).label(evaluation.attack_steps),
            **compare_scores(
                {s: per_image[reference][s][key] for s in per_image[reference]},
                {s: per_image[variant][s][key] for s in per_image[reference]},
                evaluation,
                seed_base=index,
            ),
        }
    if blocks:
        reference_nonzero = seed_values(
            figures[reference], lambda f: mean_nonzero(f, blocks)
        )
        other_nonzero = seed_values(figures[variant], lambda f: mean_nonzero(f, blocks))
        comparisons["sparse_nonzero"] = {
            "label": "non-zero fraction, sparse blocks",
            "difference": float(np.mean(other_nonzero) - np.mean(reference_nonzero)),
            "across_seeds": statistics.paired_seeds_test(
                reference_nonzero, other_nonzero
            ),
        }
    return comparisons


def summarise(evaluation, reference, figures, per_image):
    """The "reference", "sparse_blocks", "summary" and "comparisons" parts of
    results.json.

    Args:
        evaluation: the run's `EvaluationConfig`.
        reference: the name of the variant the others are compared with.
        figures: {variant: {seed: figures of `evaluate_network`}}.
        per_image: {variant: {seed: per-image scores}}.
    """
    blocks = sparse_block_names(figures)
    confidence = evaluation.confidence
    return {
        "reference": reference,
        "sparse_blocks": blocks,
        "summary": {
            variant: summary_of_variant(by_seed, blocks, confidence)
            for variant, by_seed in figures.items()
        },
        "comparisons": {
            variant: compare_variant(
                evaluation, variant, reference, figures, per_image, blocks
            )
            for variant in figures
            if variant != reference
        },
    }
