"""Exact k-th largest and k-th smallest values, the selections HaH layers need.

Both the HaH score (the K strongest channels at every position) and the
fractional threshold (the k-th smallest value of every channel map) need
one order statistic per row, not a sorted list. `ops.top_k` finds it but
costs a partial sort per row; for the few winners of a HaH score, K passes
of a max over the channels, compiled into one fused XLA loop, cost a
fraction of it (see `experiments/benchmark.py --ops`).
"""

import keras
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
    """
    if keras.backend.backend() != "tensorflow":
        return function
    import tensorflow as tf

    return tf.function(jit_compile=True)(function)


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


def kth_smallest_per_map(x, k):
    """k-th smallest value (1-indexed) of each (sample, channel) map.

    Args:
        x: tensor `(batch, height, width, channels)`.
        k: int in [1, height * width].

    Returns:
        Tensor `(batch, 1, 1, channels)`.
    """
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
