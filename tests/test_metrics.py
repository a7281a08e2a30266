import numpy as np
import pytest

from keras_hebb.metrics import activation_histogram, activation_sparsity
from keras_hebb.models import baseline_vgg, hah_vgg


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).uniform(size=(12, 32, 32, 3)).astype("float32")


@pytest.mark.slow
def test_hah_blocks_are_sparse_after_their_threshold(images):
    stats = activation_sparsity(hah_vgg(depth=11, width=0.125), images, batch_size=5)
    assert list(stats) == [f"conv{i}" for i in range(1, 9)]
    for i in range(1, 7):
        assert 0 < stats[f"conv{i}"]["nonzero"] <= 0.25
    for conv in stats.values():
        assert conv["top_mean"] >= conv["rest_mean"] >= 0
        assert conv["top_to_rest"] >= 1


def test_baseline_blocks_are_read_after_relu(images):
    stats = activation_sparsity(baseline_vgg(depth=11, width=0.125), images)
    assert list(stats) == [f"conv{i}" for i in range(1, 9)]
    assert all(0 < conv["nonzero"] < 1 for conv in stats.values())


@pytest.mark.slow
def test_histogram_counts_every_nonzero_activation(images):
    model = hah_vgg(depth=11, width=0.125)
    hist = activation_histogram(model, images, "conv2", bins=10)
    nonzero = activation_sparsity(model, images)["conv2"]["nonzero"]
    total = images.shape[0] * 16 * 16 * 16
    assert sum(hist["counts"]) == pytest.approx(nonzero * total, rel=1e-6)
    assert hist["zero_fraction"] == pytest.approx(1 - nonzero, abs=1e-6)
    assert len(hist["edges"]) == 11
