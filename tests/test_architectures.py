"""Every registered network: builds for the data's shape and classes, trains a
step, saves and reloads, and its HaH blocks are found by the probes."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_hebb import models
from keras_hebb.models.registry import NETWORKS, get_builder
from keras_hebb.probes import sparse_blocks
from keras_hebb.robustness.bpda import straight_through_model
from keras_hebb.saving import load_model

# Each network at a size the suite affords, with the convs its HaH version
# makes sparse by default.
TINY = {
    "vgg": (
        {"depth": 11, "width": 0.0625},
        ["conv1", "conv2", "conv3", "conv4", "conv5", "conv6"],
    ),
    "resnet": ({"width": 0.0625}, ["conv1", "conv2", "conv3", "conv4", "conv5"]),
    "wide_resnet": (
        {"depth": 10, "widen": 1, "width": 0.5},
        ["conv1", "conv2", "conv3", "conv4", "conv5"],
    ),
    "lenet": ({"width": 0.125}, ["conv1", "conv2"]),
}
SHAPES = {"lenet": (28, 28, 1), "vgg": (32, 32, 3)}


def family(name):
    return name.split("_", 1)[1]


def tiny(name, num_classes=3, **extra):
    kwargs, _ = TINY[family(name)]
    shape = SHAPES.get(family(name), (16, 16, 1))
    channels = shape[-1]
    return get_builder(name)(
        **kwargs,
        input_shape=shape,
        num_classes=num_classes,
        input_mean=(0.5,) * channels,
        input_std=(0.25,) * channels,
        **extra,
    )


def compiled(model):
    model.compile(
        keras.optimizers.Adam(1e-3),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=False,
    )
    return model


def test_every_registered_network_is_tested():
    assert {family(name) for name in NETWORKS} == set(TINY)
    assert all(name.split("_", 1)[0] in ("baseline", "hah") for name in NETWORKS)


@pytest.mark.parametrize("name", sorted(NETWORKS))
@pytest.mark.slow
def test_builds_trains_a_step_saves_reloads_and_its_hah_blocks_are_found(
    name, rng, tmp_path
):
    model = compiled(tiny(name, num_classes=3))
    shape = model.input_shape[1:]
    assert model.output_shape == (None, 3)
    x = rng.uniform(size=(8, *shape)).astype("float32")
    y = rng.integers(0, 3, size=8)
    before = [w.numpy().copy() for w in model.trainable_weights]
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(
        not np.array_equal(a, b.numpy())
        for a, b in zip(before, model.trainable_weights)
    )
    model.save(tmp_path / "model.keras")
    reloaded = load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(
        reloaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5
    )
    if name.startswith("hah"):
        assert any(key.endswith("_score") for key in history.history)
    _, hah_convs = TINY[family(name)]
    assert sparse_blocks(reloaded) == (hah_convs if name.startswith("hah") else [])


def test_resnet18_is_the_standard_cifar_resnet18():
    model = models.baseline_resnet(depth=18)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    # The CIFAR ResNet-18 of He et al. (3x3 stem, four stages of two basic
    # blocks, 1x1 projection shortcuts) has 11,173,962 trainable parameters.
    assert trainable == 11_173_962
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(convs) == 17 + 3  # 17 weight convs, 3 projection shortcuts
    assert models.baseline_resnet(depth=34, width=0.0625).output_shape == (None, 10)


def test_wide_resnet_has_the_published_widths():
    model = models.baseline_wide_resnet(depth=16, widen=4)
    widths = [
        layer.filters
        for layer in model.layers
        if isinstance(layer, keras.layers.Conv2D)
    ]
    assert widths[0] == 16 and sorted(set(widths)) == [16, 64, 128, 256]
    assert 2_700_000 < model.count_params() < 2_800_000  # WRN-16-4: 2.7M


def test_hah_resnet_second_conv_adds_the_shortcut_before_relu():
    model = models.hah_resnet(width=0.0625, hah_layers=3, alphas=0.001)
    add = model.get_layer("add3")
    relu = model.get_layer("relu3")
    assert relu.input is add.output
    assert model.get_layer("threshold3").input is model.get_layer("divnorm3").output


@pytest.mark.slow
def test_bpda_clone_of_the_resnet_passes_gradients_through_thresholds(rng):
    model = tiny("hah_resnet")
    clone = straight_through_model(model)
    x = tf.constant(rng.uniform(size=(4, 16, 16, 1)).astype("float32"))
    np.testing.assert_allclose(clone(x), model(x), atol=1e-6)
    gradients = []
    for network in (model, clone):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(network(x)[:, 0])
        gradients.append(tape.gradient(loss, x).numpy())
    assert not np.allclose(gradients[0], gradients[1])
    assert np.count_nonzero(gradients[1]) >= np.count_nonzero(gradients[0])


@pytest.mark.parametrize(
    "build, kwargs, message",
    [
        (models.baseline_resnet, {"depth": 50}, "depth=50"),
        (models.hah_resnet, {"hah_layers": 18, "alphas": 0.1}, "1..17"),
        (models.baseline_wide_resnet, {"depth": 17}, "depth=17"),
        (models.hah_wide_resnet, {"widen": 0}, "widen=0"),
        (models.hah_lenet, {"width": -1}, "width=-1"),
        (models.baseline_resnet, {"input_shape": (4, 4, 3)}, "at least 8"),
        (models.hah_lenet, {"threshold": "hard"}, "threshold='hard'"),
    ],
)
def test_bad_arguments_raise(build, kwargs, message):
    with pytest.raises(ValueError, match=message):
        build(**kwargs)


@pytest.mark.slow
def test_hah_block_in_a_users_model_trains_and_is_probed(rng):
    inputs = keras.Input((12, 12, 2))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="stem")(
        inputs
    )
    x = models.hah_block(x, 8, alpha=0.001, suffix="_mine", keep=0.5)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = compiled(models.HaHModel(inputs, keras.layers.Dense(2)(x)))
    history = model.fit(
        rng.uniform(size=(4, 12, 12, 2)), rng.integers(0, 2, 4), verbose=0
    )
    assert "hah_mine_score" in history.history
    assert sparse_blocks(model) == ["conv_mine"]


def test_hah_model_reports_the_statistics_of_nested_hah_layers(rng):
    block_in = keras.Input((12, 12, 2))
    block_out = models.hah_block(block_in, 8, alpha=0.001, suffix="_inner", keep=0.5)
    block = keras.Model(block_in, block_out, name="block")
    inputs = keras.Input((12, 12, 2))
    x = keras.layers.GlobalAveragePooling2D()(block(inputs))
    model = compiled(models.HaHModel(inputs, keras.layers.Dense(2)(x)))
    history = model.fit(
        rng.uniform(size=(4, 12, 12, 2)), rng.integers(0, 2, 4), verbose=0
    )
    assert history.history["threshold_inner_nonzero"][0] == pytest.approx(0.5, abs=0.1)
    assert history.history["hah_inner_score"][0] > 0
    assert history.history["hah_loss"][0] < 0
    assert sparse_blocks(model) == ["conv_inner"]
