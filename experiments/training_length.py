"""Study 2: does HaH's clean-accuracy gap to its baseline close with longer training?

Runs the variants (`--variants paper` by default: the study reads the
variants "baseline" and "hah") once per training length,
each with every seed of the configuration, into `<output>/epochs_<E>/` (each
an ordinary, resumable `keras-hebb run` folder), then writes
`training_length.json`, `training_length.md` and `training_length.png`:
clean accuracy of both networks against the number of epochs (mean and sd
over the seeds) and the gap HaH minus baseline with its paired-bootstrap
interval over the test images and the paired t-test over seeds.

    python experiments/training_length.py --preset cpu \
        --config experiments/configs/training_length.yaml \
        --data ../shared/data/cifar10-jpeg --epochs 5 10 20 \
        --output experiments/results/training_length
"""

import argparse
import pathlib
import sys

from keras_hebb.files import write_atomically, write_json, write_text
from keras_hebb.run import experiment
from keras_hebb.run.cli import add_config_options, resolved_config
from keras_hebb.run.config import ConfigError
from keras_hebb.run.report import cell, difference_text, p_values_text, table


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
    return parser.parse_args(argv)


def run_lengths(args):
    """{epochs: results record} of one `run_experiment` per training length."""
    records = {}
    overrides = list(args.overrides)
    for epochs in args.epochs:
        args.overrides = [*overrides, f"training.epochs={epochs}"]
        config = resolved_config(args)
        experiment.make_deterministic(config.training.seeds[0])
        records[epochs] = experiment.run_experiment(
            config, args.output / f"epochs_{epochs}"
        )
    return records


def gap_rows(records):
    rows = []
    for epochs, record in records.items():
        summary = record["summary"]
        gap = record["comparisons"]["hah"]["clean"]
        rows.append(
            [
                str(epochs),
                cell(summary["baseline"]["clean_accuracy"]),
                cell(summary["hah"]["clean_accuracy"]),
                difference_text(gap),
                gap["verdict"],
                p_values_text(gap),
            ]
        )
    return rows


def plot(records, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = list(records)
    fig, (accuracy, gap) = plt.subplots(1, 2, figsize=(11, 4.2))
    for variant, label in (("baseline", "baseline"), ("hah", "HaH")):
        spreads = [records[e]["summary"][variant]["clean_accuracy"] for e in epochs]
        accuracy.errorbar(
            epochs,
            [s["mean"] for s in spreads],
            yerr=[s["sd"] or 0.0 for s in spreads],
            fmt="o-",
            capsize=3,
            label=label,
        )
    gaps = [records[e]["comparisons"]["hah"]["clean"] for e in epochs]
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
        ylabel="HaH minus baseline (points)",
        title="95% paired-bootstrap interval over the test images",
    )
    for axis in (accuracy, gap):
        axis.grid(alpha=0.3)
    accuracy.legend()
    first = next(iter(records.values()))
    seeds = first["config"]["training"]["seeds"]
    fig.suptitle(f"{first['test_images']} test images, seeds {seeds}", fontsize=9)
    fig.tight_layout()
    write_atomically(path, lambda temporary: fig.savefig(temporary, dpi=110))
    plt.close(fig)


def main(argv=None):
    args = arguments(argv)
    try:
        records = run_lengths(args)
    except ConfigError as error:
        sys.exit(f"training_length: error: {error}")
    first = next(iter(records.values()))
    study = {
        "epochs": list(records),
        "runs": {str(e): str(args.output / f"epochs_{e}") for e in records},
        "config": first["config"],
        "provenance": first["provenance"],
        "data_source": first["data_source"],
        "test_images": first["test_images"],
        "clean_accuracy": {
            str(e): {v: r["summary"][v]["clean_accuracy"] for v in ("baseline", "hah")}
            for e, r in records.items()
        },
        "gap": {str(e): r["comparisons"]["hah"]["clean"] for e, r in records.items()},
    }
    write_json(args.output / "training_length.json", study)
    text = (
        "# Clean-accuracy gap against training length\n\n"
        f"Data: {first['data_source']}; {first['test_images']} test images; seeds "
        f"{first['config']['training']['seeds']}; network arguments "
        f"{first['config']['network_args']}; training images: "
        f"{first['config']['data']['train_limit'] or 'all'}. Each length is its own "
        "run (learning rate x0.1 after 60% and 80% of its epochs). Accuracy cells: "
        "mean ± sd over the seeds; gap: HaH minus baseline in points with its 95% "
        "paired-bootstrap interval over the test images.\n\n"
        + table(
            ["epochs", "baseline", "HaH", "gap (points)", "verdict", "tests"],
            gap_rows(records),
        )
        + "\n\n![training length](training_length.png)\n"
    )
    write_text(args.output / "training_length.md", text)
    plot(records, args.output / "training_length.png")
    print(text)


if __name__ == "__main__":
    main()
