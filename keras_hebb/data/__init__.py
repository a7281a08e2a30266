"""Images for training and evaluation, usable without the run layer.

- `sources`: where images come from (tensorflow-datasets or a class folder)
  and the checks that stop bad input by name;
- `statistics`: what a dataset is (`DatasetInfo`: classes, shape, input
  statistics), cached across runs in `cache`;
- `pipeline`: batched, augmented `tf.data` pipelines;
- `constants` and `options`: published dataset facts and the option names,
  importable without TensorFlow.

Example:

>>> info = keras_hebb.data.dataset_info(folder)
>>> batches = keras_hebb.data.image_dataset(folder, "test", batch_size=4)
>>> info.num_classes, tuple(next(iter(batches))[0].shape)
(10, (4, 32, 32, 3))
"""

from keras_hebb._lazy import lazy_exports

__all__ = [
    "DataSourceError",
    "DatasetInfo",
    "as_arrays",
    "dataset_info",
    "describe_source",
    "image_dataset",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "DataSourceError": "keras_hebb.data.sources",
        "describe_source": "keras_hebb.data.sources",
        "DatasetInfo": "keras_hebb.data.statistics",
        "dataset_info": "keras_hebb.data.statistics",
        "image_dataset": "keras_hebb.data.pipeline",
        "as_arrays": "keras_hebb.data.pipeline",
    },
)
