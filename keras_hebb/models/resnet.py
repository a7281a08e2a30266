"""CIFAR ResNets (ResNet-18/34, WideResNet) and their HaH versions.

The skeleton is He et al.'s (2016) ResNet for 32x32 images: a 3x3 stem conv
without pooling, stages of basic blocks (two 3x3 convs and a shortcut; the
first block of a stage halves the map with stride 2 and projects the
shortcut with a 1x1 conv and BatchNorm when the shape changes), global
average pooling and one Dense layer. The blocks are the standard
post-activation ones, conv -> BatchNorm -> ReLU, with the sum before the
second ReLU. Our WideResNet is the same skeleton at Zagoruyko and
Komodakis' (2016) widths (16 in the stem, 16k/32k/64k in three stages,
(depth - 4) / 6 blocks a stage), with post-activation rather than their
pre-activation blocks and without dropout, so that both families share one
block and one HaH design.

The HaH version counts convs in order (the stem is conv 1, then each
block's two convs; shortcut projections are not counted) and turns the
first `hah_layers` into the method's sparse, strong blocks
(`keras_hebb.models.blocks.hah_block`): implicit-normalised conv with a HaH
cost -> ReLU -> divisive normalisation -> threshold, the block's shortcut
added before the ReLU for a block's second conv. Every other conv is an
`ImplicitNormConv2D` -> BatchNorm -> ReLU, as in `hah_vgg`. By default the
HaH convs are the stem and the first stage (all convs at full resolution,
as the paper's six HaH convs of VGG16 are its convs before the third
pool), with the first of the paper's alphas: our choice, not the paper's.
"""

import keras

from keras_hebb.data.constants import CIFAR10_MEAN, CIFAR10_STD
from keras_hebb.models.blocks import (
    PAPER_ALPHAS,
    check_width,
    conv_bn,
    conv_bn_relu,
    hah_block,
    hah_layer_alphas,
    logits,
    scaled,
    standardized_input,
)
from keras_hebb.models.hah_model import HaHModel
from keras_hebb.models.hah_options import HaHOptions

# Basic blocks per stage of the ResNets of He et al. (2016) built from them.
RESNET_BLOCKS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}
RESNET_WIDTHS = (64, 128, 256, 512)
HAH_LAYERS = 5


def resnet_stages(depth):
    """(channels, blocks, stride) of each stage of ResNet-`depth`."""
    if depth not in RESNET_BLOCKS:
        raise ValueError(
            f"`depth` must be one of {sorted(RESNET_BLOCKS)}. Received: depth={depth!r}"
        )
    return tuple(
        (channels, blocks, 1 if i == 0 else 2)
        for i, (channels, blocks) in enumerate(zip(RESNET_WIDTHS, RESNET_BLOCKS[depth]))
    )


def wide_resnet_stages(depth, widen):
    """(channels, blocks, stride) of each stage of WRN-`depth`-`widen`."""
    if not (isinstance(depth, int) and depth >= 10 and (depth - 4) % 6 == 0):
        raise ValueError(
            f"`depth` must be 6n + 4 (10, 16, 22, 28, ...). Received: depth={depth!r}"
        )
    if not (isinstance(widen, int) and widen >= 1):
        raise ValueError(f"`widen` must be a positive int. Received: widen={widen!r}")
    blocks = (depth - 4) // 6
    return tuple((16 * widen * 2**i, blocks, 1 if i == 0 else 2) for i in range(3))


def block_plan(stem, stages, width):
    """The convs in order: [(channels, stride, role)] with role "stem", "a"
    (a block's first conv) or "b" (its second), channels scaled by `width`."""
    check_width(width)
    plan = [(scaled(stem, width), 1, "stem")]
    for channels, blocks, stride in stages:
        for block in range(blocks):
            first_stride = stride if block == 0 else 1
            plan += [
                (scaled(channels, width), first_stride, "a"),
                (scaled(channels, width), 1, "b"),
            ]
    return plan


def shortcut(x, channels, stride, suffix, implicit_norm):
    """The identity, or a 1x1 conv and BatchNorm when the shape changes."""
    if stride == 1 and x.shape[-1] == channels:
        return x
    return conv_bn(x, channels, suffix, 1, stride, implicit_norm)


