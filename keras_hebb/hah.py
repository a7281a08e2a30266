"""The Hebbian/anti-Hebbian (HaH) score: the one place its formula is written."""

import math

from keras import ops

from keras_hebb.order_statistics import top_k_sum

SUPPORTED_RANKS = {2: "(batch, channels)", 4: "(batch, height, width, channels)"}


def validate_ratio(ratio):
    """Raises a ValueError unless `ratio` is in the open interval (0, 1)."""
    if not 0.0 < ratio < 1.0:
        raise ValueError(
            f"`ratio` must be in the open interval (0, 1). Received: ratio={ratio}"
        )


def num_winners(channels, ratio):
    """Number of winning channels K = ceil(ratio * channels) of a HaH score.

    Args:
        channels: int, number of channels C of the scored activations.
        ratio: float, fraction of channels that count as winners.

    Returns:
        int K with 1 <= K <= C - 1.

    Raises:
        ValueError: if `ratio` is not in (0, 1) or K is 0 or C, which would
            leave the top or the bottom group empty.
    """
    validate_ratio(ratio)
    # Rounding first keeps products such as 0.1 * 70 = 7.000000000000001
    # from rounding up to an extra winner.
    k = math.ceil(round(ratio * channels, 9))
    if not 1 <= k <= channels - 1:
        raise ValueError(
            f"`ratio={ratio}` with {channels} channels gives K={k} winners; "
            f"K = ceil(ratio * channels) must be between 1 and {channels - 1} "
            "so that both the top and the bottom group are non-empty."
        )
    return k


def validate_hah_rank(rank, what="activations"):
    """Raises a ValueError unless `rank` is one the HaH score supports."""
    if rank not in SUPPORTED_RANKS:
        allowed = " or ".join(
            f"rank {r} {layout}" for r, layout in SUPPORTED_RANKS.items()
        )
        raise ValueError(
            f"The HaH score takes {allowed} channels-last {what}. "
            f"Received a tensor of rank {rank}."
        )


def hah_score(activations, ratio=0.1, demote=1.0):
    """HaH score of a layer: mean over positions of top-K mean minus the rest.

    On `a = relu(activations)`, at every (sample, position) the channel values
    are split into the K = ceil(ratio * C) largest and the other C - K; the
    score is the mean over samples and positions of
    `mean(top K) - demote * mean(other C - K)`. A layer's HaH cost is
    `-alpha * hah_score(...)`: minimising it strengthens the winners
    (Hebbian) and weakens the losers (anti-Hebbian).

    Args:
        activations: tensor of shape `(batch, channels)` or
            `(batch, height, width, channels)`: a layer's output before
            any divisive normalisation. ReLU is applied inside.
        ratio: float in (0, 1), fraction of channels that are winners.
        demote: float, weight of the losers' mean.

    Returns:
        A float32 scalar tensor.

    Example:

    >>> x = np.random.rand(2, 8, 8, 16).astype("float32")
    >>> float(keras_hebb.hah_score(x, ratio=0.25)) > 0
    True
    """
    top, rest = top_and_rest_means(activations, ratio)
    return ops.mean(top - demote * rest)


def top_and_rest_means(activations, ratio=0.1):
    """Per position, the mean of the K largest rectified channels and of the rest.

    Args:
        activations: tensor `(batch, channels)` or
            `(batch, height, width, channels)`; ReLU is applied inside.
        ratio: float in (0, 1); K = ceil(ratio * channels).

    Returns:
        Two float32 tensors of the input's shape without its channel axis.
    """
    validate_hah_rank(len(activations.shape))
    channels = activations.shape[-1]
    k = num_winners(channels, ratio)
    a = ops.relu(ops.cast(activations, "float32"))
    top_sum = top_k_sum(a, k)
    rest_sum = ops.sum(a, axis=-1) - top_sum
    return top_sum / k, rest_sum / (channels - k)
