"""The statistics against values worked out by hand on tiny cases."""

import numpy as np
import pytest

from keras_hebb.run.statistics import (
    binomial_interval,
    mcnemar_test,
    paired_bootstrap,
    paired_seeds_test,
    spread,
    verdict,
)


def test_spread_over_seeds():
    result = spread([0.70, 0.80, 0.90])
    # mean 0.8; sd = sqrt((0.01 + 0 + 0.01) / 2) = 0.1; t(0.975, 2) = 4.3027;
    # half-width = 4.3027 * 0.1 / sqrt(3) = 0.24841.
    assert result["mean"] == pytest.approx(0.8)
    assert result["sd"] == pytest.approx(0.1)
    assert result["interval"] == pytest.approx([0.8 - 0.24841, 0.8 + 0.24841], abs=1e-5)
    assert result["n"] == 3
    assert spread([0.5]) == {"mean": 0.5, "sd": None, "interval": None, "n": 1}
    assert spread([0.5, 0.5])["interval"] == [0.5, 0.5]
    with pytest.raises(ValueError, match="non-empty 1D"):
        spread([])


def test_mcnemar_exact_counts_only_discordant_images():
    reference = np.array([1, 1, 1, 1, 1, 0, 0, 0, 1, 0])
    other = np.array([1, 0, 0, 0, 0, 0, 1, 0, 1, 0])
    # Discordant: reference only right on images 1-4 (4), other only on 6 (1).
    # Exact two-sided binomial: 2 * P(X <= 1 | n=5, p=1/2) = 2 * 6/32 = 0.375.
    result = mcnemar_test(reference, other)
    assert (result["reference_only"], result["other_only"]) == (4, 1)
    assert result["p_value"] == pytest.approx(0.375)
    assert result["exact"] is True
    assert mcnemar_test(reference, reference)["p_value"] == 1.0
    with pytest.raises(ValueError, match="right/wrong"):
        mcnemar_test([0.5, 1.0], [1.0, 0.0])


def test_mcnemar_chi_square_with_many_discordant_images():
    reference = np.array([1] * 30 + [0] * 10 + [1] * 60)
    other = np.array([0] * 30 + [1] * 10 + [1] * 60)
    # b=30, c=10: (|30-10| - 1)^2 / 40 = 9.025, chi-square(1) p = 0.002663.
    result = mcnemar_test(reference, other)
    assert result["exact"] is False
    assert result["p_value"] == pytest.approx(0.002663, abs=2e-6)


def test_paired_bootstrap_interval_covers_the_difference():
    rng = np.random.default_rng(0)
    reference = rng.integers(0, 2, size=400).astype(float)
    other = np.where(rng.uniform(size=400) < 0.2, 1.0, reference)
    result = paired_bootstrap(reference, other, resamples=2000, seed=1)
    assert result["difference"] == pytest.approx(other.mean() - reference.mean())
    low, high = result["interval"]
    assert low < result["difference"] < high and low > 0  # other only gains
    # The percentile interval of a mean difference is about +-1.96 standard
    # errors of the per-image differences.
    error = np.std(other - reference, ddof=1) / np.sqrt(400)
    assert high - low == pytest.approx(2 * 1.96 * error, rel=0.15)
    again = paired_bootstrap(reference, other, resamples=2000, seed=1)
    assert again == result
    assert paired_bootstrap(reference, reference)["interval"] == [0.0, 0.0]
    with pytest.raises(ValueError, match="one score per image"):
        paired_bootstrap([1.0, 0.0], [1.0])


def test_paired_seeds_test_is_the_paired_t_test():
    # Differences 0.02, 0.04, 0.03: mean 0.03, sd 0.01, t = 0.03 / (0.01 /
    # sqrt(3)) = 5.196, two-sided p with 2 df = 0.0351.
    result = paired_seeds_test([0.70, 0.71, 0.72], [0.72, 0.75, 0.75])
    assert result["mean_difference"] == pytest.approx(0.03)
    assert result["p_value"] == pytest.approx(0.0351, abs=1e-4)
    assert paired_seeds_test([0.7], [0.8]) is None
    assert paired_seeds_test([0.7, 0.8], [0.8, 0.9])["p_value"] is None


def test_verdict_reads_the_interval():
    assert verdict([0.01, 0.05]) == "higher"
    assert verdict([-0.05, -0.01]) == "lower"
    assert verdict([-0.01, 0.05]) == "no difference shown"


def test_binomial_interval_is_wilson():
    # Wilson 95% for 8 of 10: centre (8 + 1.92) / 13.84 = 0.7168,
    # half-width 1.96 * sqrt(1.6 + 0.9604) / 13.84 = 0.2266.
    assert binomial_interval(8, 10) == pytest.approx([0.4902, 0.9433], abs=1e-3)
