"""Builders of the paper's VGG networks: the baseline and the HaH network."""

import keras

from keras_hebb.layers.adaptive_threshold import AdaptiveThreshold
from keras_hebb.layers.divisive_normalization import DivisiveNormalization
from keras_hebb.layers.fractional_threshold import FractionalThreshold
from keras_hebb.layers.hah_cost import HaHCost
from keras_hebb.layers.implicit_norm_conv import ImplicitNormConv2D
from keras_hebb.models.hah_model import HaHModel

# Conv widths in order, "M" for a 2x2 max pool, as in method.md section 2.
VGG_WIDTHS = {
    11: "64 M 128 M 256 256 M 512 512 M 512 512 M",
    13: "64 64 M 128 128 M 256 256 M 512 512 M 512 512 M",
    16: "64 64 M 128 128 M 256 256 256 M 512 512 512 M 512 512 512 M",
    19: "64 64 M 128 128 M 256 256 256 256 M 512 512 512 512 M 512 512 512 512 M",
}
PAPER_ALPHAS = (0.0045, 0.0025, 0.0013, 0.001, 0.0008, 0.0005)
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2471, 0.2435, 0.2616)


def torch_default_initializer():
    """PyTorch's default for conv and linear weights, U(+-1/sqrt(fan_in))."""
    return keras.initializers.VarianceScaling(1.0 / 3.0, "fan_in", "uniform")


def conv_widths(depth, width):
    """Output channels of each conv of VGG-`depth`, scaled by `width`."""
    if depth not in VGG_WIDTHS:
        raise ValueError(
            f"`depth` must be one of {sorted(VGG_WIDTHS)}. Received: depth={depth!r}"
        )
    if not width > 0:
        raise ValueError(f"`width` must be a positive float. Received: width={width}")
    return [
        item if item == "M" else max(1, round(int(item) * width))
        for item in VGG_WIDTHS[depth].split()
    ]


def standardized_input(input_shape, mean, std):
    """An `Input` of [0, 1] pixels and its per-channel standardisation."""
    if len(input_shape) != 3 or min(input_shape[:2]) < 32:
        raise ValueError(
            "`input_shape` must be (height, width, channels) with height and "
            "width of at least 32 (the network halves them five times). "
            f"Received: input_shape={input_shape}"
        )
    if not len(mean) == len(std) == input_shape[-1]:
        raise ValueError(
            f"`input_mean` and `input_std` need one value per input channel "
            f"({input_shape[-1]}). Received: {mean} and {std}"
        )
    inputs = keras.Input(input_shape, name="pixels")
    standardize = keras.layers.Normalization(
        mean=list(mean), variance=[s**2 for s in std], name="standardize"
    )
    return inputs, standardize(inputs)


def batch_norm(name):
    """BatchNorm with PyTorch's defaults (momentum 0.1, epsilon 1e-5).

    Its batch statistics are those of the global batch under a
    `tf.distribute` strategy (`synchronized=True`), so N replicas train as one
    device on the same batch; on one device nothing changes.
    """
    return keras.layers.BatchNormalization(
        momentum=0.9, epsilon=1e-5, synchronized=True, name=name
    )


def classifier(x, num_classes):
    """Flatten and one Dense layer to logits."""
    x = keras.layers.Flatten(name="flatten")(x)
    return keras.layers.Dense(
        num_classes,
        kernel_initializer=torch_default_initializer(),
        bias_initializer=torch_default_initializer(),
        name="logits",
    )(x)


THRESHOLD_KINDS = ("fractional", "adaptive", "none")


def check_threshold_kind(kind):
    if kind not in THRESHOLD_KINDS:
        raise ValueError(
            f"`threshold` must be one of {THRESHOLD_KINDS}. Received: threshold={kind!r}"
        )


def threshold_layer(kind, keep, scale, name):
    """The threshold of a sparse block: `FractionalThreshold(keep)`,
    `AdaptiveThreshold(scale)`, or None for `"none"`."""
    check_threshold_kind(kind)
    if kind == "fractional":
        return FractionalThreshold(keep, name=name)
    if kind == "adaptive":
        return AdaptiveThreshold(scale, name=name)
    return None


def conv_indices(selection, num_convs, what):
    """1-based conv indices from an int n (the first n convs) or a sequence."""
    if isinstance(selection, int):
        selection = range(1, selection + 1)
    selection = list(selection)
    bad = [i for i in selection if not 1 <= i <= num_convs]
    if bad or len(set(selection)) != len(selection):
        raise ValueError(
            f"`{what}` must be distinct conv indices in 1..{num_convs} (or a "
            f"count of leading convs). Received: {selection}"
        )
    return selection


