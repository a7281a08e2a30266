"""Exact k-th largest and k-th smallest values, the selections HaH layers need.

Both the HaH score (the K strongest channels at every position) and the
fractional threshold (the k-th smallest value of every channel map) need
one order statistic per row, not a sorted list. `ops.top_k` finds it but
costs a partial sort per row; for the few winners of a HaH score, K passes
of a max over the channels, compiled into one fused XLA loop, cost a
fraction of it (see `experiments/benchmark.py --ops`).
"""

import functools
import math

import keras
import numpy as np
from keras import ops

# Up to this K the K passes of a fused max beat `top_k` on CPU (measured on
# (128, H, W, C) activations: K=2 8x faster, K=7 as fast, K=13 1.6x slower).
MAX_K_FOR_ITERATED_MAX = 8


def kth_largest(x, k):
    """The k-th largest value along the last axis, counting repeated values.

    Args:
        x: float tensor `(..., n)`.
        k: int in [1, n].

    Returns:
        Tensor `(..., 1)`, not differentiable (wrap it in `stop_gradient`).

    Example:

    >>> np.asarray(kth_largest(np.array([[3.0, 5.0, 5.0, 1.0]]), 2))
    array([[5.]])
    """
    if not 1 <= k <= x.shape[-1]:
        raise ValueError(
            f"`k` must be in [1, {x.shape[-1]}] for {x.shape[-1]} values. "
            f"Received: k={k}"
        )
    if k <= MAX_K_FOR_ITERATED_MAX:
        return _kth_largest_by_iterated_max(ops.convert_to_tensor(x), k)
    return ops.min(ops.top_k(x, k, sorted=False)[0], axis=-1, keepdims=True)


def fused_on_tensorflow(function):
    """`function` compiled by XLA as a whole on TensorFlow; as it is elsewhere.

    Keras has no way to compile one function with XLA inside a model that is
    not compiled as a whole, hence `tf.function` on TensorFlow: the K passes
    fuse into one loop over the data instead of 3K passes through memory.
    JAX compiles the whole training step (`jax.jit`), which fuses them.

    Each static type of the arguments (shapes, dtypes, Python values) gets a
    `tf.function` of its own. One shared `tf.function` would serve a call
    with a trace made for a more general type: after a probe had traced it
    for batches of any size (`keras_hebb.probes.batch_function`), the
    XLA-compiled training step of a HaH network called that trace, and XLA
    then constant-folded the step's convolutions and pools on every step (a
    4-epoch test of a tiny VGG took 25 minutes instead of 13 s).
    """
    if keras.backend.backend() != "tensorflow":
        return function
    import tensorflow as tf

    compiled = {}

    @functools.wraps(function)
    def call(*args):
        key = tuple(static_type(arg) for arg in args)
        if key not in compiled:
            compiled[key] = tf.function(jit_compile=True)(function)
        return compiled[key](*args)

    return call


def static_type(value):
    """What a trace of `value` depends on: a tensor's shape (None where its
    rank is unknown) and dtype, or the value itself."""
    if not hasattr(value, "shape"):
        return value
    rank = getattr(value.shape, "rank", len(value.shape))
    return None if rank is None else tuple(value.shape), str(value.dtype)


@fused_on_tensorflow
def _kth_largest_by_iterated_max(x, k):
    """K passes, each taking the current maximum and removing its copies.

    Before pass i, `taken` counts the values strictly greater than that
    pass's maximum `m`; the k-th largest is the last `m` with `taken < k`.
    """
    remaining = x
    kth = ops.max(x, axis=-1, keepdims=True)
    taken = ops.zeros_like(kth)
    for _ in range(k):
        maximum = ops.max(remaining, axis=-1, keepdims=True)
        is_maximum = ops.equal(remaining, maximum)
        kth = ops.where(taken < k, maximum, kth)
        taken = taken + ops.sum(ops.cast(is_maximum, x.dtype), axis=-1, keepdims=True)
        remaining = ops.where(is_maximum, float("-inf"), remaining)
    return kth


def top_k_sum(x, k):
    """Sum of the k largest values along the last axis, with top-k's gradient.

    The value is `sum(x > v) + v * (k - count(x > v))` with `v` the k-th
    largest value, so repeated values at `v` count as often as top-k takes
    them. The gradient is 1 for the values above `v` and the remaining share
    `(k - count(x > v)) / count(x == v)` for each value equal to `v`; where
    top-k's gradient picks some of the tied values, this one splits evenly.

    Args:
        x: float tensor `(..., n)`.
        k: int in [1, n].

    Returns:
        Tensor `(...)`.
    """
    x = ops.convert_to_tensor(x)
    kth = ops.stop_gradient(kth_largest(x, k))
    return _sum_weighted_by_rank(x, kth, k)


@fused_on_tensorflow
def _sum_weighted_by_rank(x, kth, k):
    """`top_k_sum` given the k-th largest value, fused into one XLA pass.

    The value adds `v` once per tie top-k takes (exact for repeated values);
    the gradient comes from `x * weights`, whose value cancels out.
    """
    above = ops.cast(x > kth, x.dtype)
    at = ops.cast(ops.equal(x, kth), x.dtype)
    num_above = ops.sum(above, axis=-1, keepdims=True)
    share_at = (k - num_above) / ops.sum(at, axis=-1, keepdims=True)
    weighted = ops.sum(x * ops.stop_gradient(above + at * share_at), axis=-1)
    value = ops.sum(x * above, axis=-1) + ops.squeeze(kth * (k - num_above), -1)
    return ops.stop_gradient(value) + (weighted - ops.stop_gradient(weighted))


