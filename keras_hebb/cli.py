"""The `keras-hebb` command: parses arguments and calls the library.

keras-hebb run --preset cpu --data ../shared/data/cifar10-jpeg --output runs/cpu
keras-hebb train --network hah_vgg --preset smoke --data DIR --output runs/one
keras-hebb run --distribute mirrored ...    # every GPU of this machine
TF_CONFIG=... keras-hebb run --distribute multi_worker ...   # on each machine
keras-hebb evaluate --model runs/cpu/hah_vgg.keras --preset cpu --data DIR
keras-hebb export --model runs/cpu/hah_vgg.keras --output exported/hah
keras-hebb robustness --preset cpu --data DIR --output runs/cpu
keras-hebb report --output runs/cpu
"""

import argparse
import json
import pathlib
import sys

from keras_hebb.distribute import STRATEGIES
from keras_hebb.presets import PRESETS

NETWORK_FILES = ("baseline_vgg.keras", "hah_vgg.keras")
DATA_HELP = (
    'CIFAR-10 source: "tfds" (tfds.load("cifar10"), needs internet the first time) or '
    "a folder holding train/<class>/*.jpg and test/<class>/*.jpg, such as "
    "../shared/data/cifar10-jpeg"
)


def parser():
    main = argparse.ArgumentParser(
        prog="keras-hebb",
        description="Train and evaluate HaH networks against their baseline.",
    )
    commands = main.add_subparsers(dest="command", required=True)

    def with_preset_and_data(command):
        command.add_argument("--preset", choices=sorted(PRESETS), default="cpu")
        command.add_argument("--data", default="tfds", help=DATA_HELP)

    def with_training_options(command):
        command.add_argument(
            "--distribute",
            choices=STRATEGIES,
            default="default",
            help="tf.distribute strategy: one device (default), every GPU of "
            "this machine (mirrored), or the machines of TF_CONFIG (multi_worker)",
        )
        with_determinism(command)

    def with_determinism(command):
        command.add_argument(
            "--deterministic",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="seed everything and turn on TensorFlow's op determinism, so "
            "that two runs give identical weights and results (default: on "
            "without a GPU, off with one, where it slows some kernels)",
        )

    run = commands.add_parser(
        "run", help="train both networks, evaluate them, write results and plots"
    )
    with_preset_and_data(run)
    run.add_argument(
        "--output",
        type=pathlib.Path,
        required=True,
        help="output folder; rerunning the same command resumes",
    )
    with_training_options(run)

    train = commands.add_parser("train", help="train one network (resumable)")
    with_preset_and_data(train)
    train.add_argument("--network", choices=["baseline_vgg", "hah_vgg"], required=True)
    train.add_argument("--output", type=pathlib.Path, required=True)
    with_training_options(train)

    evaluate = commands.add_parser("evaluate", help="evaluate a saved .keras model")
    with_preset_and_data(evaluate)
    evaluate.add_argument("--model", type=pathlib.Path, required=True)
    evaluate.add_argument(
        "--output",
        type=pathlib.Path,
        help="JSON file for the figures (default: print them)",
    )
    with_determinism(evaluate)

    export = commands.add_parser("export", help="export a .keras model as a SavedModel")
    export.add_argument("--model", type=pathlib.Path, required=True)
    export.add_argument("--output", type=pathlib.Path, required=True)
    robustness = commands.add_parser(
        "robustness",
        help="worst-case robust accuracy over the attack set and gradient-masking "
        "checks of a run's two trained networks",
    )
    with_preset_and_data(robustness)
    robustness.add_argument(
        "--output",
        type=pathlib.Path,
        required=True,
        help="a `run` output folder holding baseline_vgg.keras and hah_vgg.keras; "
        "robustness.json and robustness.md are written there",
    )

    report = commands.add_parser(
        "report", help="rewrite results.md and the plots from an output's results.json"
    )
    report.add_argument("--output", type=pathlib.Path, required=True)
    return main


def main(argv=None):
    args = parser().parse_args(argv)
    if getattr(args, "model", None) is not None and not args.model.is_file():
        sys.exit(f"keras-hebb: error: --model {args.model} is not a file")
    if args.command == "robustness":
        missing = [n for n in NETWORK_FILES if not (args.output / n).is_file()]
        if missing:
            sys.exit(
                f"keras-hebb: error: {args.output} lacks {missing}; run "
                "`keras-hebb run` with this --output first"
            )
    if args.command == "report" and not (args.output / "results.json").is_file():
        sys.exit(f"keras-hebb: error: {args.output / 'results.json'} does not exist")
    if getattr(args, "data", "tfds") != "tfds" and not pathlib.Path(args.data).is_dir():
        sys.exit(f"keras-hebb: error: --data {args.data} is not a folder. {DATA_HELP}")
    # Imported here so that --help and argument errors answer at once.
    from keras_hebb import experiment
    from keras_hebb.callbacks import NonFiniteTrainingError
    from keras_hebb.checkpoint import CheckpointError
    from keras_hebb.data import DataSourceError, as_arrays, cifar10
    from keras_hebb.files import write_atomically, write_text
    from keras_hebb.presets import get_preset
    from keras_hebb.saving import ModelFileError, load_model
    from keras_hebb.validation import InvalidInputError

    if args.command in ("run", "train", "evaluate"):
        strategy = training_setup(args)
    try:
        if args.command == "run":
            experiment.run_experiment(
                get_preset(args.preset), args.data, args.output, strategy
            )
        elif args.command == "train":
            args.output.mkdir(parents=True, exist_ok=True)
            experiment.train_network(
                args.network,
                get_preset(args.preset),
                args.data,
                args.output,
                strategy=strategy,
            )
        elif args.command == "evaluate":
            preset = get_preset(args.preset)
            model = load_model(args.model)
            images, labels = as_arrays(
                cifar10(args.data, "test", 500, limit=preset.test_limit)
            )
            figures = experiment.evaluate_network(model, preset, images, labels)
            text = json.dumps({"seed": preset.seed, **figures}, indent=2)
            if args.output is None:
                print(text)
            else:
                write_text(args.output, text)
        elif args.command == "export":
            model = load_model(args.model)
            write_atomically(args.output, lambda folder: model.export(str(folder)))
        elif args.command == "robustness":
            experiment.run_robustness(get_preset(args.preset), args.data, args.output)
        elif args.command == "report":
            from keras_hebb.report import write_report

            write_report(
                json.loads((args.output / "results.json").read_text()), args.output
            )
    except (
        CheckpointError,
        DataSourceError,
        InvalidInputError,
        ModelFileError,
    ) as error:
        sys.exit(f"keras-hebb: error: {error}")
    except NonFiniteTrainingError as error:
        sys.exit(
            f"keras-hebb: error: {error} The last good epoch is kept in "
            f"{args.output / 'backup'}; rerunning the command resumes from it."
        )


def training_setup(args):
    """Op determinism as `--deterministic` says (default: on without a GPU),
    then the `--distribute` strategy (strategies start TensorFlow's devices,
    after which determinism can no longer be switched)."""
    import tensorflow as tf

    from keras_hebb import experiment
    from keras_hebb.distribute import get_strategy
    from keras_hebb.presets import get_preset

    if args.deterministic is None:
        args.deterministic = not tf.config.list_physical_devices("GPU")
    if args.deterministic:
        experiment.make_deterministic(get_preset(args.preset).seed)
    return get_strategy(getattr(args, "distribute", "default"))


if __name__ == "__main__":
    main()
