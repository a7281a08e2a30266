"""One SGD step of the tiny networks under a strategy, saved for comparison.

Run as a script, in a process of its own (logical devices must be set before
TensorFlow starts):

    python distributed_step.py mirrored OUT.npz   # 2 logical CPUs; and 1 device
    TF_CONFIG=... python distributed_step.py multi_worker OUT.npz

For each strategy ("mirrored" runs the default strategy too) and each of
hah_lenet, plain_hah_lenet (its layers in a plain `keras.Model`) and
baseline_lenet (hah_lenet only for "multi_worker") it saves the
trainable weights before and after one SGD step on one global batch
(`<strategy>/<network>/before/<i>`, `.../after/<i>`), the non-trainable ones
after it (`.../state/<i>`: BatchNorm's moving statistics),
the step's logs (`<strategy>/<network>/log/<name>`) and the number of
replicas (`<strategy>/replicas`).
"""

import sys

import numpy as np
import tensorflow as tf

GLOBAL_BATCH = 16
LEARNING_RATE = 0.5


def configure_devices(mode):
    if mode == "mirrored":
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2
        )


def toy_batch():
    rng = np.random.default_rng(7)
    x = rng.uniform(0.2, 0.6, size=(GLOBAL_BATCH, 28, 28, 1)).astype("float32")
    y = rng.integers(0, 2, size=GLOBAL_BATCH).astype("int32")
    x[y == 1, :, :14] += 0.3
    return x, y


def plain_hah_lenet(**kwargs):
    """hah_lenet's layers in a plain `keras.Model` (Keras' own training step)."""
    import keras

    from keras_hebb.models import hah_lenet

    network = hah_lenet(**kwargs)
    return keras.Model(network.inputs, network.outputs, name="plain_hah_lenet")


def one_step(build, strategy):
    import keras

    keras.utils.set_random_seed(0)
    with strategy.scope():
        model = build(width=0.125, num_classes=2)
        model.compile(
            keras.optimizers.SGD(LEARNING_RATE),
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
    before = [w.numpy() for w in model.trainable_weights]
    dataset = tf.data.Dataset.from_tensor_slices(toy_batch()).batch(GLOBAL_BATCH)
    logs = model.fit(dataset, epochs=1, verbose=0).history
    after = [w.numpy() for w in model.trainable_weights]
    arrays = {f"log/{k}": np.float64(v[0]) for k, v in logs.items()}
    arrays.update({f"before/{i}": w for i, w in enumerate(before)})
    arrays.update({f"after/{i}": w for i, w in enumerate(after)})
    arrays.update(
        {f"state/{i}": w.numpy() for i, w in enumerate(model.non_trainable_weights)}
    )
    return arrays


def main(mode, path):
    configure_devices(mode)
    from keras_hebb.distribute import get_strategy
    from keras_hebb.models import baseline_lenet, hah_lenet

    names = ("default", "mirrored") if mode == "mirrored" else (mode,)
    arrays = {}
    for name in names:
        strategy = get_strategy(name)
        arrays[f"{name}/replicas"] = np.int64(strategy.num_replicas_in_sync)
        builds = (
            (hah_lenet,)
            if name == "multi_worker"
            else (hah_lenet, plain_hah_lenet, baseline_lenet)
        )
        for build in builds:
            for key, value in one_step(build, strategy).items():
                arrays[f"{name}/{build.__name__}/{key}"] = value
    np.savez(path, **arrays)


if __name__ == "__main__":
    main(*sys.argv[1:3])
