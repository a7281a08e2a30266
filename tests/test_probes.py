"""The probes find every conv block, at any depth and in data-flow order."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_hebb._compat import nested_layers
from keras_hebb.layers import (
    THRESHOLDS,
    DivisiveNormalization,
    FractionalThreshold,
    HaHCost,
)
from keras_hebb.metrics import activation_histogram, activation_sparsity
from keras_hebb.models import hah_vgg
from keras_hebb.probes import (
    block_activations,
    conv_blocks,
    conv_inputs,
    read_tensors,
    read_tensors_of_each,
    sparse_blocks,
)
from keras_hebb.robustness import conv_input_snr, straight_through_model
from keras_hebb.robustness.masking import has_hard_choices

KEEP = 0.02  # 5 of a 16x16 map: most input pixels reach no kept activation.


def conv(name, filters=4, size=3, **kwargs):
    return keras.layers.Conv2D(filters, size, padding="same", name=name, **kwargs)


def logits(x):
    return keras.layers.Dense(3, name="logits")(keras.layers.Flatten()(x))


@keras.saving.register_keras_serializable(package="tests")
class SparseBlock(keras.layers.Layer):
    """HaH conv -> ReLU -> divisive normalisation -> threshold, made in __init__."""

    def __init__(self, filters, keep=KEEP, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.keep = keep
        self.hah = HaHCost(conv(f"{self.name}_conv", filters), alpha=0.001)
        self.relu = keras.layers.ReLU()
        self.norm = DivisiveNormalization()
        self.threshold = FractionalThreshold(keep)

    def build(self, input_shape):
        self.hah.build(input_shape)

    def call(self, inputs):
        return self.threshold(self.norm(self.relu(self.hah(inputs))))

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "keep": self.keep}


def vgg():
    """Top-level functional HaH blocks: `hah_vgg` with two HaH convs."""
    model = hah_vgg(depth=11, width=0.125, hah_layers=2, alphas=0.001)

    def direct(x):
        outputs = [
            model.get_layer(name).output
            for name in ("threshold1", "threshold2", "relu3", "standardize")
        ]
        threshold1, threshold2, relu3, standardized = keras.Model(
            model.inputs, outputs
        )(x)
        activations = {"conv1": threshold1, "conv2": threshold2, "conv3": relu3}
        return activations, {"conv1": standardized}

    names = [f"conv{i}" for i in range(1, 9)]
    return model, direct, names, ["conv1", "conv2"]


def nested():
    """A functional block and a Sequential block used as layers."""
    inner_inputs = keras.Input((16, 16, 4))
    x = keras.layers.ReLU(name="inner_relu")(conv("inner_conv")(inner_inputs))
    inner = keras.Model(
        inner_inputs, FractionalThreshold(KEEP, name="inner_threshold")(x), name="inner"
    )
    sequential = keras.Sequential(
        [keras.Input((16, 16, 4)), conv("seq_conv"), keras.layers.ReLU()], name="seq"
    )
    inputs = keras.Input((16, 16, 3))
    stem = keras.layers.ReLU(name="stem_relu")(conv("stem")(inputs))
    model = keras.Model(inputs, logits(sequential(inner(stem))), name="nested")

    def direct(x):
        stem = model.get_layer("stem_relu")(model.get_layer("stem")(x))
        sparse = inner(stem)
        activations = {
            "stem": stem,
            "inner_conv": sparse,
            "seq_conv": sequential(sparse),
        }
        return activations, {"stem": x, "inner_conv": stem, "seq_conv": sparse}

    return model, direct, ["stem", "inner_conv", "seq_conv"], ["inner_conv"]


def subclassed():
    """Two `SparseBlock`s, a max pool between them."""
    first, second = SparseBlock(4, name="block1"), SparseBlock(4, name="block2")
    pool = keras.layers.MaxPooling2D(2)
    inputs = keras.Input((16, 16, 3))
    model = keras.Model(inputs, logits(second(pool(first(inputs)))), name="blocks")

    def direct(x):
        one = first(x)
        pooled = pool(one)
        activations = {"block1_conv": one, "block2_conv": second(pooled)}
        return activations, {"block1_conv": x, "block2_conv": pooled}

    names = ["block1_conv", "block2_conv"]
    return model, direct, names, names


def conv_relus():
    """Convs with `activation="relu"`, and one read by `Activation("relu")`."""
    inputs = keras.Input((16, 16, 3))
    one = conv("c1", activation="relu")(inputs)
    two = keras.layers.Activation("relu", name="act2")(conv("c2")(one))
    x = keras.layers.BatchNormalization(name="bn2")(two)
    three = conv("c3", activation="relu")(x)
    x = keras.layers.BatchNormalization(name="bn3")(three)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(
        inputs, keras.layers.Dense(3, name="logits")(x), name="conv_relus"
    )

    def direct(x):
        return dict(
            zip(("c1", "c2", "c3"), keras.Model(inputs, [one, two, three])(x))
        ), {"c1": x}

    return model, direct, ["c1", "c2", "c3"], []


def residual():
    """conv -> BN -> Add(1x1 shortcut conv -> BN) -> ReLU, then an identity
    shortcut around a thresholded block."""
    inputs = keras.Input((16, 16, 3))
    stem = keras.layers.ReLU(name="stem_relu")(conv("stem")(inputs))
    main = keras.layers.BatchNormalization(name="bn_main")(conv("main")(stem))
    shortcut = keras.layers.BatchNormalization(name="bn_short")(
        conv("short", size=1)(stem)
    )
    joined = keras.layers.ReLU(name="relu_join")(keras.layers.Add()([main, shortcut]))
    x = keras.layers.BatchNormalization(name="bn_second")(conv("second")(joined))
    x = keras.layers.ReLU(name="relu_second")(keras.layers.Add()([joined, x]))
    thresholded = FractionalThreshold(KEEP, name="threshold_second")(x)
    model = keras.Model(inputs, logits(thresholded), name="residual")

    def direct(x):
        values = keras.Model(inputs, [stem, joined, thresholded])(x)
        activations = dict(zip(("stem", "main", "second"), values))
        return activations, {"main": values[0]}

    # The 1x1 projection is part of the main conv's block, not a block.
    return model, direct, ["stem", "main", "second"], ["second"]


MODELS = [vgg, nested, subclassed, conv_relus, residual]


def images_for(model, n=4):
    shape = model.inputs[0].shape[1:]
    return np.random.default_rng(0).uniform(size=(n, *shape)).astype("float32")


@pytest.fixture(scope="module", params=MODELS, ids=lambda make: make.__name__)
def case(request):
    keras.utils.set_random_seed(0)
    model, direct, names, sparse = request.param()
    return model, direct, names, sparse, images_for(model)


def test_residual_model_layers_are_not_in_data_flow_order():
    model = residual()[0]
    names = [layer.name for layer in model.layers]
    assert names.index("short") < names.index("bn_main")


@pytest.mark.slow
def test_every_conv_is_found_with_its_input_and_activation(case):
    model, direct, names, _, images = case
    activations = read_tensors(model, block_activations, images, batch_size=3)
    inputs = read_tensors(model, conv_inputs, images, batch_size=3)
    assert sorted(activations) == sorted(inputs) == sorted(names)
    expected_activations, expected_inputs = direct(images)
    for name, expected in expected_activations.items():
        np.testing.assert_allclose(activations[name], expected, atol=1e-5)
    for name, expected in expected_inputs.items():
        np.testing.assert_allclose(inputs[name], expected, atol=1e-5)


@pytest.mark.slow
def test_each_image_set_reads_as_it_would_alone(case):
    model, _, _, _, images = case
    noisy = np.clip(images + 0.1, 0.0, 1.0).astype(images.dtype)
    both = read_tensors_of_each(model, conv_inputs, [images, noisy[:2]], batch_size=3)
    for alone, read in zip(
        [
            read_tensors(model, conv_inputs, x, batch_size=3)
            for x in (images, noisy[:2])
        ],
        both,
        strict=True,
    ):
        assert list(read) == list(alone)
        for name in alone:
            np.testing.assert_array_equal(read[name], alone[name])


@pytest.mark.slow
def test_sparse_blocks_are_the_hah_and_threshold_blocks(case):
    model, _, _, sparse, _ = case
    assert sparse_blocks(model) == sparse
    assert has_hard_choices(model) == bool(sparse)


@pytest.mark.slow
def test_activation_sparsity_counts_each_blocks_nonzero_fraction(case):
    model, direct, names, _, images = case
    stats = activation_sparsity(model, images, batch_size=3)
    assert sorted(stats) == sorted(names)
    for name, expected in direct(images)[0].items():
        nonzero = np.mean(keras.ops.convert_to_numpy(expected) != 0)
        assert stats[name]["nonzero"] == pytest.approx(nonzero, abs=1e-6)
        assert stats[name]["top_to_rest"] >= 1


@pytest.mark.slow
def test_conv_input_snr_falls_as_noise_grows(case):
    model, _, names, _, images = case
    quiet = conv_input_snr(model, images, 0.01, batch_size=3)
    loud = conv_input_snr(model, images, 0.2, batch_size=3)
    assert sorted(quiet) == sorted(loud) == sorted(names)
    assert all(quiet[name] > loud[name] for name in names)


def thresholds_of(model):
    return [layer for layer in nested_layers(model) if isinstance(layer, THRESHOLDS)]


def input_gradient(model, images):
    x = tf.constant(images)
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(model(x, training=False)[:, 0])
    return tape.gradient(total, x).numpy()


@pytest.mark.slow
def test_straight_through_copy_has_identical_forward_and_sees_through(case):
    model, _, _, _, images = case
    copy = straight_through_model(model, divisive_normalization=True)
    np.testing.assert_array_equal(
        copy(images, training=False), model(images, training=False)
    )
    thresholds = thresholds_of(copy)
    assert len(thresholds) == len(thresholds_of(model))
    assert all(layer.straight_through for layer in thresholds)
    plain, through = input_gradient(model, images), input_gradient(copy, images)
    if thresholds:
        assert not np.allclose(plain, through)
    else:
        np.testing.assert_allclose(through, plain, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("make", [nested, subclassed, residual])
def test_straight_through_gradient_reaches_pixels_the_thresholds_block(make):
    keras.utils.set_random_seed(0)
    model = make()[0]
    images = images_for(model)
    plain = input_gradient(model, images)
    through = input_gradient(straight_through_model(model), images)
    blocked = plain == 0
    assert blocked.mean() > 0.04
    assert np.count_nonzero(through[blocked]) > 0.9 * blocked.sum()


def test_straight_through_copy_shares_no_variables(case):
    model = case[0]
    copy = straight_through_model(model)
    originals = {id(variable) for variable in model.weights}
    assert not originals & {id(variable) for variable in copy.weights}
    assert not any(layer.straight_through for layer in thresholds_of(model))


@pytest.mark.slow
def test_blocks_in_a_compiled_pass_match_the_eager_pass(case):
    model, _, _, _, images = case
    eager = block_activations(model, images)
    compiled = tf.function(lambda x: block_activations(model, x))(images)
    for name in eager:
        np.testing.assert_allclose(compiled[name], eager[name], atol=1e-5)
    assert all("call" not in vars(layer) for layer in nested_layers(model))


def test_a_model_without_convs_is_named_in_the_error():
    model = keras.Sequential(
        [keras.Input((4, 4, 3)), keras.layers.Flatten(), keras.layers.Dense(2)],
        name="dense_only",
    )
    with pytest.raises(ValueError, match="'dense_only' has no conv"):
        conv_blocks(model, images_for(model))


def test_a_conv_run_twice_is_named_in_the_error():
    shared = conv("shared", filters=3)
    inputs = keras.Input((8, 8, 3))
    model = keras.Model(inputs, shared(shared(inputs)), name="twice")
    with pytest.raises(ValueError, match="\\['shared'\\] run more than once"):
        conv_blocks(model, images_for(model))


def test_histogram_of_an_unknown_block_names_the_blocks():
    model = conv_relus()[0]
    with pytest.raises(ValueError, match="no conv block 'c9'.*\\['c1', 'c2', 'c3'\\]"):
        activation_histogram(model, images_for(model), "c9")
