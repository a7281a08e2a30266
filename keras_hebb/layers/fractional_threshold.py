import math

import keras
from keras import ops

from keras_hebb.layers.data_format import channels_last_only
from keras_hebb.layers.reporting import ReportsStatistics, nonzero_fraction
from keras_hebb.layers.straight_through import with_identity_gradient
from keras_hebb.order_statistics import kth_smallest_per_map


@keras.saving.register_keras_serializable(package="keras_hebb")
class FractionalThreshold(ReportsStatistics, keras.layers.Layer):
    """Keeps about the largest `keep` fraction of every channel map.

    In each (sample, channel) map of `height * width` values, with
    `k = floor((1 - keep) * height * width)`, values strictly above the map's
    k-th smallest value are kept and the rest are set to zero:
    `x * (x > kth_smallest)`. Ties at the threshold are dropped, so fewer
    than `keep` of a map may survive. When `k` is 0 (`keep=1` or a map too
    small) the input passes unchanged. The threshold is not differentiated:
    the gradient is the mask.

    Reports the fraction of its outputs that are non-zero as the metric
    `<name>_nonzero` (see `ReportsStatistics`).

    Args:
        keep: float in (0, 1], the fraction of each map to keep.
        straight_through: bool; if True, the backward pass is the identity
            (BPDA) instead of the mask, so gradient attacks see through the
            threshold. The forward pass is unchanged.
        data_format: None or "channels_last", the only layout supported;
            None reads `keras.config.image_data_format()`.
        **kwargs: base layer arguments such as `name` and `dtype`.

    Input shape:
        4D tensor `(batch_size, height, width, channels)` (channels last),
        with known height and width.

    Output shape:
        Same as the input.

    Example:

    >>> x = np.random.rand(2, 8, 8, 4).astype("float32")
    >>> y = keras_hebb.layers.FractionalThreshold(keep=0.25)(x)
    >>> int(np.count_nonzero(y[0, :, :, 0]))
    16
    """

    statistic_names = ("nonzero",)

    def __init__(self, keep=0.2, straight_through=False, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 < keep <= 1.0:
            raise ValueError(
                f"`keep` must be in the interval (0, 1]. Received: keep={keep}"
            )
        self.keep = float(keep)
        self.straight_through = bool(straight_through)
        self.data_format = channels_last_only(data_format, "FractionalThreshold")
        self.input_spec = keras.layers.InputSpec(ndim=4)

    def build(self, input_shape):
        if input_shape[1] is None or input_shape[2] is None:
            raise ValueError(
                "FractionalThreshold needs a known height and width to size "
                f"its threshold. Received input shape {input_shape}."
            )

    def num_below(self, height, width):
        """k = floor((1 - keep) * height * width), rounded so 0.8*10 is 8."""
        return math.floor(round((1.0 - self.keep) * height * width, 9))

    def call(self, inputs):
        k = self.num_below(inputs.shape[1], inputs.shape[2])
        if k == 0:
            outputs = inputs
        else:
            threshold = ops.stop_gradient(kth_smallest_per_map(inputs, k))
            outputs = inputs * ops.cast(inputs > threshold, inputs.dtype)
        if self.straight_through:
            outputs = with_identity_gradient(inputs, outputs)
        self.record_statistics(nonzero=nonzero_fraction(outputs))
        return outputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        config["straight_through"] = self.straight_through
        config["keep"] = self.keep
        return config
