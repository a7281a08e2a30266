"""Read-outs of a network's internal tensors, conv block by conv block.

A conv block is a conv (a `keras.layers.Conv2D`, or a `HaHCost`, which
counts as the conv it wraps) with the layers its output flows through up to
the next conv, Dense, pooling or Flatten layer. Blocks are found at any
depth (functional or Sequential models used as layers, subclassed layers)
and in data-flow order, not in `model.layers` order: `layer_calls` runs the
model once, recording every call of its innermost layers with the tensors
that go in and out, and a tensor that one call returns and another takes
links the two. Layers that hold other layers are looked through; a raw op
between two layers (`x + y` in a subclassed block's `call` instead of an
`Add` layer) ends the data flow that the probes can follow.
"""

import collections

import keras
import numpy as np
import tensorflow as tf

from keras_hebb._compat import nested_layers, replaced_calls
from keras_hebb.layers import THRESHOLDS
from keras_hebb.layers.hah_cost import HaHCost

CONVS = (HaHCost, keras.layers.Conv2D)
# The layers that end a conv block: its activation is read before them.
BLOCK_ENDS = CONVS + (
    keras.layers.Dense,
    keras.layers.Flatten,
    keras.layers.MaxPooling2D,
    keras.layers.AveragePooling2D,
    keras.layers.GlobalMaxPooling2D,
    keras.layers.GlobalAveragePooling2D,
)

Call = collections.namedtuple("Call", "layer inputs outputs")
Call.__doc__ = """One call of a layer: the layer, and its positional inputs'
and its outputs' tensors, each flattened into a list."""

ConvBlock = collections.namedtuple("ConvBlock", "name conv input activation sparse")
ConvBlock.__doc__ = """A conv block in one forward pass: the conv's name
(`conv_name`), the conv layer, its input tensor, the block's activation
tensor (None if the block has no threshold or ReLU), and whether the block
is sparse (it has a HaH cost or a threshold)."""


def conv_name(layer):
    """The conv's own name: a `HaHCost` is named after the conv it wraps."""
    return layer.layer.name if isinstance(layer, HaHCost) else layer.name


def applies_relu(layer):
    """Whether `layer` is a ReLU: a `ReLU` layer, `Activation("relu")`, or a
    conv or Dense layer with `activation="relu"` (a `HaHCost` if its conv has)."""
    if isinstance(layer, HaHCost):
        layer = layer.layer
    return (
        isinstance(layer, keras.layers.ReLU)
        or getattr(layer, "activation", None) is keras.activations.relu
    )


def recorded_layers(model):
    """The layers whose calls `layer_calls` records: the innermost layers of
    `model` at any depth, with each `HaHCost` as one layer (its conv is not
    recorded on its own)."""
    layers = nested_layers(model)
    wrapped = {
        id(inner)
        for layer in layers
        if isinstance(layer, HaHCost)
        for inner in nested_layers(layer)
    }
    return [
        layer
        for layer in layers
        if id(layer) not in wrapped
        and (isinstance(layer, HaHCost) or not nested_layers(layer))
    ]


def tensors_in(structure):
    """The tensors of a nested structure of call arguments, as a flat list."""
    return [item for item in keras.tree.flatten(structure) if keras.ops.is_tensor(item)]


def layer_calls(model, images):
    """Runs `model(images, training=False)` and records its layers' calls.

    Args:
        model: a Keras model.
        images: a batch of model inputs, `(batch, height, width, channels)`.

    Returns:
        A list of `Call`s of the layers of `recorded_layers(model)`, in the
        order they ran.
    """
    calls = []

    def recording(layer, call):
        def recorded_call(*args, **kwargs):
            outputs = call(*args, **kwargs)
            calls.append(Call(layer, tensors_in(args), tensors_in(outputs)))
            return outputs

        return recorded_call

    with replaced_calls(recorded_layers(model), recording):
        model(images, training=False)
    return calls


def takers_of(calls):
    """dict id of a tensor -> indices in `calls` of the calls that take it."""
    takers = collections.defaultdict(list)
    for index, call in enumerate(calls):
        for tensor in call.inputs:
            takers[id(tensor)].append(index)
    return takers


def reached_calls(calls, takers, start):
    """The calls that the outputs of `calls[start]` flow through before a
    block end (a conv, Dense, pooling or Flatten layer), in running order;
    `takers` is `takers_of(calls)`.

    A tensor that a block end takes is the block's output: the calls that
    also take it (a residual shortcut) belong to the next block.
    """
    reached, tensors = set(), list(calls[start].outputs)
    while tensors:
        indices = takers.get(id(tensors.pop()), [])
        if any(isinstance(calls[i].layer, BLOCK_ENDS) for i in indices):
            continue
        for index in set(indices) - reached:
            reached.add(index)
            tensors.extend(calls[index].outputs)
    return [calls[index] for index in sorted(reached)]


