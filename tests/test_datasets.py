"""Datasets beyond CIFAR-10: any class folders, sizes and channels, tfds by name."""

import json

import numpy as np
import pytest
import tensorflow_datasets as tfds
from folders import class_level, write_class_folder
from PIL import Image
from scripts import load_script

from keras_hebb import data
from keras_hebb.data import pipeline, statistics

CLASSES = ("circle", "square", "triangle")


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path, monkeypatch):
    """Statistics go to a cache of the test's own, read anew."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    statistics.cached_info.cache_clear()
    yield
    statistics.cached_info.cache_clear()


@pytest.fixture
def grayscale(tmp_path):
    return write_class_folder(tmp_path / "gray", CLASSES, (28, 28), 5, 3)


def test_grayscale_folder_info_and_statistics_of_its_training_split(grayscale):
    info = data.dataset_info(grayscale)
    assert info.class_names == CLASSES and info.num_classes == 3
    assert info.image_shape == (28, 28, 1)
    pixels = (
        np.stack(
            [np.asarray(Image.open(p)) for p in sorted(grayscale.glob("train/*/*.png"))]
        ).astype("float64")
        / 255
    )
    assert info.mean == pytest.approx((pixels.mean(),), abs=1e-6)
    assert info.std == pytest.approx((pixels.std(),), abs=1e-6)
    assert not info.is_cifar10()


def test_statistics_are_computed_once_and_cached(grayscale, monkeypatch):
    first = data.dataset_info(grayscale)
    cached = list((grayscale.parent / "cache" / "keras-hebb" / "statistics").iterdir())
    assert len(cached) == 1 and json.loads(cached[0].read_text())["mean"]
    statistics.cached_info.cache_clear()

    def recompute(dataset):
        raise AssertionError("statistics recomputed")

    monkeypatch.setattr(statistics, "channel_statistics", recompute)
    assert data.dataset_info(grayscale) == first


def test_grayscale_batches_have_the_datasets_shape_and_labels(grayscale):
    images, labels = data.as_arrays(data.image_dataset(grayscale, "test", 4))
    assert images.shape == (9, 28, 28, 1) and images.dtype == np.float32
    assert sorted(labels.tolist()) == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    levels = np.floor(images.reshape(9, -1).min(1) * 255 + 0.5)
    assert levels.tolist() == [class_level(label) for label in labels]


def test_held_out_validation_comes_from_training_images(grayscale):
    def levels_and_count(split, holdout):
        images, labels = data.as_arrays(
            data.image_dataset(
                grayscale,
                split,
                50,
                holdout=holdout,
                shuffle=False,
                augment_images=False,
            )
        )
        return {tuple(image.ravel()[:20]) for image in images}, len(labels)

    every, fifteen = levels_and_count("train", 0)
    kept, twelve = levels_and_count("train", 3)
    held, three = levels_and_count("validation", 3)
    assert (fifteen, twelve, three) == (15, 12, 3)
    assert kept | held == every and not kept & held
    with pytest.raises(ValueError, match="holdout=15"):
        data.image_dataset(grayscale, "train", 4, holdout=15)


def test_images_of_another_size_are_resized_or_named(tmp_path):
    folder = write_class_folder(tmp_path, CLASSES, (40, 36, 3), 2, 1)
    odd = folder / "train" / "square" / "odd.png"
    Image.fromarray(np.zeros((30, 30, 3), np.uint8)).save(odd)
    with pytest.raises(data.DataSourceError, match=rf"{odd} has shape \(30, 30, 3\)"):
        data.image_dataset(folder, "train", 4)
    statistics.cached_info.cache_clear()
    images, _ = data.as_arrays(
        data.image_dataset(folder, "train", 4, image_size=(32, 32))
    )
    assert images.shape == (7, 32, 32, 3)
    assert data.dataset_info(folder, image_size=(32, 32)).image_shape == (32, 32, 3)


def test_an_rgb_image_in_a_grayscale_dataset_is_named(grayscale):
    rgb = grayscale / "test" / "circle" / "rgb.png"
    Image.fromarray(np.zeros((28, 28, 3), np.uint8)).save(rgb)
    with pytest.raises(data.DataSourceError, match=rf"{rgb} has shape \(28, 28, 3\)"):
        data.image_dataset(grayscale, "test", 4)


def test_test_classes_must_be_the_training_classes(grayscale):
    (grayscale / "test" / "hexagon").mkdir()
    with pytest.raises(
        data.DataSourceError, match=r"has unknown class folders \['hexagon'\]"
    ):
        data.dataset_info(grayscale)


def test_labels_beyond_the_classes_stop_the_pipeline(grayscale):
    batch = pipeline.assert_valid_batch(
        np.zeros((2, 4, 4, 1), "float32"), np.array([0, 2]), 3
    )
    assert batch[1].numpy().tolist() == [0, 2]
    with pytest.raises(Exception, match="num_classes=3"):
        pipeline.assert_valid_batch(
            np.zeros((2, 4, 4, 1), "float32"), np.array([0, 3]), 3
        )


@pytest.mark.parametrize(
    "augmentation, flips", [("crop_flip", True), ("crop", False), ("none", False)]
)
def test_augmentations(grayscale, augmentation, flips):
    plain, _ = data.as_arrays(
        data.image_dataset(grayscale, "train", 15, shuffle=False, augment_images=False)
    )
    batches = [
        data.as_arrays(
            data.image_dataset(
                grayscale,
                "train",
                15,
                shuffle=False,
                augmentation=augmentation,
                epochs=[epoch],
            )
        )[0]
        for epoch in range(4)
    ]
    changed = any(not np.array_equal(batch, plain) for batch in batches)
    assert changed == (augmentation != "none")
    # Zero padding: a crop moves black borders in; without a flip, every
    # image's pixels are its own pixels shifted, never mirrored.
    if augmentation == "none":
        return
    mirrored = plain[:, :, ::-1]
    seen = any(
        np.array_equal(batch[i], mirrored[i]) and not np.array_equal(batch[i], plain[i])
        for batch in batches
        for i in range(len(plain))
    )
    assert seen == flips or not flips


def test_bad_data_arguments_raise(grayscale):
    with pytest.raises(ValueError, match="augmentation='rotate'"):
        data.image_dataset(grayscale, "train", 4, augmentation="rotate")
    with pytest.raises(ValueError, match="image_size="):
        data.image_dataset(grayscale, "train", 4, image_size=(32,))


def test_any_tfds_dataset_by_name(tmp_path):
    with tfds.testing.mock_data(num_examples=12, data_dir=str(tmp_path / "tfds")):
        info = data.dataset_info("tfds:mnist")
        images, labels = data.as_arrays(data.image_dataset("tfds:mnist", "test", 5))
        train = data.image_dataset("tfds:mnist", "train", 4, holdout=4, epochs=[0])
        assert int(train.cardinality()) == 2
    assert info.name == "mnist (tensorflow-datasets)"
    assert info.image_shape == (28, 28, 1) and info.num_classes == 10
    assert len(info.mean) == 1 and 0 < info.std[0]
    assert images.shape == (12, 28, 28, 1) and labels.max() < 10


def test_tfds_cifar10_keeps_its_published_statistics(tmp_path):
    with tfds.testing.mock_data(num_examples=4, data_dir=str(tmp_path / "tfds")):
        info = data.dataset_info("tfds")
    assert info.is_cifar10() and info.mean == (0.4914, 0.4822, 0.4465)


def test_unknown_tfds_dataset_is_named():
    with pytest.raises(data.DataSourceError, match="no dataset 'no_such_set'"):
        data.dataset_info("tfds:no_such_set")


def write_idx(path, array):
    """`array` (uint8) as a gzipped IDX file."""
    import gzip

    magic = {1: 2049, 3: 2051}[array.ndim].to_bytes(4, "big")
    dims = b"".join(n.to_bytes(4, "big") for n in array.shape)
    path.write_bytes(gzip.compress(magic + dims + array.astype(np.uint8).tobytes()))


def test_idx_files_become_a_named_class_folder(tmp_path):
    idx_to_folder = load_script("idx_to_folder")
    rng = np.random.default_rng(0)
    images = {}
    for prefix, count in (("train", 20), ("t10k", 10)):
        images[prefix] = rng.integers(0, 256, size=(count, 28, 28)).astype(np.uint8)
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz", images[prefix])
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte.gz", np.arange(count) % 10)
    idx_to_folder.main(
        [str(tmp_path), "--output", str(tmp_path / "out"), "--class-names", "fashion"]
    )
    info = data.dataset_info(tmp_path / "out")
    assert info.name == f"Fashion-MNIST, read from {tmp_path / 'out'}"
    assert info.class_names[0] == "0_t-shirt_top" and info.image_shape == (28, 28, 1)
    written = np.asarray(Image.open(tmp_path / "out/train/3_dress/00013.png"))
    np.testing.assert_array_equal(written, images["train"][13])
    assert len(list((tmp_path / "out/test").glob("*/*.png"))) == 10
    with pytest.raises(ValueError, match="not an IDX file of 3 dimension"):
        idx_to_folder.read_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", 3)
