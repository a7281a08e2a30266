"""The main experiment: train baseline_vgg and hah_vgg, evaluate both, report.

Every phase can be resumed: training resumes from the last completed epoch
(`keras.callbacks.BackupAndRestore`), a network whose final model exists is
not retrained, and a network whose evaluation exists is not re-evaluated.
"""

import json
import pathlib
import platform
import time

import keras
import numpy as np

import keras_hebb
from keras_hebb import data as data_module
from keras_hebb.callbacks import StopOnNonFinite
from keras_hebb.metrics import activation_histogram, activation_sparsity
from keras_hebb.models import baseline_vgg, hah_vgg
from keras_hebb.progress import say
from keras_hebb.robustness.attacks import pgd_accuracy
from keras_hebb.robustness.noise import accuracy, conv_input_snr, noise_sweep
from keras_hebb.saving import load_model

NETWORKS = {"baseline_vgg": baseline_vgg, "hah_vgg": hah_vgg}
HISTOGRAM_CONV = "conv2"
JPEG_COPY = "CIFAR-10 (JPEG q75 copy)"


def step_schedule(preset):
    """Learning rate x0.1 after each fraction of the epochs in `preset.lr_drops`."""
    drops = [int(fraction * preset.epochs) for fraction in preset.lr_drops]

    def schedule(epoch, lr=None):
        return preset.learning_rate * 0.1 ** sum(epoch >= drop for drop in drops)

    return schedule


def build_network(name, preset):
    keras.utils.set_random_seed(preset.seed)
    model = NETWORKS[name](depth=preset.depth, width=preset.width)
    model.compile(
        keras.optimizers.Adam(preset.learning_rate),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def train_network(name, preset, source, output, callbacks=()):
    """Trains one network, resuming an interrupted run; returns (model, seconds).

    `callbacks` are passed to `fit` after the project's own (stop on NaN,
    backup, learning rate schedule, CSV and TensorBoard logs). A NaN or inf
    loss or metric raises `keras_hebb.callbacks.NonFiniteTrainingError`
    naming the epoch and batch; the backup of the last good epoch is kept
    and no final model is written.

    Writes `<output>/<name>.keras`, `<output>/<name>_history.csv`,
    TensorBoard logs under `<output>/tensorboard/<name>` and a per-epoch
    backup under `<output>/backup/<name>` (deleted when training ends).
    """
    final_path = output / f"{name}.keras"
    if final_path.exists():
        say(f"{name}: found {final_path}, not retraining")
        return load_model(final_path), None
    train = data_module.cifar10(
        source, "train", preset.batch_size, limit=preset.train_limit, seed=preset.seed
    )
    validation = data_module.cifar10(source, "test", 100, limit=preset.validation_limit)
    model = build_network(name, preset)
    callbacks = [
        StopOnNonFinite(),
        keras.callbacks.BackupAndRestore(str(output / "backup" / name)),
        keras.callbacks.LearningRateScheduler(step_schedule(preset)),
        keras.callbacks.CSVLogger(str(output / f"{name}_history.csv"), append=True),
        keras.callbacks.TensorBoard(str(output / "tensorboard" / name)),
        *callbacks,
    ]
    say(
        f"{name}: training {preset.epochs} epochs "
        f"(VGG{preset.depth}, width {preset.width:g}, batch {preset.batch_size})"
    )
    start = time.perf_counter()
    model.fit(
        train,
        epochs=preset.epochs,
        validation_data=validation,
        callbacks=callbacks,
        shuffle=False,
        verbose=1,
    )
    seconds = time.perf_counter() - start
    model.save(final_path)
    say(f"{name}: trained in {seconds:.0f} s, saved {final_path}")
    return model, seconds


def read_history(path):
    """The per-epoch CSV log as a dict of column -> list of floats."""
    if not path.exists():
        return {}
    lines = path.read_text().strip().splitlines()
    columns = lines[0].split(",")
    rows = [[float(v) for v in line.split(",")] for line in lines[1:]]
    return {c: [row[i] for row in rows] for i, c in enumerate(columns)}


def evaluate_network(model, preset, test_images, test_labels):
    """Clean, noisy, SNR, sparsity and PGD figures of one trained network."""
    timings, results = {}, {}

    def timed(phase, compute):
        start = time.perf_counter()
        results[phase] = compute()
        timings[phase] = time.perf_counter() - start

    noise_x = test_images[: preset.noise_examples]
    noise_y = test_labels[: preset.noise_examples]
    probe_x = test_images[: preset.probe_examples]
    attack_x = test_images[: preset.attack_examples]
    attack_y = test_labels[: preset.attack_examples]
    timed("clean_accuracy", lambda: accuracy(model, test_images, test_labels))
    say(
        f"{model.name}: clean accuracy {results['clean_accuracy']:.4f} "
        f"on {len(test_labels)} test images"
    )
    timed(
        "noise_accuracy",
        lambda: noise_sweep(
            model, noise_x, noise_y, preset.noise_stds, preset.noise_draws, preset.seed
        ),
    )
    say(f"{model.name}: noise sweep {results['noise_accuracy']['gaussian']} (gaussian)")
    timed("snr_db", lambda: conv_input_snr(model, probe_x, preset.snr_std, preset.seed))
    timed("sparsity", lambda: activation_sparsity(model, probe_x))
    timed("histogram", lambda: activation_histogram(model, probe_x, HISTOGRAM_CONV))
    timed(
        "adversarial_accuracy",
        lambda: {
            f"{norm}_{eps:.6g}": pgd_accuracy(
                model, attack_x, attack_y, eps, norm, preset.attack_steps
            )[0]
            for norm, eps in preset.attack_budgets
        },
    )
    say(
        f"{model.name}: PGD-{preset.attack_steps} accuracy "
        f"{results['adversarial_accuracy']} on {len(attack_y)} images"
    )
    results["evaluation_seconds"] = timings
    return results


def versions():
    import cleverhans
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "keras_hebb": keras_hebb.__version__,
        "cleverhans": getattr(cleverhans, "__version__", "4.0.0"),
        "numpy": np.__version__,
        "platform": platform.platform(),
    }


