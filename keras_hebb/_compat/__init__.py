"""Everything of keras-hebb that leans on a library's internals or on one
version's behaviour, in one place, with the versions it was checked on.

Keras 3.15 and TensorFlow 2.21 (this module):

- `losses_per_replica_thread`: works around `add_loss` under
  `tf.distribute.MirroredStrategy`. Keras keeps a layer's `add_loss` losses
  in the private list `_losses`, which the model's outermost call clears;
  the strategy traces each replica in a thread of its own and switches
  threads at cross-replica synchronisation points; in Keras' training step
  one falls between a replica's forward pass and `compute_loss`'s read of
  `model.losses` (traced: the second replica cleared and refilled the lists
  before the first read them). So the first replica reads the last
  replica's costs: its step differs from one device's. The layer gets one
  list per thread.
- `BuildsFromFirstReplica`: Keras averages a distributed first batch with
  `strategy.reduce` in the private `_maybe_symbolic_build`, which
  `MultiWorkerMirroredStrategy` cannot do on an `(x, y)` tuple; building
  needs only shapes, which this worker's first replica's share has.
- `nested_layers`: every layer of a model at any depth, which Keras lists
  with its private `_flatten_layers` (`model.layers` holds the top level).
- `replaced_calls`: a layer's `call` replaced for a while by an instance
  attribute, which Keras' `Layer.__call__` runs since it looks `self.call`
  up at every call (`Operation.__call__`).
- `multi_worker_logs`: Keras' `fit` sums multi-worker logs over replicas
  along axis 0, which the scalar logs of its own `train_step` lack.
- `metric_updatable_here`: Keras' own JAX training step runs the forward
  pass in a stateless scope that maps the weights but not the metrics'
  variables (and empties those during `fit`), so a layer's own metric
  cannot be updated there; Keras exports no way to ask which variables the
  current scope maps.
- `saves_synchronized` and `load_unsynchronized`: Keras refuses
  `BatchNormalization(synchronized=True)` on JAX and torch, and its loader
  offers no hook for a built-in layer's config (`custom_objects` is looked
  up by registered name, which built-ins lack), so a file saved on
  TensorFlow with the networks' synchronized BatchNorm would not load there.
  The archive's `config.json` is read, `synchronized` dropped (it only
  matters when training across replicas), the model rebuilt in safe mode
  and its weights loaded from the same file.
- `op_determinism_enabled`: TensorFlow exports the switch of op determinism
  but not its reading (`tensorflow.python.framework.config`).

CleverHans 4 under Keras 3: `keras_hebb._compat.cleverhans`.

`check_versions()` raises `UnsupportedVersionError` naming every installed
library outside `CHECKED`; importing this module warns instead, so that a
newer release still runs, with the likely reason named if it fails.
"""

import contextlib
import importlib.metadata
import threading
import warnings

from packaging.specifiers import SpecifierSet
from packaging.version import Version

# The versions the adapters were checked on (the test suite runs on them).
CHECKED = {
    "cleverhans": SpecifierSet("==4.0.0"),
    "keras": SpecifierSet(">=3.15,<3.16"),
    "tensorflow": SpecifierSet(">=2.21,<2.22"),
}


class UnsupportedVersionError(RuntimeError):
    """An installed library outside the versions the adapters were checked on."""


