import keras
import numpy as np
import pytest

from keras_hebb.robustness import PGD, conv_input_snr, noisy_accuracy
from keras_hebb.robustness.noise import accuracy
from keras_hebb.validation import (
    InvalidInputError,
    check_images,
    check_labels,
    check_model_inputs,
)


@pytest.fixture(scope="module")
def model():
    return keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Conv2D(2, 3, name="conv1"),
            keras.layers.Flatten(),
            keras.layers.Dense(10),
        ]
    )


def images(shape=(4, 8, 8, 3), dtype="float32", value=0.5):
    return np.full(shape, value, dtype)


def with_value(array, index, value):
    array = array.copy()
    array[index] = value
    return array


@pytest.mark.parametrize(
    "bad, message",
    [
        (images((4, 3, 8, 8)), r"\(4, 3, 8, 8\).*channels-first.*\(4, 8, 8, 3\)"),
        (images((8, 8, 3)), r"rank 4.*\(8, 8, 3\).*add a batch axis"),
        (images((4, 16, 16, 3)), r"\(4, 16, 16, 3\); the model takes \(n, 8, 8, 3\)"),
        (images((0, 8, 8, 3)), "empty"),
        (images(dtype="int64", value=1), "dtype int64"),
        (images(value=255.0), r"\[255, 255\].*divide by 255"),
        (with_value(images(), (2, 1, 0, 1), -0.25), r"-0.25 at index \(2, 1, 0, 1\)"),
        (
            with_value(images(), (3, 0, 5, 2), np.nan),
            r"1 non-finite.*nan.*\(3, 0, 5, 2\)",
        ),
        (with_value(images(), (0, 0, 0, 0), np.inf), r"non-finite.*inf"),
    ],
)
def test_bad_images_are_named(model, bad, message):
    with pytest.raises(InvalidInputError, match=message):
        check_model_inputs(model, bad, np.zeros(len(bad), "int32"))


@pytest.mark.parametrize(
    "bad, message",
    [
        ([0, 3, 10, 1], r"\[0, 10\). Received 10 at index 2 \(1 labels"),
        ([0, -1, 2, 1], "Received -1 at index 1"),
        (np.eye(10)[:4], "one-hot: pass np.argmax"),
        ([0.0, 1.5, 2.0, 3.0], "whole class ids.*1.5"),
        (["cat"] * 4, "integer class ids"),
        ([0, 1, 2], "3 labels for 4 images"),
    ],
)
def test_bad_labels_are_named(model, bad, message):
    with pytest.raises(InvalidInputError, match=message):
        check_model_inputs(model, images(), bad)


def test_accepted_inputs_are_converted():
    pixels = np.array([0, 51, 255], "uint8").reshape(1, 1, 3, 1)
    np.testing.assert_allclose(check_images(pixels).ravel(), [0.0, 0.2, 1.0])
    assert check_images(images(dtype="float64")).dtype == np.float32
    labels = check_labels(np.array([[2.0], [9.0]]), num_classes=10)
    assert labels.dtype == np.int32 and labels.tolist() == [2, 9]


def test_evaluation_entry_points_check_their_arrays(model):
    channels_first = images((4, 3, 8, 8))
    labels = np.zeros(4, "int32")
    for evaluate in (
        lambda: accuracy(model, channels_first, labels),
        lambda: noisy_accuracy(model, channels_first, labels, 0.1),
        lambda: conv_input_snr(model, channels_first, 0.1),
        lambda: PGD(0.1, steps=1).generate(model, channels_first, labels),
    ):
        with pytest.raises(InvalidInputError, match="channels-first"):
            evaluate()
    with pytest.raises(InvalidInputError, match="Received 12 at index 0"):
        accuracy(model, images(), [12, 0, 0, 0])