def describe_source(source):
    """How results name their data: the shared JPEG copy is not CIFAR-10 itself."""
    if str(source) == data_module.TFDS:
        return "CIFAR-10 (tensorflow-datasets)"
    readme = pathlib.Path(source) / "README.md"
    if readme.is_file() and JPEG_COPY in readme.read_text():
        return f"{JPEG_COPY}, read from {source}"
    return f"image folder {source}"


def write_json(path, record):
    """Writes JSON through a temporary file, so a crash never leaves half a file."""
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps(record, indent=2))
    temporary.replace(path)


def run_experiment(preset, source, output):
    """Trains and evaluates both networks, writes results.json, results.md, plots.

    Args:
        preset: a `keras_hebb.presets.Preset`.
        source: "tfds" or the path of a `{train,test}/<class>/` folder.
        output: folder for models, logs and results (created if needed).

    Returns:
        The results record (also written to `<output>/results.json`).
    """
    from keras_hebb.report import write_report

    output = pathlib.Path(output)
    output.mkdir(parents=True, exist_ok=True)
    test_images, test_labels = data_module.as_arrays(
        data_module.cifar10(source, "test", 500, limit=preset.test_limit)
    )
    partial_path = output / "partial_results.json"
    partial = json.loads(partial_path.read_text()) if partial_path.exists() else {}
    networks = {}
    for name in NETWORKS:
        if name in partial:
            say(f"{name}: evaluation found in {partial_path}, reusing it")
            networks[name] = partial[name]
            continue
        model, train_seconds = train_network(name, preset, source, output)
        networks[name] = {
            "train_seconds": train_seconds,
            "history": read_history(output / f"{name}_history.csv"),
            **evaluate_network(model, preset, test_images, test_labels),
        }
        partial[name] = networks[name]
        write_json(partial_path, partial)
    record = {
        "preset": preset.to_dict(),
        "seed": preset.seed,
        "data_source": describe_source(source),
        "test_images": int(len(test_labels)),
        "versions": versions(),
        "networks": networks,
    }
    write_json(output / "results.json", record)
    write_report(record, output)
    partial_path.unlink()
    say(f"results in {output / 'results.json'}, {output / 'results.md'} and plots")
    return record


def run_robustness(preset, source, output):
    """Worst-case robust accuracy and masking checks of a run's two networks.

    Loads `<output>/baseline_vgg.keras` and `<output>/hah_vgg.keras`, attacks
    the first `preset.robust_examples` test images under
    `preset.robust_budgets`, writes `robustness.json` and `robustness.md`.
    """
    from keras_hebb.report import robustness_markdown
    from keras_hebb.robustness.evaluation import robustness_evaluation

    output = pathlib.Path(output)
    models = {name: load_model(output / f"{name}.keras") for name in NETWORKS}
    images, labels = data_module.as_arrays(
        data_module.cifar10(source, "test", 500, limit=preset.robust_examples)
    )
    start = time.perf_counter()
    record = robustness_evaluation(
        models,
        images,
        labels,
        preset.robust_budgets,
        preset.robust_attacks,
        preset.masking_examples,
    )
    record.update(
        {
            "preset": preset.name,
            "seed": preset.seed,
            "data_source": describe_source(source),
            "seconds": time.perf_counter() - start,
            "versions": versions(),
        }
    )
    write_json(output / "robustness.json", record)
    (output / "robustness.md").write_text(robustness_markdown(record))
    say(f"robustness in {output / 'robustness.md'} ({record['seconds']:.0f} s)")
    return record
