import keras
import numpy as np
import pytest

from keras_hebb.models import hah_lenet, hah_vgg
from keras_hebb.robustness import conv_input_snr, noisy_accuracy, pgd_accuracy
from keras_hebb.robustness.noise import accuracy, add_noise
from keras_hebb.robustness.predict import predicted_classes, predicted_logits


@pytest.fixture(scope="module")
def linear_model():
    """A linear classifier of 'bright left half' against 'bright right half'."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0.3, 0.5, size=(256, 32, 32, 3)).astype("float32")
    y = rng.integers(0, 2, size=256)
    x[y == 1, :, :16] += 0.2
    x[y == 0, :, 16:] += 0.2
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(2)]
    )
    model.compile(
        keras.optimizers.Adam(0.01),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(x, y, epochs=10, batch_size=32, verbose=0)
    return model, x[:64], y[:64]


@pytest.mark.parametrize("kind", ["gaussian", "uniform"])
def test_noise_has_the_asked_std_and_stays_in_range(kind):
    images = np.full((8, 32, 32, 3), 0.5, "float32")
    noisy = add_noise(images, 0.1, kind, np.random.default_rng(0))
    assert noisy.min() >= 0.0 and noisy.max() <= 1.0
    assert np.std(noisy - images) == pytest.approx(0.1, rel=0.05)
    np.testing.assert_array_equal(
        add_noise(images, 0.0, kind, np.random.default_rng(0)), images
    )


def test_bad_noise_arguments_raise(linear_model):
    model, x, y = linear_model
    with pytest.raises(ValueError, match="'salt'"):
        add_noise(x, 0.1, "salt", np.random.default_rng(0))
    with pytest.raises(ValueError, match="std=-0.1"):
        noisy_accuracy(model, x, y, -0.1)


def test_noise_free_accuracy_is_clean_accuracy(linear_model):
    model, x, y = linear_model
    clean = accuracy(model, x, y)
    assert clean > 0.9
    assert noisy_accuracy(model, x, y, 0.0) == clean


def test_batched_logits_are_keras_predict_bit_for_bit():
    """Batch by batch, a last batch short, through a HaH network's
    thresholds: the values of `model.predict` itself."""
    model = hah_lenet(width=0.125)
    images = np.random.default_rng(3).uniform(size=(37, 28, 28, 1)).astype("float32")
    expected = model.predict(images, batch_size=16, verbose=0)
    logits = predicted_logits(model, images, batch_size=16)
    assert logits.shape == (37, 10) and logits.dtype == expected.dtype
    np.testing.assert_array_equal(logits, expected)
    np.testing.assert_array_equal(
        predicted_classes(model, images, batch_size=16), np.argmax(expected, axis=-1)
    )


@pytest.mark.slow
def test_noise_flips_some_predictions():
    model = hah_vgg(depth=11, width=0.125)
    images = np.random.default_rng(1).uniform(size=(32, 32, 32, 3)).astype("float32")
    own_labels = np.argmax(model.predict(images, verbose=0), axis=-1)
    assert accuracy(model, images, own_labels) == 1.0
    assert noisy_accuracy(model, images, own_labels, 0.3, draws=2) < 1.0


@pytest.mark.slow
def test_snr_falls_as_noise_grows():
    model = hah_vgg(depth=11, width=0.125)
    images = np.random.default_rng(0).uniform(size=(8, 32, 32, 3)).astype("float32")
    quiet, loud = (
        conv_input_snr(model, images, 0.01),
        conv_input_snr(model, images, 0.2),
    )
    assert list(quiet) == [f"conv{i}" for i in range(1, 9)]
    assert all(quiet[name] > loud[name] for name in quiet)
    # At the first conv's input (standardised pixels), the SNR is the image's.
    assert quiet["conv1"] > 20 > loud["conv1"]


def test_pgd_bad_arguments_raise(linear_model):
    model, x, y = linear_model
    with pytest.raises(ValueError, match="'l1'"):
        pgd_accuracy(model, x, y, 0.1, "l1")
    with pytest.raises(ValueError, match="eps=0"):
        pgd_accuracy(model, x, y, 0, "linf")