def resnet(plan, input_shape, num_classes, mean, std, block, implicit_norm, name):
    """The ResNet skeleton over `block_plan`'s convs: `block(x, index,
    channels, stride, residual)` builds conv `index` (1-based), `residual`
    being the shortcut to add for a block's second conv, else None.
    Shortcut projections are `ImplicitNormConv2D`s if `implicit_norm`."""
    inputs, x = standardized_input(input_shape, mean, std, min_size=8)
    block_input = None
    for index, (channels, stride, role) in enumerate(plan, start=1):
        if role == "a":
            block_input = x
            x = block(x, index, channels, stride, None)
            continue
        residual = None
        if role == "b":
            residual = shortcut(
                block_input,
                channels,
                plan[index - 2][1],
                f"{index}_shortcut",
                implicit_norm,
            )
        x = block(x, index, channels, stride, residual)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    return HaHModel(inputs, logits(x, num_classes), name=name)


def plain_block(implicit_norm):
    """conv -> BN (+ residual) -> ReLU, the baseline's (and the HaH network's
    non-HaH) conv."""

    def block(x, index, channels, stride, residual):
        if residual is None:
            return conv_bn_relu(x, channels, index, 3, stride, implicit_norm)
        x = conv_bn(x, channels, index, 3, stride, implicit_norm)
        x = keras.layers.Add(name=f"add{index}")([x, residual])
        return keras.layers.ReLU(name=f"relu{index}")(x)

    return block


def plain_resnet(plan, input_shape, num_classes, input_mean, input_std, name):
    block = plain_block(implicit_norm=False)
    return resnet(
        plan, input_shape, num_classes, input_mean, input_std, block, False, name
    )


def sparse_resnet(
    plan, hah_layers, alphas, input_shape, num_classes, mean, std, name, hah
):
    """The HaH version of a ResNet plan (see the module docstring), with the
    blocks of the `HaHOptions` `hah`."""
    alpha_of = hah_layer_alphas(hah_layers, alphas, len(plan))
    implicit_norm = hah.implicit_norm
    plain = plain_block(implicit_norm)

    def block(x, index, channels, stride, residual):
        if index not in alpha_of:
            return plain(x, index, channels, stride, residual)
        return hah_block(
            x,
            channels,
            alpha_of[index],
            index,
            strides=stride,
            shortcut=residual,
            hah_options=hah,
        )

    return resnet(plan, input_shape, num_classes, mean, std, block, implicit_norm, name)


def baseline_resnet(
    depth=18,
    width=1.0,
    input_shape=(32, 32, 3),
    num_classes=10,
    input_mean=CIFAR10_MEAN,
    input_std=CIFAR10_STD,
    name="baseline_resnet",
):
    """ResNet-18 or -34 for CIFAR: the standard post-activation ResNet.

    Args:
        depth: 18 or 34, the number of weight layers.
        width: positive float multiplying every conv's number of channels
            (64, 128, 256, 512 at width 1).
        input_shape: `(height, width, channels)`, height and width >= 8.
        num_classes: number of logits.
        input_mean: per-channel mean used to standardise inputs.
        input_std: per-channel standard deviation used to standardise inputs.
        name: the model's name.

    Returns:
        A `HaHModel` mapping `(batch, *input_shape)` pixels in [0, 1] to
        `(batch, num_classes)` logits. Convs are named `conv1` (stem) to
        `conv17` (ResNet-18); shortcut projections `conv<i>_shortcut`.

    Example:

    >>> model = keras_hebb.models.baseline_resnet(width=0.125)
    >>> model.output_shape
    (None, 10)
    """
    plan = block_plan(64, resnet_stages(depth), width)
    return plain_resnet(plan, input_shape, num_classes, input_mean, input_std, name)


