import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_hebb
from keras_hebb.layers import HaHCost, ImplicitNormConv2D


def two_hah_convs(gradient):
    """input -> HaH(conv a) -> ReLU -> HaH(conv b): returns model, hah_a, hah_b."""
    inputs = keras.Input((8, 8, 3))
    hah_a = HaHCost(ImplicitNormConv2D(8, 3, padding="same"), 1.0, 0.25, name="a")
    hah_b = HaHCost(
        keras.layers.Conv2D(8, 3, padding="same"),
        1.0,
        0.25,
        gradient=gradient,
        name="b",
    )
    outputs = hah_b(keras.layers.ReLU()(hah_a(inputs)))
    return keras.Model(inputs, outputs), hah_a, hah_b


def cost_gradients(model, hah_a, hah_b, rng):
    """Gradients of layer b's HaH cost with respect to both kernels."""
    x = rng.normal(size=(4, 8, 8, 3)).astype("float32")
    kernels = [hah_a.layer.kernel, hah_b.layer.kernel]
    with tf.GradientTape() as tape:
        model(x)
        (cost_b,) = hah_b.losses
    return [g if g is None else g.numpy() for g in tape.gradient(cost_b, kernels)]


def test_local_cost_reaches_only_its_own_kernel(rng):
    grad_a, grad_b = cost_gradients(*two_hah_convs("local"), rng)
    assert grad_a is None or np.all(grad_a == 0)
    assert np.abs(grad_b).max() > 0


def test_end_to_end_cost_reaches_earlier_kernels(rng):
    grad_a, grad_b = cost_gradients(*two_hah_convs("end_to_end"), rng)
    assert np.abs(grad_a).max() > 0
    assert np.abs(grad_b).max() > 0


def test_local_and_end_to_end_agree_on_own_kernel_and_value(rng):
    local = two_hah_convs("local")
    end_to_end = two_hah_convs("end_to_end")
    end_to_end[0].set_weights(local[0].get_weights())
    x = rng.normal(size=(4, 8, 8, 3)).astype("float32")
    for model, _, hah_b in (local, end_to_end):
        model(x)
    assert float(local[2].losses[0]) == pytest.approx(
        float(end_to_end[2].losses[0]), rel=1e-6
    )


def test_adds_minus_alpha_times_score_as_loss(rng):
    dense = keras.layers.Dense(10)
    layer = HaHCost(dense, alpha=0.5, ratio=0.2, demote=0.5)
    x = rng.normal(size=(6, 4)).astype("float32")
    y = layer(x)
    np.testing.assert_allclose(y, dense(x), rtol=1e-6)
    expected = -0.5 * float(keras_hebb.hah_score(dense(x), 0.2, 0.5))
    assert len(layer.losses) == 1
    assert float(layer.losses[0]) == pytest.approx(expected, rel=1e-5)


def test_fit_minimises_cost_on_users_own_model(rng):
    inputs = keras.Input((6,))
    x = HaHCost(keras.layers.Dense(16), alpha=1.0, ratio=0.25, name="hah")(inputs)
    outputs = keras.layers.Dense(2)(keras.layers.ReLU()(x))
    model = keras_hebb.models.HaHModel(inputs, outputs)
    model.compile(
        keras.optimizers.Adam(0.01),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    data = rng.normal(size=(64, 6)).astype("float32")
    labels = (data[:, 0] > 0).astype("int32")
    history = model.fit(data, labels, epochs=5, batch_size=16, verbose=0).history
    assert history["hah_score"][-1] > history["hah_score"][0]
    assert history["hah_loss"][-1] == pytest.approx(-history["hah_score"][-1], rel=1e-2)


def test_config_round_trip():
    layer = HaHCost(
        ImplicitNormConv2D(8, 3),
        alpha=0.01,
        ratio=0.2,
        demote=0.5,
        gradient="end_to_end",
        name="h",
    )
    clone = HaHCost.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert isinstance(clone.layer, ImplicitNormConv2D)
    assert clone.compute_output_shape((None, 10, 10, 3)) == (None, 8, 8, 8)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"alpha": -1.0}, "alpha=-1.0"),
        ({"alpha": 1.0, "ratio": 0.0}, "ratio=0.0"),
        ({"alpha": 1.0, "demote": float("inf")}, "demote=inf"),
        ({"alpha": 1.0, "gradient": "global"}, "gradient='global'"),
    ],
)
def test_bad_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        HaHCost(keras.layers.Dense(4), **kwargs)


def test_ratio_leaving_no_losers_raises_at_build():
    layer = HaHCost(keras.layers.Dense(4), alpha=1.0, ratio=0.9)
    with pytest.raises(ValueError, match="K=4"):
        layer(np.ones((2, 3), "float32"))


def test_unsupported_output_rank_raises_at_build():
    layer = HaHCost(keras.layers.Conv1D(4, 3), alpha=1.0)
    with pytest.raises(ValueError, match="rank 3"):
        layer(np.ones((2, 8, 3), "float32"))


def test_local_gradients_equal_scoring_a_stopped_copy(rng):
    """Every gradient of loss + costs equals method.md's one-pass formulation."""
    model, hah_a, hah_b = two_hah_convs("local")
    x = tf.constant(rng.normal(size=(4, 8, 8, 3)).astype("float32"))
    weights = tf.constant(rng.normal(size=(4, 8, 8, 8)).astype("float32"))
    sources = [x, hah_a.layer.kernel, hah_b.layer.kernel]

    def reference_total():
        a = hah_a.layer(x)
        b_inputs = keras.ops.relu(a)
        b = hah_b.layer(b_inputs)
        cost_a = -keras_hebb.hah_score(hah_a.layer(tf.stop_gradient(x)), 0.25)
        cost_b = -keras_hebb.hah_score(hah_b.layer(tf.stop_gradient(b_inputs)), 0.25)
        return tf.reduce_sum(b * weights) + cost_a + cost_b

    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        total = tf.reduce_sum(model(x) * weights) + tf.add_n(model.losses)
        expected_total = reference_total()
    assert float(total) == pytest.approx(float(expected_total), rel=1e-6)
    for ours, reference in zip(
        tape.gradient(total, sources), tape.gradient(expected_total, sources)
    ):
        np.testing.assert_allclose(ours, reference, rtol=1e-4, atol=1e-6)
