import math

import keras
from keras import ops

from keras_hebb._compat import losses_per_replica_thread
from keras_hebb.hah import (
    hah_score,
    num_winners,
    validate_hah_rank,
    validate_ratio,
)
from keras_hebb.layers.reporting import ReportsStatistics

GRADIENTS = ("local", "end_to_end")
IMPLEMENTATIONS = ("auto", "custom_gradient", "two_pass")


def zeros_if_none(gradient, like):
    """An upstream gradient, or zeros where the output was not used."""
    return ops.zeros_like(like) if gradient is None else gradient


@keras.saving.register_keras_serializable(package="keras_hebb")
class HaHCost(ReportsStatistics, keras.layers.Wrapper):
    """Attaches a layer-wise Hebbian/anti-Hebbian cost to a Conv or Dense layer.

    The wrapper returns the wrapped layer's output unchanged and adds
    `-alpha * hah_score(output, ratio, demote)` to the model's losses with
    `add_loss`, so `model.fit` minimises it with any Keras model. With
    `gradient="local"` (the paper's setting) the cost's gradient reaches only
    the wrapped layer's own weights, as if the score were computed from the
    layer applied to `stop_gradient(inputs)`. With `gradient="end_to_end"`
    it flows into earlier layers too.

    Two implementations give the local gradient, with the same numbers:
    `"custom_gradient"` (TensorFlow only) computes it from the one forward
    pass; `"two_pass"` (any backend) scores a second application of the
    layer to `stop_gradient(inputs)`, which XLA merges with the first in
    the forward pass, as JAX's `jit` always compiles it. Keras' own
    `ops.custom_gradient` cannot give gradients to a layer's weights, which
    is why the first is TensorFlow's. `experiments/benchmark.py
    --implementations` times both.

    Reports its HaH score as the metric `<name>_score` (see
    `ReportsStatistics`); the cost is in `layer.losses`.

    Args:
        layer: a `keras.layers.Layer` whose output is `(batch, channels)` or
            `(batch, height, width, channels)`, typically a `Conv2D`,
            `ImplicitNormConv2D` or `Dense` without activation.
        alpha: non-negative float, the weight of the cost.
        ratio: float in (0, 1), the fraction of channels that are winners.
        demote: float, the weight of the losers' mean in the score.
        gradient: `"local"` or `"end_to_end"`.
        implementation: `"auto"` (`"custom_gradient"` on TensorFlow,
            `"two_pass"` on other backends), `"custom_gradient"` or
            `"two_pass"`; how the local gradient is computed.
        **kwargs: base layer arguments such as `name`.

    Input shape:
        The wrapped layer's input shape.

    Output shape:
        The wrapped layer's output shape.

    Example:

    >>> conv = keras.layers.Conv2D(16, 3, padding="same", use_bias=False)
    >>> inputs = keras.Input((32, 32, 3))
    >>> x = keras_hebb.layers.HaHCost(conv, alpha=0.001)(inputs)
    >>> x = keras.layers.ReLU()(x)
    """

    statistic_names = ("score",)

    def __init__(
        self,
        layer,
        alpha,
        ratio=0.1,
        demote=1.0,
        gradient="local",
        implementation="auto",
        **kwargs,
    ):
        super().__init__(layer, **kwargs)
        losses_per_replica_thread(self)
        if not (math.isfinite(alpha) and alpha >= 0):
            raise ValueError(
                f"`alpha` must be a finite non-negative float. Received: alpha={alpha}"
            )
        validate_ratio(ratio)
        if not math.isfinite(demote):
            raise ValueError(f"`demote` must be finite. Received: demote={demote}")
        if gradient not in GRADIENTS:
            raise ValueError(
                f"`gradient` must be one of {GRADIENTS}. "
                f"Received: gradient={gradient!r}"
            )
        if implementation not in IMPLEMENTATIONS:
            raise ValueError(
                f"`implementation` must be one of {IMPLEMENTATIONS}. "
                f"Received: implementation={implementation!r}"
            )
        if (
            implementation == "custom_gradient"
            and keras.backend.backend() != "tensorflow"
        ):
            raise ValueError(
                "implementation='custom_gradient' needs the TensorFlow backend; "
                f"this is {keras.backend.backend()!r}. Use 'auto' or 'two_pass'."
            )
        self.implementation = implementation
        self.alpha = float(alpha)
        self.ratio = float(ratio)
        self.demote = float(demote)
        self.gradient = gradient

    def build(self, input_shape):
        output_shape = self.layer.compute_output_shape(input_shape)
        validate_hah_rank(len(output_shape), what=f"outputs of {self.layer.name}")
        num_winners(output_shape[-1], self.ratio)
        super().build(input_shape)

    def call(self, inputs):
        if self.gradient == "local":
            outputs, scored = self._outputs_and_local_copy(inputs)
        else:
            outputs = scored = self.layer(inputs)
        score = hah_score(scored, self.ratio, self.demote)
        self.add_loss(-self.alpha * score)
        self.record_statistics(score=score)
        return outputs

    def _outputs_and_local_copy(self, inputs):
        """The wrapped layer's outputs, and a copy whose gradient stops at its weights."""
        if self.implementation == "two_pass" or (
            self.implementation == "auto" and keras.backend.backend() != "tensorflow"
        ):
            return self.layer(inputs), self.layer(ops.stop_gradient(inputs))
        return outputs_and_local_copy_by_custom_gradient(self.layer, inputs)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "alpha": self.alpha,
                "ratio": self.ratio,
                "demote": self.demote,
                "gradient": self.gradient,
                "implementation": self.implementation,
            }
        )
        return config


def outputs_and_local_copy_by_custom_gradient(layer, inputs):
    """`layer(inputs)` twice over from one forward pass (TensorFlow only).

    The copy's gradient is added to the outputs' gradient for the layer's
    weights and left out of the gradient to `inputs`: the same gradients as
    `layer(stop_gradient(inputs))` gives the copy, without running the
    layer twice.
    """
    # Keras has no custom gradient that reaches layer variables, and the
    # backward pass needs the forward pass's own tape: tf.* here.
    import tensorflow as tf

    @tf.custom_gradient
    def forward(x):
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            outputs = layer(x)

        def backward(d_outputs, d_copy, variables=None):
            d_outputs = zeros_if_none(d_outputs, outputs)
            d_all = d_outputs + zeros_if_none(d_copy, outputs)
            d_inputs = tape.gradient(outputs, x, output_gradients=d_outputs)
            d_variables = tape.gradient(
                outputs, variables or [], output_gradients=d_all
            )
            return d_inputs, d_variables

        return (outputs, tf.identity(outputs)), backward

    return forward(inputs)