# The integer type whose bit patterns order each float type (see `order_keys`).
KEY_DTYPES = {"float32": "int32", "float16": "int16", "bfloat16": "int16"}
# Up to this many values per sample, bisection on the bit patterns beats
# `top_k` for the k-th smallest of each map on CPU (measured at batch 128 by
# `experiments/benchmark.py --ops`: float32 (32, 32, 16) 1.6x faster,
# (32, 32, 64) 1.3x slower; bfloat16, in half the passes, 2.3x to 5x faster
# at every shape of VGG16's HaH layers up to full width).
MAX_VALUES_PER_SAMPLE_FOR_BISECTION = {"int32": 16384, "int16": math.inf}


def order_keys(x):
    """Integers of `x`'s bit patterns that order as the floats `x` do.

    A float's bits read as a signed integer order the non-negative floats;
    for negative ones the order runs backwards, which flipping all bits but
    the sign restores. -0.0 lands just below +0.0; a NaN lies beyond the
    infinity of its sign.

    Args:
        x: tensor of float32, float16 or bfloat16.

    Returns:
        Tensor of `x`'s shape, int32 for float32 and int16 otherwise.
    """
    key_dtype = KEY_DTYPES[keras.backend.standardize_dtype(x.dtype)]
    return flip_negatives(ops.view(x, key_dtype))


def float_of_keys(keys, dtype):
    """The floats of dtype `dtype` whose `order_keys` are `keys`."""
    return ops.view(flip_negatives(keys), dtype)


def flip_negatives(bits):
    """Negative integers with every bit but the sign flipped: the map between
    a float's bit pattern and its order key, which is its own inverse."""
    key_dtype = keras.backend.standardize_dtype(bits.dtype)
    magnitude = ops.cast(np.iinfo(key_dtype).max, key_dtype)
    return ops.where(bits < 0, ops.bitwise_xor(bits, magnitude), bits)


def kth_smallest_per_map(x, k):
    """k-th smallest value (1-indexed) of each (sample, channel) map.

    Exact, repeated values counted: the result is a value of the map.
    Small tensors are searched by bisection on the maps' bit patterns
    (`order_keys`), larger ones by `top_k`; both give the same value.

    Args:
        x: float tensor `(batch, height, width, channels)`.
        k: int in [1, height * width].

    Returns:
        Tensor `(batch, 1, 1, channels)` of `x`'s dtype.
    """
    x = ops.convert_to_tensor(x)
    key_dtype = KEY_DTYPES.get(keras.backend.standardize_dtype(x.dtype))
    per_sample = math.prod(x.shape[1:])
    if key_dtype and per_sample <= MAX_VALUES_PER_SAMPLE_FOR_BISECTION[key_dtype]:
        return _kth_smallest_by_bisection(x, k)
    return _kth_smallest_by_top_k(x, k)


@fused_on_tensorflow
def _kth_smallest_by_bisection(x, k):
    """One compare-and-count pass per bit, the sign bit first.

    `low` is always a key with fewer than k keys of its map below it; each
    pass tries `low` plus the next bit and keeps it if that still holds, so
    the last `low` is the largest such key: the k-th smallest. The passes
    reduce over height and width in place, without a transpose. After the
    sign bit they are one loop (`fori_loop`), which XLA compiles once
    instead of once per bit: a sixth of the compile time, the same speed.
    """
    keys = order_keys(x)
    key_dtype = keras.backend.standardize_dtype(keys.dtype)
    bits = np.iinfo(key_dtype).bits

    def keeping_if_fewer_than_k_below(candidate, low):
        below = ops.sum(ops.cast(keys < candidate, "int32"), axis=(1, 2), keepdims=True)
        return ops.where(below < k, candidate, low)

    def next_bit(step, low):
        bit = bits - 2 - step
        power = ops.cast(ops.left_shift(ops.cast(1, "int32"), bit), key_dtype)
        return keeping_if_fewer_than_k_below(low + power, low)

    smallest = ops.full_like(keys[:, :1, :1, :], np.iinfo(key_dtype).min)
    # The sign bit's step from the smallest key reaches 0.
    low = keeping_if_fewer_than_k_below(ops.zeros_like(smallest), smallest)
    low = ops.fori_loop(0, bits - 1, next_bit, low)
    return float_of_keys(low, x.dtype)


def _kth_smallest_by_top_k(x, k):
    """The k-th smallest of each map from `top_k` over the maps' values."""
    maps = ops.transpose(x, (0, 3, 1, 2))
    maps = ops.reshape(maps, (-1, x.shape[3], x.shape[1] * x.shape[2]))
    size = maps.shape[-1]
    # The k-th smallest is the (size - k + 1)-th largest: ask top_k for the
    # shorter of the two lists.
    if k <= size - k + 1:
        kth = -ops.min(ops.top_k(-maps, k, sorted=False)[0], axis=-1)
    else:
        kth = ops.min(ops.top_k(maps, size - k + 1, sorted=False)[0], axis=-1)
    return ops.expand_dims(ops.expand_dims(kth, 1), 1)
