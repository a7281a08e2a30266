"""Sparsity of a network's activations, block by block."""

import numpy as np
import tensorflow as tf

from keras_hebb.hah import top_and_rest_means
from keras_hebb.layers.reporting import nonzero_fraction
from keras_hebb.probes import batch_function, block_activations, read_tensors

BATCH_SIZE = 250


def activation_sparsity(model, images, ratio=0.1, batch_size=BATCH_SIZE):
    """Per conv block: fraction of non-zero activations and the top-K gap.

    A block's activation is its last threshold's output where it has one
    (HaH blocks), else its first ReLU's output (see
    `keras_hebb.probes.conv_block`); blocks are found at any depth, nested
    and subclassed blocks included. At every position, K = ceil(ratio * C)
    channels are the top; `top_mean` and `rest_mean` are the means over
    images and positions of the top-K mean and of the other channels' mean.

    Args:
        model: a model of conv blocks (e.g. `hah_vgg`).
        images: float32 array `(n, height, width, channels)` in [0, 1].
        ratio: fraction of channels counted as the top.
        batch_size: images per forward pass.

    Returns:
        dict conv name -> {"nonzero", "top_mean", "rest_mean", "top_to_rest"},
        in running order.
    """
    images = np.asarray(images)

    def statistics(x):
        stats = {}
        for name, activations in block_activations(model, x).items():
            top, rest = top_and_rest_means(activations, ratio)
            stats[name] = tf.stack(
                [
                    nonzero_fraction(activations),
                    tf.reduce_mean(top),
                    tf.reduce_mean(rest),
                ]
            )
        return stats

    batch_statistics = batch_function(statistics, images)
    totals, count = {}, 0
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size]
        for name, values in batch_statistics(tf.constant(batch)).items():
            totals[name] = totals.get(name, 0.0) + values.numpy() * len(batch)
        count += len(batch)
    result = {}
    for name, total in totals.items():
        nonzero, top, rest = (total / count).tolist()
        result[name] = {
            "nonzero": nonzero,
            "top_mean": top,
            "rest_mean": rest,
            "top_to_rest": top / rest if rest > 0 else float("inf"),
        }
    return result


def activation_histogram(model, images, conv, bins=60):
    """Histogram of one conv block's non-zero activations, for plots.

    Args:
        model: a model of conv blocks (e.g. `hah_vgg`).
        images: float32 array `(n, height, width, channels)` in [0, 1].
        conv: the block's conv name, a key of `activation_sparsity`.
        bins: number of bins.

    Returns:
        dict with the block name `conv`, the `zero_fraction` of its
        activations, and `edges` (bins + 1) and `counts` (bins) of the
        histogram of its non-zero values.
    """

    def activation(model, x):
        activations = block_activations(model, x)
        if conv not in activations:
            raise ValueError(
                f"Model {model.name!r} has no conv block {conv!r} with an "
                f"activation; its blocks are {list(activations)}."
            )
        return {conv: activations[conv]}

    values = read_tensors(model, activation, images, BATCH_SIZE)[conv].ravel()
    nonzero = values[values != 0]
    counts, edges = np.histogram(nonzero, bins=bins)
    return {
        "conv": conv,
        "zero_fraction": float(1.0 - len(nonzero) / len(values)),
        "edges": edges.tolist(),
        "counts": counts.tolist(),
    }
