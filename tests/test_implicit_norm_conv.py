import keras
import numpy as np
import pytest
from backend import numpy
from reference import implicit_norm_conv

from keras_hebb.layers import ImplicitNormConv2D

pytestmark = pytest.mark.backends


def built_layer(filters, kernel, **kwargs):
    layer = ImplicitNormConv2D(filters, kernel.shape[:2], **kwargs)
    layer.build((None, 9, 7, kernel.shape[2]))
    layer.kernel.assign(kernel)
    return layer


@pytest.mark.parametrize(
    "shape, strides, padding",
    [((2, 9, 7, 3), 1, "same"), ((2, 9, 7, 3), 2, "valid"), ((1, 5, 5, 1), 1, "valid")],
)
def test_matches_reference(rng, shape, strides, padding):
    x = rng.normal(size=shape).astype("float32")
    kernel = rng.normal(size=(3, 3, shape[-1], 4)).astype("float32")
    layer = built_layer(4, kernel, strides=strides, padding=padding)
    expected = implicit_norm_conv(x, kernel, stride=strides, padding=padding)
    np.testing.assert_allclose(numpy(layer(x)), expected, rtol=1e-4, atol=1e-5)


def test_all_zero_input_gives_zero(rng):
    kernel = rng.normal(size=(3, 3, 2, 4)).astype("float32")
    layer = built_layer(4, kernel, padding="same")
    assert np.all(keras.ops.convert_to_numpy(layer(np.zeros((1, 9, 7, 2)))) == 0)


def test_positive_filter_scaling_leaves_outputs_unchanged(rng):
    x = rng.normal(size=(2, 9, 7, 3)).astype("float32")
    kernel = rng.normal(size=(3, 3, 3, 5)).astype("float32")
    layer = built_layer(5, kernel, padding="same")
    before = keras.ops.convert_to_numpy(layer(x))
    scales = np.array([0.01, 0.5, 1.0, 7.0, 300.0], "float32")
    layer.kernel.assign(kernel * scales)
    np.testing.assert_allclose(numpy(layer(x)), before, rtol=1e-4, atol=1e-5)


def test_channels_first_matches_channels_last(rng):
    x = rng.normal(size=(2, 9, 7, 3)).astype("float32")
    kernel = rng.normal(size=(3, 3, 3, 4)).astype("float32")
    last = built_layer(4, kernel, padding="same")
    first = ImplicitNormConv2D(4, 3, padding="same", data_format="channels_first")
    first.build((None, 3, 9, 7))
    first.kernel.assign(kernel)
    y_first = keras.ops.convert_to_numpy(first(np.transpose(x, (0, 3, 1, 2))))
    np.testing.assert_allclose(
        np.transpose(y_first, (0, 2, 3, 1)), numpy(last(x)), rtol=1e-5
    )


def test_config_round_trip_and_output_shape():
    layer = ImplicitNormConv2D(6, 3, strides=2, padding="same", epsilon=1e-4, name="c")
    config = layer.get_config()
    assert "use_bias" not in config and config["epsilon"] == 1e-4
    clone = ImplicitNormConv2D.from_config(config)
    assert clone.get_config() == config
    assert clone.compute_output_shape((None, 9, 7, 3)) == (None, 5, 4, 6)


@pytest.mark.parametrize(
    "kwargs, message",
    [({"use_bias": True}, "use_bias"), ({"epsilon": 0.0}, "epsilon=0.0")],
)
def test_bad_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ImplicitNormConv2D(4, 3, **kwargs)
