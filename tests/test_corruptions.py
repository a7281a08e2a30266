"""The common corruptions: the images they make, their cache, the published
arrays, and the corruption error."""

import itertools
import json

import numpy as np
import pytest
from scipy import ndimage

from keras_hebb.robustness.common_corruptions import (
    corruption_errors,
    mean_corruption_accuracy,
    relative_corruption_errors,
)
from keras_hebb.robustness.corruption_names import CORRUPTIONS, FAMILIES
from keras_hebb.robustness.corruptions import OPERATIONS, SEVERITIES, corrupt
from keras_hebb.run.config import ConfigError, CorruptionConfig, load_config
from keras_hebb.run.corruption_data import (
    corrupted_test_set,
    generated_set,
)

# The published parameters show no growth in any image distance we measured
# between these severities (an affine jitter that shrinks while the elastic
# displacement grows; frost's weights; glass blur's sigmas 0.05 ... 0.4 and
# passes 1, 1, 1, 2, 2; motion blur's radius 6 -> 8 at the same sigma, whose
# extra taps weigh under 1e-3): for these the test checks only that
# severity 5 changes the images more than severity 1 does, or for the
# elastic transform that every severity changes them.
NOT_ORDERED = {"glass_blur", "frost", "elastic_transform", "motion_blur"}


@pytest.fixture(scope="module")
def images():
    """Smooth random images with some texture, (12, 32, 32, 3) in [0, 1]."""
    rng = np.random.default_rng(0)
    smooth = ndimage.gaussian_filter(rng.normal(size=(12, 32, 32, 3)), (0, 1.5, 1.5, 0))
    texture = rng.normal(0, 0.03, size=smooth.shape)
    return np.clip(0.5 + 2 * smooth + texture, 0, 1).astype("float32")


def dissimilarity(a, b):
    """Root-mean-square pixel difference per image, averaged."""
    return float(np.mean(np.sqrt(((a - b) ** 2).mean(axis=(1, 2, 3)))))


def test_the_names_are_the_fifteen_of_cifar_10_c_in_four_families():
    assert len(CORRUPTIONS) == 15
    assert tuple(OPERATIONS) == tuple(SEVERITIES) == CORRUPTIONS
    assert sorted(FAMILIES) == ["blur", "digital", "noise", "weather"]
    assert all(len(parameters) == 5 for parameters in SEVERITIES.values())


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_every_severity_keeps_shape_dtype_and_range_and_grows(images, name):
    distances = []
    for severity in range(1, 6):
        corrupted = corrupt(images, name, severity, seed=3)
        assert corrupted.shape == images.shape and corrupted.dtype == images.dtype
        assert corrupted.min() >= 0.0 and corrupted.max() <= 1.0
        # On the 256 levels of 8 bits, as the published uint8 arrays.
        np.testing.assert_allclose(
            corrupted * 255, np.round(corrupted * 255), atol=1e-3
        )
        np.testing.assert_array_equal(
            corrupted, corrupt(images, name, severity, seed=3)
        )
        distances.append(dissimilarity(images, corrupted))
    assert min(distances) > 0.002, distances
    if name == "elastic_transform":
        return
    if name in NOT_ORDERED:
        assert distances[4] > distances[0], distances
    else:
        assert all(b > a for a, b in itertools.pairwise(distances)), distances


def test_another_seed_draws_other_corruptions(images):
    assert not np.array_equal(
        corrupt(images, "shot_noise", 3, seed=1),
        corrupt(images, "shot_noise", 3, seed=2),
    )


def test_gaussian_noise_has_cifar_10_c_standard_deviations():
    # The published CIFAR-10-C parameters (make_cifar_c.py of Hendrycks and
    # Dietterich's repository).
    assert SEVERITIES["gaussian_noise"] == [0.04, 0.06, 0.08, 0.09, 0.10]
    flat = np.full((64, 32, 32, 3), 0.5, "float32")
    for severity, std in enumerate(SEVERITIES["gaussian_noise"], 1):
        measured = np.std(corrupt(flat, "gaussian_noise", severity) - flat)
        # Truncation to 8 bits adds a uniform error of sd 1/255/sqrt(12).
        assert measured == pytest.approx(np.hypot(std, 1 / 255 / np.sqrt(12)), rel=0.02)


@pytest.mark.parametrize(
    "name, severity, message",
    [("rain", 1, "Unknown corruption 'rain'"), ("fog", 6, "`severity` must be one of")],
)
def test_bad_names_and_severities_are_named(images, name, severity, message):
    with pytest.raises(ValueError, match=message):
        corrupt(images, name, severity)


def test_non_float_images_are_refused():
    with pytest.raises(ValueError, match="must be a float array"):
        corrupt(np.zeros((2, 32, 32, 3), "uint8"), "fog", 1)


def small_config(tmp_path, **changes):
    return CorruptionConfig(
        examples=5,
        corruptions=["gaussian_noise", "contrast"],
        severities=[1, 5],
        cache=str(tmp_path / "cache"),
        **changes,
    )


