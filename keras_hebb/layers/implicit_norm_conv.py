import keras
from keras import ops

_BIAS_ARGUMENTS = (
    "use_bias",
    "bias_initializer",
    "bias_regularizer",
    "bias_constraint",
)


@keras.saving.register_keras_serializable(package="keras_hebb")
class ImplicitNormConv2D(keras.layers.Conv2D):
    """Bias-free 2D convolution with implicit l2 normalisation of each filter.

    Each output channel is divided by the l2 norm of its filter (taken over
    the kernel's height, width and input channels) plus `epsilon`:
    `y[..., c] = conv(x, W)[..., c] / (||W[:, :, :, c]||_2 + epsilon)`.
    Scaling a filter by any positive number leaves the output unchanged, so
    the layer needs no batch normalisation to keep its scale in check. The
    division is applied to the kernel before the convolution, which gives
    the same result as dividing the output and costs less. Under a mixed
    policy (`keras_hebb.precision`) the norms are taken of the float32
    weights and the normalised kernel is cast to the compute dtype.

    Args:
        filters: int, the number of output channels.
        kernel_size: int or tuple of 2 ints, the size of the window.
        strides: int or tuple of 2 ints, the stride of the window.
        padding: `"valid"` or `"same"` (case-insensitive).
        data_format: `"channels_last"` or `"channels_first"`; defaults to
            `keras.config.image_data_format()`.
        dilation_rate: int or tuple of 2 ints, the dilation rate.
        groups: int, the number of groups of input channels.
        activation: activation applied after the normalisation.
        kernel_initializer: initializer of the kernel.
        kernel_regularizer: regularizer of the kernel.
        activity_regularizer: regularizer of the output.
        kernel_constraint: constraint of the kernel.
        epsilon: float > 0 added to each filter's norm.
        **kwargs: base layer arguments such as `name` and `dtype`. There is
            no bias: passing `use_bias` or another bias argument is an error.

    Input shape:
        4D tensor `(batch_size, height, width, channels)` with
        `data_format="channels_last"`, or `(batch_size, channels, height,
        width)` with `data_format="channels_first"`.

    Output shape:
        4D tensor `(batch_size, new_height, new_width, filters)` or
        `(batch_size, filters, new_height, new_width)`.

    Example:

    >>> x = np.random.rand(4, 10, 10, 3)
    >>> y = keras_hebb.layers.ImplicitNormConv2D(8, 3, padding="same")(x)
    >>> tuple(y.shape)
    (4, 10, 10, 8)
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1),
        groups=1,
        activation=None,
        kernel_initializer="glorot_uniform",
        kernel_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        epsilon=1e-6,
        **kwargs,
    ):
        bias_arguments = sorted(set(kwargs) & set(_BIAS_ARGUMENTS))
        if bias_arguments:
            raise ValueError(
                "ImplicitNormConv2D has no bias (a bias would not scale with "
                f"the normalised filter). Remove the arguments {bias_arguments}."
            )
        if not epsilon > 0:
            raise ValueError(
                f"`epsilon` must be a positive float. Received: epsilon={epsilon}"
            )
        # The filter norms are taken of the float32 weights under a mixed
        # policy (see `normalized_kernel`), so Keras must not cast the kernel.
        kwargs["autocast"] = False
        super().__init__(
            filters=filters,
            kernel_size=kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            groups=groups,
            activation=activation,
            use_bias=False,
            kernel_initializer=kernel_initializer,
            kernel_regularizer=kernel_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            **kwargs,
        )
        self.epsilon = float(epsilon)

    def normalized_kernel(self):
        """The kernel with each filter divided by its l2 norm plus epsilon,
        computed from the weights in their own dtype (float32 under a mixed
        policy), then cast to the compute dtype."""
        kernel = self.kernel
        norms = ops.sqrt(ops.sum(ops.square(kernel), axis=(0, 1, 2)))
        return ops.cast(kernel / (norms + self.epsilon), self.compute_dtype)

    def call(self, inputs):
        inputs = ops.cast(inputs, self.compute_dtype)
        outputs = self.convolution_op(inputs, self.normalized_kernel())
        if self.activation is not None:
            return self.activation(outputs)
        return outputs

    def get_config(self):
        config = super().get_config()
        for name in _BIAS_ARGUMENTS:
            config.pop(name, None)
        config["epsilon"] = self.epsilon
        return config
