"""Spreads over seeds and paired comparisons of two networks on the same images.

Every formula is a library's: Student's t interval and the paired t-test
from scipy.stats, the paired bootstrap from `scipy.stats.bootstrap`, the
exact (binomial) or chi-square McNemar test from statsmodels.

- `spread`: mean, sample standard deviation and t interval of one figure
  over seeds.
- `paired_bootstrap`: the difference of two networks' mean per-image score
  on the same images, with a bootstrap interval over images.
- `mcnemar_test`: McNemar's test of two networks' right/wrong on the same
  images (one seed each).
- `paired_seeds_test`: the paired t-test of one figure over seeds (seed s of
  one network against seed s of the other).
- `verdict`: "higher", "lower" or "no difference shown", from an interval.
"""

import numpy as np
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar

# Below this many discordant images McNemar's test uses the exact binomial
# distribution instead of the chi-square approximation (statsmodels' advice).
EXACT_BELOW = 25
HIGHER, LOWER, NO_DIFFERENCE = "higher", "lower", "no difference shown"


def spread(values, confidence=0.95):
    """Mean, sample sd (ddof=1) and t interval of `values` (one per seed).

    With one value, `sd` and `interval` are None.

    Example:

    >>> round(spread([0.7, 0.8, 0.9])["mean"], 6)
    0.8
    """
    values = np.asarray(values, dtype="float64")
    if values.ndim != 1 or len(values) == 0:
        raise ValueError(
            f"`values` must be a non-empty 1D sequence. Received: {values}"
        )
    mean = float(values.mean())
    if len(values) < 2:
        return {"mean": mean, "sd": None, "interval": None, "n": 1}
    sd = float(values.std(ddof=1))
    if sd == 0:
        interval = (mean, mean)
    else:
        interval = stats.t.interval(
            confidence, len(values) - 1, loc=mean, scale=stats.sem(values)
        )
    return {
        "mean": mean,
        "sd": sd,
        "interval": [float(interval[0]), float(interval[1])],
        "n": len(values),
    }


def check_paired(reference, other):
    reference = np.asarray(reference, dtype="float64")
    other = np.asarray(other, dtype="float64")
    if reference.shape != other.shape or reference.ndim != 1 or not len(reference):
        raise ValueError(
            "Paired scores must be two non-empty 1D arrays of one length (one "
            f"score per image). Received shapes {reference.shape} and {other.shape}"
        )
    return reference, other


def mean_difference(reference, other, axis=-1):
    """mean(other) - mean(reference): the statistic of the paired bootstrap."""
    return np.mean(other, axis=axis) - np.mean(reference, axis=axis)


def paired_bootstrap(reference, other, confidence=0.95, resamples=2000, seed=0):
    """mean(other) - mean(reference) over the same images, with a percentile
    bootstrap interval that resamples images (pairs kept together).

    Args:
        reference, other: per-image scores of the two networks, `(images,)`:
            1/0 for right/wrong, or fractions (e.g. right over noise draws,
            or averaged over seeds).
        confidence: the interval's level.
        resamples: bootstrap resamples.
        seed: the resampling's seed.

    Returns:
        dict with "difference", "interval" ([low, high]) and "images".
    """
    reference, other = check_paired(reference, other)
    difference = float(mean_difference(reference, other))
    if np.all(reference == other):
        interval = [0.0, 0.0]
    else:
        result = stats.bootstrap(
            (reference, other),
            mean_difference,
            paired=True,
            vectorized=True,
            confidence_level=confidence,
            n_resamples=resamples,
            method="percentile",
            rng=np.random.default_rng(seed),
        )
        interval = [
            float(result.confidence_interval.low),
            float(result.confidence_interval.high),
        ]
    return {"difference": difference, "interval": interval, "images": len(other)}


def mcnemar_test(reference_correct, other_correct):
    """McNemar's test of two networks' right (1) / wrong (0) on the same images.

    Exact (binomial) below `EXACT_BELOW` discordant images, chi-square with
    continuity correction above.

    Returns:
        dict with "reference_only" (images only the reference gets right),
        "other_only", "p_value" and "exact".
    """
    reference, other = check_paired(reference_correct, other_correct)
    if not set(np.unique(reference)) | set(np.unique(other)) <= {0.0, 1.0}:
        raise ValueError("McNemar's test needs right/wrong (1/0) per image.")
    reference, other = reference.astype(bool), other.astype(bool)
    table = [
        [int(np.sum(reference & other)), int(np.sum(reference & ~other))],
        [int(np.sum(~reference & other)), int(np.sum(~reference & ~other))],
    ]
    discordant = table[0][1] + table[1][0]
    exact = discordant < EXACT_BELOW
    p_value = 1.0 if discordant == 0 else float(mcnemar(table, exact=exact).pvalue)
    return {
        "reference_only": table[0][1],
        "other_only": table[1][0],
        "p_value": p_value,
        "exact": exact,
    }


def paired_seeds_test(reference_by_seed, other_by_seed):
    """Paired t-test of one figure over seeds; None with fewer than 2 seeds.

    Returns:
        dict with "seeds", "mean_difference" and "p_value" (None when every
        seed's difference is the same, where the test is undefined).
    """
    reference, other = check_paired(reference_by_seed, other_by_seed)
    if len(reference) < 2:
        return None
    differences = other - reference
    p_value = None
    if np.ptp(differences) > 1e-12:
        p_value = float(stats.ttest_rel(other, reference).pvalue)
    return {
        "seeds": len(reference),
        "mean_difference": float(differences.mean()),
        "p_value": p_value,
    }


def verdict(interval):
    """ "higher" if the interval of other - reference lies above zero,
    "lower" if below, else "no difference shown"."""
    low, high = interval
    if low > 0:
        return HIGHER
    if high < 0:
        return LOWER
    return NO_DIFFERENCE


def binomial_interval(correct, total, confidence=0.95):
    """Wilson interval of an accuracy on `total` images (one seed)."""
    result = stats.binomtest(int(correct), int(total)).proportion_ci(
        confidence_level=confidence, method="wilson"
    )
    return [float(result.low), float(result.high)]
