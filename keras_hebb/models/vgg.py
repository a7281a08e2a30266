"""Builders of the paper's VGG networks: the baseline and the HaH network."""

import keras

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


def baseline_vgg(
    depth=16,
    width=1.0,
    input_shape=(32, 32, 3),
    num_classes=10,
    input_mean=CIFAR10_MEAN,
    input_std=CIFAR10_STD,
    name="baseline_vgg",
):
    """The paper's baseline: VGG with conv -> ReLU -> BatchNorm blocks.

    Convs are 3x3, 'same' padding, without bias; 'M' steps are 2x2 max pools.
    The model takes [0, 1] pixels and standardises them itself.

    Args:
        depth: 11, 13, 16 or 19, the number of weight layers.
        width: positive float multiplying every conv's number of channels.
        input_shape: `(height, width, channels)`, height and width >= 32.
        num_classes: number of logits.
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
    inputs, x = standardized_input(input_shape, input_mean, input_std)
    conv_index = 0
    for item in conv_widths(depth, width):
        if item == "M":
            x = keras.layers.MaxPooling2D(2, name=f"pool_after_conv{conv_index}")(x)
            continue
        conv_index += 1
        x = keras.layers.Conv2D(
            item,
            3,
            padding="same",
            use_bias=False,
            kernel_initializer=torch_default_initializer(),
            name=f"conv{conv_index}",
        )(x)
        x = keras.layers.ReLU(name=f"relu{conv_index}")(x)
        x = batch_norm(f"bn{conv_index}")(x)
    return HaHModel(inputs, classifier(x, num_classes), name=name)


def hah_layer_alphas(hah_layers, alphas, num_convs):
    """Maps each HaH conv's 1-based index to its alpha."""
    if isinstance(hah_layers, int):
        hah_layers = range(1, hah_layers + 1)
    hah_layers = list(hah_layers)
    bad = [i for i in hah_layers if not 1 <= i <= num_convs]
    if bad or len(set(hah_layers)) != len(hah_layers):
        raise ValueError(
            f"`hah_layers` must be distinct conv indices in 1..{num_convs} (or "
            f"a count of leading convs). Received: {hah_layers}"
        )
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
    keep 0.2, layer-local HaH gradient.

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
        keep: fraction of each channel map the threshold keeps, in (0, 1].
        field: divisive normalisation's field, "linf", "l1" or "l2".
        hah_gradient: "local" (the paper's) or "end_to_end".
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
    widths = conv_widths(depth, width)
    num_convs = sum(item != "M" for item in widths)
    alpha_of = hah_layer_alphas(hah_layers, alphas, num_convs)
    inputs, x = standardized_input(input_shape, input_mean, input_std)
    conv_index = 0
    for item in widths:
        if item == "M":
            x = keras.layers.MaxPooling2D(2, name=f"pool_after_conv{conv_index}")(x)
            continue
        conv_index += 1
        conv = ImplicitNormConv2D(
            item,
            3,
            padding="same",
            kernel_initializer=torch_default_initializer(),
            name=f"conv{conv_index}",
        )
        if conv_index not in alpha_of:
            x = keras.layers.ReLU(name=f"relu{conv_index}")(conv(x))
            x = batch_norm(f"bn{conv_index}")(x)
            continue
        x = HaHCost(
            conv,
            alpha_of[conv_index],
            ratio=ratio,
            demote=demote,
            gradient=hah_gradient,
            name=f"hah{conv_index}",
        )(x)
        x = keras.layers.ReLU(name=f"relu{conv_index}")(x)
        x = DivisiveNormalization(sigma, field=field, name=f"divnorm{conv_index}")(x)
        x = FractionalThreshold(keep, name=f"threshold{conv_index}")(x)
    return HaHModel(inputs, classifier(x, num_classes), name=name)
