import keras
import tensorflow as tf
from keras import ops

from keras_hebb._compat import (
    BuildsFromFirstReplica,
    give_each_thread_its_losses,
    loss_tracker,
    multi_worker_logs,
    nested_layers,
)
from keras_hebb.distribute import spans_workers
from keras_hebb.layers.reporting import ReportsStatistics


def unscaled_for_replicas(loss):
    """A replica's `loss` as the global batch's: Keras' `compute_loss` divides
    it by the number of replicas in sync (1 outside a strategy)."""
    # Keras has no public op for the number of replicas; tf.distribute has.
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    return loss * ops.cast(replicas, loss.dtype)


@keras.saving.register_keras_serializable(package="keras_hebb")
class HaHModel(BuildsFromFirstReplica, keras.Model):
    """A functional `keras.Model` that trains with cross-entropy plus HaH costs.

    Build it like a functional model, `HaHModel(inputs, outputs)`. Its
    `train_step` minimises the compiled loss plus every cost its layers add
    with `add_loss` (the `HaHCost` layers' `-alpha * score` among them), and
    both `train_step` and `test_step` report, besides the compiled loss and
    metrics:

    - `hah_loss`: the sum of the HaH costs (0 for a model without any);
    - `<layer>_score` for each `HaHCost` layer: its HaH score;
    - `<layer>_nonzero` for each threshold layer: the fraction of its
      outputs that are non-zero.

    Every layer that reports statistics (`ReportsStatistics`) gets one
    metric per statistic, averaged over the epoch as Keras averages `loss`.
    Works with `compile(jit_compile=True)` (XLA) and without, and under a
    `tf.distribute` strategy (build and compile it in `strategy.scope()`):
    Keras divides each replica's loss, `add_loss` costs included, by the
    number of replicas and sums the replicas' gradients, so a step on N
    replicas is the step of one device on the global batch; the reported
    `loss` is multiplied back to the global batch's.

    Example:

    >>> model = keras_hebb.models.hah_vgg(depth=11, width=0.125)
    >>> model.compile(
    ...     "adam",
    ...     keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    ...     metrics=["accuracy"],
    ... )
    >>> history = model.fit(x, y, epochs=1)
    >>> sorted(history.history)[:3]
    ['accuracy', 'hah1_score', 'hah2_score']
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        give_each_thread_its_losses(self)
        self._reporting_layers = [
            layer
            for layer in nested_layers(self)
            if isinstance(layer, ReportsStatistics)
        ]
        self.hah_loss_tracker = keras.metrics.Mean(name="hah_loss")
        self.statistic_trackers = {
            f"{layer.name}_{key}": keras.metrics.Mean(name=f"{layer.name}_{key}")
            for layer in self._reporting_layers
            for key in layer.statistic_names
            if key != "cost"
        }
        self._training_perturbation = None

    @property
    def training_perturbation(self):
        """The `keras_hebb.training.InputPerturbation` applied to every training
        batch, or None (train on the batches as they are)."""
        return self._training_perturbation

    @training_perturbation.setter
    def training_perturbation(self, perturbation):
        from keras_hebb.training.perturbation import InputPerturbation

        if perturbation is not None and not isinstance(perturbation, InputPerturbation):
            raise ValueError(
                "`training_perturbation` must be a keras_hebb.training "
                f"InputPerturbation or None. Received: {perturbation!r}"
            )
        self._training_perturbation = perturbation
        # A compiled step would keep the old perturbation.
        self.train_function = None

    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        if self._training_perturbation is not None:
            x = self._training_perturbation(self, x, y)
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x, y, y_pred, sample_weight, training=True)
            scaled_loss = self.optimizer.scale_loss(loss)
        gradients = tape.gradient(scaled_loss, self.trainable_variables)
        self.optimizer.apply(gradients, self.trainable_variables)
        return self._update_metrics(loss, x, y, y_pred, sample_weight)

    def test_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(x, y, y_pred, sample_weight, training=False)
        return self._update_metrics(loss, x, y, y_pred, sample_weight)

    def _update_metrics(self, loss, x, y, y_pred, sample_weight):
        """Updates every tracker after a forward pass, returns the logs."""
        batch_size = ops.shape(tf.nest.flatten(x)[0])[0]
        loss_tracker(self).update_state(
            unscaled_for_replicas(loss), sample_weight=batch_size
        )
        hah_loss = ops.zeros(())
        for layer in self._reporting_layers:
            for key, value in layer.latest_statistics().items():
                if key == "cost":
                    hah_loss = hah_loss + value
                else:
                    name = f"{layer.name}_{key}"
                    self.statistic_trackers[name].update_state(value)
        self.hah_loss_tracker.update_state(hah_loss, sample_weight=batch_size)
        logs = self.compute_metrics(x, y, y_pred, sample_weight)
        if spans_workers(self.distribute_strategy):
            logs = multi_worker_logs(logs)
        return logs
