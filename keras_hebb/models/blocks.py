"""The building blocks of every network here, and of a user's own HaH model.

`hah_block` is the method's sparse, strong block, for any functional model:
a conv with a HaH cost, then ReLU, divisive normalisation and a threshold.
`conv_relu_bn` and `conv_bn_relu` are the two orders of plain blocks; the
other helpers build the input standardisation, the classifier and the
checks shared by the builders (`vgg`, `resnet`, `lenet`).
"""

import keras

from keras_hebb.layers.adaptive_threshold import AdaptiveThreshold
from keras_hebb.layers.divisive_normalization import DivisiveNormalization
from keras_hebb.layers.fractional_threshold import FractionalThreshold
from keras_hebb.layers.hah_cost import HaHCost
from keras_hebb.layers.implicit_norm_conv import ImplicitNormConv2D
from keras_hebb.models.hah_options import HaHOptions

# The paper's per-layer HaH weights for the first six convs of VGG16.
PAPER_ALPHAS = (0.0045, 0.0025, 0.0013, 0.001, 0.0008, 0.0005)


def torch_default_initializer():
    """PyTorch's default for conv and linear weights, U(+-1/sqrt(fan_in))."""
    return keras.initializers.VarianceScaling(1.0 / 3.0, "fan_in", "uniform")


def scaled(channels, width):
    """`channels` times the width multiplier, rounded, at least 1."""
    return max(1, round(channels * width))


def check_width(width):
    if not (isinstance(width, (int, float)) and width > 0):
        raise ValueError(f"`width` must be a positive float. Received: width={width!r}")


def standardized_input(input_shape, mean, std, min_size=1):
    """An `Input` of [0, 1] pixels and its per-channel standardisation.

    Args:
        input_shape: `(height, width, channels)`.
        mean: per-channel means, one per channel.
        std: per-channel standard deviations, one per channel.
        min_size: the smallest height and width the network can take.
    """
    if len(input_shape) != 3 or min(input_shape[:2]) < min_size:
        raise ValueError(
            "`input_shape` must be (height, width, channels) with height and "
            f"width of at least {min_size} for this network. "
            f"Received: input_shape={input_shape}"
        )
    if not len(mean) == len(std) == input_shape[-1]:
        raise ValueError(
            f"`input_mean` and `input_std` need one value per input channel "
            f"({input_shape[-1]}). Received: {mean} and {std}"
        )
    inputs = keras.Input(tuple(input_shape), name="pixels")
    standardize = keras.layers.Normalization(
        mean=list(mean), variance=[s**2 for s in std], name="standardize"
    )
    return inputs, standardize(inputs)


def batch_norm(name):
    """BatchNorm with PyTorch's defaults (momentum 0.1, epsilon 1e-5).

    Its batch statistics are those of the global batch under a
    `tf.distribute` strategy (`synchronized=True`, which Keras has on
    TensorFlow only), so N replicas train as one device on the same batch;
    on one device nothing changes.
    """
    return keras.layers.BatchNormalization(
        momentum=0.9,
        epsilon=1e-5,
        synchronized=keras.backend.backend() == "tensorflow",
        name=name,
    )


def dense(units, name, activation=None, dtype=None):
    """A Dense layer with PyTorch's default initialisation."""
    return keras.layers.Dense(
        units,
        activation=activation,
        kernel_initializer=torch_default_initializer(),
        bias_initializer=torch_default_initializer(),
        name=name,
        dtype=dtype,
    )


def logits(x, num_classes):
    """The `logits` Dense layer, float32 under any policy (the loss's dtype)."""
    return dense(num_classes, "logits", dtype="float32")(x)


def classifier(x, num_classes):
    """Flatten and one Dense layer to logits."""
    x = keras.layers.Flatten(name="flatten")(x)
    return logits(x, num_classes)


def threshold_layer(kind, keep, scale, name):
    """The threshold of a sparse block: `FractionalThreshold(keep)`,
    `AdaptiveThreshold(scale)`, or None for `"none"`."""
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


def bias_free_conv(filters, kernel_size, **kwargs):
    """A plain `Conv2D` without bias: the HaH conv without implicit normalisation."""
    return keras.layers.Conv2D(filters, kernel_size, use_bias=False, **kwargs)