def hah_resnet(
    depth=18,
    width=1.0,
    input_shape=(32, 32, 3),
    num_classes=10,
    hah_layers=HAH_LAYERS,
    alphas=PAPER_ALPHAS[:HAH_LAYERS],
    input_mean=CIFAR10_MEAN,
    input_std=CIFAR10_STD,
    name="hah_resnet",
    hah_options=None,
    **options,
):
    """ResNet-18 or -34 for CIFAR with HaH blocks on its first convs.

    The HaH convs are conv -> `HaHCost` -> (+ shortcut) -> ReLU ->
    `DivisiveNormalization` -> threshold; every conv is an
    `ImplicitNormConv2D`. By default the stem and the first stage (convs
    1-5) are HaH convs, with alphas 0.0045 ... 0.0008 (the paper's first
    five, for VGG16). The blocks are as `HaHOptions` says.

    Args:
        depth: 18 or 34, the number of weight layers.
        width: positive float multiplying every conv's number of channels.
        input_shape: `(height, width, channels)`, height and width >= 8.
        num_classes: number of logits.
        hah_layers: int n (the first n convs) or 1-based conv indices in
            1..depth - 1.
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
        `(batch, num_classes)` logits; HaH convs' layers are `hah<i>` and
        `threshold<i>`.

    Example:

    >>> model = keras_hebb.models.hah_resnet(width=0.125)
    >>> [layer.name for layer in model.layers if layer.name.startswith("hah")]
    ['hah1', 'hah2', 'hah3', 'hah4', 'hah5']
    """
    return sparse_resnet(
        block_plan(64, resnet_stages(depth), width),
        hah_layers,
        alphas,
        input_shape,
        num_classes,
        input_mean,
        input_std,
        name,
        HaHOptions.of(hah_options, **options),
    )


def baseline_wide_resnet(
    depth=16,
    widen=4,
    width=1.0,
    input_shape=(32, 32, 3),
    num_classes=10,
    input_mean=CIFAR10_MEAN,
    input_std=CIFAR10_STD,
    name="baseline_wide_resnet",
):
    """WideResNet-`depth`-`widen` for CIFAR, post-activation, without dropout.

    Args:
        depth: 6n + 4, the number of weight layers (16: two blocks a stage).
        widen: the widening factor k (stages of 16k, 32k, 64k channels).
        width: positive float multiplying every conv's channels on top.
        input_shape: `(height, width, channels)`, height and width >= 8.
        num_classes: number of logits.
        input_mean: per-channel mean used to standardise inputs.
        input_std: per-channel standard deviation used to standardise inputs.
        name: the model's name.

    Returns:
        A `HaHModel` of `(batch, *input_shape)` pixels to logits.

    Example:

    >>> keras_hebb.models.baseline_wide_resnet(16, 1).count_params() < 200_000
    True
    """
    plan = block_plan(16, wide_resnet_stages(depth, widen), width)
    return plain_resnet(plan, input_shape, num_classes, input_mean, input_std, name)


def hah_wide_resnet(
    depth=16,
    widen=4,
    width=1.0,
    input_shape=(32, 32, 3),
    num_classes=10,
    hah_layers=HAH_LAYERS,
    alphas=PAPER_ALPHAS[:HAH_LAYERS],
    input_mean=CIFAR10_MEAN,
    input_std=CIFAR10_STD,
    name="hah_wide_resnet",
    hah_options=None,
    **options,
):
    """WideResNet-`depth`-`widen` with HaH blocks on its first convs.

    As `hah_resnet` on the WideResNet skeleton: by default the stem and
    the first stage's four convs (WRN-16) are HaH convs.

    Args:
        depth: 6n + 4, the number of weight layers.
        widen: the widening factor k.
        width: positive float multiplying every conv's channels on top.
        input_shape: `(height, width, channels)`, height and width >= 8.
        num_classes: number of logits.
        hah_layers: int n (the first n convs) or 1-based conv indices.
        alphas: one float for all HaH layers, or one per HaH layer.
        input_mean: per-channel mean used to standardise inputs.
        input_std: per-channel standard deviation used to standardise inputs.
        name: the model's name.
        hah_options: a `HaHOptions` (None: the paper's), the blocks'
            options.
        **options: `HaHOptions` fields by name, over `hah_options`
            (`keep=0.3`, `hah_gradient="end_to_end"`, ...).

    Returns:
        A `HaHModel` of `(batch, *input_shape)` pixels to logits.

    Example:

    >>> keras_hebb.models.hah_wide_resnet(16, 1).output_shape
    (None, 10)
    """
    return sparse_resnet(
        block_plan(16, wide_resnet_stages(depth, widen), width),
        hah_layers,
        alphas,
        input_shape,
        num_classes,
        input_mean,
        input_std,
        name,
        HaHOptions.of(hah_options, **options),
    )
