"""The main experiment: train baseline_vgg and hah_vgg, evaluate both, report.

Every phase can be resumed: training resumes from the last completed epoch
(`keras_hebb.checkpoint.EpochCheckpoint`) with the weights, optimizer state
and data an uninterrupted run would have, a network whose final model exists
is not retrained, and a network whose evaluation exists is not re-evaluated.
Every file is written atomically (`keras_hebb.files`). Timings are the only
figures that differ between two runs with op determinism on: they are the
keys ending in "seconds" (see `without_timings`).
"""

import json
import pathlib
import platform
import time

import keras
import numpy as np
import tensorflow as tf

import keras_hebb
from keras_hebb import data as data_module
from keras_hebb.callbacks import StopOnNonFinite
from keras_hebb.checkpoint import EpochCheckpoint
from keras_hebb.distribute import get_strategy, shard_by_examples, worker_index
from keras_hebb.files import remove, write_atomically, write_json, write_text
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


def make_deterministic(seed):
    """Seeds Python, NumPy, TensorFlow and Keras and turns on TensorFlow's op
    determinism: same seed, same machine, same results, bit for bit.

    The cost: ops without a deterministic kernel raise instead of running,
    and on GPU some kernels are slower (none measurable on CPU for these
    networks).
    """
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def determinism_enabled():
    """Whether TensorFlow's op determinism is on."""
    # TensorFlow exports the switch but not its reading.
    from tensorflow.python.framework import config

    return config.is_op_determinism_enabled()


def build_network(name, preset, strategy=None):
    """The network `name`, seeded, built and compiled in `strategy.scope()`."""
    keras.utils.set_random_seed(preset.seed)
    with (strategy or get_strategy()).scope():
        model = NETWORKS[name](depth=preset.depth, width=preset.width)
        model.compile(
            keras.optimizers.Adam(preset.learning_rate),
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
    return model


def training_record(name, preset, strategy, epochs_done):
    """What `<name>_training.json` says about how a network was trained."""
    return {
        "network": name,
        "preset": preset.name,
        "seed": preset.seed,
        "epochs": epochs_done,
        "replicas": strategy.num_replicas_in_sync,
        "deterministic": determinism_enabled(),
    }


def train_network(name, preset, source, output, callbacks=(), strategy=None):
    """Trains one network, resuming an interrupted run; returns (model, seconds).

    `callbacks` are passed to `fit` after the stop on NaN, the learning
    rate schedule and the TensorBoard log, and before the per-epoch
    checkpoint (so that the figures they log reach the history). A NaN or
    inf loss or metric raises `keras_hebb.callbacks.NonFiniteTrainingError`
    naming the epoch and batch; the checkpoint of the last good epoch is
    kept and no final model is written.

    Writes `<output>/<name>.keras`, `<output>/<name>_history.csv`,
    `<output>/<name>_training.json` (seed, epochs, replicas), TensorBoard
    logs under `<output>/tensorboard/<name>` and per-epoch checkpoints under
    `<output>/backup/<name>` (deleted when training ends). Under a
    multi-worker strategy every worker trains and reads the checkpoints, and
    only worker 0 writes: `output` must be a folder all workers see.
    """
    strategy = strategy or get_strategy()
    final_path = output / f"{name}.keras"
    if final_path.exists():
        say(f"{name}: found {final_path}, not retraining")
        with strategy.scope():
            return load_model(final_path), None
    writes = worker_index(strategy) == 0
    model = build_network(name, preset, strategy)
    checkpoint = EpochCheckpoint(
        output / "backup" / name,
        output / f"{name}_history.csv",
        preset.seed,
        writes=writes,
    )
    first_epoch = checkpoint.restore(model)
    say(
        f"{name}: training epochs {first_epoch + 1}-{preset.epochs} of "
        f"{preset.epochs} (VGG{preset.depth}, width {preset.width:g}, batch "
        f"{preset.batch_size}, {strategy.num_replicas_in_sync} replica(s))"
    )
    start = time.perf_counter()
    if first_epoch < preset.epochs:
        train = data_module.cifar10(
            source,
            "train",
            preset.batch_size,
            limit=preset.train_limit,
            seed=preset.seed,
            epochs=range(first_epoch, preset.epochs),
        )
        validation = data_module.cifar10(
            source, "test", 100, limit=preset.validation_limit
        )
        model.fit(
            shard_by_examples(train),
            epochs=preset.epochs,
            initial_epoch=first_epoch,
            steps_per_epoch=int(train.cardinality()) // (preset.epochs - first_epoch),
            validation_data=shard_by_examples(validation),
            callbacks=[
                StopOnNonFinite(),
                keras.callbacks.LearningRateScheduler(step_schedule(preset)),
                keras.callbacks.TensorBoard(str(output / "tensorboard" / name)),
                *callbacks,
                checkpoint,
            ],
            shuffle=False,
            verbose=1,
        )
    seconds = time.perf_counter() - start
    if writes:
        write_atomically(final_path, model.save)
        write_json(
            output / f"{name}_training.json",
            training_record(name, preset, strategy, preset.epochs),
        )
        remove(checkpoint.folder)
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
    """Clean, noisy, SNR, sparsity and PGD figures of one trained network.

    Seeds Python, NumPy, TensorFlow and Keras with `preset.seed` first, so the
    figures do not depend on what the process did before (a resumed run
    evaluates as an uninterrupted one).
    """
    keras.utils.set_random_seed(preset.seed)
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


def without_timings(record):
    """`record` without its timing fields (keys ending in "seconds"): what two
    runs with the same seed and op determinism on have identical."""
    if isinstance(record, dict):
        return {
            key: without_timings(value)
            for key, value in record.items()
            if not key.endswith("seconds")
        }
    if isinstance(record, list):
        return [without_timings(value) for value in record]
    return record


def run_experiment(preset, source, output, strategy=None):
    """Trains and evaluates both networks, writes results.json, results.md, plots.

    Args:
        preset: a `keras_hebb.presets.Preset`.
        source: "tfds" or the path of a `{train,test}/<class>/` folder.
        output: folder for models, logs and results (created if needed).
        strategy: the `tf.distribute.Strategy` to train under (default:
            TensorFlow's default, one device). Under a multi-worker strategy
            only worker 0 evaluates and writes; the others train and return
            None.

    Returns:
        The results record (also written to `<output>/results.json`).
    """
    from keras_hebb.report import write_report

    strategy = strategy or get_strategy()
    output = pathlib.Path(output)
    output.mkdir(parents=True, exist_ok=True)
    if worker_index(strategy) != 0:
        for name in NETWORKS:
            train_network(name, preset, source, output, strategy=strategy)
        return None
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
        model, train_seconds = train_network(
            name, preset, source, output, strategy=strategy
        )
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
        "deterministic": determinism_enabled(),
        "replicas": strategy.num_replicas_in_sync,
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

    keras.utils.set_random_seed(preset.seed)
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
    write_text(output / "robustness.md", robustness_markdown(record))
    say(f"robustness in {output / 'robustness.md'} ({record['seconds']:.0f} s)")
    return record
