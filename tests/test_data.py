import shutil

import numpy as np
import pytest
import tensorflow as tf
from folders import class_level, write_image_folder
from PIL import Image

from keras_hebb import data, validation
from keras_hebb.data import sources


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_image_folder(tmp_path_factory.mktemp("cifar"))


def test_test_split_labels_shapes_dtype_and_range(folder):
    images, labels = data.as_arrays(data.image_dataset(folder, "test", batch_size=7))
    assert images.shape == (20, 32, 32, 3) and images.dtype == np.float32
    assert labels.dtype == np.int32 and sorted(labels) == sorted(list(range(10)) * 2)
    assert images.min() >= 0.0 and images.max() <= 1.0
    red = np.round(images[..., 0].mean(axis=(1, 2)) * 255)
    np.testing.assert_array_equal(red, [class_level(label) for label in labels])


def test_train_split_reads_png_and_jpg(folder):
    images, labels = data.as_arrays(
        data.image_dataset(
            folder, "train", batch_size=16, augment_images=False, shuffle=False
        )
    )
    assert images.shape == (40, 32, 32, 3)
    red = images[..., 0].mean(axis=(1, 2)) * 255
    # JPEG changes pixels a little, never by a whole class step.
    np.testing.assert_allclose(red, [class_level(label) for label in labels], atol=5)


def test_augmentation_changes_pixels_not_labels(folder):
    plain = data.as_arrays(
        data.image_dataset(folder, "train", 40, augment_images=False, shuffle=False)
    )
    augmented = data.as_arrays(
        data.image_dataset(folder, "train", 40, augment_images=True, shuffle=False)
    )
    np.testing.assert_array_equal(plain[1], augmented[1])
    changed = np.any(plain[0] != augmented[0], axis=(1, 2, 3))
    assert changed.mean() > 0.5
    assert augmented[0].min() >= 0.0 and augmented[0].max() <= 1.0


def test_shuffled_train_batches_and_limit(folder):
    dataset = data.image_dataset(folder, "train", batch_size=8, limit=24)
    batches = list(dataset)
    assert [len(y) for _, y in batches] == [8, 8, 8]
    assert batches[0][0].shape == (8, 32, 32, 3)


def test_limit_takes_a_fixed_mix_of_classes(folder):
    _, first = data.as_arrays(data.image_dataset(folder, "test", 8, limit=8))
    _, again = data.as_arrays(data.image_dataset(folder, "test", 8, limit=8))
    # Not class by class (a limit would then take the first classes only).
    assert first.tolist() != sorted(first.tolist()) and len(set(first.tolist())) >= 4
    np.testing.assert_array_equal(first, again)


def test_missing_split_names_what_to_pass(tmp_path):
    (tmp_path / "train" / "cat").mkdir(parents=True)
    with pytest.raises(data.DataSourceError, match="test/<class>"):
        data.image_dataset(tmp_path, "train")


def test_empty_data_folder_is_refused(tmp_path):
    with pytest.raises(data.DataSourceError, match="train is not a folder of class"):
        data.image_dataset(tmp_path, "test")


def test_missing_and_unknown_class_folders_are_named(tmp_path):
    folder = write_image_folder(tmp_path, train_per_class=1, test_per_class=1)
    shutil.rmtree(folder / "test" / "frog")
    (folder / "test" / "kangaroo").mkdir()
    with pytest.raises(
        data.DataSourceError,
        match=r"test lacks class folders \['frog'\] and has unknown class folders "
        r"\['kangaroo'\]",
    ):
        data.image_dataset(folder, "train")


@pytest.fixture
def small_folder(tmp_path):
    return write_image_folder(tmp_path, train_per_class=2, test_per_class=1)


def test_class_folder_without_images_is_named(small_folder):
    for image in (small_folder / "train" / "ship").iterdir():
        image.unlink()
    with pytest.raises(data.DataSourceError, match=r"train/ship holds no images"):
        data.image_dataset(small_folder, "train")


@pytest.mark.parametrize(
    "pixels, message",
    [
        (
            np.zeros((28, 32, 3), np.uint8),
            r"has shape \(28, 32, 3\); the dataset.s images are \(32, 32, 3\)",
        ),
        (np.zeros((32, 32), np.uint8), r"has shape \(32, 32, 1\)"),
        (None, "cannot be decoded"),
    ],
)
def test_bad_image_file_is_named_before_training(small_folder, pixels, message):
    bad = small_folder / "test" / "dog" / "bad.png"
    if pixels is None:
        bad.write_bytes(b"\x89PNG but then garbage")
    else:
        Image.fromarray(pixels).save(bad)
    with pytest.raises(data.DataSourceError, match=f"{bad}.*{message}"):
        data.image_dataset(small_folder, "test")


def test_truncated_image_file_is_named(small_folder):
    image = small_folder / "train" / "cat" / "0000.png"
    image.write_bytes(image.read_bytes()[:200])
    with pytest.raises(data.DataSourceError, match=f"{image} cannot be decoded"):
        data.image_dataset(small_folder, "train")


def test_other_files_are_skipped_and_counted(small_folder, capsys):
    (small_folder / "train" / "cat" / "notes.txt").write_text("not an image")
    (small_folder / "train" / "dog" / "Thumbs.db").write_bytes(b"\0")
    images, _ = data.as_arrays(data.image_dataset(small_folder, "train", 50))
    assert len(images) == 20
    assert "skipped 2 files" in capsys.readouterr().out


@pytest.mark.parametrize(
    "images, labels, message",
    [
        (np.full((2, 4, 4, 3), np.nan, "float32"), [0, 1], "NaN or inf"),
        (np.full((2, 4, 4, 3), 255.0, "float32"), [0, 1], "maximum"),
        (np.zeros((2, 4, 4, 3), "float32"), [0, 10], "num_classes=10"),
        (np.zeros((2, 4, 4, 3), "float32"), [-1, 0], "negative label"),
    ],
)
def test_batch_check_stops_the_pipeline(images, labels, message):
    dataset = tf.data.Dataset.from_tensors((images, np.int32(labels))).map(
        lambda x, y: validation.assert_valid_batch(x, y, 10)
    )
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        list(dataset)


def test_tfds_failure_says_what_to_pass(monkeypatch):
    def offline(*args, **kwargs):
        raise ConnectionError("no route to host")

    monkeypatch.setattr(sources.tfds, "load", offline)
    with pytest.raises(
        data.DataSourceError, match="--data ../shared/data/cifar10-jpeg"
    ):
        data.image_dataset("tfds", "train")


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
        data.image_dataset(folder, **{"split": "train", **kwargs})


def test_each_epoch_is_a_function_of_seed_and_epoch(folder):
    def epochs(numbers):
        dataset = data.image_dataset(folder, "train", 40, epochs=numbers)
        assert int(dataset.cardinality()) == len(numbers)
        return [batch for batch in dataset.as_numpy_iterator()]

    three = epochs(range(3))
    resumed = epochs(range(2, 3))
    np.testing.assert_array_equal(three[2][0], resumed[0][0])
    np.testing.assert_array_equal(three[2][1], resumed[0][1])
    assert not np.array_equal(three[0][1], three[1][1])
    assert not np.array_equal(three[0][0], three[1][0])
