import numpy as np
import pytest
from backend import input_gradient, on_tensorflow
from keras import ops

from keras_hebb.order_statistics import (
    MAX_K_FOR_ITERATED_MAX,
    _kth_smallest_by_bisection,
    _kth_smallest_by_top_k,
    float_of_keys,
    fused_on_tensorflow,
    kth_largest,
    kth_smallest_per_map,
    order_keys,
    top_k_sum,
)

pytestmark = pytest.mark.backends


def with_ties(rng, shape):
    """Random values rounded to a few levels, so most rows repeat values."""
    return np.round(rng.normal(size=shape), 1).astype("float32")


@pytest.mark.parametrize("k", [1, 2, 5, MAX_K_FOR_ITERATED_MAX, 9, 20])
def test_kth_largest_matches_sorting_with_ties(rng, k):
    x = with_ties(rng, (3, 5, 24))
    expected = -np.sort(-x, axis=-1)[..., k - 1 : k]
    np.testing.assert_array_equal(np.asarray(kth_largest(x, k)), expected)


def test_kth_largest_counts_infinities():
    x = np.array([[-np.inf, -np.inf, 5.0, 2.0]], "float32")
    assert [float(kth_largest(x, k)[0, 0]) for k in (1, 2, 3, 4)] == [
        5.0,
        2.0,
        -np.inf,
        -np.inf,
    ]


@pytest.mark.parametrize("k", [0, 25])
def test_kth_largest_rejects_k_outside_the_row(k):
    with pytest.raises(ValueError, match=f"k={k}"):
        kth_largest(np.ones((2, 24), "float32"), k)


@pytest.mark.parametrize("k", [1, 3, MAX_K_FOR_ITERATED_MAX, 12])
def test_top_k_sum_value_and_gradient_match_top_k(rng, k):
    x = rng.normal(size=(4, 6, 24)).astype("float32")

    def theirs(x):
        return ops.sum(ops.top_k(x, k)[0], axis=-1)

    np.testing.assert_allclose(top_k_sum(x, k), theirs(x), rtol=1e-6)
    np.testing.assert_array_equal(
        input_gradient(lambda x: top_k_sum(x, k), x), input_gradient(theirs, x)
    )


def test_top_k_sum_counts_ties_exactly_and_splits_their_gradient():
    x = np.array([[3.0, 1.0, 1.0, 1.0, 0.0]], "float32")
    assert float(top_k_sum(x, 3)[0]) == 5.0
    np.testing.assert_allclose(
        input_gradient(lambda x: top_k_sum(x, 3), x), [[1, 2 / 3, 2 / 3, 2 / 3, 0]]
    )


@pytest.mark.parametrize("keep_fraction", [0.05, 0.5, 0.95])
def test_kth_smallest_per_map_matches_sorting(rng, keep_fraction):
    x = with_ties(rng, (2, 5, 7, 3))
    k = max(1, int(keep_fraction * 35))
    maps = x.transpose(0, 3, 1, 2).reshape(2, 3, 35)
    expected = np.sort(maps, axis=-1)[..., k - 1][:, None, None, :]
    np.testing.assert_array_equal(np.asarray(kth_smallest_per_map(x, k)), expected)


def sorted_kth_per_map(x, k):
    """The NumPy reference: the k-th of each (sample, channel) map, sorted."""
    b, h, w, c = x.shape
    maps = x.transpose(0, 3, 1, 2).reshape(b, c, h * w)
    return np.sort(maps, axis=-1)[..., k - 1][:, None, None, :]


def awkward_maps(rng):
    """Maps of ties, zeros (signed), negatives, infinities, tiny values and
    constants (no subnormals: TensorFlow flushes them to zero on CPU)."""
    x = with_ties(rng, (3, 4, 5, 6))
    x[0, :, :, 0] = 0.0  # all zeros
    x[1, :, :, 0] = 2.5  # constant
    x[2, :, :, 0] = np.maximum(x[2, :, :, 0], 0)  # rectified: many zeros
    x[0, :2, :, 1] = -0.0
    x[1, 0, 0, 2], x[2, 0, 0, 2] = np.inf, -np.inf
    x[:, :, :, 3] = np.abs(x[:, :, :, 3]) * 1e-30  # tiny
    return x


@pytest.mark.parametrize("kth", [_kth_smallest_by_bisection, _kth_smallest_by_top_k])
@pytest.mark.parametrize("k", [1, 2, 10, 16, 19, 20])
def test_both_kth_smallest_paths_equal_sorting_on_awkward_maps(rng, kth, k):
    x = awkward_maps(rng)
    got = np.asarray(kth(x, k))
    np.testing.assert_array_equal(got, sorted_kth_per_map(x, k))


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_bisection_is_exact_in_half_precision(rng, dtype):
    x = ops.cast(awkward_maps(rng), dtype)
    reference = np.asarray(ops.cast(x, "float32"))
    for k in (1, 7, 20):
        got = _kth_smallest_by_bisection(x, k)
        assert ops.dtype(got) == dtype
        np.testing.assert_array_equal(
            np.asarray(ops.cast(got, "float32")), sorted_kth_per_map(reference, k)
        )


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_order_keys_order_as_the_floats_do(dtype):
    values = np.array([-np.inf, -3.0, -1e-30, -0.0, 0.0, 1e-30, 1.0, np.inf])
    x = ops.cast(values, dtype)
    keys = np.asarray(order_keys(x)).astype("int64")
    assert list(keys) == sorted(keys) and len(set(keys)) == len(keys)
    np.testing.assert_array_equal(
        np.asarray(ops.cast(float_of_keys(order_keys(x), dtype), "float32")),
        np.asarray(ops.cast(x, "float32")),
    )


def test_a_fused_trace_for_any_batch_size_does_not_serve_a_known_one():
    """Reused inside an XLA-compiled training step, a trace made for batches
    of any size made XLA constant-fold the whole step on every step."""
    traced = []

    def double(x):
        traced.append(tuple(x.shape))
        return x * 2

    fused = fused_on_tensorflow(double)
    if not on_tensorflow():
        assert fused is double
        return
    import tensorflow as tf

    any_batch = tf.TensorSpec((None, 3), "float32")
    tf.function(fused, input_signature=[any_batch]).get_concrete_function()
    np.testing.assert_array_equal(fused(tf.ones((2, 3))), np.full((2, 3), 2.0))
    assert traced == [(None, 3), (2, 3)]
