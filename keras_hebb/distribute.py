"""Choosing a `tf.distribute` strategy for training, and what depends on it.

Keras trains under whatever strategy's `scope()` a model was built and
compiled in; `get_strategy` maps the `--distribute` names to strategies:

- "default": TensorFlow's default strategy, one device;
- "mirrored": `tf.distribute.MirroredStrategy`, every GPU of this machine
  (or its CPU when it has none), synchronous data parallelism;
- "multi_worker": `tf.distribute.MultiWorkerMirroredStrategy`, the machines
  described by the `TF_CONFIG` environment variable (one process each).

Example:

>>> strategy = get_strategy("mirrored")
>>> with strategy.scope():
...     model = keras_hebb.models.hah_vgg(depth=11, width=0.25)
...     model.compile(
...         "sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True)
...     )
"""

# TensorFlow is imported in the functions, so that the command line can list
# STRATEGIES without starting it.
STRATEGIES = ("default", "mirrored", "multi_worker")


def get_strategy(name="default"):
    """The `tf.distribute.Strategy` called `name`.

    Args:
        name: "default", "mirrored" or "multi_worker" (see the module).

    Returns:
        A `tf.distribute.Strategy`; build and compile models in its `scope()`.

    Raises:
        ValueError: for any other name.
    """
    import tensorflow as tf

    if name not in STRATEGIES:
        raise ValueError(
            f"`distribute` must be one of {STRATEGIES}. Received: {name!r}"
        )
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def worker_index(strategy):
    """This process's worker number under `strategy`: 0 for the chief and for
    single-machine strategies."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or resolver.task_type in (None, "chief"):
        return 0
    cluster = resolver.cluster_spec().as_dict()
    # Without a "chief" task, worker 0 is the chief.
    return resolver.task_id + int("chief" in cluster)


def spans_workers(strategy):
    """Whether `strategy` trains across several worker processes."""
    import tensorflow as tf

    resolver = getattr(strategy, "cluster_resolver", None)
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return False
    return sum(len(tasks) for tasks in resolver.cluster_spec().as_dict().values()) > 1


def shard_by_examples(dataset):
    """`dataset` with auto-sharding by examples rather than by files.

    Every worker then reads all files and keeps its own slice of each global
    batch, so N replicas see exactly the batches one device would see.
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = (
        tf.data.experimental.AutoShardPolicy.DATA
    )
    return dataset.with_options(options)