def conv(filters, kernel_size, name, strides=1, implicit_norm=False):
    """A 'same'-padded bias-free conv, `ImplicitNormConv2D` if `implicit_norm`."""
    conv_class = ImplicitNormConv2D if implicit_norm else bias_free_conv
    return conv_class(
        filters,
        kernel_size,
        strides=strides,
        padding="same",
        kernel_initializer=torch_default_initializer(),
        name=name,
    )


def conv_relu_bn(x, filters, suffix, kernel_size=3, implicit_norm=False):
    """conv -> ReLU -> BatchNorm, the paper's VGG block; layers `conv<suffix>`,
    `relu<suffix>`, `bn<suffix>`."""
    x = conv(filters, kernel_size, f"conv{suffix}", implicit_norm=implicit_norm)(x)
    x = keras.layers.ReLU(name=f"relu{suffix}")(x)
    return batch_norm(f"bn{suffix}")(x)


def conv_bn_relu(x, filters, suffix, kernel_size=3, strides=1, implicit_norm=False):
    """conv -> BatchNorm -> ReLU, the ResNet block order; layers `conv<suffix>`,
    `bn<suffix>`, `relu<suffix>`."""
    x = conv_bn(x, filters, suffix, kernel_size, strides, implicit_norm)
    return keras.layers.ReLU(name=f"relu{suffix}")(x)


def conv_bn(x, filters, suffix, kernel_size=3, strides=1, implicit_norm=False):
    """conv -> BatchNorm; layers `conv<suffix>`, `bn<suffix>`."""
    x = conv(filters, kernel_size, f"conv{suffix}", strides, implicit_norm)(x)
    return batch_norm(f"bn{suffix}")(x)


def hah_block(
    x,
    filters,
    alpha,
    suffix,
    kernel_size=3,
    strides=1,
    shortcut=None,
    hah_options=None,
    **options,
):
    """The method's sparse, strong block, applied to the tensor `x`.

    conv -> `HaHCost(alpha, ratio, demote)` -> (+ `shortcut`) -> ReLU ->
    `DivisiveNormalization(sigma)` -> `FractionalThreshold(keep)`, with the
    conv an `ImplicitNormConv2D` ('same' padding, no bias), as `HaHOptions`
    says (the paper's by default). Layers are named `conv<suffix>`,
    `hah<suffix>`, `add<suffix>`, `relu<suffix>`, `divnorm<suffix>` and
    `threshold<suffix>`, which is how `keras_hebb.probes` and the reports
    name the block.

    Args:
        x: a symbolic 4D tensor `(batch, height, width, channels)`.
        filters: the conv's output channels.
        alpha: non-negative float, the weight of the HaH cost (0: reported,
            not trained).
        suffix: str or int that names the block's layers.
        kernel_size: the conv's kernel size.
        strides: the conv's strides.
        shortcut: None, or a tensor of the conv's output shape added before
            the ReLU (a residual block's second conv).
        hah_options: a `HaHOptions`, None for the paper's.
        **options: `HaHOptions` fields by name, over `hah_options`
            (`ratio=0.25`, `keep=0.3`, ...).

    Returns:
        The block's output, `(batch, height / strides, width / strides,
        filters)`.

    Example:

    >>> inputs = keras.Input((28, 28, 1))
    >>> x = keras_hebb.models.hah_block(inputs, 8, alpha=0.001, suffix=1)
    >>> x = keras.layers.GlobalAveragePooling2D()(x)
    >>> model = keras_hebb.models.HaHModel(inputs, keras.layers.Dense(3)(x))
    >>> [layer.name for layer in model.layers][1:5]
    ['hah1', 'relu1', 'divnorm1', 'threshold1']
    """
    o = HaHOptions.of(hah_options, **options)
    layer = conv(filters, kernel_size, f"conv{suffix}", strides, o.implicit_norm)
    x = HaHCost(
        layer,
        alpha,
        ratio=o.ratio,
        demote=o.demote,
        gradient=o.gradient,
        name=f"hah{suffix}",
    )(x)
    if shortcut is not None:
        x = keras.layers.Add(name=f"add{suffix}")([x, shortcut])
    x = keras.layers.ReLU(name=f"relu{suffix}")(x)
    if o.divisive_norm:
        x = DivisiveNormalization(o.sigma, field=o.field, name=f"divnorm{suffix}")(x)
    sparsify = threshold_layer(
        o.threshold, o.keep, o.threshold_scale, f"threshold{suffix}"
    )
    return x if sparsify is None else sparsify(x)
