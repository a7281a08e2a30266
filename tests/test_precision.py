"""`training.precision`: mixed bfloat16 reaches every network, the layers stay
within bfloat16's tolerance of float32, and the selections stay exact."""

import keras
import numpy as np
import pytest
from keras import ops
from test_architectures import compiled, tiny

from keras_hebb import layers
from keras_hebb.hah import hah_score
from keras_hebb.models.registry import NETWORKS
from keras_hebb.precision import check_precision, precision_policy
from keras_hebb.run.config import ConfigError, load_config
from keras_hebb.run.networks import build_network
from keras_hebb.run.setting import training_setting

# bfloat16 keeps 8 significant bits: a relative error of 2**-8 per rounding.
BFLOAT16_RTOL = 2**-6


def rectified(rng, shape):
    return np.maximum(rng.normal(size=shape), 0).astype("float32")


@pytest.mark.parametrize("name", sorted(NETWORKS))
@pytest.mark.slow
def test_mixed_bfloat16_reaches_every_layer_of_every_network(name, rng):
    with precision_policy("mixed_bfloat16"):
        model = compiled(tiny(name))
    assert keras.config.dtype_policy().name == "float32"
    computing = [layer for layer in model.layers if layer.name != "pixels"]
    assert {layer.name for layer in computing if layer.compute_dtype != "bfloat16"} == {
        "logits"
    }
    assert model.get_layer("logits").compute_dtype == "float32"
    assert all(weight.dtype == "float32" for weight in model.weights)
    x = rng.uniform(size=(4, *model.input_shape[1:])).astype("float32")
    assert ops.dtype(model(x)) == "float32"
    history = model.fit(x, np.arange(4) % 3, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_the_configured_precision_builds_the_network():
    config = load_config("smoke", overrides=["training.precision=mixed_bfloat16"])
    model = build_network(config, "hah", seed=1)
    assert model.get_layer("conv7").compute_dtype == "bfloat16"
    assert keras.config.dtype_policy().name == "float32"
    setting = training_setting(config, "hah", seed=1)
    assert setting["training"]["precision"] == "mixed_bfloat16"


def test_float32_leaves_the_recorded_setting_as_before():
    """Run folders trained before the key existed still resume."""
    setting = training_setting(load_config("smoke"), "hah", seed=1)
    assert "precision" not in setting["training"]


def test_an_unknown_precision_is_refused_by_name():
    with pytest.raises(ConfigError, match=r"training.precision: 'float16' is not"):
        load_config("smoke", overrides=["training.precision=float16"])
    with pytest.raises(ValueError, match=r"Received: precision='half'"):
        check_precision("half")


def in_both_precisions(make_layer, x):
    """The outputs of one layer's float32 and mixed bfloat16 versions, with the
    same weights."""
    outputs, weights = [], None
    for precision in ("float32", "mixed_bfloat16"):
        with precision_policy(precision):
            layer = make_layer()
        layer.build(x.shape)
        if weights is not None:
            layer.set_weights(weights)
        weights = layer.get_weights()
        outputs.append(np.asarray(ops.cast(layer(x), "float32")))
    return outputs


def test_divisive_normalization_stays_within_bfloat16_tolerance(rng):
    x = rectified(rng, (2, 8, 8, 16))
    for field in ("linf", "l1", "l2"):
        exact, mixed = in_both_precisions(
            lambda field=field: layers.DivisiveNormalization(0.1, field=field), x
        )
        np.testing.assert_allclose(mixed, exact, rtol=BFLOAT16_RTOL, atol=1e-6)


def test_implicit_norm_conv_stays_within_bfloat16_tolerance(rng):
    x = rng.normal(size=(2, 8, 8, 16)).astype("float32")
    exact, mixed = in_both_precisions(
        lambda: layers.ImplicitNormConv2D(8, 3, padding="same"), x
    )
    scale = np.abs(exact).max()
    np.testing.assert_allclose(mixed, exact, atol=4 * BFLOAT16_RTOL * scale)


def test_hah_cost_scores_in_float32_what_bfloat16_computed(rng):
    x = rng.normal(size=(2, 8, 8, 16)).astype("float32")
    with precision_policy("mixed_bfloat16"):
        wrapper = layers.HaHCost(
            layers.ImplicitNormConv2D(20, 3, padding="same"), alpha=1.0, ratio=0.1
        )
    outputs = wrapper(x)
    assert ops.dtype(outputs) == "bfloat16"
    (cost,) = wrapper.losses
    assert ops.dtype(cost) == "float32"
    expected = -hah_score(ops.cast(outputs, "float32"), ratio=0.1)
    np.testing.assert_array_equal(np.asarray(cost), np.asarray(expected))


def test_fractional_threshold_selects_exactly_on_its_bfloat16_input(rng):
    x = ops.cast(rectified(rng, (2, 10, 10, 4)), "bfloat16")
    with precision_policy("mixed_bfloat16"):
        threshold = layers.FractionalThreshold(keep=0.2)
    outputs = np.asarray(ops.cast(threshold(x), "float32"))
    values = np.asarray(ops.cast(x, "float32"))
    maps = values.transpose(0, 3, 1, 2).reshape(2, 4, 100)
    kth = np.sort(maps, axis=-1)[..., 79][:, None, None, :]
    np.testing.assert_array_equal(outputs, values * (values > kth))