def installed_version(distribution):
    """The installed version of `distribution`, or None where it is not installed."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def installed_versions():
    """{distribution: installed version or None} of the libraries in `CHECKED`."""
    return {name: installed_version(name) for name in CHECKED}


def unchecked(versions):
    """The "name version (checked: range)" of each installed version outside
    `CHECKED` (libraries not installed are left out)."""
    return [
        f"{name} {version} (checked: {CHECKED[name]})"
        for name, version in versions.items()
        if version is not None and Version(version) not in CHECKED[name]
    ]


def check_versions(versions=None):
    """Raises `UnsupportedVersionError` if a library of `versions` (default:
    the installed ones) is outside the versions the adapters were checked on."""
    outside = unchecked(installed_versions() if versions is None else versions)
    if outside:
        raise UnsupportedVersionError(
            "keras_hebb's adapters to library internals (keras_hebb/_compat) "
            f"were not checked on {', '.join(outside)}; run the test suite on "
            "these versions before trusting training under a strategy, SPSA or "
            "Carlini-Wagner."
        )


if unchecked(installed_versions()):
    warnings.warn(
        f"keras_hebb._compat: unchecked versions {unchecked(installed_versions())}",
        stacklevel=2,
    )


class PerThreadList:
    """A list-like store with one list per thread (see the module's notes)."""

    def __init__(self):
        self._local = threading.local()

    def _list(self):
        if not hasattr(self._local, "items"):
            self._local.items = []
        return self._local.items

    def extend(self, items):
        self._list().extend(items)

    def clear(self):
        self._list().clear()

    def __getitem__(self, index):
        return self._list()[index]

    def __iter__(self):
        return iter(self._list())

    def __len__(self):
        return len(self._list())


def nested_layers(model, include_self=False):
    """Every layer of `model` at any depth (and the model, if `include_self`)."""
    return list(model._flatten_layers(include_self=include_self))


@contextlib.contextmanager
def replaced_calls(layers, replacement):
    """Within the block, each of `layers` runs `replacement(layer, call)`
    instead of its `call` (see the module's notes); restored on exit."""
    try:
        for layer in layers:
            layer.call = replacement(layer, layer.call)
        yield
    finally:
        for layer in layers:
            vars(layer).pop("call", None)


def losses_per_replica_thread(layer):
    """Gives `layer` one `add_loss` list per thread (see the module's notes)."""
    layer._losses = PerThreadList()


class BuildsFromFirstReplica:
    """Mixin for a `keras.Model` built, under a distribution strategy, from
    the first replica's share of the first batch (see the module's notes)."""

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        import tensorflow as tf

        if iterator is not None and self._distribute_strategy is not None:
            for _, _, batches in iterator:
                data_batch = tf.nest.map_structure(
                    lambda value: self._distribute_strategy.experimental_local_results(
                        value
                    )[0],
                    next(batches),
                )
                break
            iterator = None
        super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)


def multi_worker_logs(logs):
    """`logs` with each scalar as a (1,) vector, as Keras 3.15 needs them under
    a multi-worker strategy."""
    from keras import ops

    return {name: ops.reshape(value, (1,)) for name, value in logs.items()}


def op_determinism_enabled():
    """Whether TensorFlow's op determinism is on."""
    from tensorflow.python.framework import config

    return config.is_op_determinism_enabled()


def metric_updatable_here(metric):
    """Whether `metric` can be updated in the current trace (see the module's
    notes): always on TensorFlow; on JAX outside a stateless scope, or in one
    that maps the metric's variables."""
    import keras
    from keras.src.backend.common.stateless_scope import get_stateless_scope

    scope = get_stateless_scope()
    if keras.backend.backend() != "jax" or scope is None:
        return True
    return all(scope.get_current_value(v) is not None for v in metric.variables)


def _keras_config(path):
    import json
    import zipfile

    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("config.json"))


def _synchronized_layers(config):
    """The configs of every synchronized BatchNormalization in a model config."""
    if isinstance(config, dict):
        if config.get("class_name") == "BatchNormalization" and config.get(
            "config", {}
        ).get("synchronized"):
            yield config["config"]
        for value in config.values():
            yield from _synchronized_layers(value)
    elif isinstance(config, list):
        for value in config:
            yield from _synchronized_layers(value)


def saves_synchronized(path):
    """Whether the `.keras` file at `path` holds a synchronized BatchNorm."""
    return any(True for _ in _synchronized_layers(_keras_config(path)))


def load_unsynchronized(path):
    """The model of a `.keras` file with every BatchNorm unsynchronized,
    uncompiled (for a backend other than TensorFlow)."""
    import keras

    config = _keras_config(path)
    for layer in _synchronized_layers(config):
        layer["synchronized"] = False
    config.pop("compile_config", None)
    model = keras.saving.deserialize_keras_object(config, safe_mode=True)
    model.load_weights(path)
    return model
