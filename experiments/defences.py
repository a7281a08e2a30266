"""Study 4: HaH against the defences it is claimed to do without, on every axis.

Reads a run folder that `keras-hebb run`, `keras-hebb corruptions` and
`keras-hebb robustness` have filled (results.json with per_image.npz,
corruptions.json, robustness.json) and writes `defences.md`, `defences.json`
and `defences.png`: one table of every network on every axis (clean
accuracy, Gaussian noise, mean corruption accuracy and mCE, worst-case robust
accuracy at each budget, sparsity, training time), and the focus network
(HaH) minus each other network on each axis, with 95% paired-bootstrap
intervals over the same test images.

    keras-hebb run --preset cpu --config experiments/configs/defences.yaml \
        --data ../shared/data/cifar10-jpeg --output experiments/results/defences
    keras-hebb corruptions ... (the same arguments)
    keras-hebb robustness ... (the same arguments)
    python experiments/defences.py --output experiments/results/defences
"""

import argparse
import pathlib
import sys

import matplotlib.pyplot as plt
import numpy as np

from keras_hebb.files import write_json, write_text
from keras_hebb.run.comparison import compare_scores, mean_nonzero
from keras_hebb.run.config import from_dict
from keras_hebb.run.corruption_report import per_image_scores
from keras_hebb.run.folder import RunFolder
from keras_hebb.run.records import MetricKey
from keras_hebb.run.report.plots import error_bar, save
from keras_hebb.run.report.robustness import describe_attacks
from keras_hebb.run.report.tables import cell, difference_text, table
from keras_hebb.run.statistics import spread

RECORDS = ("results", "corruptions", "robustness")


def arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--output",
        type=pathlib.Path,
        required=True,
        help="the run folder; the study's files are written there",
    )
    parser.add_argument(
        "--focus",
        default="hah",
        help="the variant compared with every other (default: %(default)s)",
    )
    parser.add_argument(
        "--noise-stds",
        type=float,
        nargs="+",
        default=[0.1, 0.2],
        help="the Gaussian noise columns (default: %(default)s)",
    )
    return parser.parse_args(argv)


def read_records(run):
    """The three records of a filled `RunFolder`, with a clear error."""
    missing = [f"{kind}.json" for kind in RECORDS if not run.has_record(kind)]
    if missing:
        sys.exit(
            f"defences.py: error: {run.path} lacks {missing}; run keras-hebb run, "
            "corruptions and robustness with --output there first"
        )
    return [run.read_record(kind) for kind in RECORDS]


def axes(run, results, corruptions, robustness, noise_stds):
    """[(label, {variant: {seed: per-image scores}})] for every per-image axis."""
    variants = list(results.summary)
    seeds = list(results.variants[variants[0]])
    per_image = {
        v: {s: run.network(v, s).read_evaluation()[1] for s in seeds} for v in variants
    }

    def of(score):
        return {
            v: {s: np.asarray(score(v, s), "float64") for s in seeds} for v in variants
        }

    found = [("clean accuracy", of(lambda v, s: per_image[v][s]["clean"]))]
    for std in noise_stds:
        key = str(MetricKey.noise("gaussian", std))
        found.append(
            (f"Gaussian noise std {std:g}", of(lambda v, s, k=key: per_image[v][s][k]))
        )
    found.append(
        (
            "mean corruption accuracy",
            of(lambda v, s: per_image_scores(corruptions.by_seed[s][v])),
        )
    )
    for budget in robustness.budgets():
        found.append(
            (
                f"robust {budget.label}",
                of(
                    lambda v, s, b=budget.key: robustness.by_seed[s][v][b][
                        "robust_images"
                    ]
                ),
            )
        )
    return found


def over_seeds(scores_of_variant):
    """(spread over the seeds of the mean per-image score, number of images)
    of one network's {seed: per-image scores}."""
    seed_means = [float(np.mean(s)) for s in scores_of_variant.values()]
    return spread(seed_means), len(next(iter(scores_of_variant.values())))


def network_rows(results, corruptions, found):
    """The summary table's rows: every axis's mean (spread over seeds, or the
    Wilson interval over images with one seed), mCE, sparsity, training time."""
    labels = results.labels()
    blocks = results.sparse_blocks
    baseline = results.reference
    rows = []
    for variant in results.summary:
        row = [labels[variant]]
        for _, scores in found:
            row.append(cell(*over_seeds(scores[variant]), digits=3))
        for key in ("mce", "relative_mce"):
            figure = corruptions.summary[variant].get(key)
            row.append(cell(figure, digits=1) if figure else "n/a")
        seeds = results.variants[variant].values()
        row.append(
            cell(spread([mean_nonzero(f, blocks) for f in seeds]), digits=3)
            if blocks
            else "n/a"
        )
        seconds = [f["train_seconds"] for f in seeds]
        reference_seconds = [
            f["train_seconds"] for f in results.variants[baseline].values()
        ]
        row.append(
            f"{np.mean(seconds) / np.mean(reference_seconds):.1f}x"
            if None not in seconds + reference_seconds
            else "n/a"
        )
        rows.append(row)
    return rows


