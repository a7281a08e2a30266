import keras
import tensorflow as tf
from keras import ops

from keras_hebb.layers.reporting import ReportsStatistics


@keras.saving.register_keras_serializable(package="keras_hebb")
class HaHModel(keras.Model):
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
    Works with `compile(jit_compile=True)` (XLA) and without.

    Example:

    >>> model = keras_hebb.models.hah_vgg(depth=11, width=0.125)
    >>> model.compile("adam", "sparse_categorical_crossentropy",
    ...               metrics=["accuracy"])
    >>> history = model.fit(x, y, epochs=1)
    >>> sorted(history.history)[:3]
    ['accuracy', 'hah1_score', 'hah2_score']
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._reporting_layers = [
            layer
            for layer in self._flatten_layers(include_self=False)
            if isinstance(layer, ReportsStatistics)
        ]
        self.hah_loss_tracker = keras.metrics.Mean(name="hah_loss")
        self.statistic_trackers = {
            f"{layer.name}_{key}": keras.metrics.Mean(name=f"{layer.name}_{key}")
            for layer in self._reporting_layers
            for key in layer.statistic_names
            if key != "cost"
        }

    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
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
        self._loss_tracker.update_state(loss, sample_weight=batch_size)
        hah_loss = ops.zeros(())
        for layer in self._reporting_layers:
            for key, value in layer.latest_statistics().items():
                if key == "cost":
                    hah_loss = hah_loss + value
                else:
                    name = f"{layer.name}_{key}"
                    self.statistic_trackers[name].update_state(value)
        self.hah_loss_tracker.update_state(hah_loss, sample_weight=batch_size)
        return self.compute_metrics(x, y, y_pred, sample_weight)
