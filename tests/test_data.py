import numpy as np
import pytest
from folders import class_level, write_image_folder

from keras_hebb import data


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_image_folder(tmp_path_factory.mktemp("cifar"))


def test_test_split_labels_shapes_dtype_and_range(folder):
    images, labels = data.as_arrays(data.cifar10(folder, "test", batch_size=7))
    assert images.shape == (20, 32, 32, 3) and images.dtype == np.float32
    assert labels.dtype == np.int32 and sorted(labels) == sorted(list(range(10)) * 2)
    assert images.min() >= 0.0 and images.max() <= 1.0
    red = np.round(images[..., 0].mean(axis=(1, 2)) * 255)
    np.testing.assert_array_equal(red, [class_level(label) for label in labels])


def test_train_split_reads_png_and_jpg(folder):
    images, labels = data.as_arrays(
        data.cifar10(
            folder, "train", batch_size=16, augment_images=False, shuffle=False
        )
    )
    assert images.shape == (40, 32, 32, 3)
    red = images[..., 0].mean(axis=(1, 2)) * 255
    # JPEG changes pixels a little, never by a whole class step.
    np.testing.assert_allclose(red, [class_level(label) for label in labels], atol=5)


def test_augmentation_changes_pixels_not_labels(folder):
    plain = data.as_arrays(
        data.cifar10(folder, "train", 40, augment_images=False, shuffle=False)
    )
    augmented = data.as_arrays(
        data.cifar10(folder, "train", 40, augment_images=True, shuffle=False)
    )
    np.testing.assert_array_equal(plain[1], augmented[1])
    changed = np.any(plain[0] != augmented[0], axis=(1, 2, 3))
    assert changed.mean() > 0.5
    assert augmented[0].min() >= 0.0 and augmented[0].max() <= 1.0


def test_shuffled_train_batches_and_limit(folder):
    dataset = data.cifar10(folder, "train", batch_size=8, limit=24)
    batches = list(dataset)
    assert [len(y) for _, y in batches] == [8, 8, 8]
    assert batches[0][0].shape == (8, 32, 32, 3)


def test_missing_split_names_what_to_pass(tmp_path):
    (tmp_path / "train" / "cat").mkdir(parents=True)
    with pytest.raises(data.DataSourceError, match="test/<class>"):
        data.cifar10(tmp_path, "train")


def test_mismatched_classes_are_reported(tmp_path):
    (tmp_path / "train" / "cat").mkdir(parents=True)
    (tmp_path / "test" / "dog").mkdir(parents=True)
    with pytest.raises(data.DataSourceError, match="class folders differ"):
        data.cifar10(tmp_path, "test")


def test_tfds_failure_says_what_to_pass(monkeypatch):
    def offline(*args, **kwargs):
        raise ConnectionError("no route to host")

    monkeypatch.setattr(data.tfds, "load", offline)
    with pytest.raises(
        data.DataSourceError, match="--data ../shared/data/cifar10-jpeg"
    ):
        data.cifar10("tfds", "train")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"split": "validation"}, "split"),
        ({"batch_size": 0}, "batch_size"),
        ({"limit": -3}, "limit"),
    ],
)
def test_bad_arguments_raise(folder, kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.cifar10(folder, **{"split": "train", **kwargs})


def test_each_epoch_is_a_function_of_seed_and_epoch(folder):
    def epochs(numbers):
        dataset = data.cifar10(folder, "train", 40, epochs=numbers)
        assert int(dataset.cardinality()) == len(numbers)
        return [batch for batch in dataset.as_numpy_iterator()]

    three = epochs(range(3))
    resumed = epochs(range(2, 3))
    np.testing.assert_array_equal(three[2][0], resumed[0][0])
    np.testing.assert_array_equal(three[2][1], resumed[0][1])
    assert not np.array_equal(three[0][1], three[1][1])
    assert not np.array_equal(three[0][0], three[1][0])
