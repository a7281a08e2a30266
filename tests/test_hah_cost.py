import keras
import numpy as np
import pytest
from backend import gradients, numpy, on_tensorflow
from keras import ops

import keras_hebb
from keras_hebb.layers import HaHCost, ImplicitNormConv2D

pytestmark = pytest.mark.backends
# The implementations of the local gradient this backend has.
IMPLEMENTATIONS = ("custom_gradient", "two_pass") if on_tensorflow() else ("two_pass",)


def two_hah_convs(gradient, implementation="auto"):
    """input -> HaH(conv a) -> ReLU -> HaH(conv b): returns model, hah_a, hah_b."""
    inputs = keras.Input((8, 8, 3))
    hah_a = HaHCost(
        ImplicitNormConv2D(8, 3, padding="same"),
        1.0,
        0.25,
        implementation=implementation,
        name="a",
    )
    hah_b = HaHCost(
        keras.layers.Conv2D(8, 3, padding="same"),
        1.0,
        0.25,
        gradient=gradient,
        implementation=implementation,
        name="b",
    )
    outputs = hah_b(keras.layers.ReLU()(hah_a(inputs)))
    return keras.Model(inputs, outputs), hah_a, hah_b


def cost_gradients(model, hah_a, hah_b, rng):
    """Gradients of layer b's HaH cost with respect to both kernels."""
    x = rng.normal(size=(4, 8, 8, 3)).astype("float32")
    kernels = [hah_a.layer.kernel, hah_b.layer.kernel]
    _, grad_a, grad_b = gradients(model, lambda x, y, losses: losses[1], x, kernels)
    return grad_a, grad_b


def test_local_cost_reaches_only_its_own_kernel(rng):
    grad_a, grad_b = cost_gradients(*two_hah_convs("local"), rng)
    assert np.all(grad_a == 0)
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
    np.testing.assert_allclose(numpy(y), numpy(dense(x)), rtol=1e-6)
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
        ({"alpha": 1.0, "implementation": "eager"}, "implementation='eager'"),
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


class CostOfAStoppedCopy(keras.layers.Layer):
    """Adds `-hah_score(conv(stop_gradient(inputs)))`, returns `inputs`: the
    local HaH cost as the method states it, written the slow way."""

    def __init__(self, conv, **kwargs):
        super().__init__(**kwargs)
        self.conv = conv

    def call(self, inputs):
        scored = self.conv(ops.stop_gradient(inputs))
        self.add_loss(-keras_hebb.hah_score(scored, 0.25))
        return inputs


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_local_gradients_equal_scoring_a_stopped_copy(rng, implementation):
    """Every gradient of loss + costs equals the method's formulation."""
    model, hah_a, hah_b = two_hah_convs("local", implementation)
    inputs = keras.Input((8, 8, 3))
    a = hah_a.layer(CostOfAStoppedCopy(hah_a.layer)(inputs))
    b = hah_b.layer(CostOfAStoppedCopy(hah_b.layer)(keras.layers.ReLU()(a)))
    reference = keras.Model(inputs, b)
    x = rng.normal(size=(4, 8, 8, 3)).astype("float32")
    weights = ops.convert_to_tensor(rng.normal(size=(4, 8, 8, 8)).astype("float32"))

    def total(x, outputs, losses):
        return ops.sum(outputs * weights) + ops.sum(ops.stack(losses))

    kernels = [hah_a.layer.kernel, hah_b.layer.kernel]
    assert float(total(x, model(x), model.losses)) == pytest.approx(
        float(total(x, reference(x), reference.losses)), rel=1e-6
    )
    for ours, expected in zip(
        gradients(model, total, x, kernels), gradients(reference, total, x, kernels)
    ):
        # An entry near zero is a difference of terms as large as the
        # largest entry: float32 rounds it at that scale (the order of the
        # sums changes with the thread count).
        scale = np.abs(expected).max()
        np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=1e-6 * scale)


def test_custom_gradient_implementation_needs_tensorflow():
    if not on_tensorflow():
        with pytest.raises(ValueError, match="needs the TensorFlow backend"):
            HaHCost(keras.layers.Dense(4), 1.0, implementation="custom_gradient")
    else:
        layer = HaHCost(keras.layers.Dense(4), 1.0, implementation="custom_gradient")
        assert layer.get_config()["implementation"] == "custom_gradient"
