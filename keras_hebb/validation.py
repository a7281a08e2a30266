"""Checks of the images and labels that users hand to keras_hebb.

keras_hebb models take channels-last float images `(n, height, width,
channels)` with pixels in [0, 1] and integer class ids in
`[0, num_classes)`. The checks here turn anything else into an
`InvalidInputError` that names the bad value, before any training or
evaluation starts, instead of a NaN loss or a silently wrong accuracy later.

uint8 images are accepted and converted to float32 by dividing by 255 (the
one conversion keras_hebb makes on its own); float images are cast to
float32; any other dtype is refused.

Example:

>>> images, labels = check_model_inputs(model, x, y)
"""

import math

import numpy as np
import tensorflow as tf
from keras import ops

CHANNEL_COUNTS = (1, 3, 4)


class InvalidInputError(ValueError):
    """Raised when images or labels do not fit what a keras_hebb model takes."""


def check_positive_int(name, value):
    """Raises a `ValueError` naming argument `name` unless `value` is an int >= 1."""
    if not isinstance(value, int) or value < 1:
        raise ValueError(f"`{name}` must be a positive int. Received: {name}={value!r}")


def check_positive_float(name, value):
    """Raises a `ValueError` naming argument `name` unless `value` is a finite
    number > 0."""
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise ValueError(
            f"`{name}` must be a positive float. Received: {name}={value!r}"
        )


def channels_first_hint(shape):
    """A sentence for `(n, c, h, w)` shapes with few channels first, else ""."""
    if (
        len(shape) == 4
        and shape[1] in CHANNEL_COUNTS
        and shape[3] not in (CHANNEL_COUNTS)
    ):
        channels_last = (shape[0], shape[2], shape[3], shape[1])
        return (
            " This looks like channels-first data; keras_hebb takes channels-last "
            f"{channels_last}: use np.transpose(images, (0, 2, 3, 1))."
        )
    return ""


def check_images(images, image_shape=None, name="images"):
    """Checks a batch of images; returns it as float32 in [0, 1].

    Args:
        images: array-like `(n, height, width, channels)`, float in [0, 1] or
            uint8 in [0, 255] (divided by 255).
        image_shape: the expected `(height, width, channels)`; entries that
            are `None` are not checked. `None` checks only the rank.
        name: how messages call the array.

    Returns:
        float32 NumPy array of the same shape.

    Raises:
        InvalidInputError: naming the wrong rank, shape, dtype, or the first
            non-finite or out-of-range value.

    Example:

    >>> check_images(np.zeros((2, 32, 32, 3), "uint8"), (32, 32, 3)).dtype
    dtype('float32')
    """
    array = np.asarray(images)
    if array.ndim != 4:
        single = " (one image? add a batch axis)" if array.ndim == 3 else ""
        raise InvalidInputError(
            f"`{name}` must have rank 4, (n, height, width, channels). Received "
            f"shape {array.shape}{single}."
        )
    if len(array) == 0:
        raise InvalidInputError(f"`{name}` is empty: shape {array.shape}.")
    if image_shape is not None and any(
        want is not None and want != got
        for want, got in zip(image_shape, array.shape[1:])
    ):
        expected = ("n", *(d if d is not None else "any" for d in image_shape))
        raise InvalidInputError(
            f"`{name}` have shape {array.shape}; the model takes "
            f"({', '.join(map(str, expected))}).{channels_first_hint(array.shape)}"
        )
    if array.dtype == np.uint8:
        return array.astype("float32") / 255.0
    if not np.issubdtype(array.dtype, np.floating):
        raise InvalidInputError(
            f"`{name}` must be float in [0, 1] (or uint8 in [0, 255]). Received "
            f"dtype {array.dtype}."
        )
    array = array.astype("float32")
    check_finite(array, name)
    low, high = float(array.min()), float(array.max())
    if low < 0.0 or high > 1.0:
        bad = np.unravel_index(np.argmax((array < 0) | (array > 1)), array.shape)
        scale = " They look like 0-255 pixels: divide by 255." if high > 2.0 else ""
        raise InvalidInputError(
            f"`{name}` must be in [0, 1]. Received values in [{low:g}, {high:g}], "
            f"e.g. {array[bad]:g} at index {tuple(map(int, bad))}.{scale}"
        )
    return array


