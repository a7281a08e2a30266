"""Keras layers of HaH networks, one per file."""

from keras_hebb.layers.adaptive_threshold import AdaptiveThreshold
from keras_hebb.layers.divisive_normalization import DivisiveNormalization
from keras_hebb.layers.fractional_threshold import FractionalThreshold
from keras_hebb.layers.hah_cost import HaHCost
from keras_hebb.layers.implicit_norm_conv import ImplicitNormConv2D
from keras_hebb.layers.reporting import ReportsStatistics

# The layers that zero activations by a threshold, by type: the one list
# the probes, the straight-through (BPDA) clone and the masking checks read.
THRESHOLDS = (FractionalThreshold, AdaptiveThreshold)

__all__ = [
    "THRESHOLDS",
    "AdaptiveThreshold",
    "DivisiveNormalization",
    "FractionalThreshold",
    "HaHCost",
    "ImplicitNormConv2D",
    "ReportsStatistics",
]
