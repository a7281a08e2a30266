import numpy as np
import pytest
from reference import hah_score as reference_hah_score

import keras_hebb

pytestmark = pytest.mark.backends


@pytest.mark.parametrize(
    "shape, ratio, demote",
    [((4, 5, 7, 16), 0.1, 1.0), ((3, 40), 0.25, 0.5), ((2, 3, 3, 64), 0.1, 2.0)],
)
def test_matches_reference(rng, shape, ratio, demote):
    z = rng.normal(size=shape).astype("float32")
    score = float(keras_hebb.hah_score(z, ratio=ratio, demote=demote))
    assert score == pytest.approx(reference_hah_score(z, ratio, demote), rel=1e-5)


def test_all_zero_input_scores_zero():
    assert float(keras_hebb.hah_score(np.zeros((2, 4, 4, 8), "float32"))) == 0.0


def test_ties_split_between_top_and_bottom():
    z = np.ones((1, 2, 2, 10), "float32")
    assert float(keras_hebb.hah_score(z, ratio=0.1)) == pytest.approx(0.0)
    z[..., 0] = 3.0
    # top = 3, bottom = 1: ReLU keeps both.
    assert float(keras_hebb.hah_score(z, ratio=0.1)) == pytest.approx(2.0)


def test_negative_values_are_rectified():
    z = -np.abs(np.random.default_rng(0).normal(size=(2, 3, 3, 8))).astype("float32")
    assert float(keras_hebb.hah_score(z, ratio=0.25)) == 0.0


@pytest.mark.parametrize(
    "ratio, channels, message",
    [
        (0.0, 8, "open interval"),
        (1.0, 8, "open interval"),
        (0.9, 4, "K=4"),
        (0.5, 1, "K=1"),
    ],
)
def test_ratio_without_both_groups_raises(ratio, channels, message):
    with pytest.raises(ValueError, match=message):
        keras_hebb.hah_score(np.ones((1, channels), "float32"), ratio=ratio)


def test_unsupported_rank_raises():
    with pytest.raises(ValueError, match="rank 3"):
        keras_hebb.hah_score(np.ones((2, 5, 8), "float32"))
