"""A run: train every variant with every seed, evaluate each, compare, report.

`run_experiment(config, output)` works through the variants in order and,
for each, through the seeds. Each (variant, seed) has its own folder
`<output>/<variant>/seed_<seed>/` holding:

- `model.keras`, `history.csv`, `training.json`: the trained network;
- `backup/epoch_<n>/`: per-epoch checkpoints while it trains
  (`keras_hebb.run.checkpoint.EpochCheckpoint`), deleted when it is done;
- `variant.json`: what it is trained with (builder, arguments, training,
  data, seed); resuming with a different configuration is refused;
- `evaluation.json` and `per_image.npz`: its figures and its per-image
  right/wrong (what the paired statistics use).

A run killed at any moment and started again with the same command resumes
at the variant, seed and epoch where it stopped: finished evaluations are
read back, a finished model is not retrained, a model in training resumes
from its last checkpoint with the weights, optimizer state and data an
uninterrupted run would have. Then `results.json` (the resolved
configuration, provenance, every figure per seed, spreads over seeds and
paired comparisons with the reference variant), `results.md` and the plots
are written. Every file is written atomically (`keras_hebb.files`).
Timings are the only figures that differ between two runs with op
determinism on: the keys ending in "seconds" (see `without_timings`).
"""

import dataclasses
import json
import math
import pathlib
import time

import keras
import numpy as np
import tensorflow as tf

from keras_hebb import data as data_module
from keras_hebb._compat import op_determinism_enabled
from keras_hebb.callbacks import StopOnNonFinite
from keras_hebb.distribute import get_strategy, shard_by_examples, worker_index
from keras_hebb.files import remove, write_atomically, write_json
from keras_hebb.metrics import activation_histogram, activation_sparsity
from keras_hebb.models.registry import builder_parameters, get_builder
from keras_hebb.precision import precision_policy
from keras_hebb.probes import sparse_blocks
from keras_hebb.progress import fit_verbosity, say
from keras_hebb.robustness.attacks import PGD, attack_accuracy
from keras_hebb.robustness.budgets import budget_key
from keras_hebb.robustness.noise import conv_input_snr, correct, noise_sweep_correct
from keras_hebb.run.checkpoint import EpochCheckpoint
from keras_hebb.run.comparison import noise_key, pgd_key, summarise
from keras_hebb.run.provenance import provenance
from keras_hebb.saving import load_model

HISTOGRAM_CONV = "conv2"


class ConfigMismatchError(RuntimeError):
    """An output folder holds a network trained with another configuration."""


def learning_rate_schedule(training):
    """The learning rate of each epoch under `training.schedule`: "step"
    (x0.1 after each fraction of the epochs in `training.lr_drops`),
    "cosine" (half a cosine from the rate to zero) or "constant"."""
    rate, epochs = training.learning_rate, training.epochs
    drops = [int(fraction * epochs) for fraction in training.lr_drops]

    def schedule(epoch, lr=None):
        if training.schedule == "step":
            return rate * 0.1 ** sum(epoch >= drop for drop in drops)
        if training.schedule == "cosine":
            return rate * 0.5 * (1 + math.cos(math.pi * epoch / epochs))
        return rate

    return schedule


def optimizer(training):
    """The Keras optimizer `training.optimizer` names."""
    if training.optimizer == "sgd":
        return keras.optimizers.SGD(training.learning_rate, momentum=training.momentum)
    return keras.optimizers.Adam(training.learning_rate)


def make_deterministic(seed):
    """Seeds Python, NumPy, TensorFlow and Keras and turns on TensorFlow's op
    determinism: same seed, same machine, same results, bit for bit.

    The cost: ops without a deterministic kernel raise instead of running,
    and on GPU some kernels are slower (none measurable on CPU for these
    networks).
    """
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def training_perturbation(mode, seed):
    """The `keras_hebb.training` perturbation of a `TrainingModeConfig`
    (None for "standard"), drawing from `seed`."""
    from keras_hebb.training.adversarial_training import AdversarialTraining, fgsm_rs
    from keras_hebb.training.noise_training import GaussianNoiseTraining

    if mode.kind == "gaussian_noise":
        return GaussianNoiseTraining(mode.std, seed)
    if mode.kind == "pgd":
        return AdversarialTraining(
            mode.eps, mode.norm, mode.steps, mode.step_size, True, seed
        )
    if mode.kind == "fgsm_rs":
        return fgsm_rs(mode.eps, mode.norm, mode.step_size, seed)
    return None


