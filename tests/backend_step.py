"""The tiny networks' forward pass and one SGD step, on this process's backend.

Run as a script with `KERAS_BACKEND` set (the backend is chosen when Keras
is first imported, once per process):

    KERAS_BACKEND=jax python backend_step.py WEIGHTS_DIR OUT.npz
    KERAS_BACKEND=torch python backend_step.py WEIGHTS_DIR OUT.npz

For hah_vgg and baseline_vgg it loads `WEIGHTS_DIR/<network>.weights.h5`
and saves `<network>/logits` and `<network>/losses` of a fixed batch,
`<network>/log/<name>` of one `train_on_batch` with SGD, and
`<network>/after/<i>`, the trainable weights after it.
`test_backends.py` compares them across backends.
"""

import pathlib
import sys

import keras
import numpy as np

TINY = {"depth": 11, "width": 0.0625, "num_classes": 2}
LEARNING_RATE = 0.1


def toy_batch():
    rng = np.random.default_rng(11)
    x = rng.uniform(0.2, 0.6, size=(16, 32, 32, 3)).astype("float32")
    y = rng.integers(0, 2, size=16).astype("int32")
    x[y == 1, :, :16] += 0.3
    return x, y


def networks():
    from keras_hebb.models import baseline_vgg, hah_vgg

    return {"hah_vgg": hah_vgg, "baseline_vgg": baseline_vgg}


def one_step(model):
    """Figures of `model` on the toy batch, before and after one SGD step."""
    x, y = toy_batch()
    model.compile(
        keras.optimizers.SGD(LEARNING_RATE),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    numpy = keras.ops.convert_to_numpy
    arrays = {"logits": numpy(model(x)), "losses": np.zeros(0, "float32")}
    if model.losses:
        arrays["losses"] = np.array([float(loss) for loss in model.losses])
    logs = model.train_on_batch(x, y, return_dict=True)
    arrays.update({f"log/{name}": np.float64(value) for name, value in logs.items()})
    arrays.update(
        {f"after/{i}": numpy(w) for i, w in enumerate(model.trainable_weights)}
    )
    return arrays


def main(weights_dir, path):
    arrays = {}
    for name, build in networks().items():
        model = build(**TINY)
        model.load_weights(pathlib.Path(weights_dir) / f"{name}.weights.h5")
        for key, value in one_step(model).items():
            arrays[f"{name}/{key}"] = value
    np.savez(path, **arrays)


if __name__ == "__main__":
    main(*sys.argv[1:3])