def check_finite(array, name):
    """Raises InvalidInputError naming the count and first index of NaN/inf."""
    finite = np.isfinite(array)
    if not finite.all():
        bad = np.unravel_index(np.argmin(finite), array.shape)
        raise InvalidInputError(
            f"`{name}` hold {int(array.size - finite.sum())} non-finite values, "
            f"the first {array[bad]} at index {tuple(map(int, bad))}."
        )


def check_labels(labels, num_classes, count=None, name="labels"):
    """Checks integer class ids; returns them as an int32 array `(n,)`.

    Args:
        labels: array-like `(n,)` (or `(n, 1)`) of class ids, integers or
            whole-valued floats.
        num_classes: labels must be in `[0, num_classes)`.
        count: the number of images they label, if known.
        name: how messages call the array.

    Example:

    >>> check_labels([0, 9, 3], num_classes=10)
    array([0, 9, 3], dtype=int32)
    """
    array = np.asarray(labels)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        one_hot = (
            " They look one-hot: pass np.argmax(labels, axis=-1)."
            if array.ndim == 2 and array.shape[1] == num_classes
            else ""
        )
        raise InvalidInputError(
            f"`{name}` must be class ids of shape (n,). Received shape "
            f"{array.shape}.{one_hot}"
        )
    if count is not None and len(array) != count:
        raise InvalidInputError(
            f"`{name}` must hold one label each: {len(array)} labels for "
            f"{count} images."
        )
    if np.issubdtype(array.dtype, np.floating):
        check_finite(array, name)
        if np.any(array != np.round(array)):
            raise InvalidInputError(
                f"`{name}` must be whole class ids. Received e.g. "
                f"{array[np.argmax(array != np.round(array))]}."
            )
    elif not np.issubdtype(array.dtype, np.integer):
        raise InvalidInputError(
            f"`{name}` must be integer class ids. Received dtype {array.dtype}."
        )
    outside = (array < 0) | (array >= num_classes)
    if outside.any():
        index = int(np.argmax(outside))
        raise InvalidInputError(
            f"`{name}` must be in [0, {num_classes}). Received {array[index]} at "
            f"index {index} ({int(outside.sum())} labels out of range)."
        )
    return array.astype("int32")


def model_image_shape(model):
    """The `(height, width, channels)` a single-input model takes."""
    return tuple(model.input_shape[1:])


def check_model_inputs(model, images, labels=None):
    """Checks images (and labels) against what `model` takes.

    The image shape comes from `model.input_shape`, the number of classes
    from the last axis of `model.output_shape` (a logits model).

    Returns:
        `(images, labels)`: float32 images in [0, 1] and int32 labels (or
        `None` when `labels` is `None`).
    """
    images = check_images(images, model_image_shape(model))
    if labels is None:
        return images, None
    return images, check_labels(labels, model.output_shape[-1], len(images))


def assert_valid_batch(images, labels, num_classes):
    """In-graph check of a `tf.data` batch: finite images in [0, 1], labels in range.

    Uses `tf.debugging` asserts (Keras has no assert op), so a bad batch
    stops the pipeline with an `InvalidArgumentError` naming the check.

    Args:
        images: float tensor `(batch, height, width, channels)`.
        labels: int tensor `(batch,)`.
        num_classes: labels must be in `[0, num_classes)`.

    Returns:
        `(images, labels)` unchanged, for `dataset.map(...)`.
    """
    low, high = ops.min(images), ops.max(images)
    checks = [
        tf.debugging.assert_equal(
            ops.all(ops.isfinite(images)), True, message="images hold NaN or inf"
        ),
        tf.debugging.assert_greater_equal(
            low, 0.0, message="images must be in [0, 1]; minimum:"
        ),
        tf.debugging.assert_less_equal(
            high, 1.0, message="images must be in [0, 1]; maximum:"
        ),
        tf.debugging.assert_greater_equal(
            ops.min(labels), ops.cast(0, labels.dtype), message="negative label:"
        ),
        tf.debugging.assert_less(
            ops.max(labels),
            ops.cast(num_classes, labels.dtype),
            message=f"labels must be < num_classes={num_classes}; maximum:",
        ),
    ]
    with tf.control_dependencies(checks):
        return tf.identity(images), tf.identity(labels)
