import math

import keras
from keras import ops

from keras_hebb.layers.data_format import channels_last_only
from keras_hebb.layers.reporting import ReportsStatistics, nonzero_fraction
from keras_hebb.layers.straight_through import with_identity_gradient


@keras.saving.register_keras_serializable(package="keras_hebb")
class AdaptiveThreshold(ReportsStatistics, keras.layers.Layer):
    """Keeps the values of each channel map above `scale` times its mean.

    For every (sample, channel) map the output is
    `x * (x > scale * mean_over_height_width(x))`. The threshold is not
    differentiated: the gradient is the mask. Reports the fraction of its
    outputs that are non-zero as the metric `<name>_nonzero` (see
    `ReportsStatistics`).

    Args:
        scale: non-negative float multiplying the map's mean.
        straight_through: bool; if True, the backward pass is the identity
            (BPDA) instead of the mask, so gradient attacks see through the
            threshold. The forward pass is unchanged.
        data_format: None or "channels_last", the only layout supported;
            None reads `keras.config.image_data_format()`.
        **kwargs: base layer arguments such as `name` and `dtype`.

    Input shape:
        4D tensor `(batch_size, height, width, channels)` (channels last).

    Output shape:
        Same as the input.

    Example:

    >>> x = np.random.rand(2, 8, 8, 4).astype("float32")
    >>> tuple(keras_hebb.layers.AdaptiveThreshold(scale=1.0)(x).shape)
    (2, 8, 8, 4)
    """

    statistic_names = ("nonzero",)

    def __init__(self, scale=1.0, straight_through=False, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if not (math.isfinite(scale) and scale >= 0):
            raise ValueError(
                f"`scale` must be a finite non-negative float. Received: scale={scale}"
            )
        self.scale = float(scale)
        self.straight_through = bool(straight_through)
        self.data_format = channels_last_only(data_format, "AdaptiveThreshold")
        self.input_spec = keras.layers.InputSpec(ndim=4)

    def call(self, inputs):
        threshold = self.scale * ops.mean(inputs, axis=(1, 2), keepdims=True)
        threshold = ops.stop_gradient(threshold)
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
        config["scale"] = self.scale
        return config
