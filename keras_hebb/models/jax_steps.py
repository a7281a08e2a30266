"""`HaHModel`'s training and evaluation steps on the JAX backend.

Keras' own JAX steps run the forward pass in `stateless_call`, which hands
back the layers' weights but drops what the layers' own metrics recorded
(the HaH scores and non-zero fractions), so they would log zeros. These
steps run the forward pass, the loss and the metrics in one
`keras.StatelessScope` that maps every variable of the model, so the
layers' metric updates reach the logs as they do on TensorFlow, where
Keras' own steps are used. Public Keras API only: the scope, `compute_loss`,
`compute_metrics` and `optimizer.stateless_apply`.
"""

import keras


def loss_metric(model):
    """The metric behind the compiled model's "loss" log."""
    return next(metric for metric in model.metrics if metric.name == "loss")


def current_values(scope, variables, values):
    """Each variable's value at the end of `scope` (its old value if unchanged)."""
    updated = [scope.get_current_value(variable) for variable in variables]
    return [old if new is None else new for new, old in zip(updated, values)]


def forward(model, state, data, training):
    """Loss, logs and the new non-trainable and metric values of one batch.

    `state` is `(trainable, non_trainable, metrics)` values in the order of
    `model.trainable_variables`, `model.non_trainable_variables` and
    `model.metrics_variables`. Returns `(loss, (logs, non_trainable,
    metrics))`, the form `jax.value_and_grad(..., has_aux=True)` takes.
    """
    trainable, non_trainable, metrics = state
    x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
    mapping = [
        *zip(model.trainable_variables, trainable),
        *zip(model.non_trainable_variables, non_trainable),
        *zip(model.metrics_variables, metrics),
    ]
    with keras.StatelessScope(state_mapping=mapping, collect_losses=True) as scope:
        y_pred = model(x, training=training)
        loss = model.compute_loss(x, y, y_pred, sample_weight, training=training)
        batch_size = keras.tree.flatten(x)[0].shape[0]
        loss_metric(model).update_state(loss, sample_weight=batch_size)
        logs = model.compute_metrics(x, y, y_pred, sample_weight)
    non_trainable = current_values(scope, model.non_trainable_variables, non_trainable)
    metrics = current_values(scope, model.metrics_variables, metrics)
    return loss, (logs, non_trainable, metrics)


def train_step(model, state, data):
    """One optimizer step; `state` and the result are as Keras' JAX `train_step`'s."""
    import jax  # this module is imported on every backend

    trainable, non_trainable, optimizer_values, metrics = state

    def scaled_loss(trainable):
        loss, aux = forward(model, (trainable, non_trainable, metrics), data, True)
        optimizer_mapping = list(zip(model.optimizer.variables, optimizer_values))
        with keras.StatelessScope(state_mapping=optimizer_mapping):
            return model.optimizer.scale_loss(loss), aux

    (_, (logs, non_trainable, metrics)), gradients = jax.value_and_grad(
        scaled_loss, has_aux=True
    )(trainable)
    trainable, optimizer_values = model.optimizer.stateless_apply(
        optimizer_values, gradients, trainable
    )
    return logs, (trainable, non_trainable, optimizer_values, metrics)


def test_step(model, state, data):
    """One evaluation batch; `state` and the result are as Keras' JAX `test_step`'s."""
    trainable, non_trainable, metrics = state
    _, (logs, non_trainable, metrics) = forward(
        model, (trainable, non_trainable, metrics), data, False
    )
    return logs, (trainable, non_trainable, metrics)
