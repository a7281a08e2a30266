"""A LeNet-style network for small grayscale images, and its HaH version.

Two 5x5 convs ('same' padding; 32 and 64 channels at width 1), each
followed by a 2x2 max pool, then a hidden Dense layer of 256 ReLU units and
the logits. The baseline's convs are conv -> ReLU -> BatchNorm, as the
paper's VGG baseline; the HaH version makes both convs the method's sparse,
strong blocks (`keras_hebb.models.blocks.hah_block`). The sizes and the
alphas (the paper's first two, for VGG16) are our choice.
"""

import keras

from keras_hebb.data.constants import MNIST_MEAN, MNIST_STD
from keras_hebb.models.blocks import (
    PAPER_ALPHAS,
    check_width,
    conv_relu_bn,
    dense,
    hah_block,
    hah_layer_alphas,
    logits,
    scaled,
    standardized_input,
)
from keras_hebb.models.hah_model import HaHModel
from keras_hebb.models.hah_options import HaHOptions

LENET_CONVS = (32, 64)
LENET_HIDDEN = 256
# MNIST's training-set statistics, as published with PyTorch's MNIST example.


def lenet(width, input_shape, num_classes, mean, std, block, name):
    """The LeNet skeleton: `block(x, index, channels)` builds conv `index`."""
    check_width(width)
    inputs, x = standardized_input(input_shape, mean, std, min_size=4)
    for index, channels in enumerate(LENET_CONVS, start=1):
        x = block(x, index, scaled(channels, width))
        x = keras.layers.MaxPooling2D(2, name=f"pool_after_conv{index}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = dense(scaled(LENET_HIDDEN, width), "hidden", activation="relu")(x)
    return HaHModel(inputs, logits(x, num_classes), name=name)


def baseline_lenet(
    width=1.0,
    input_shape=(28, 28, 1),
    num_classes=10,
    input_mean=MNIST_MEAN,
    input_std=MNIST_STD,
    name="baseline_lenet",
):
    """The LeNet-style baseline: two conv -> ReLU -> BatchNorm -> pool blocks.

    Args:
        width: positive float multiplying every layer's width.
        input_shape: `(height, width, channels)`, height and width >= 4.
        num_classes: number of logits.
        input_mean: per-channel mean used to standardise inputs.
        input_std: per-channel standard deviation used to standardise inputs.
        name: the model's name.

    Returns:
        A `HaHModel` mapping `(batch, *input_shape)` pixels in [0, 1] to
        `(batch, num_classes)` logits.

    Example:

    >>> keras_hebb.models.baseline_lenet(width=0.25).output_shape
    (None, 10)
    """

    def block(x, index, channels):
        return conv_relu_bn(x, channels, index, kernel_size=5)

    return lenet(width, input_shape, num_classes, input_mean, input_std, block, name)


def hah_lenet(
    width=1.0,
    input_shape=(28, 28, 1),
    num_classes=10,
    hah_layers=2,
    alphas=PAPER_ALPHAS[:2],
    input_mean=MNIST_MEAN,
    input_std=MNIST_STD,
    name="hah_lenet",
    hah_options=None,
    **options,
):
    """The LeNet-style network with HaH blocks (by default both convs).

    Args:
        width: positive float multiplying every layer's width.
        input_shape: `(height, width, channels)`, height and width >= 4.
        num_classes: number of logits.
        hah_layers: int n (the first n convs) or 1-based conv indices in 1..2.
        alphas: one float for all HaH layers, or one per HaH layer.
        input_mean: per-channel mean used to standardise inputs.
        input_std: per-channel standard deviation used to standardise inputs.
        name: the model's name.
        hah_options: a `HaHOptions` (None: the paper's), the blocks'
            options.
        **options: `HaHOptions` fields by name, over `hah_options`
            (`keep=0.3`, `hah_gradient="end_to_end"`, ...).

    Returns:
        A `HaHModel` mapping `(batch, *input_shape)` pixels in [0, 1] to
        `(batch, num_classes)` logits.

    Example:

    >>> keras_hebb.models.hah_lenet(width=0.25, num_classes=3).output_shape
    (None, 3)
    """
    hah = HaHOptions.of(hah_options, **options)
    alpha_of = hah_layer_alphas(hah_layers, alphas, len(LENET_CONVS))

    def block(x, index, channels):
        if index not in alpha_of:
            return conv_relu_bn(x, channels, index, 5, hah.implicit_norm)
        return hah_block(
            x, channels, alpha_of[index], index, kernel_size=5, hah_options=hah
        )

    return lenet(width, input_shape, num_classes, input_mean, input_std, block, name)
