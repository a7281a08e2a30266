"""What every report's plots share: the non-interactive backend, axes that
compare networks, error bars of spreads, and atomic saving."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from keras_hebb.files import write_atomically
from keras_hebb.run.statistics import binomial_interval


def error_bar(spread, images=None):
    """(low, high) error of a point: ± sd over seeds, or the Wilson interval
    over the images with one seed; zero without either."""
    mean = spread["mean"]
    if spread["sd"] is not None:
        return spread["sd"], spread["sd"]
    if images:
        low, high = binomial_interval(round(mean * images), images)
        return mean - low, high - mean
    return 0.0, 0.0


def label_axis(axis, **labels):
    """Titles and labels an axis comparing networks, with grid and legend."""
    axis.set(**labels)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=7)


def save(fig, path, tight=True):
    """Writes `fig` to `path` atomically (110 dpi) and closes it."""
    if tight:
        fig.tight_layout()
    write_atomically(path, lambda temporary: fig.savefig(temporary, dpi=110))
    plt.close(fig)