def conv_block(conv_call, following):
    """The `ConvBlock` of a conv's call and the calls its output flows through.

    The activation is the last threshold's output, else the first ReLU's,
    else the conv's own output if the conv applies a ReLU.
    """
    thresholds = [call for call in following if isinstance(call.layer, THRESHOLDS)]
    relus = [call for call in following if applies_relu(call.layer)]
    own = [conv_call] if applies_relu(conv_call.layer) else []
    activations = thresholds[-1:] + relus[:1] + own
    return ConvBlock(
        name=conv_name(conv_call.layer),
        conv=conv_call.layer,
        input=conv_call.inputs[0],
        activation=activations[0].outputs[0] if activations else None,
        sparse=isinstance(conv_call.layer, HaHCost) or bool(thresholds),
    )


def kernel_area(conv):
    """The number of positions of a conv's kernel (of a `HaHCost`'s conv)."""
    conv = conv.layer if isinstance(conv, HaHCost) else conv
    return int(np.prod(conv.kernel_size))


def merged(blocks):
    """`blocks` with one block per activation: a conv whose output is summed
    into another conv's block (a ResNet's projection shortcut) is not a block
    of its own. Of the blocks that share an activation, the one kept is the
    HaH conv's, else the conv with the largest kernel, else the first run."""
    by_activation = collections.defaultdict(list)
    for block in blocks:
        if block.activation is not None:
            by_activation[id(block.activation)].append(block)
    dropped = set()
    for group in by_activation.values():
        kept = max(
            group,
            key=lambda b: (
                isinstance(b.conv, HaHCost),
                kernel_area(b.conv),
                -blocks.index(b),
            ),
        )
        dropped.update(id(block) for block in group if block is not kept)
    return [block for block in blocks if id(block) not in dropped]


def conv_blocks(model, images):
    """The conv blocks of one forward pass of `model` on `images`, in running order.

    Runs the model (call it inside a `tf.function` to read the tensors
    in a compiled pass). A projection shortcut summed into another conv's
    block is part of that block (see `merged`). Raises `ValueError` if the model has no conv, or
    if two conv calls share a name (a conv called twice, or two convs of the
    same name in different nested models): blocks are keyed by name.

    Returns:
        A list of `ConvBlock`s.
    """
    calls = layer_calls(model, images)
    takers = takers_of(calls)
    blocks = merged(
        [
            conv_block(call, reached_calls(calls, takers, index))
            for index, call in enumerate(calls)
            if isinstance(call.layer, CONVS)
        ]
    )
    if not blocks:
        raise ValueError(
            f"Model {model.name!r} has no conv layer (keras.layers.Conv2D or "
            "keras_hebb.layers.HaHCost) at any depth."
        )
    names = [block.name for block in blocks]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(
            f"In model {model.name!r}, convs {repeated} run more than once or "
            "share their names; the probes key conv blocks by name."
        )
    return blocks


def block_activations(model, images):
    """Each conv block's activation (see `conv_block`) in one forward pass.

    Returns:
        dict conv name -> activation tensor `(batch, height, width,
        channels)`, in running order, for the blocks that have one.
    """
    return {
        block.name: block.activation
        for block in conv_blocks(model, images)
        if block.activation is not None
    }


def conv_inputs(model, images):
    """Each conv's input in one forward pass.

    Returns:
        dict conv name -> input tensor `(batch, height, width, channels)`,
        in running order.
    """
    return {block.name: block.input for block in conv_blocks(model, images)}


def sparse_blocks(model):
    """Names of the conv blocks that carry a HaH cost or a threshold, found by
    layer type: the blocks the method makes sparse. Runs `model` once, eagerly,
    on one image of zeros shaped like its input."""
    if not getattr(model, "inputs", None):
        raise ValueError(
            f"Model {model.name!r} has no known input shape; sparse_blocks "
            "needs a functional or Sequential model built from keras.Input."
        )
    spec = model.inputs[0]
    images = keras.ops.zeros((1, *spec.shape[1:]), spec.dtype)
    return [block.name for block in conv_blocks(model, images) if block.sparse]


def batch_function(function, images):
    """`function` compiled with `tf.function` once for batches of any size
    shaped like `images` (`(n, height, width, channels)`) without retracing."""
    spec = tf.TensorSpec((None, *images.shape[1:]), images.dtype)
    return tf.function(function, input_signature=[spec])


def read_tensors(model, tensors_of, images, batch_size):
    """The tensors `tensors_of(model, batch)` (a dict name -> tensor, e.g.
    `block_activations`) for all `images`, one compiled forward pass a batch.

    Returns:
        dict name -> NumPy array with one row per image, `(n, ...)`.
    """
    (tensors,) = read_tensors_of_each(model, tensors_of, [images], batch_size)
    return tensors


def read_tensors_of_each(model, tensors_of, image_sets, batch_size):
    """`read_tensors` of each array of `image_sets` (all shaped alike but for
    their number of images), through one compiled function: the model's
    graph is walked and traced once, not once a set.

    Returns:
        list of dicts name -> NumPy array `(n, ...)`, one per set.
    """
    image_sets = [np.asarray(images) for images in image_sets]
    read = batch_function(lambda batch: tensors_of(model, batch), image_sets[0])

    def read_all(images):
        batches = [
            read(images[start : start + batch_size])
            for start in range(0, len(images), batch_size)
        ]
        return {
            name: np.concatenate([batch[name].numpy() for batch in batches])
            for name in batches[0]
        }

    return [read_all(images) for images in image_sets]
