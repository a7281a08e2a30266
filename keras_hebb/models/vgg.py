"""Builders of the paper's VGG networks: the baseline and the HaH network."""

import keras

from keras_hebb.data.constants import CIFAR10_MEAN, CIFAR10_STD
from keras_hebb.models.blocks import (
    PAPER_ALPHAS,
    check_width,
    classifier,
    conv_indices,
    conv_relu_bn,
    hah_block,
    hah_layer_alphas,
    scaled,
    standardized_input,
    threshold_layer,
)
from keras_hebb.models.hah_model import HaHModel
from keras_hebb.models.hah_options import HaHOptions, check_threshold_kind

# Conv widths in order, "M" for a 2x2 max pool, as in the paper's VGG.
VGG_WIDTHS = {
    11: "64 M 128 M 256 256 M 512 512 M 512 512 M",
    13: "64 64 M 128 128 M 256 256 M 512 512 M 512 512 M",
    16: "64 64 M 128 128 M 256 256 256 M 512 512 512 M 512 512 512 M",
    19: "64 64 M 128 128 M 256 256 256 256 M 512 512 512 512 M 512 512 512 512 M",
}


def conv_widths(depth, width):
    """Output channels of each conv of VGG-`depth`, scaled by `width`."""
    if depth not in VGG_WIDTHS:
        raise ValueError(
            f"`depth` must be one of {sorted(VGG_WIDTHS)}. Received: depth={depth!r}"
        )
    check_width(width)
    return [
        item if item == "M" else scaled(int(item), width)
        for item in VGG_WIDTHS[depth].split()
    ]


def vgg(depth, width, input_shape, num_classes, input_mean, input_std, block, name):
    """The VGG skeleton: `block(x, index, channels)` builds conv block `index`
    (1-based) with `channels` output channels; 2x2 max pools between stages."""
    inputs, x = standardized_input(input_shape, input_mean, input_std, min_size=32)
    conv_index = 0
    for item in conv_widths(depth, width):
        if item == "M":
            x = keras.layers.MaxPooling2D(2, name=f"pool_after_conv{conv_index}")(x)
            continue
        conv_index += 1
        x = block(x, conv_index, item)
    return HaHModel(inputs, classifier(x, num_classes), name=name)


def num_convs_of(depth):
    return sum(item != "M" for item in conv_widths(depth, 1.0))


def baseline_vgg(
    depth=16,
    width=1.0,
    input_shape=(32, 32, 3),
    num_classes=10,
    threshold="none",
    threshold_layers=6,
    keep=0.2,
    threshold_scale=1.0,
    input_mean=CIFAR10_MEAN,
    input_std=CIFAR10_STD,
    name="baseline_vgg",
):
    """The paper's baseline: VGG with conv -> ReLU -> BatchNorm blocks.

    Convs are 3x3, 'same' padding, without bias; 'M' steps are 2x2 max pools.
    The model takes [0, 1] pixels and standardises them itself. For
    ablations, `threshold` adds a threshold after the BatchNorm of the convs
    in `threshold_layers` (the paper's baseline has none).

    Args:
        depth: 11, 13, 16 or 19, the number of weight layers.
        width: positive float multiplying every conv's number of channels.
        input_shape: `(height, width, channels)`, height and width >= 32.
        num_classes: number of logits.
        threshold: "none" (the paper's), "fractional" or "adaptive".
        threshold_layers: int n (the first n convs) or 1-based conv indices
            that get the threshold.
        keep: the fractional threshold's kept fraction, in (0, 1].
        threshold_scale: the adaptive threshold's multiple of the map's mean.
        input_mean: per-channel mean used to standardise inputs.
        input_std: per-channel standard deviation used to standardise inputs.
        name: the model's name.

    Returns:
        A `HaHModel` mapping `(batch, *input_shape)` pixels in [0, 1] to
        `(batch, num_classes)` logits.

    Example:

    >>> model = keras_hebb.models.baseline_vgg(depth=11, width=0.25)
    >>> model.output_shape
    (None, 10)
    """
    thresholded = set(
        conv_indices(threshold_layers, num_convs_of(depth), "threshold_layers")
    )
    check_threshold_kind(threshold)

    def block(x, index, channels):
        x = conv_relu_bn(x, channels, index)
        if index in thresholded and threshold != "none":
            x = threshold_layer(threshold, keep, threshold_scale, f"threshold{index}")(
                x
            )
        return x

    return vgg(
        depth, width, input_shape, num_classes, input_mean, input_std, block, name
    )


def hah_vgg(
    depth=16,
    width=1.0,
    input_shape=(32, 32, 3),
    num_classes=10,
    hah_layers=6,
    alphas=PAPER_ALPHAS,
    input_mean=CIFAR10_MEAN,
    input_std=CIFAR10_STD,
    name="hah_vgg",
    hah_options=None,
    **options,
):
    """The paper's HaH network: implicit-normalised VGG with sparse, strong blocks.

    Every conv is an `ImplicitNormConv2D` (3x3, 'same'). The HaH convs are
    conv -> ReLU -> `DivisiveNormalization(sigma)` -> `FractionalThreshold(keep)`
    with a `HaHCost(alpha, ratio, demote)` on the conv; the others are
    conv -> ReLU -> BatchNorm. The defaults are the paper's: VGG16, HaH on
    the first six convs with alphas 0.0045 ... 0.0005, ratio 0.1, sigma 0.1,
    keep 0.2, layer-local HaH gradient. Every component can be switched for
    ablations: `implicit_norm=False` (plain bias-free convs),
    `divisive_norm=False`, `threshold="adaptive"` or `"none"`, `alphas=0`
    (the HaH score is still reported, its cost is zero).

    Args:
        depth: 11, 13, 16 or 19, the number of weight layers.
        width: positive float multiplying every conv's number of channels.
        input_shape: `(height, width, channels)`, height and width >= 32.
        num_classes: number of logits.
        hah_layers: int n (the first n convs) or a sequence of 1-based conv
            indices that get HaH blocks.
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
        `(batch, num_classes)` logits. HaH layers are named `hah<i>`, their
        convs `conv<i>` and thresholds `threshold<i>`.

    Example:

    >>> model = keras_hebb.models.hah_vgg(depth=11, width=0.25, hah_layers=2,
    ...                                  alphas=(0.0045, 0.0025))
    >>> model.output_shape
    (None, 10)
    """
    hah = HaHOptions.of(hah_options, **options)
    alpha_of = hah_layer_alphas(hah_layers, alphas, num_convs_of(depth))

    def block(x, index, channels):
        if index not in alpha_of:
            return conv_relu_bn(x, channels, index, implicit_norm=hah.implicit_norm)
        return hah_block(x, channels, alpha_of[index], index, hah_options=hah)

    return vgg(
        depth, width, input_shape, num_classes, input_mean, input_std, block, name
    )
