"""Study 2: does HaH's clean-accuracy gap to its baseline close with longer training?

Runs the variants (`--variants paper` by default) once per training length,
each with every seed of the configuration, into `<output>/epochs_<E>/` (each
an ordinary, resumable `keras-hebb run` folder), then writes
`training_length.json`, `training_length.md` and `training_length.png`:
clean accuracy of the reference variant and of `--focus` (default "hah")
against the number of epochs (mean and sd over the seeds) and the gap focus
minus reference with its paired-bootstrap interval over the test images and
the paired t-test over seeds.

    python experiments/training_length.py --preset cpu \
        --config experiments/configs/training_length.yaml \
        --data ../shared/data/cifar10-jpeg --epochs 5 10 20 \
        --output experiments/results/training_length
"""

import argparse
import pathlib
import sys

from keras_hebb.files import write_json, write_text
from keras_hebb.run.cli import add_config_options, resolved_config
from keras_hebb.run.config import ConfigError
from keras_hebb.run.experiment import run_experiment
from keras_hebb.run.recipe import make_deterministic
from keras_hebb.run.report.plots import save
from keras_hebb.run.report.tables import cell, difference_text, p_values_text, table


def arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_config_options(parser)
    parser.add_argument(
        "--epochs", type=int, nargs="+", required=True, help="the training lengths"
    )
    parser.add_argument(
        "--output",
        type=pathlib.Path,
        required=True,
        help="folder of the runs and of the study's files",
    )
    parser.add_argument(
        "--focus",
        default="hah",
        help="the variant compared with the reference (default: %(default)s)",
    )
    return parser.parse_args(argv)


def run_lengths(args):
    """{epochs: `ResultsRecord`} of one `run_experiment` per training length."""
    records = {}
    overrides = list(args.overrides)
    for epochs in args.epochs:
        args.overrides = [*overrides, f"training.epochs={epochs}"]
        config = resolved_config(args)
        if args.focus not in config.variants:
            raise ConfigError(
                f"--focus {args.focus!r} is not a variant: {list(config.variants)}"
            )
        make_deterministic(config.training.seeds[0])
        records[epochs] = run_experiment(config, args.output / f"epochs_{epochs}")
    return records


def gap_rows(records, focus):
    rows = []
    for epochs, record in records.items():
        summary = record.summary
        gap = record.comparisons[focus]["clean"]
        rows.append(
            [
                str(epochs),
                cell(summary[record.reference]["clean_accuracy"]),
                cell(summary[focus]["clean_accuracy"]),
                difference_text(gap),
                gap["verdict"],
                p_values_text(gap),
            ]
        )
    return rows


def plot(records, focus, path):
    import matplotlib.pyplot as plt

    epochs = list(records)
    first = next(iter(records.values()))
    labels = first.labels()
    fig, (accuracy, gap) = plt.subplots(1, 2, figsize=(11, 4.2))
    for variant in (first.reference, focus):
        spreads = [records[e].summary[variant]["clean_accuracy"] for e in epochs]
        accuracy.errorbar(
            epochs,
            [s["mean"] for s in spreads],
            yerr=[s["sd"] or 0.0 for s in spreads],
            fmt="o-",
            capsize=3,
            label=labels[variant],
        )
    gaps = [records[e].comparisons[focus]["clean"] for e in epochs]
    gap.errorbar(
        epochs,
        [100 * g["difference"] for g in gaps],
        yerr=[
            [100 * (g["difference"] - g["interval"][0]) for g in gaps],
            [100 * (g["interval"][1] - g["difference"]) for g in gaps],
        ],
        fmt="o-",
        capsize=3,
    )
    gap.axhline(0, color="grey", lw=1)
    accuracy.set(xlabel="epochs", ylabel="clean accuracy", title="mean ± sd over seeds")
    gap.set(
        xlabel="epochs",
        ylabel=f"{labels[focus]} minus {labels[first.reference]} (points)",
        title="95% paired-bootstrap interval over the test images",
    )
    for axis in (accuracy, gap):
        axis.grid(alpha=0.3)
    accuracy.legend()
    fig.suptitle(f"{first.test_images} test images, seeds {first.seeds}", fontsize=9)
    save(fig, path)


def main(argv=None):
    args = arguments(argv)
    try:
        records = run_lengths(args)
    except ConfigError as error:
        sys.exit(f"training_length: error: {error}")
    first, focus = next(iter(records.values())), args.focus
    labels = first.labels()
    study = {
        "epochs": list(records),
        "runs": {str(e): str(args.output / f"epochs_{e}") for e in records},
        "config": first.config,
        "provenance": first.provenance,
        "data_source": first.data_source,
        "test_images": first.test_images,
        "clean_accuracy": {
            str(e): {v: r.summary[v]["clean_accuracy"] for v in (r.reference, focus)}
            for e, r in records.items()
        },
        "gap": {str(e): r.comparisons[focus]["clean"] for e, r in records.items()},
    }
    write_json(args.output / "training_length.json", study)
    text = (
        "# Clean-accuracy gap against training length\n\n"
        f"Data: {first.data_source}; {first.test_images} test images; seeds "
        f"{first.seeds}; network arguments "
        f"{first.config['network_args']}; training images: "
        f"{first.config['data']['train_limit'] or 'all'}. Each length is its own "
        "run (learning rate x0.1 after 60% and 80% of its epochs). Accuracy cells: "
        f"mean ± sd over the seeds; gap: {labels[focus]} minus "
        f"{labels[first.reference]} in points with its 95% "
        "paired-bootstrap interval over the test images.\n\n"
        + table(
            [
                "epochs",
                labels[first.reference],
                labels[focus],
                "gap (points)",
                "verdict",
                "tests",
            ],
            gap_rows(records, focus),
        )
        + "\n\n![training length](training_length.png)\n"
    )
    write_text(args.output / "training_length.md", text)
    plot(records, focus, args.output / "training_length.png")
    print(text)


if __name__ == "__main__":
    main()
