import numpy as np
import pytest
from backend import input_gradient
from keras import ops

from keras_hebb.order_statistics import (
    MAX_K_FOR_ITERATED_MAX,
    kth_largest,
    kth_smallest_per_map,
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
