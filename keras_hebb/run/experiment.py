"""A run: train every variant with every seed, evaluate each, compare, report.

`run_experiment(config, output)` works through the variants in order and,
for each, through the seeds: each (variant, seed) is trained into its
`keras_hebb.run.folder.NetworkFolder` (`keras_hebb.run.train`), evaluated
(`keras_hebb.run.evaluate`) and its figures and per-image scores written
there. A run killed at any moment and started again with the same command
resumes at the variant, seed and epoch where it stopped: finished
evaluations are read back, a finished model is not retrained, a model in
training resumes from its last checkpoint. Then the `ResultsRecord`
(`results.json`: the resolved configuration, provenance, every figure per
seed, spreads over seeds and paired comparisons with the reference
variant), `results.md` and the plots are written.

Timings are the only figures that differ between two runs with op
determinism on: the keys ending in "seconds" (see `without_timings`).
"""

import keras

from keras_hebb import data as data_module
from keras_hebb._compat import op_determinism_enabled
from keras_hebb.distribute import get_strategy, worker_index
from keras_hebb.progress import say
from keras_hebb.run.comparison import summarise
from keras_hebb.run.evaluate import evaluate_network
from keras_hebb.run.folder import RunFolder, model_files
from keras_hebb.run.inputs import test_arrays
from keras_hebb.run.networks import check_networks_build
from keras_hebb.run.provenance import provenance
from keras_hebb.run.records import ResultsRecord
from keras_hebb.run.report import write_with_report
from keras_hebb.run.setting import check_same_setting, training_setting
from keras_hebb.run.train import train_network
from keras_hebb.saving import load_model


def without_timings(record):
    """`record` (a JSON mapping) without its timing fields (keys ending in
    "seconds"): what two runs with the same seed and op determinism on have
    identical."""
    if isinstance(record, dict):
        return {
            key: without_timings(value)
            for key, value in record.items()
            if not key.endswith("seconds")
        }
    if isinstance(record, list):
        return [without_timings(value) for value in record]
    return record


def train_and_evaluate(config, variant, seed, run, images, labels, strategy):
    """The figures and per-image scores of (`variant`, `seed`), trained and
    evaluated now or read back from an earlier run."""
    network = run.network(variant, seed)
    if network.has_evaluation():
        check_same_setting(network, training_setting(config, variant, seed))
        say(
            f"{variant} seed {seed}: evaluation found in {network.evaluation}, reusing it"
        )
        return network.read_evaluation()
    model, train_seconds = train_network(
        config, variant, seed, network, strategy=strategy
    )
    figures, per_image = evaluate_network(model, config, images, labels, seed)
    figures = {
        "train_seconds": train_seconds,
        "history": network.read_history(),
        **figures,
    }
    network.write_evaluation(figures, per_image)
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
        The `ResultsRecord` (also written to `<output>/results.json`).
    """
    strategy = strategy or get_strategy()
    run = RunFolder(output)
    run.path.mkdir(parents=True, exist_ok=True)
    check_networks_build(config)
    seeds = config.training.seeds
    if worker_index(strategy) != 0:
        for variant in config.variants:
            for seed in seeds:
                train_network(
                    config, variant, seed, run.network(variant, seed), strategy=strategy
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
                config, variant, seed, run, images, labels, strategy
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
    write_with_report(run, "results", record)
    say(f"results in {run.record_path('results')}, {run.file('results.md')} and plots")
    return record


def results_record(config, origin, test_images, reference, figures, per_image, **extra):
    """The `ResultsRecord` of `figures` and `per_image` ({name: {seed: ...}}):
    the configuration, `origin` (the provenance), the figures per seed, and
    the summary and comparisons with `reference`; `extra` fields are set."""
    return ResultsRecord.of(
        {
            "config": config.to_dict(),
            "provenance": origin,
            "deterministic": op_determinism_enabled(),
            **extra,
            "data_source": data_module.describe_source(config.data.source),
            "test_images": int(test_images),
            "variants": {
                name: {str(seed): figures for seed, figures in by_seed.items()}
                for name, by_seed in figures.items()
            },
            **summarise(config.evaluation, reference, figures, per_image),
        }
    )


def evaluate_files(config, paths, output=None):
    """Evaluates saved model files as `run_experiment` evaluates trained
    networks, each named as `keras_hebb.run.folder.model_files` names it,
    and compares them with the first; writes results.json, results.md and
    plots to `output` if given.

    Returns:
        The `ResultsRecord`.
    """
    files = model_files(paths)
    origin = provenance()
    images, labels = test_arrays(config)
    seed = config.training.seeds[0]
    figures, per_image = {}, {}
    for name, path in files.items():
        model = load_model(path)
        result, scores = evaluate_network(model, config, images, labels, seed)
        figures[name] = {seed: {"train_seconds": None, "history": {}, **result}}
        per_image[name] = {seed: scores}
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
        write_with_report(RunFolder(output), "results", record)
    return record
