import keras
from keras import ops

from keras_hebb._compat import metric_updatable_here


class ReportsStatistics:
    """Mixin for layers that report scalar statistics of their calls as metrics.

    The layer owns one `keras.metrics.Mean` per name in `statistic_names`,
    called `<layer name>_<statistic>` (in `statistics`), and updates it with
    `record_statistics` in every `call`. Keras reports a layer's metrics with
    the model's: `fit` and `evaluate` log each statistic averaged over the
    epoch's batches (under any `tf.distribute` strategy too, as Keras'
    metric variables are), and reset them at the start of each epoch and
    evaluation. Outside `fit` and `evaluate` the metrics keep accumulating
    until `reset_state()`. On JAX, Keras' own training step cannot update a
    layer's metrics: `keras_hebb.models.HaHModel` has steps that do, and a
    plain `keras.Model` logs the statistics as 0.

    Mix it in before `keras.layers.Layer` and call `super().__init__` first.
    """

    statistic_names = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.statistics = {
            key: keras.metrics.Mean(name=f"{self.name}_{key}")
            for key in self.statistic_names
        }

    def record_statistics(self, **values):
        """Adds one value to each named statistic's mean (see the class notes
        for JAX)."""
        for key, value in values.items():
            metric = self.statistics[key]
            # Not on JAX in Keras' own steps, nor in its shape inference.
            if metric_updatable_here(metric):
                metric.update_state(value)


def nonzero_fraction(x):
    """Fraction of the entries of `x` that are not zero, a float32 scalar."""
    return ops.mean(ops.cast(ops.not_equal(x, 0), "float32"))
