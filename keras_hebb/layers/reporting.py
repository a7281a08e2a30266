from keras import ops


class ReportsStatistics:
    """Mixin for layers that expose scalar statistics of their latest call.

    A layer records scalar tensors with `_record_statistics` inside `call`;
    a training step that has just called the model reads them with
    `latest_statistics` in the same trace (as Keras reads `layer.losses`)
    and turns them into metrics. `statistic_names` lists the keys.
    """

    statistic_names = ()

    def _record_statistics(self, **statistics):
        self._latest_statistics = statistics

    def latest_statistics(self):
        """Dict of the scalar tensors recorded by the latest call."""
        return dict(getattr(self, "_latest_statistics", {}))


def nonzero_fraction(x):
    """Fraction of the entries of `x` that are not zero, a float32 scalar."""
    return ops.mean(ops.cast(ops.not_equal(x, 0), "float32"))