def vgg(depth, width, input_shape, num_classes, input_mean, input_std, block, name):
    """The VGG skeleton: `block(x, index, channels)` builds conv block `index`
    (1-based) with `channels` output channels; 2x2 max pools between stages."""
    inputs, x = standardized_input(input_shape, input_mean, input_std)
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
        x = keras.layers.Conv2D(
            channels,
            3,
            padding="same",
            use_bias=False,
            kernel_initializer=torch_default_initializer(),
            name=f"conv{index}",
        )(x)
        x = keras.layers.ReLU(name=f"relu{index}")(x)
        x = batch_norm(f"bn{index}")(x)
        if index in thresholded and threshold != "none":
            x = threshold_layer(threshold, keep, threshold_scale, f"threshold{index}")(
                x
            )
        return x

    return vgg(
        depth, width, input_shape, num_classes, input_mean, input_std, block, name
    )


def hah_layer_alphas(hah_layers, alphas, num_convs):
    """Maps each HaH conv's 1-based index to its alpha."""
    hah_layers = conv_indices(hah_layers, num_convs, "hah_layers")
    if isinstance(alphas, (int, float)):
        alphas = [alphas] * len(hah_layers)
    alphas = list(alphas)
    if len(alphas) != len(hah_layers):
        raise ValueError(
            f"`alphas` must have one value per HaH layer ({len(hah_layers)}: "
            f"{hah_layers}). Received {len(alphas)} values: {alphas}"
        )
    return dict(zip(hah_layers, alphas))


def hah_vgg(
    depth=16,
    width=1.0,
    input_shape=(32, 32, 3),
    num_classes=10,
    hah_layers=6,
    alphas=PAPER_ALPHAS,
    ratio=0.1,
    demote=1.0,
    sigma=0.1,
    keep=0.2,
    field="linf",
    hah_gradient="local",
    implicit_norm=True,
    divisive_norm=True,
    threshold="fractional",
    threshold_scale=1.0,
    input_mean=CIFAR10_MEAN,
    input_std=CIFAR10_STD,
    name="hah_vgg",
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
        ratio: HaH winners' fraction of channels, in (0, 1).
        demote: weight of the losers' mean in the HaH score.
        sigma: divisive normalisation's weight of the global maximum.
        keep: fraction of each channel map the fractional threshold keeps,
            in (0, 1].
        field: divisive normalisation's field, "linf", "l1" or "l2".
        hah_gradient: "local" (the paper's) or "end_to_end".
        implicit_norm: bool; False makes every conv a plain bias-free
            `Conv2D` (no division by the filter's norm).
        divisive_norm: bool; False drops the HaH blocks' divisive
            normalisation.
        threshold: the HaH blocks' threshold: "fractional" (the paper's),
            "adaptive" (`AdaptiveThreshold(threshold_scale)`) or "none".
        threshold_scale: the adaptive threshold's multiple of the map's mean.
        input_mean: per-channel mean used to standardise inputs.
        input_std: per-channel standard deviation used to standardise inputs.
        name: the model's name.

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
    alpha_of = hah_layer_alphas(hah_layers, alphas, num_convs_of(depth))
    check_threshold_kind(threshold)
    conv_class = ImplicitNormConv2D if implicit_norm else bias_free_conv

    def block(x, index, channels):
        conv = conv_class(
            channels,
            3,
            padding="same",
            kernel_initializer=torch_default_initializer(),
            name=f"conv{index}",
        )
        if index not in alpha_of:
            x = keras.layers.ReLU(name=f"relu{index}")(conv(x))
            return batch_norm(f"bn{index}")(x)
        x = HaHCost(
            conv,
            alpha_of[index],
            ratio=ratio,
            demote=demote,
            gradient=hah_gradient,
            name=f"hah{index}",
        )(x)
        x = keras.layers.ReLU(name=f"relu{index}")(x)
        if divisive_norm:
            x = DivisiveNormalization(sigma, field=field, name=f"divnorm{index}")(x)
        sparsify = threshold_layer(
            threshold, keep, threshold_scale, f"threshold{index}"
        )
        return x if sparsify is None else sparsify(x)

    return vgg(
        depth, width, input_shape, num_classes, input_mean, input_std, block, name
    )


def bias_free_conv(filters, kernel_size, **kwargs):
    """A plain `Conv2D` without bias: the HaH conv without implicit normalisation."""
    return keras.layers.Conv2D(filters, kernel_size, use_bias=False, **kwargs)
