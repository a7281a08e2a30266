"""Training one network of a run, resumable at any moment.

`train_network` trains (variant, seed) into its `NetworkFolder`, holding
the folder's writer lock while it trains. After every epoch
`keras_hebb.run.checkpoint.EpochCheckpoint` writes `backup/epoch_<n>/`; a
process killed at any moment and started again resumes from the newest
with the weights, optimizer state and data an uninterrupted run would
have. A finished `model.keras` is loaded, not retrained.
"""

import time

import keras

from keras_hebb._compat import op_determinism_enabled
from keras_hebb.callbacks import StopOnNonFinite
from keras_hebb.distribute import get_strategy, shard_by_examples, worker_index
from keras_hebb.files import remove, write_atomically
from keras_hebb.progress import fit_verbosity, say
from keras_hebb.run.checkpoint import EpochCheckpoint
from keras_hebb.run.folder import NetworkFolder
from keras_hebb.run.inputs import training_data
from keras_hebb.run.networks import build_network
from keras_hebb.run.provenance import provenance
from keras_hebb.run.recipe import learning_rate_schedule
from keras_hebb.run.setting import check_same_setting, training_setting
from keras_hebb.saving import load_model


def train_network(config, variant, seed, network, callbacks=(), strategy=None):
    """Trains one (variant, seed) into `network`, resuming an interrupted
    run; returns (model, seconds), seconds None when a finished model was
    found.

    Args:
        config: a checked `keras_hebb.run.config.RunConfig`.
        variant, seed: which network.
        network: its `NetworkFolder` (or the folder's path).
        callbacks: passed to `fit` after the stop on NaN, the learning rate
            schedule and the TensorBoard log, and before the per-epoch
            checkpoint (so that the figures they log reach the history).
        strategy: the `tf.distribute.Strategy` (default: one device). Under
            a multi-worker strategy every worker trains and reads the
            checkpoints, and only worker 0 writes (and holds the lock):
            the folder must be one all workers see.

    Raises:
        keras_hebb.callbacks.NonFiniteTrainingError: a NaN or inf loss or
            metric, naming the epoch and batch; the checkpoint of the last
            good epoch is kept and no final model is written.
        keras_hebb.run.setting.ConfigMismatchError: the folder holds a
            network trained with another setting.
        keras_hebb.run.folder.FolderLockedError: another live process is
            training this network.
    """
    strategy = strategy or get_strategy()
    if not isinstance(network, NetworkFolder):
        network = NetworkFolder(network)
    network.path.mkdir(parents=True, exist_ok=True)
    writes = worker_index(strategy) == 0
    setting = training_setting(config, variant, seed)
    if writes:
        check_same_setting(network, setting)
    if network.model.exists():
        say(f"{variant} seed {seed}: found {network.model}, not retraining")
        with strategy.scope():
            return load_model(network.model), None
    if not writes:
        return fit_network(config, variant, seed, network, callbacks, strategy)
    with network.lock():
        return fit_network(config, variant, seed, network, callbacks, strategy)


def fit_network(config, variant, seed, network, callbacks, strategy):
    """Builds, restores, fits and (on the writing worker) saves one network."""
    writes = worker_index(strategy) == 0
    training = config.training
    model = build_network(config, variant, seed, strategy)
    checkpoint = EpochCheckpoint(network.backup, network.history, seed, writes=writes)
    first_epoch = checkpoint.restore(model)
    setting = training_setting(config, variant, seed)
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
                keras.callbacks.TensorBoard(str(network.tensorboard)),
                *callbacks,
                checkpoint,
            ],
            shuffle=False,
            verbose=fit_verbosity(),
        )
    seconds = time.perf_counter() - start
    if writes:
        write_atomically(network.model, model.save)
        network.write_training_record(
            {
                **setting,
                "epochs_done": training.epochs,
                "replicas": strategy.num_replicas_in_sync,
                "deterministic": op_determinism_enabled(),
                "provenance": provenance(),
            }
        )
        remove(checkpoint.folder)
    say(f"{variant} seed {seed}: trained in {seconds:.0f} s, saved {network.model}")
    return model, seconds