def focus_comparisons(found, focus, evaluation):
    """{axis: {other variant: compare_scores(other, focus)}}: the focus
    network minus each other on each axis, paired over images."""
    return {
        axis: {
            other: compare_scores(scores[other], scores[focus], evaluation, seed_base=i)
            for other in scores
            if other != focus
        }
        for i, (axis, scores) in enumerate(found)
    }


def introduction(results, corruptions, robustness):
    """What stands behind every figure of the tables."""
    labels = results.labels()
    seeds = list(next(iter(results.variants.values())))
    attacks = robustness.attacks
    return (
        f"Data: {results.data_source}; {len(seeds)} seed(s) ({', '.join(seeds)}). "
        f"Cells: accuracy (fraction of the test images), mean ± sd over seeds, or "
        f"with one seed the 95% Wilson interval over the images. Noise: clipped "
        f"Gaussian, mean of {results.evaluation['noise_draws']} draws. "
        f"Corruptions: {corruptions.data_source}, "
        f"{len(corruptions.config['corruptions']['corruptions'])} corruptions x "
        f"{len(corruptions.config['corruptions']['severities'])} severities. "
        f"Robust: the per-image worst case over {describe_attacks(attacks)} "
        f"(transfer from the reference network) "
        f"(robustness.md lists each attack and the gradient-masking checks). "
        f"Training time: wall clock as a multiple of {labels[results.reference]}'s "
        "(other jobs may have shared the machine; `experiments/benchmark.py "
        "--training-modes` times the steps side by side)."
    )


def markdown(results, corruptions, robustness, found, comparisons, focus):
    """defences.md: the introduction, every network on every axis, and the
    focus network minus each other."""
    labels = results.labels()
    counts = {axis: over_seeds(next(iter(s.values())))[1] for axis, s in found}
    summary_header = [
        "",
        *[f"{axis} ({counts[axis]} images)" for axis, _ in found],
        f"mCE (% of {labels[results.reference]}'s errors)",
        "relative mCE (% of its added errors)",
        "non-zero fraction, sparse blocks",
        "training time (wall clock)",
    ]
    others = [v for v in results.summary if v != focus]
    focus_rows = [
        [axis, *[difference_text(comparisons[axis][o]) for o in others]]
        for axis, _ in found
    ]
    return (
        "\n\n".join(
            [
                f"# {labels[focus]} against the defences",
                introduction(results, corruptions, robustness),
                table(summary_header, network_rows(results, corruptions, found)),
                (
                    f"## {labels[focus]} minus each network (points, 95% "
                    "paired-bootstrap interval over the same images)"
                ),
                table(["", *[labels[o] for o in others]], focus_rows),
            ]
        )
        + "\n"
    )


def plot(results, found, path):
    """One panel per axis: each network's accuracy with its error bar."""
    labels = results.labels()
    variants = list(results.summary)
    columns = 4
    rows = -(-len(found) // columns)
    fig, grid = plt.subplots(rows, columns, figsize=(3.4 * columns, 3.0 * rows))
    for axis, (title, scores) in zip(grid.flat, found):
        means, errors = [], []
        for variant in variants:
            seeds, images = over_seeds(scores[variant])
            means.append(seeds["mean"])
            errors.append(error_bar(seeds, images))
        axis.bar(
            range(len(variants)),
            means,
            yerr=list(zip(*errors)),
            capsize=3,
            color=[f"C{i}" for i in range(len(variants))],
        )
        axis.set_xticks(
            range(len(variants)),
            [labels[v] for v in variants],
            rotation=35,
            ha="right",
            fontsize=7,
        )
        axis.set(title=title, ylim=(0, 1))
        axis.title.set_fontsize(9)
        axis.grid(axis="y", alpha=0.3)
    for axis in list(grid.flat)[len(found) :]:
        axis.axis("off")
    save(fig, path)


def main(argv=None):
    args = arguments(argv)
    run = RunFolder(args.output)
    results, corruptions, robustness = read_records(run)
    if args.focus not in results.summary:
        sys.exit(
            f"defences.py: error: --focus {args.focus!r} is not a variant of "
            f"{args.output}: {list(results.summary)}"
        )
    evaluation = from_dict(results.config).evaluation
    found = axes(run, results, corruptions, robustness, args.noise_stds)
    comparisons = focus_comparisons(found, args.focus, evaluation)
    write_json(
        args.output / "defences.json",
        {"focus": args.focus, "comparisons": comparisons},
    )
    write_text(
        args.output / "defences.md",
        markdown(results, corruptions, robustness, found, comparisons, args.focus),
    )
    plot(results, found, args.output / "defences.png")
    print(f"wrote {args.output / 'defences.md'}, defences.json and defences.png")


if __name__ == "__main__":
    main()
