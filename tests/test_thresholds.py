import math

import numpy as np
import pytest
from backend import input_gradient, numpy
from reference import adaptive_threshold, fractional_threshold

from keras_hebb.layers import AdaptiveThreshold, FractionalThreshold

pytestmark = pytest.mark.backends


@pytest.mark.parametrize(
    "shape, keep",
    [
        ((2, 8, 8, 4), 0.2),
        ((1, 5, 7, 1), 0.2),
        ((3, 32, 32, 2), 0.2),
        ((2, 4, 4, 3), 0.9),
    ],
)
def test_fractional_matches_reference(rng, shape, keep):
    x = rng.normal(size=shape).astype("float32")
    y = np.asarray(FractionalThreshold(keep)(x))
    np.testing.assert_array_equal(y, fractional_threshold(x, keep))


def test_fractional_keeps_values_above_kth_smallest_per_map(rng):
    x = rng.normal(size=(2, 6, 5, 3)).astype("float32")
    y = np.asarray(FractionalThreshold(0.2)(x))
    k = math.floor(0.8 * 30)
    for b in range(2):
        for c in range(3):
            values = x[b, :, :, c]
            kth = np.sort(values.ravel())[k - 1]
            np.testing.assert_array_equal(y[b, :, :, c] != 0, values > kth)
            assert np.count_nonzero(y[b, :, :, c]) == 30 - k


def test_fractional_ties_at_threshold_are_dropped():
    x = np.zeros((1, 4, 4, 1), "float32")
    x[0, 0, :2, 0] = [5.0, 3.0]
    # k = floor(0.8 * 16) = 12: the 12th smallest is 0, so only 5 and 3 stay,
    # not the 4 that keep=0.25 would suggest.
    y = np.asarray(FractionalThreshold(0.25)(x))
    np.testing.assert_array_equal(y, x)
    assert np.count_nonzero(FractionalThreshold(0.2)(np.ones((1, 4, 4, 2)))) == 0


def test_fractional_all_zero_and_single_value_maps():
    assert np.count_nonzero(FractionalThreshold()(np.zeros((2, 4, 4, 3)))) == 0
    x = np.full((2, 1, 1, 3), 2.0, "float32")
    np.testing.assert_array_equal(FractionalThreshold()(x), x)


def test_fractional_gradient_is_the_mask(rng):
    x = rng.normal(size=(2, 5, 5, 2)).astype("float32")
    layer = FractionalThreshold(0.2)
    y = np.asarray(layer(x))
    gradient = input_gradient(layer, x)
    np.testing.assert_array_equal(gradient, (y != 0).astype("float32"))


def test_fractional_reports_nonzero_fraction(rng):
    layer = FractionalThreshold(0.25)
    y = numpy(layer(rng.normal(size=(2, 8, 8, 3)).astype("float32")))
    second = numpy(layer(rng.normal(size=(2, 8, 8, 3)).astype("float32")))
    expected = (np.count_nonzero(y) + np.count_nonzero(second)) / (2 * np.size(y))
    assert [m.name for m in layer.metrics] == [f"{layer.name}_nonzero"]
    assert float(layer.statistics["nonzero"].result()) == pytest.approx(expected)


def test_adaptive_matches_reference(rng):
    x = rng.normal(size=(2, 7, 5, 3)).astype("float32")
    for scale in (0.0, 1.0, 2.5):
        y = np.asarray(AdaptiveThreshold(scale)(x))
        np.testing.assert_array_equal(y, adaptive_threshold(x, scale))
    assert np.count_nonzero(AdaptiveThreshold()(np.zeros((1, 3, 3, 2)))) == 0


@pytest.mark.parametrize("layer", [FractionalThreshold, AdaptiveThreshold])
def test_config_round_trip(layer):
    original = layer(name="t")
    clone = layer.from_config(original.get_config())
    assert clone.get_config() == original.get_config()
    assert clone.compute_output_shape((None, 4, 5, 6)) == (None, 4, 5, 6)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: FractionalThreshold(keep=0.0), "keep=0.0"),
        (lambda: FractionalThreshold(keep=1.2), "keep=1.2"),
        (lambda: FractionalThreshold(data_format="channels_first"), "channels_first"),
        (lambda: AdaptiveThreshold(scale=-1.0), "scale=-1.0"),
        (lambda: AdaptiveThreshold(scale=float("nan")), "scale=nan"),
    ],
)
def test_bad_arguments_raise(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_fractional_wrong_rank_raises():
    with pytest.raises(ValueError, match="ndim=4"):
        FractionalThreshold()(np.ones((2, 8), "float32"))


@pytest.mark.parametrize("layer", [FractionalThreshold, AdaptiveThreshold])
def test_straight_through_keeps_forward_and_passes_gradient(rng, layer):
    x = rng.normal(size=(2, 6, 6, 3)).astype("float32")
    through = layer(straight_through=True)
    np.testing.assert_array_equal(through(x), layer()(x))
    np.testing.assert_array_equal(input_gradient(through, x), np.ones(x.shape))
