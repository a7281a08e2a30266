import keras
from keras import ops

from keras_hebb.layers.data_format import channels_last_only
from keras_hebb.precision import at_least_float32

FIELDS = ("linf", "l1", "l2")


@keras.saving.register_keras_serializable(package="keras_hebb")
class DivisiveNormalization(keras.layers.Layer):
    """Divides activations by a local field of their neighbours' strength.

    With `s` the suppression field, averaged over channels, of shape
    `(batch, height, width, 1)`, the output is
    `x / (sigma * max_over_height_width(s) + (1 - sigma) * s + 1e-7)`,
    so strong activations suppress weak ones around them. The field of a
    `pool_size` x `pool_size` neighbourhood (zero padding, stride 1) is

    - `"linf"`: the max of `|x|` (a max pool),
    - `"l1"`: the sum of `|x|` (a box sum),
    - `"l2"`: the square root of the sum of `x**2`,

    taken per channel, then averaged over channels. The maximum is per
    sample. The layer has no weights. Under a mixed policy
    (`keras_hebb.precision`) the field and the division are computed in
    float32 and the output is cast to the compute dtype.

    Args:
        sigma: float in [0, 1], weight of the per-sample maximum of the
            field against the local field.
        pool_size: odd positive int, side of the neighbourhood.
        field: one of `"linf"`, `"l1"`, `"l2"`.
        straight_through: bool; if True, the backward pass treats the
            divisor as a constant (BPDA), so gradient attacks do not follow
            the suppression field. The forward pass is unchanged.
        data_format: None or "channels_last", the only layout supported;
            None reads `keras.config.image_data_format()`.
        **kwargs: base layer arguments such as `name` and `dtype`.

    Input shape:
        4D tensor `(batch_size, height, width, channels)` (channels last).

    Output shape:
        Same as the input.

    Example:

    >>> x = np.random.rand(2, 8, 8, 4).astype("float32")
    >>> tuple(keras_hebb.layers.DivisiveNormalization(sigma=0.1)(x).shape)
    (2, 8, 8, 4)
    """

    def __init__(
        self,
        sigma=0.1,
        pool_size=3,
        field="linf",
        straight_through=False,
        data_format=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not 0.0 <= sigma <= 1.0:
            raise ValueError(f"`sigma` must be in [0, 1]. Received: sigma={sigma}")
        if (
            not isinstance(pool_size, int)
            or isinstance(pool_size, bool)
            or pool_size < 1
            or pool_size % 2 == 0
        ):
            raise ValueError(
                "`pool_size` must be an odd positive int (the neighbourhood is "
                f"centred on each position). Received: pool_size={pool_size!r}"
            )
        if field not in FIELDS:
            raise ValueError(
                f"`field` must be one of {FIELDS}. Received: field={field!r}"
            )
        self.sigma = float(sigma)
        self.pool_size = pool_size
        self.field = field
        self.straight_through = bool(straight_through)
        self.data_format = channels_last_only(data_format, "DivisiveNormalization")
        self.input_spec = keras.layers.InputSpec(ndim=4)

    def _box_sum(self, x):
        """Sum over each pool_size x pool_size window, zero padded."""
        pad = self.pool_size // 2
        padded = ops.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
        window_mean = ops.average_pool(padded, self.pool_size, 1, "valid")
        return window_mean * float(self.pool_size**2)

    def suppression_field(self, x):
        """The channel-averaged field `s`, shape `(batch, height, width, 1)`,
        at least float32: the max pool selects in `x`'s dtype (exact), the
        sums are taken in float32."""
        if self.field == "linf":
            pooled = ops.max_pool(ops.abs(x), self.pool_size, 1, "same")
            return ops.mean(at_least_float32(pooled), axis=-1, keepdims=True)
        x = at_least_float32(x)
        if self.field == "l1":
            # The box sum is linear, so averaging over channels first gives
            # the same field at 1/C of the cost.
            return self._box_sum(ops.mean(ops.abs(x), axis=-1, keepdims=True))
        # The floor keeps the gradient of sqrt finite where a window is all
        # zeros; it changes no value above 1e-6.
        pooled = ops.sqrt(ops.maximum(self._box_sum(ops.square(x)), 1e-12))
        return ops.mean(pooled, axis=-1, keepdims=True)

    def call(self, inputs):
        field = self.suppression_field(inputs)
        peak = ops.max(field, axis=(1, 2), keepdims=True)
        divisor = self.sigma * peak + (1.0 - self.sigma) * field + 1e-7
        if self.straight_through:
            divisor = ops.stop_gradient(divisor)
        outputs = at_least_float32(inputs) / divisor
        return ops.cast(outputs, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        config["straight_through"] = self.straight_through
        config.update(
            {"sigma": self.sigma, "pool_size": self.pool_size, "field": self.field}
        )
        return config
