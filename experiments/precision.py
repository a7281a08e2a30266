"""The precision check: one configuration trained in float32 and in mixed
bfloat16, each network against itself across the two precisions.

Reads two run folders that `keras-hebb run` filled with the same
configuration but `training.precision`, and writes `precision.md` and
`precision.json` to --output: for every variant and every figure of the run
(clean accuracy, each noise setting, each single-attack PGD budget) both
values, mixed bfloat16 minus float32 with its 95% paired-bootstrap interval
over the same test images and McNemar's test per seed, then the non-zero
fraction of the sparse blocks and the training time.

    keras-hebb run --preset cpu --data ../shared/data/cifar10-jpeg \\
        --output runs/cpu-bf16 training.precision=mixed_bfloat16
    python experiments/precision.py --float32 experiments/results/cpu \\
        --bfloat16 runs/cpu-bf16 --output experiments/results/precision
"""

import argparse
import pathlib
import sys

import numpy as np

from keras_hebb.files import write_json, write_text
from keras_hebb.run.comparison import compare_scores, mean_nonzero
from keras_hebb.run.config import from_dict
from keras_hebb.run.folder import RunFolder
from keras_hebb.run.report.tables import cell, difference_text, p_values_text, table
from keras_hebb.run.statistics import spread

PRECISIONS = ("float32", "mixed_bfloat16")


def arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--float32",
        type=pathlib.Path,
        required=True,
        help="the run folder trained with training.precision=float32",
    )
    parser.add_argument(
        "--bfloat16",
        type=pathlib.Path,
        required=True,
        help="the run folder trained with training.precision=mixed_bfloat16",
    )
    parser.add_argument(
        "--output",
        type=pathlib.Path,
        required=True,
        help="where precision.md and precision.json are written",
    )
    return parser.parse_args(argv)


def fail(message):
    sys.exit(f"precision.py: error: {message}")


def read_results(path, precision):
    """The results record of the run folder `path`, checked to be trained in
    `precision`."""
    run = RunFolder(path)
    if not run.has_record("results"):
        fail(f"{path} has no results.json; run `keras-hebb run --output {path}` first")
    results = run.read_record("results")
    # Records made before the setting existed were trained in float32.
    trained = results.config["training"].get("precision", "float32")
    if trained != precision:
        fail(f"{path} was trained in {trained}, not {precision}")
    return run, results


def without_precision(config):
    """A run's configuration, with the defaults of settings added since its
    record was made, less `training.precision` and the seeds: what must be
    equal for the two runs to be compared."""
    config = from_dict(config).to_dict()
    del config["training"]["precision"]
    del config["training"]["seeds"]
    return config


def differing_keys(a, b, prefix=""):
    """The dotted keys at which two nested dicts differ."""
    if not (isinstance(a, dict) and isinstance(b, dict)):
        return [] if a == b else [prefix.rstrip(".")]
    keys = list(a) + [k for k in b if k not in a]
    return [
        found
        for key in keys
        for found in differing_keys(a.get(key), b.get(key), f"{prefix}{key}.")
    ]


def common_seeds(results32, results16):
    """The seeds both runs trained, as the records' keys, in float32's order;
    a clear error when there are none, or when the configurations differ."""
    differ = differing_keys(
        without_precision(results32.config), without_precision(results16.config)
    )
    if differ:
        fail(f"the two runs' configurations differ beyond the precision: {differ}")
    variant = results32.names[0]
    seeds = [s for s in results32.variants[variant] if s in results16.variants[variant]]
    if not seeds:
        fail("the two runs share no seed")
    return seeds


def scores(run, variant, seeds):
    """{seed: per-image scores} of one network of a run."""
    return {s: run.network(variant, s).read_evaluation()[1] for s in seeds}