def data_options(config):
    """The `keras_hebb.data` arguments that say how to read the data."""
    return {
        "image_size": config.data.image_size,
        "tfds_data_dir": config.data.tfds_data_dir,
    }


def dataset_of(config):
    """The `DatasetInfo` of the run's data (classes, image shape, statistics)."""
    return data_module.dataset_info(config.data.source, **data_options(config))


def network_arguments(config, variant):
    """The builder arguments of `variant`: the data's (input shape, number of
    classes, input statistics) where the builder takes them and the
    configuration does not set them, then the configuration's."""
    builder = config.variants[variant].network
    from_data = dataset_of(config).network_arguments()
    accepted = builder_parameters(builder)
    return {
        **{key: value for key, value in from_data.items() if key in accepted},
        **config.builder_arguments(variant),
        "name": variant,
    }


def build_network(config, variant, seed, strategy=None):
    """The network of `variant`, initialised from `seed`, built and compiled
    in `strategy.scope()`, with its training mode's perturbation."""
    keras.utils.set_random_seed(seed)
    builder = get_builder(config.variants[variant].network)
    with (strategy or get_strategy()).scope():
        with precision_policy(config.training.precision):
            model = builder(**network_arguments(config, variant))
        model.training_perturbation = training_perturbation(
            config.variants[variant].training_mode, seed
        )
        model.compile(
            optimizer(config.training),
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
    return model


def check_networks_build(config):
    """Builds every variant once, so that a bad argument value fails before
    anything trains, with the variant named."""
    for variant in config.variants:
        try:
            get_builder(config.variants[variant].network)(
                **network_arguments(config, variant)
            )
        except (TypeError, ValueError) as error:
            raise ValueError(f"variants.{variant}: {error}") from None
    keras.backend.clear_session()


def seed_folder(output, variant, seed):
    """Where the network of (`variant`, `seed`) and its figures live."""
    return pathlib.Path(output) / variant / f"seed_{seed}"


def training_setting(config, variant, seed):
    """Everything the trained weights of (`variant`, `seed`) depend on (the
    training mode only when it is not "standard" and the precision only when
    it is not "float32", as before they existed)."""
    mode = dataclasses.asdict(config.variants[variant].training_mode)
    training = config.to_dict()["training"]
    return {
        "variant": variant,
        "network": config.variants[variant].network,
        "arguments": config.builder_arguments(variant),
        **({"training_mode": mode} if mode["kind"] != "standard" else {}),
        "training": {
            key: value
            for key, value in training.items()
            if key != "seeds" and not (key == "precision" and value == "float32")
        },
        "data": data_setting(config.data),
        "seed": seed,
    }


def data_setting(data):
    """What of `data` the trained weights depend on. The options that did not
    exist before are recorded only when set, so that earlier run folders
    still resume: the held-out validation images (not the test split's)
    leave training, the others change what training sees."""
    setting = {
        "source": data.source,
        "train_limit": data.train_limit,
        "test_limit": data.test_limit,
    }
    if data.validation_source == "train":
        setting["holdout"] = data.validation_limit
    if data.image_size is not None:
        setting["image_size"] = list(data.image_size)
    if data.augment != "crop_flip":
        setting["augment"] = data.augment
    return setting


def check_same_setting(folder, setting):
    """Records `setting` in `folder/variant.json`, or refuses a folder that
    was trained with another one, naming the first key that differs."""
    path = folder / "variant.json"
    setting = json.loads(json.dumps(setting))
    if not path.exists():
        write_json(path, setting)
        return
    recorded = json.loads(path.read_text())
    if recorded != setting:
        differing = sorted(
            key
            for key in set(recorded) | set(setting)
            if recorded.get(key) != setting.get(key)
        )
        raise ConfigMismatchError(
            f"{folder} was trained with another configuration ({differing} "
            f"differ: {[recorded.get(k) for k in differing]} there, "
            f"{[setting.get(k) for k in differing]} now). Use another --output, "
            f"or delete {folder} to train it again."
        )


def train_network(config, variant, seed, folder, callbacks=(), strategy=None):
    """Trains one (variant, seed), resuming an interrupted run; returns
    (model, seconds), seconds None when a finished model was found.

    `callbacks` are passed to `fit` after the stop on NaN, the learning
    rate schedule and the TensorBoard log, and before the per-epoch
    checkpoint (so that the figures they log reach the history). A NaN or
    inf loss or metric raises `keras_hebb.callbacks.NonFiniteTrainingError`
    naming the epoch and batch; the checkpoint of the last good epoch is
    kept and no final model is written. Under a multi-worker strategy every
    worker trains and reads the checkpoints, and only worker 0 writes:
    `folder` must be a folder all workers see.
    """
    strategy = strategy or get_strategy()
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    writes = worker_index(strategy) == 0
    setting = training_setting(config, variant, seed)
    if writes:
        check_same_setting(folder, setting)
    final_path = folder / "model.keras"
    if final_path.exists():
        say(f"{variant} seed {seed}: found {final_path}, not retraining")
        with strategy.scope():
            return load_model(final_path), None
    training = config.training
    model = build_network(config, variant, seed, strategy)
    checkpoint = EpochCheckpoint(
        folder / "backup", folder / "history.csv", seed, writes=writes
    )
    first_epoch = checkpoint.restore(model)
    say(
        f"{variant} seed {seed}: training epochs {first_epoch + 1}-"
        f"{training.epochs} of {training.epochs} ({setting['network']} "
        f"{setting['arguments']}, batch {training.batch_size}, "
        f"{strategy.num_replicas_in_sync} replica(s))"
    )
    start = time.perf_counter()
    if first_epoch < training.epochs:
        train, validation = training_data(config, seed, first_epoch)
        model.fit(
            shard_by_examples(train),
            epochs=training.epochs,
            initial_epoch=first_epoch,
            steps_per_epoch=int(train.cardinality()) // (training.epochs - first_epoch),
            validation_data=shard_by_examples(validation),
            callbacks=[
                StopOnNonFinite(),
                keras.callbacks.LearningRateScheduler(learning_rate_schedule(training)),
                keras.callbacks.TensorBoard(str(folder / "tensorboard")),
                *callbacks,
                checkpoint,
            ],
            shuffle=False,
            verbose=fit_verbosity(),
        )
    seconds = time.perf_counter() - start
    if writes:
        write_atomically(final_path, model.save)
        write_json(
            folder / "training.json",
            {
                **setting,
                "epochs_done": training.epochs,
                "replicas": strategy.num_replicas_in_sync,
                "deterministic": op_determinism_enabled(),
                "provenance": provenance(),
            },
        )
        remove(checkpoint.folder)
    say(f"{variant} seed {seed}: trained in {seconds:.0f} s, saved {final_path}")
    return model, seconds


def training_data(config, seed, first_epoch):
    """The training batches of epochs `first_epoch`.. and the validation
    batches: the held-out training images, or the first test images."""
    data, options = config.data, data_options(config)
    held_out = data.validation_source == "train"
    holdout = data.validation_limit if held_out else 0
    train = data_module.image_dataset(
        data.source,
        "train",
        config.training.batch_size,
        limit=data.train_limit,
        seed=seed,
        epochs=range(first_epoch, config.training.epochs),
        holdout=holdout,
        augmentation=data.augment,
        **options,
    )
    validation = data_module.image_dataset(
        data.source,
        "validation" if held_out else "test",
        100,
        limit=None if held_out else data.validation_limit,
        holdout=holdout,
        **options,
    )
    return train, validation


def read_history(path):
    """The per-epoch CSV log as a dict of column -> list of floats."""
    if not path.exists():
        return {}
    lines = path.read_text().strip().splitlines()
    columns = lines[0].split(",")
    rows = [[float(v) for v in line.split(",")] for line in lines[1:]]
    return {c: [row[i] for row in rows] for i, c in enumerate(columns)}


def evaluate_network(model, config, images, labels, seed):
    """Clean, noisy, SNR, sparsity and PGD figures of one trained network.

    Seeds Python, NumPy, TensorFlow and Keras with `seed` first, so the
    figures do not depend on what the process did before (a resumed run
    evaluates as an uninterrupted one).

    Returns:
        (figures, per_image): the JSON-ready figures, and a dict of per-image
        scores on the first images of the test set: "clean" and each PGD
        budget ("pgd_<budget>") 1/0 for right/wrong, each noise ("<kind>_<std>")
        the fraction of draws right.
    """
    keras.utils.set_random_seed(seed)
    evaluation = config.evaluation
    timings, results, per_image = {}, {}, {}

    def timed(phase, compute):
        start = time.perf_counter()
        results[phase] = compute()
        timings[phase] = time.perf_counter() - start

    noise_x = images[: evaluation.noise_examples]
    noise_y = labels[: evaluation.noise_examples]
    probe_x = images[: evaluation.probe_examples]
    attack_x = images[: evaluation.attack_examples]
    attack_y = labels[: evaluation.attack_examples]
    timed("clean", lambda: correct(model, images, labels))
    per_image["clean"] = results.pop("clean")
    results["clean_accuracy"] = float(per_image["clean"].mean())
    say(
        f"{model.name}: clean accuracy {results['clean_accuracy']:.4f} "
        f"on {len(labels)} test images"
    )
    timed(
        "noise",
        lambda: noise_sweep_correct(
            model,
            noise_x,
            noise_y,
            evaluation.noise_stds,
            evaluation.noise_draws,
            seed,
            evaluation.noise_kinds,
        ),
    )
    noise = results.pop("noise")
    results["noise_accuracy"] = {
        kind: {std: float(right.mean()) for std, right in by_std.items()}
        for kind, by_std in noise.items()
    }
    per_image.update(
        {
            noise_key(kind, std): right
            for kind, by_std in noise.items()
            for std, right in by_std.items()
        }
    )
    say(f"{model.name}: noise {results['noise_accuracy']}")
    timed("snr_db", lambda: conv_input_snr(model, probe_x, evaluation.snr_std, seed))
    timed("sparsity", lambda: activation_sparsity(model, probe_x))
    results["sparse_blocks"] = sparse_blocks(model)
    if HISTOGRAM_CONV in results["sparsity"]:
        timed("histogram", lambda: activation_histogram(model, probe_x, HISTOGRAM_CONV))
    adversarial = {}
    start = time.perf_counter()
    for budget in evaluation.attack_budgets:
        key = budget_key(budget.norm, budget.eps)
        attack = PGD(budget.eps, budget.norm, evaluation.attack_steps)
        adversarial[key], right, _ = attack_accuracy(model, attack, attack_x, attack_y)
        per_image[pgd_key(key)] = right
    timings["adversarial_accuracy"] = time.perf_counter() - start
    results["adversarial_accuracy"] = adversarial
    say(
        f"{model.name}: PGD-{evaluation.attack_steps} accuracy {adversarial} on "
        f"{len(attack_y)} images"
    )
    results["evaluation_seconds"] = timings
    per_image = {
        key: np.asarray(value, dtype="float32") for key, value in per_image.items()
    }
    return results, per_image


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


def write_per_image(path, per_image):
    write_atomically(
        path, lambda temporary: np.savez_compressed(temporary, **per_image)
    )


def read_per_image(path):
    with np.load(path) as arrays:
        return {key: arrays[key] for key in arrays.files}


def test_arrays(config, limit=None):
    """The first `limit` test images and their labels (default:
    `data.test_limit`, the images every evaluation uses)."""
    limit = config.data.test_limit if limit is None else limit
    return data_module.as_arrays(
        data_module.image_dataset(
            config.data.source, "test", 500, limit=limit, **data_options(config)
        )
    )


def train_and_evaluate(config, variant, seed, output, images, labels, strategy):
    """The figures and per-image scores of (`variant`, `seed`), trained and
    evaluated now or read back from an earlier run."""
    folder = seed_folder(output, variant, seed)
    figures_path, per_image_path = folder / "evaluation.json", folder / "per_image.npz"
    if figures_path.exists() and per_image_path.exists():
        check_same_setting(folder, training_setting(config, variant, seed))
        say(f"{variant} seed {seed}: evaluation found in {figures_path}, reusing it")
        return json.loads(figures_path.read_text()), read_per_image(per_image_path)
    model, train_seconds = train_network(
        config, variant, seed, folder, strategy=strategy
    )
    figures, per_image = evaluate_network(model, config, images, labels, seed)
    figures = {
        "train_seconds": train_seconds,
        "history": read_history(folder / "history.csv"),
        **figures,
    }
    write_per_image(per_image_path, per_image)
    write_json(figures_path, figures)
    keras.backend.clear_session()
    return figures, per_image


def run_experiment(config, output, strategy=None):
    """Trains and evaluates every variant with every seed, compares them with
    the reference variant and writes results.json, results.md and plots.

    Args:
        config: a checked `keras_hebb.run.config.RunConfig`.
        output: folder for models, logs and results (created if needed).
        strategy: the `tf.distribute.Strategy` to train under (default:
            TensorFlow's default, one device). Under a multi-worker strategy
            only worker 0 evaluates and writes; the others train and return
            None.

    Returns:
        The results record (also written to `<output>/results.json`).
    """
    strategy = strategy or get_strategy()
    output = pathlib.Path(output)
    output.mkdir(parents=True, exist_ok=True)
    check_networks_build(config)
    seeds = config.training.seeds
    if worker_index(strategy) != 0:
        for variant in config.variants:
            for seed in seeds:
                train_network(
                    config,
                    variant,
                    seed,
                    seed_folder(output, variant, seed),
                    strategy=strategy,
                )
        return None
    # The code that trains is the code at the start: the tree may change later.
    origin = provenance()
    images, labels = test_arrays(config)
    figures, per_image = {}, {}
    for variant in config.variants:
        figures[variant], per_image[variant] = {}, {}
        for seed in seeds:
            figures[variant][seed], per_image[variant][seed] = train_and_evaluate(
                config, variant, seed, output, images, labels, strategy
            )
    record = results_record(
        config,
        origin,
        len(labels),
        config.reference_variant(),
        figures,
        per_image,
        replicas=strategy.num_replicas_in_sync,
    )
    write_results(record, output)
    say(f"results in {output / 'results.json'}, {output / 'results.md'} and plots")
    return record


def results_record(config, origin, test_images, reference, figures, per_image, **extra):
    """The results.json record of `figures` and `per_image` ({name: {seed: ...}}):
    the configuration, `origin` (the provenance), the figures per seed, and
    the summary and comparisons with `reference`; `extra` keys are added."""
    return {
        "config": config.to_dict(),
        "provenance": origin,
        "deterministic": op_determinism_enabled(),
        **extra,
        "data_source": data_module.describe_source(config.data.source),
        "test_images": int(test_images),
        "variants": {
            name: {str(seed): seed_figures for seed, seed_figures in by_seed.items()}
            for name, by_seed in figures.items()
        },
        **summarise(config.evaluation, reference, figures, per_image),
    }


def write_results(record, output):
    """Writes results.json, results.md and the plots into `output`."""
    from keras_hebb.run.report import write_report

    output = pathlib.Path(output)
    output.mkdir(parents=True, exist_ok=True)
    write_json(output / "results.json", record)
    write_report(record, output)


def evaluate_files(config, paths, output=None):
    """Evaluates saved model files as `run_experiment` evaluates trained
    networks, each named by its file's stem, and compares them with the
    first; writes results.json, results.md and plots to `output` if given.

    Returns:
        The results record.
    """
    from keras_hebb.run.robust_accuracy import file_models

    files = file_models(paths)[0]
    origin = provenance()
    images, labels = test_arrays(config)
    seed = config.training.seeds[0]
    figures, per_image = {}, {}
    for name, path in files.items():
        model = load_model(path)
        figures[name], per_image[name] = {}, {}
        result, per_image[name][seed] = evaluate_network(
            model, config, images, labels, seed
        )
        figures[name][seed] = {"train_seconds": None, "history": {}, **result}
        keras.backend.clear_session()
    record = results_record(
        config,
        origin,
        len(labels),
        next(iter(files)),
        figures,
        per_image,
        models={name: str(path) for name, path in files.items()},
    )
    if output is not None:
        write_results(record, output)
    return record
