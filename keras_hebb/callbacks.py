"""Keras callbacks: robustness and sparsity figures in the logs, stop on NaN.

`StopOnNonFinite` ends training at the first non-finite loss or metric.
The other callbacks each run every `every` epochs on a fixed held-out batch, writes its
figures into the epoch's `logs` (so they land in `history`, TensorBoard,
CSV logs and the progress bar; other callbacks must come after it in the
list to see them), and records its own cost in `seconds` per run.
"""

import time

import keras
import numpy as np

from keras_hebb.metrics import activation_sparsity
from keras_hebb.robustness.attacks import attack_accuracy
from keras_hebb.robustness.noise import noisy_accuracy
from keras_hebb.validation import (
    InvalidInputError,
    check_images,
    check_model_inputs,
    check_positive_int,
)


class PeriodicEvaluation(keras.callbacks.Callback):
    """Base class: calls `evaluate()` every `every` epochs and logs its figures.

    Args:
        images: float32 array `(n, height, width, channels)` in [0, 1]
            (checked by `keras_hebb.validation`, here and against the model
            when training starts).
        labels: int array `(n,)` in `[0, num_classes)`.
        every: run after every `every`-th epoch (and the last).
    """

    def __init__(self, images, labels, every=1):
        super().__init__()
        check_positive_int("every", every)
        self.images = check_images(images)
        self.labels = np.asarray(labels)
        if len(self.labels) != len(self.images):
            raise InvalidInputError(
                f"`labels` must hold one label each: {len(self.labels)} labels for "
                f"{len(self.images)} images."
            )
        self.every = every
        self.seconds = []

    def evaluate(self):
        raise NotImplementedError

    def set_model(self, model):
        super().set_model(model)
        check_model_inputs(model, self.images, self.labels)

    def on_epoch_end(self, epoch, logs=None):
        last = epoch + 1 == self.params.get("epochs")
        if (epoch + 1) % self.every and not last:
            return
        start = time.perf_counter()
        figures = self.evaluate()
        self.seconds.append(time.perf_counter() - start)
        if logs is not None:
            logs.update(figures)


class AttackEvaluation(PeriodicEvaluation):
    """Adversarial accuracy of one `attack` (a `keras_hebb.robustness` attack).

    Logs `name` (default "adv_accuracy"). This is a training-time monitor of a
    single attack, an upper bound on robust accuracy; the robust accuracy the
    project reports is `worst_case_accuracy` over the whole attack set.

    Example:

    >>> from keras_hebb.robustness import PGD
    >>> callback = AttackEvaluation(PGD(2 / 255, steps=10), x[:8], y[:8])
    >>> history = model.fit(x, y, epochs=2, callbacks=[callback])
    >>> len(history.history["adv_accuracy"])
    2
    """

    def __init__(self, attack, images, labels, every=1, name="adv_accuracy"):
        super().__init__(images, labels, every)
        self.attack = attack
        self.name = name

    def evaluate(self):
        return {
            self.name: attack_accuracy(
                self.model, self.attack, self.images, self.labels
            )[0]
        }


class NoiseEvaluation(PeriodicEvaluation):
    """Accuracy under clipped Gaussian (or uniform) noise of each std.

    Logs `noise_<kind>_<std>` per std.
    """

    def __init__(
        self, images, labels, stds=(0.1,), kind="gaussian", draws=1, every=1, seed=2022
    ):
        super().__init__(images, labels, every)
        self.stds = tuple(stds)
        self.kind = kind
        self.draws = draws
        self.seed = seed

    def evaluate(self):
        return {
            f"noise_{self.kind}_{std:g}": noisy_accuracy(
                self.model,
                self.images,
                self.labels,
                std,
                self.kind,
                self.draws,
                self.seed,
            )
            for std in self.stds
        }


class SparsityEvaluation(PeriodicEvaluation):
    """Per conv block, the fraction of non-zero activations and the top-K gap.

    Logs `sparsity_<conv>_nonzero` and `sparsity_<conv>_top_to_rest`.
    """

    def __init__(self, images, every=1, ratio=0.1):
        super().__init__(images, np.zeros(len(images), "int32"), every)
        self.ratio = ratio

    def evaluate(self):
        stats = activation_sparsity(self.model, self.images, self.ratio)
        figures = {}
        for conv, values in stats.items():
            figures[f"sparsity_{conv}_nonzero"] = values["nonzero"]
            figures[f"sparsity_{conv}_top_to_rest"] = values["top_to_rest"]
        return figures


class NonFiniteTrainingError(RuntimeError):
    """Raised by `StopOnNonFinite` when a loss or metric becomes NaN or inf."""


class StopOnNonFinite(keras.callbacks.Callback):
    """Stops training at the first NaN/inf loss or metric, naming epoch and batch.

    Unlike `keras.callbacks.TerminateOnNaN`, which lets `fit` end normally,
    this raises `NonFiniteTrainingError` from inside `fit`, so that
    `on_epoch_end` and `on_train_end` never run with the bad weights: a
    checkpoint callback after it (`keras_hebb.run.checkpoint.EpochCheckpoint`,
    or Keras' `BackupAndRestore`) keeps the last good epoch, since a
    non-finite validation figure is caught before it writes, and no code
    after `fit` saves the model.
    Epochs and batches are counted from 1, as the progress bar counts them;
    with `steps_per_execution > 1` the batch is the last of its execution.

    Example:

    >>> history = model.fit(x, y, epochs=2, callbacks=[StopOnNonFinite()])
    """

    def __init__(self):
        super().__init__()
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self.check(logs, f"batch {batch + 1} of epoch {self.epoch + 1}")

    def on_epoch_end(self, epoch, logs=None):
        self.check(logs, f"the end of epoch {epoch + 1} (validation)")

    def check(self, logs, when):
        """Raises NonFiniteTrainingError if any figure in `logs` is NaN or inf."""
        bad = {
            name: value
            for name, value in (logs or {}).items()
            if np.asarray(value).dtype.kind in "fc" and not np.all(np.isfinite(value))
        }
        if bad:
            epochs = self.params.get("epochs")
            raise NonFiniteTrainingError(
                f"training stopped at {when} (of {epochs} epochs): "
                + ", ".join(f"{name} is {value}" for name, value in bad.items())
                + ". No callback after this one saw the end of this epoch (a "
                "checkpoint callback after it keeps the last good epoch); lower the "
                "learning rate or check the data."
            )
