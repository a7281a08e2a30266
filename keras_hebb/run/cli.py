"""The `keras-hebb` command: parses arguments and calls the library.

keras-hebb run --preset cpu --data ../shared/data/cifar10-jpeg --output runs/cpu
keras-hebb run --preset cpu --variants ablation training.epochs=20 --output runs/abl
keras-hebb config --preset cpu --variants ablation 'training.seeds=[1,2]'
keras-hebb train --variant hah --seed 2022 --preset smoke --data DIR --output runs/one
keras-hebb evaluate --model a.keras b.keras --preset cpu --data DIR --output runs/eval
keras-hebb robustness --preset cpu --data DIR --output runs/cpu
keras-hebb robustness --model a.keras b.keras --preset cpu --data DIR --output runs/r
keras-hebb corruptions --preset cpu --data DIR --output runs/cpu
keras-hebb corruptions --model a.keras b.keras --preset cpu --data DIR --output runs/c
keras-hebb export --model runs/cpu/hah/seed_2022/model.keras --output exported/hah
keras-hebb report --output runs/cpu

`--help` and argument errors answer without importing TensorFlow; TensorFlow's
C++ log lines are hidden unless `--verbose`.
"""

import argparse
import json
import logging
import os
import pathlib
import re
import sys
import threading

import keras_hebb
from keras_hebb.data.options import tfds_name
from keras_hebb.distribute import STRATEGIES
from keras_hebb.run.config import ConfigError, config_yaml, load_config, preset_names

DATA_HELP = (
    'image source, the same as the override data.source=...: "tfds" '
    '(tfds.load("cifar10"), needs internet the first time), "tfds:<name>" (any '
    "tensorflow-datasets image-classification dataset, e.g. tfds:mnist) or a folder "
    "holding train/<class>/*.jpg and test/<class>/*.jpg with any class folders, "
    "such as ../shared/data/cifar10-jpeg (default: the preset's, tfds)"
)


# TensorFlow's C++ log lines (absl's format: severity letter, date, time,
# thread, file:line) and absl's note on them; fatal ("F") lines are kept.
NATIVE_LOG_LINE = re.compile(
    rb"^(WARNING: All log messages before absl::InitializeLog|[IWE]\d{4} \d\d:\d\d:"
    rb"\d+\.\d+ +\d+ [\w.]+:\d+\]|To enable the following instructions:)"
)


def hide_native_logs():
    """Filters TensorFlow's C++ log lines out of standard error.

    They are written to file descriptor 2 before TensorFlow can be told to
    stop (absl logs before its flags are read), so descriptor 2 becomes a
    pipe that a thread copies to the real standard error, less those lines;
    Python's own `sys.stderr` writes to the real one directly.
    """
    real_stderr = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)
    # Open for the rest of the process: it is standard error from now on.
    sys.stderr = open(real_stderr, "w", buffering=1, closefd=False)  # noqa: SIM115

    def forward():
        with (
            open(read_end, "rb") as lines,
            open(real_stderr, "wb", 0, closefd=False) as out,
        ):
            for line in lines:
                if not NATIVE_LOG_LINE.match(line):
                    out.write(line)

    threading.Thread(target=forward, name="native-log-filter", daemon=True).start()
    logging.getLogger("tensorflow").setLevel(logging.ERROR)


VERBOSE_HELP = "show TensorFlow's C++ log lines (default: hidden)"


def add_config_options(command):
    """The options that make a run's configuration."""
    command.add_argument(
        "--preset",
        choices=preset_names("run"),
        default="cpu",
        help="run preset: the run's size (default: %(default)s)",
    )
    command.add_argument(
        "--variants",
        choices=preset_names("variants"),
        default="paper",
        help="variant set: the networks compared (default: %(default)s)",
    )
    command.add_argument(
        "--config",
        type=pathlib.Path,
        action="append",
        default=[],
        metavar="FILE.yaml",
        help="YAML file over the presets, repeatable (`keras-hebb config` prints every "
        "key; default: none)",
    )
    command.add_argument("--data", default=None, help=DATA_HELP)
    command.add_argument(
        "overrides",
        nargs="*",
        metavar="KEY=VALUE",
        help="dotted overrides, last wins: training.epochs=20 'training.seeds=[1,2]' "
        "network_args.width=0.5 variants.hah.args.keep=0.1 (default: none)",
    )


