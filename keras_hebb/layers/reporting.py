import keras
from keras import ops


class ReportsStatistics:
    """Mixin for layers that report scalar statistics of their calls as metrics.

    The layer owns one `keras.metrics.Mean` per name in `statistic_names`,
    called `<layer name>_<statistic>` (in `statistics`), and updates it with
    `record_statistics` in every `call`. Keras reports a layer's metrics with
    the model's: `fit` and `evaluate` log each statistic averaged over the
    epoch's batches (on every backend's TensorFlow path, under any
    `tf.distribute` strategy, as the metrics' variables are), and reset them
    at the start of each epoch and evaluation. Outside `fit` and `evaluate`
    the metrics keep accumulating until `reset_state()`.

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
        """Adds one value to each named statistic's mean."""
        for key, value in values.items():
            self.statistics[key].update_state(value)

    def statistic_results(self):
        """{statistic: its mean so far, a float}."""
        return {key: float(metric.result()) for key, metric in self.statistics.items()}


def nonzero_fraction(x):
    """Fraction of the entries of `x` that are not zero, a float32 scalar."""
    return ops.mean(ops.cast(ops.not_equal(x, 0), "float32"))
