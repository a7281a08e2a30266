import numpy as np
import pytest
from backend import input_gradient
from reference import divisive_normalization

from keras_hebb.layers import DivisiveNormalization

pytestmark = pytest.mark.backends


@pytest.mark.parametrize("field", ["linf", "l1", "l2"])
@pytest.mark.parametrize("shape", [(2, 8, 8, 4), (1, 5, 7, 1), (3, 3, 3, 6)])
def test_matches_reference(rng, field, shape):
    x = np.maximum(rng.normal(size=shape), 0).astype("float32")
    layer = DivisiveNormalization(sigma=0.1, field=field)
    expected = divisive_normalization(x, 0.1, 3, field)
    np.testing.assert_allclose(layer(x), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("field", ["linf", "l1", "l2"])
def test_signed_inputs_and_wider_pool_match_reference(rng, field):
    x = rng.normal(size=(2, 9, 6, 3)).astype("float32")
    layer = DivisiveNormalization(sigma=0.4, pool_size=5, field=field)
    expected = divisive_normalization(x, 0.4, 5, field)
    np.testing.assert_allclose(layer(x), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("field", ["linf", "l1", "l2"])
def test_all_zero_input_stays_zero_with_finite_gradient(field):
    x = np.zeros((1, 4, 4, 3), "float32")
    layer = DivisiveNormalization(field=field)
    assert np.all(np.asarray(layer(x)) == 0)
    assert np.all(np.isfinite(input_gradient(layer, x)))


def test_config_round_trip():
    layer = DivisiveNormalization(sigma=0.3, pool_size=5, field="l2", name="dn")
    clone = DivisiveNormalization.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert clone.compute_output_shape((None, 4, 5, 6)) == (None, 4, 5, 6)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"sigma": -0.1}, "sigma=-0.1"),
        ({"sigma": 1.5}, "sigma=1.5"),
        ({"pool_size": 2}, "pool_size=2"),
        ({"pool_size": 0}, "pool_size=0"),
        ({"field": "l3"}, "field='l3'"),
        ({"data_format": "channels_first"}, "channels_first"),
    ],
)
def test_bad_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DivisiveNormalization(**kwargs)


def test_wrong_rank_raises():
    with pytest.raises(ValueError, match="ndim=4"):
        DivisiveNormalization()(np.ones((2, 8, 3), "float32"))


def test_straight_through_keeps_forward_and_freezes_the_divisor(rng):
    x = np.maximum(rng.normal(size=(2, 5, 5, 3)), 0).astype("float32")
    plain = DivisiveNormalization(sigma=0.2)
    through = DivisiveNormalization(sigma=0.2, straight_through=True)
    y = np.asarray(through(x))
    np.testing.assert_array_equal(y, plain(x))
    divisor = x / np.where(y == 0, 1, y)
    gradient = input_gradient(through, x)
    positive = x > 0
    np.testing.assert_allclose(gradient[positive], 1 / divisor[positive], rtol=1e-5)
