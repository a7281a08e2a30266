import keras
from keras import ops

from keras_hebb._compat import BuildsFromFirstReplica, multi_worker_logs
from keras_hebb.distribute import spans_workers
from keras_hebb.models import jax_steps


@keras.saving.register_keras_serializable(package="keras_hebb")
class HaHModel(BuildsFromFirstReplica, keras.Model):
    """A functional `keras.Model` that trains with cross-entropy plus HaH costs.

    Build it like a functional model, `HaHModel(inputs, outputs)`. It trains
    with Keras' own steps, which minimise the compiled loss plus every cost
    its layers add with `add_loss` (the `HaHCost` layers' `-alpha * score`
    among them) and report the metrics of its layers (any `keras.Model` does
    that): `<layer>_score` for each `HaHCost` layer, `<layer>_nonzero` for
    each threshold layer. On top of a plain `keras.Model` it

    - reports `hah_loss`, the sum of `model.losses` (the HaH costs; 0 for a
      model without any), averaged over the epoch as Keras averages `loss`;
    - trains on perturbed batches when `training_perturbation` is set
      (noise or adversarial training, TensorFlow only);
    - trains under `tf.distribute.MultiWorkerMirroredStrategy`, where
      Keras 3.15's `fit` fails on a plain model (`keras_hebb._compat`).

    Works with `compile(jit_compile=True)` (XLA) and without, and under a
    `tf.distribute` strategy (build and compile it in `strategy.scope()`):
    Keras divides each replica's loss, `add_loss` costs included, by the
    number of replicas and sums the replicas' gradients, so a step on N
    replicas is the step of one device on the global batch.

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
        self.hah_loss_tracker = keras.metrics.Mean(name="hah_loss")
        self._training_perturbation = None

    @property
    def training_perturbation(self):
        """The `keras_hebb.training.InputPerturbation` applied to every training
        batch, or None (train on the batches as they are)."""
        return self._training_perturbation

    @training_perturbation.setter
    def training_perturbation(self, perturbation):
        from keras_hebb.training.perturbation import InputPerturbation

        if perturbation is not None and keras.backend.backend() != "tensorflow":
            raise ValueError(
                "`training_perturbation` needs the TensorFlow backend (the "
                "perturbations are TensorFlow code); this is "
                f"{keras.backend.backend()!r}."
            )
        if perturbation is not None and not isinstance(perturbation, InputPerturbation):
            raise ValueError(
                "`training_perturbation` must be a keras_hebb.training "
                f"InputPerturbation or None. Received: {perturbation!r}"
            )
        self._training_perturbation = perturbation
        # A compiled step would keep the old perturbation.
        self.train_function = None

    def train_step(self, *args):
        """Keras' training step (on JAX: `jax_steps.train_step`), on the
        perturbed batch if a `training_perturbation` is set. Takes `(data)`
        on TensorFlow and torch and `(state, data)` on JAX, as Keras' own
        does."""
        *state, data = args
        if self._training_perturbation is not None:
            x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
            data = keras.utils.pack_x_y_sample_weight(
                self._perturbed(x, y), y, sample_weight
            )
        if keras.backend.backend() == "jax":
            return jax_steps.train_step(self, *state, data)
        return self._logs_for_strategy(super().train_step(data))

    def _perturbed(self, x, y):
        """The training perturbation of `x`. Its own forward passes (an
        attack's) are not training batches: the metrics, the layers'
        statistics among them, are restored to what they were."""
        metric_values = [
            ops.copy(variable.value) for variable in self.metrics_variables
        ]
        x = self._training_perturbation(self, x, y)
        for variable, value in zip(self.metrics_variables, metric_values):
            variable.assign(value)
        return x

    def test_step(self, *args):
        """Keras' evaluation step (on JAX: `jax_steps.test_step`)."""
        if keras.backend.backend() == "jax":
            return jax_steps.test_step(self, *args)
        return self._logs_for_strategy(super().test_step(*args))

    def _logs_for_strategy(self, logs):
        """`logs` of a step as Keras' `fit` can reduce them under this model's
        strategy (TensorFlow's; other backends have none)."""
        if keras.backend.backend() == "tensorflow" and spans_workers(
            self.distribute_strategy
        ):
            return multi_worker_logs(logs)
        return logs

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        """Keras' loss (the compiled loss plus `self.losses`); also adds the
        sum of `self.losses`, the layers' HaH costs, to the `hah_loss` metric."""
        loss = super().compute_loss(x, y, y_pred, sample_weight, training)
        costs = self.losses
        hah_loss = ops.sum(ops.stack(costs)) if costs else ops.zeros(())
        batch_size = ops.shape(keras.tree.flatten(y_pred)[0])[0]
        self.hah_loss_tracker.update_state(hah_loss, sample_weight=batch_size)
        return loss
