"""Keras callbacks that add robustness and sparsity figures to the training logs.

Each one runs every `every` epochs on a fixed held-out batch, writes its
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


class PeriodicEvaluation(keras.callbacks.Callback):
    """Base class: calls `evaluate()` every `every` epochs and logs its figures.

    Args:
        images: float32 array `(n, height, width, channels)` in [0, 1].
        labels: int array `(n,)`.
        every: run after every `every`-th epoch (and the last).
    """

    def __init__(self, images, labels, every=1):
        super().__init__()
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"`every` must be a positive int. Received: {every!r}")
        images = np.asarray(images, "float32")
        labels = np.asarray(labels)
        if images.ndim != 4 or len(images) != len(labels) or len(images) == 0:
            raise ValueError(
                "`images` must be a non-empty (n, height, width, channels) array "
                f"with one label each. Received {images.shape} and {labels.shape}."
            )
        self.images = images
        self.labels = labels
        self.every = every
        self.seconds = []

    def evaluate(self):
        raise NotImplementedError

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

    >>> callback = AttackEvaluation(PGD(2 / 255, steps=10), x_val[:200], y_val[:200])
    >>> model.fit(x, y, epochs=10, callbacks=[callback])
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
        images = np.asarray(images, "float32")
        super().__init__(images, np.zeros(len(images), "int32"), every)
        self.ratio = ratio

    def evaluate(self):
        stats = activation_sparsity(self.model, self.images, self.ratio)
        figures = {}
        for conv, values in stats.items():
            figures[f"sparsity_{conv}_nonzero"] = values["nonzero"]
            figures[f"sparsity_{conv}_top_to_rest"] = values["top_to_rest"]
        return figures
