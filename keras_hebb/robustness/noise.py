"""Accuracy under random input noise and per-layer signal-to-noise ratios."""

import math

import numpy as np

from keras_hebb.probes import conv_inputs, read_tensors_of_each
from keras_hebb.robustness.budgets import NOISE_KINDS
from keras_hebb.robustness.predict import predicted_classes
from keras_hebb.validation import check_model_inputs


def add_noise(images, std, kind, rng):
    """`clip(images + noise, 0, 1)` with zero-mean noise of standard deviation `std`.

    Uniform noise of the same std is drawn from U(-std*sqrt(3), std*sqrt(3)).
    """
    if kind == "gaussian":
        noise = rng.normal(0.0, std, size=images.shape)
    elif kind == "uniform":
        half_width = std * math.sqrt(3.0)
        noise = rng.uniform(-half_width, half_width, size=images.shape)
    else:
        raise ValueError(f"`kind` must be one of {NOISE_KINDS}. Received: {kind!r}")
    return np.clip(images + noise, 0.0, 1.0).astype("float32")


def accuracy(model, images, labels, batch_size=500):
    """Top-1 accuracy of a logits model on NumPy images and labels."""
    images, labels = check_model_inputs(model, images, labels)
    return checked_accuracy(model, images, labels, batch_size)


def checked_accuracy(model, images, labels, batch_size=500):
    """`accuracy` of inputs already through `check_model_inputs`."""
    return float(np.mean(checked_correct(model, images, labels, batch_size)))


def correct(model, images, labels, batch_size=500):
    """Whether the model's top-1 class is the label, per image: bool `(n,)`."""
    images, labels = check_model_inputs(model, images, labels)
    return checked_correct(model, images, labels, batch_size)


def checked_correct(model, images, labels, batch_size=500):
    """`correct` of inputs already through `check_model_inputs`."""
    return predicted_classes(model, images, batch_size) == labels


def noisy_accuracy(
    model, images, labels, std, kind="gaussian", draws=3, seed=2022, batch_size=500
):
    """Mean accuracy over `draws` draws of clipped additive noise.

    Args:
        model: a model mapping [0, 1] NHWC images to logits.
        images: float32 array `(n, height, width, channels)` in [0, 1].
        labels: int array `(n,)`.
        std: the noise's standard deviation (in [0, 1] pixel units).
        kind: "gaussian" or "uniform".
        draws: number of independent noise draws averaged.
        seed: seed of the noise.
        batch_size: prediction batch size.
    """
    images, labels = check_model_inputs(model, images, labels)
    return checked_noisy_accuracy(
        model, images, labels, std, kind, draws, seed, batch_size
    )


def checked_noisy_accuracy(
    model, images, labels, std, kind="gaussian", draws=3, seed=2022, batch_size=500
):
    """`noisy_accuracy` of inputs already through `check_model_inputs`: the
    noisy copies are clipped to [0, 1] and need no check of their own."""
    return float(
        np.mean(
            checked_noisy_correct(
                model, images, labels, std, kind, draws, seed, batch_size
            )
        )
    )


def checked_noisy_correct(
    model, images, labels, std, kind="gaussian", draws=3, seed=2022, batch_size=500
):
    """Per image, the fraction of `draws` noisy copies the model gets right:
    float `(n,)`; its mean is `noisy_accuracy`."""
    if std < 0:
        raise ValueError(f"`std` must be non-negative. Received: std={std}")
    rng = np.random.default_rng(seed)
    return np.mean(
        [
            checked_correct(
                model, add_noise(images, std, kind, rng), labels, batch_size
            )
            for _ in range(draws)
        ],
        axis=0,
    )


def noise_sweep_correct(
    model, images, labels, stds, draws=3, seed=2022, kinds=NOISE_KINDS
):
    """Per-image noisy correctness for every noise kind and std:
    {kind: {str(std): float (n,)}}, each the fraction of draws right.

    The images and labels are checked once, not once per kind and std.
    """
    images, labels = check_model_inputs(model, images, labels)
    return {
        kind: {
            str(std): checked_noisy_correct(
                model, images, labels, std, kind, draws, seed
            )
            for std in stds
        }
        for kind in kinds
    }


def noise_sweep(model, images, labels, stds, draws=3, seed=2022, kinds=NOISE_KINDS):
    """`noisy_accuracy` for every noise kind and std: {kind: {str(std): accuracy}}."""
    per_image = noise_sweep_correct(model, images, labels, stds, draws, seed, kinds)
    return {
        kind: {std: float(np.mean(right)) for std, right in by_std.items()}
        for kind, by_std in per_image.items()
    }


def conv_input_snr(model, images, std, seed=2022, batch_size=500):
    """SNR in dB at each conv layer's input under Gaussian input noise.

    For each conv layer l at any depth (a `HaHCost` counts as its conv),
    `10 log10(mean over images of ||clean_l||^2 / ||noisy_l - clean_l||^2)`,
    where `clean_l` and `noisy_l` are that layer's inputs for the clean and
    the noisy image. One compiled forward pass per batch of `batch_size`.

    Returns:
        dict conv name -> SNR in dB, in running order.
    """
    images, _ = check_model_inputs(model, images)
    noisy = add_noise(images, std, "gaussian", np.random.default_rng(seed))
    clean_maps, noisy_maps = read_tensors_of_each(
        model, conv_inputs, [images, noisy], batch_size
    )
    snr = {}
    for name in clean_maps:
        clean = clean_maps[name].reshape(len(images), -1).astype("float64")
        error = noisy_maps[name].reshape(len(images), -1) - clean
        ratio = np.sum(clean**2, axis=1) / np.maximum(np.sum(error**2, axis=1), 1e-30)
        snr[name] = float(10.0 * np.log10(np.mean(ratio)))
    return snr