def add_training_options(command):
    command.add_argument(
        "--distribute",
        choices=STRATEGIES,
        default="default",
        help="tf.distribute strategy: one device (default), every GPU of "
        "this machine (mirrored), or the machines of TF_CONFIG (multi_worker) "
        "(default: %(default)s)",
    )
    add_determinism(command)


def add_determinism(command):
    command.add_argument(
        "--deterministic",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="seed everything and turn on TensorFlow's op determinism, so that "
        "two runs give identical weights and results (default: on without a "
        "GPU, off with one, where it slows some kernels)",
    )


def add_output(command, help, required=True):
    command.add_argument("--output", type=pathlib.Path, required=required, help=help)


def add_models(command, required, help):
    command.add_argument(
        "--model",
        type=pathlib.Path,
        nargs="+",
        required=required,
        metavar="FILE.keras",
        help=help,
    )


def parser():
    main = argparse.ArgumentParser(
        prog="keras-hebb",
        description="Train, evaluate and compare HaH networks and their baselines.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    main.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    main.add_argument(
        "--version", action="version", version=f"%(prog)s {keras_hebb.__version__}"
    )
    commands = main.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, help):
        sub = commands.add_parser(
            name,
            help=help,
            description=help,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        # SUPPRESS: unset here unless given, so `keras-hebb --verbose run` holds too.
        sub.add_argument(
            "--verbose",
            action="store_true",
            default=argparse.SUPPRESS,
            help=VERBOSE_HELP,
        )
        return sub

    run = command(
        "run",
        "train every variant with every seed, evaluate them, compare them with the "
        "reference variant, write results.json, results.md and plots; rerunning the "
        "same command resumes",
    )
    add_config_options(run)
    add_output(run, "output folder (one subfolder per variant and seed)")
    add_training_options(run)

    config = command("config", "print the resolved configuration as YAML and check it")
    add_config_options(config)

    train = command("train", "train one variant (every seed, or --seed), resumable")
    add_config_options(train)
    train.add_argument(
        "--variant", required=True, help="the variant's name in the configuration"
    )
    train.add_argument(
        "--seed",
        type=int,
        default=None,
        help="one seed (default: every seed of the configuration)",
    )
    add_output(train, "output folder, laid out as `run`'s")
    add_training_options(train)

    evaluate = command(
        "evaluate",
        "evaluate saved .keras model(s) as `run` does, comparing them with the first",
    )
    add_config_options(evaluate)
    add_models(evaluate, True, "model files, named by their stems")
    add_output(
        evaluate,
        "folder for results.json, results.md and plots (default: print the summary)",
        required=False,
    )
    add_determinism(evaluate)

    robustness = command(
        "robustness",
        "worst-case robust accuracy over the attack set and gradient-masking checks, "
        "of a run's networks or of saved model files",
    )
    add_config_options(robustness)
    add_models(
        robustness, False, "model files (default: every network of the run in --output)"
    )
    add_output(
        robustness,
        "a `run` output folder, or any folder with --model; "
        "robustness.json and robustness.md are written there",
    )

    corruptions = command(
        "corruptions",
        "accuracy under CIFAR-10-C's 15 common corruptions at 5 severities, and "
        "the corruption error (mCE) against the reference, of a run's networks or "
        "of saved model files",
    )
    add_config_options(corruptions)
    add_models(
        corruptions,
        False,
        "model files, the first the reference (default: every network of the run "
        "in --output)",
    )
    add_output(
        corruptions,
        "a `run` output folder, or any folder with --model; corruptions.json, "
        "corruptions.md and corruption_accuracy.png are written there",
    )

    export = command("export", "export a .keras model as a SavedModel")
    export.add_argument(
        "--model", type=pathlib.Path, required=True, help="the model file"
    )
    add_output(export, "SavedModel folder")

    report = command(
        "report",
        "rewrite the reports and plots of every record in a folder "
        "(results.json, robustness.json, corruptions.json)",
    )
    add_output(report, "a folder holding records")
    return main


def resolved_config(args):
    overrides = list(args.overrides)
    if args.data is not None:
        overrides.insert(0, f"data.source={args.data}")
    config = load_config(args.preset, args.variants, args.config, overrides)
    source = config.data.source
    if tfds_name(source) is None and not pathlib.Path(source).is_dir():
        raise ConfigError(f"data.source (--data) {source} is not a folder. {DATA_HELP}")
    if (
        getattr(args, "variant", None) is not None
        and args.variant not in config.variants
    ):
        raise ConfigError(
            f"--variant {args.variant!r} is not a variant of this configuration; "
            f"variants: {list(config.variants)}"
        )
    return config


def check_paths(args):
    """Errors for missing input files, before TensorFlow starts."""
    models = getattr(args, "model", None) or []
    for model in models if isinstance(models, list) else [models]:
        if not model.is_file():
            sys.exit(f"keras-hebb: error: --model {model} is not a file")
    records = ("results.json", "robustness.json", "corruptions.json")
    if args.command == "report" and not any(
        (args.output / name).is_file() for name in records
    ):
        sys.exit(f"keras-hebb: error: {args.output} holds none of {list(records)}")


def use_tensorflow_backend():
    """Selects Keras' TensorFlow backend, which the runs need, unless the
    environment asks for another: then it says so and exits."""
    backend = os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if backend != "tensorflow":
        print(
            "keras-hebb: error: the runs need Keras' TensorFlow backend; "
            f"KERAS_BACKEND is {backend!r}. Unset it or set it to tensorflow.",
            file=sys.stderr,
        )
        sys.exit(2)


def main(argv=None):
    args = parser().parse_args(argv)
    use_tensorflow_backend()
    check_paths(args)
    if not args.verbose:
        hide_native_logs()
    try:
        config = resolved_config(args) if hasattr(args, "preset") else None
    except ConfigError as error:
        print(f"keras-hebb: error: {error}", file=sys.stderr)
        sys.exit(2)
    if args.command == "config":
        print(config_yaml(config), end="")
        return
    # Imported here so that --help and argument errors answer at once.
    from keras_hebb.callbacks import NonFiniteTrainingError
    from keras_hebb.data.sources import DataSourceError
    from keras_hebb.run.checkpoint import CheckpointError
    from keras_hebb.run.folder import FolderLockedError
    from keras_hebb.run.setting import ConfigMismatchError
    from keras_hebb.saving import ModelFileError
    from keras_hebb.validation import InvalidInputError

    try:
        dispatch(args, config)
    except (
        CheckpointError,
        ConfigMismatchError,
        DataSourceError,
        FileNotFoundError,
        FolderLockedError,
        InvalidInputError,
        ModelFileError,
        ValueError,
    ) as error:
        sys.exit(f"keras-hebb: error: {error}")
    except NonFiniteTrainingError as error:
        sys.exit(
            f"keras-hebb: error: {error} The last good epoch is kept in the "
            f"network's backup/ folder under {args.output}; rerunning the command "
            "resumes from it."
        )


def dispatch(args, config):
    """Runs the subcommand `args.command`."""
    from keras_hebb.files import write_atomically
    from keras_hebb.run import experiment
    from keras_hebb.run.folder import RunFolder
    from keras_hebb.run.train import train_network
    from keras_hebb.saving import load_model

    if args.command in ("run", "train", "evaluate"):
        strategy = training_setup(args, config)
    if args.command == "run":
        experiment.run_experiment(config, args.output, strategy)
    elif args.command == "train":
        for seed in [args.seed] if args.seed is not None else config.training.seeds:
            train_network(
                config,
                args.variant,
                seed,
                RunFolder(args.output).network(args.variant, seed),
                strategy=strategy,
            )
    elif args.command == "evaluate":
        record = experiment.evaluate_files(config, args.model, args.output)
        if args.output is None:
            print(
                json.dumps(
                    {"summary": record.summary, "comparisons": record.comparisons},
                    indent=2,
                )
            )
    elif args.command == "robustness":
        from keras_hebb.run.robust_accuracy import run_robustness

        run_robustness(config, args.output, args.model)
    elif args.command == "corruptions":
        from keras_hebb.run.corruption_report import run_corruptions

        run_corruptions(config, args.output, args.model)
    elif args.command == "export":
        model = load_model(args.model)
        write_atomically(args.output, lambda folder: model.export(str(folder)))
    elif args.command == "report":
        from keras_hebb.run.report import write_reports

        write_reports(RunFolder(args.output))


def training_setup(args, config):
    """Op determinism as `--deterministic` says (default: on without a GPU),
    then the `--distribute` strategy (strategies start TensorFlow's devices,
    after which determinism can no longer be switched)."""
    import tensorflow as tf

    from keras_hebb.distribute import get_strategy
    from keras_hebb.run.recipe import make_deterministic

    if args.deterministic is None:
        args.deterministic = not tf.config.list_physical_devices("GPU")
    if args.deterministic:
        make_deterministic(config.training.seeds[0])
    return get_strategy(getattr(args, "distribute", "default"))


if __name__ == "__main__":
    main()
