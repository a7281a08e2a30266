from keras import ops

from keras_hebb._compat import thread_local_attribute


class ReportsStatistics:
    """Mixin for layers that expose scalar statistics of their latest call.

    A layer records scalar tensors with `_record_statistics` inside `call`;
    a training step that has just called the model reads them with
    `latest_statistics` in the same trace (as Keras reads `layer.losses`)
    and turns them into metrics. `statistic_names` lists the keys.
    Statistics are kept per thread: `tf.distribute.MirroredStrategy` traces
    each replica's step in a thread of its own, interleaved at every
    cross-replica reduction, and each replica must read its own.
    """

    statistic_names = ()

    def _statistics_of_thread(self):
        return thread_local_attribute(self, "_per_thread")

    def _record_statistics(self, **statistics):
        self._statistics_of_thread().latest = statistics

    def latest_statistics(self):
        """Dict of the scalar tensors recorded by this thread's latest call."""
        return dict(getattr(self._statistics_of_thread(), "latest", {}))


def nonzero_fraction(x):
    """Fraction of the entries of `x` that are not zero, a float32 scalar."""
    return ops.mean(ops.cast(ops.not_equal(x, 0), "float32"))