def compare_variant(runs, keys, evaluation, variant, seeds):
    """Every figure (`MetricKey` of `keys`) of one variant in both
    precisions, and mixed bfloat16 minus float32 over the same images: a row
    {"figure", "label", "images", "values" (a spread over seeds per
    precision), "difference" (`compare_scores`)} per figure."""
    per_image = [scores(run, variant, seeds) for run in runs]
    rows = []
    for i, key in enumerate(keys):
        name = str(key)
        by_precision = [
            {s: np.asarray(p[s][name], "float64") for s in seeds} for p in per_image
        ]
        rows.append(
            {
                "figure": name,
                "label": key.label(evaluation.attack_steps),
                "images": len(by_precision[0][seeds[0]]),
                "values": [
                    spread([float(np.mean(x)) for x in b.values()])
                    for b in by_precision
                ],
                "difference": compare_scores(*by_precision, evaluation, seed_base=i),
            }
        )
    return rows


def network_figures(records, variant, seeds):
    """(non-zero fraction of the sparse blocks, training seconds), each as a
    spread over seeds, in both precisions."""
    found = []
    for results in records:
        by_seed = [results.variants[variant][s] for s in seeds]
        blocks = results.sparse_blocks
        found.append(
            (
                spread([mean_nonzero(f, blocks) for f in by_seed]) if blocks else None,
                spread([f["train_seconds"] for f in by_seed]),
            )
        )
    return found


def variant_section(label, rows, figures):
    """One variant's table: both precisions and their difference."""
    body = [
        [
            f"{row['label']} ({row['images']} images)",
            *[cell(v, row["images"]) for v in row["values"]],
            difference_text(row["difference"]),
            row["difference"]["verdict"],
            p_values_text(row["difference"]),
        ]
        for row in rows
    ]
    (sparse32, seconds32), (sparse16, seconds16) = figures
    if sparse32 is not None:
        body.append(
            ["non-zero fraction, sparse blocks", cell(sparse32, digits=3)]
            + [cell(sparse16, digits=3), "", "", ""]
        )
    body.append(
        [
            "training time (wall clock, s)",
            cell(seconds32, digits=0),
            cell(seconds16, digits=0),
            f"{seconds16['mean'] / seconds32['mean']:.2f}x",
            "",
            "",
        ]
    )
    header = ["", *PRECISIONS, "bfloat16 minus float32 (points)", "verdict", "tests"]
    return f"## {label}\n\n" + table(header, body)


def introduction(records, seeds):
    results32, results16 = records
    commits = [r.provenance["git_commit"][:7] for r in records]
    return (
        f"Data: {results32.data_source}. The same configuration (preset "
        f"`{results32.config['name']}`) trained and evaluated in float32 (code "
        f"{commits[0]}) and in mixed bfloat16 (code {commits[1]}), seeds "
        f"{', '.join(seeds)}. Cells: the figure, with one seed the 95% Wilson "
        "interval over the test images, else mean ± sd over seeds. Differences: "
        "mixed bfloat16 minus float32 in accuracy points, 95% paired-bootstrap "
        "interval over the same test images; McNemar's test per seed. Training "
        "time: wall clock of each run (other jobs may have shared the machine; "
        "`experiments/benchmark.py` times the steps side by side)."
    )


def main(argv=None):
    args = arguments(argv)
    runs, records = zip(
        read_results(args.float32, "float32"),
        read_results(args.bfloat16, "mixed_bfloat16"),
    )
    seeds = common_seeds(*records)
    labels = records[0].labels()
    keys = records[0].metric_keys()
    evaluation = from_dict(records[0].config).evaluation
    compared = {
        variant: {
            "figures": compare_variant(runs, keys, evaluation, variant, seeds),
            "network": network_figures(records, variant, seeds),
        }
        for variant in records[0].names
    }
    sections = [
        variant_section(labels[v], c["figures"], c["network"])
        for v, c in compared.items()
    ]
    args.output.mkdir(parents=True, exist_ok=True)
    write_text(
        args.output / "precision.md",
        "\n\n".join(
            ["# float32 against mixed bfloat16", introduction(records, seeds)]
            + sections
        )
        + "\n",
    )
    write_json(
        args.output / "precision.json",
        {
            "float32": str(args.float32),
            "mixed_bfloat16": str(args.bfloat16),
            "seeds": seeds,
            "provenance": {p: r.provenance for p, r in zip(PRECISIONS, records)},
            "variants": compared,
        },
    )
    print(f"precision check in {args.output / 'precision.md'}")


if __name__ == "__main__":
    main()