def test_generated_sets_are_cached_with_checksums(images, tmp_path, capsys):
    config = small_config(tmp_path)
    made = generated_set(images[:5], config)
    (cached,) = (tmp_path / "cache").glob("*.npz")
    record = json.loads(cached.with_suffix(".json").read_text())
    assert sorted(record["sha256"]) == sorted(made) and record["seed"] == 0
    again = generated_set(images[:5], config)
    assert "read 4 sets of 5 images" in capsys.readouterr().out
    for key in made:
        np.testing.assert_array_equal(made[key], again[key])
    # A tampered file fails its checksum and is made again.
    tampered = dict(made, contrast_1=made["contrast_1"] ^ 1)
    np.savez_compressed(cached, **tampered)
    remade = generated_set(images[:5], config)
    assert "does not match its checksums" in capsys.readouterr().out
    np.testing.assert_array_equal(remade["contrast_1"], made["contrast_1"])


def test_another_seed_is_another_cached_set(images, tmp_path):
    generated_set(images[:5], small_config(tmp_path))
    generated_set(images[:5], small_config(tmp_path, seed=1))
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 2


def test_published_arrays_are_read_with_their_labels(tmp_path):
    folder = tmp_path / "CIFAR-10-C"
    folder.mkdir()
    rng = np.random.default_rng(0)
    stored = rng.integers(0, 256, size=(50000, 2, 2, 3), dtype=np.uint8)
    np.save(folder / "gaussian_noise.npy", stored)
    np.save(folder / "contrast.npy", stored[::-1])
    labels = rng.integers(0, 10, size=50000).astype(np.uint8)
    np.save(folder / "labels.npy", labels)
    config = small_config(tmp_path, source=str(folder))
    ours = np.zeros((10, 2, 2, 3), "float32")
    corrupted = corrupted_test_set(config, ours, np.zeros(10, int), "ours")
    assert corrupted.source.startswith("CIFAR-10-C (the published arrays")
    np.testing.assert_array_equal(corrupted.labels, labels[:5])
    np.testing.assert_array_equal(
        corrupted.images["gaussian_noise"][5], stored[40000:40005]
    )
    np.testing.assert_array_equal(corrupted.images["contrast"][1], stored[::-1][:5])


def test_tfds_cifar10_corrupted_is_read_with_its_labels(tmp_path):
    import tensorflow_datasets as tfds

    config = small_config(tmp_path, source="tfds")
    with tfds.testing.mock_data(num_examples=8):
        corrupted = corrupted_test_set(
            config, np.zeros((5, 32, 32, 3), "float32"), np.zeros(5, int), "ours"
        )
    assert corrupted.source == "CIFAR-10-C (tensorflow-datasets cifar10_corrupted)"
    assert corrupted.clean is None and corrupted.labels.shape == (5,)
    for by_severity in corrupted.images.values():
        assert sorted(by_severity) == [1, 5]
        assert all(
            a.shape == (5, 32, 32, 3) and a.dtype == np.uint8
            for a in by_severity.values()
        )


def test_missing_published_files_are_named(tmp_path):
    config = small_config(tmp_path, source=str(tmp_path))
    with pytest.raises(FileNotFoundError, match="lacks the CIFAR-10-C files"):
        corrupted_test_set(config, np.zeros((5, 2, 2, 3), "float32"), np.zeros(5), "x")


def test_corruption_error_is_errors_relative_to_the_baseline():
    baseline = {"fog": {1: 0.8, 2: 0.6}, "snow": {1: 0.5, 2: 0.5}}
    network = {"fog": {1: 0.9, 2: 0.8}, "snow": {1: 0.5, 2: 0.25}}
    errors, mce = corruption_errors(network, baseline)
    assert errors["fog"] == pytest.approx(100 * 0.3 / 0.6)
    assert errors["snow"] == pytest.approx(100 * 1.25 / 1.0)
    assert mce == pytest.approx((50 + 125) / 2)
    assert corruption_errors(baseline, baseline)[1] == pytest.approx(100)
    assert mean_corruption_accuracy(network) == pytest.approx(0.6125)


def test_relative_corruption_error_counts_only_the_added_errors():
    baseline = {"fog": {1: 0.8, 2: 0.6}}
    # Less accurate clean (0.7 against 0.9) but losing less under fog.
    network = {"fog": {1: 0.65, 2: 0.6}}
    _, mce = corruption_errors(network, baseline)
    relative, relative_mce = relative_corruption_errors(network, 0.7, baseline, 0.9)
    assert mce == pytest.approx(100 * 0.75 / 0.6)
    assert relative["fog"] == pytest.approx(100 * (0.05 + 0.1) / (0.1 + 0.3))
    assert relative_mce == relative["fog"]


@pytest.mark.parametrize(
    "override, message",
    [
        ("corruptions.corruptions=[rain]", "'rain' is not one of"),
        ("corruptions.severities=[0]", "0 is not one of"),
        ("corruptions.examples=0", "corruptions.examples: must be a positive int"),
    ],
)
def test_bad_corruption_settings_are_named(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config("smoke", overrides=[override])
