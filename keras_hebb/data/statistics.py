"""What a dataset is (`DatasetInfo`): classes, image shape and the per-channel
input statistics the networks standardise with, cached across runs.

CIFAR-10 is standardised with its published constants; any other dataset
with the statistics of its whole training split, computed once and cached in
`~/.cache/keras-hebb/statistics` (see `keras_hebb.data.cache`).
"""

import dataclasses
import functools
import hashlib
import json

import numpy as np

from keras_hebb.data.cache import cache_folder
from keras_hebb.data.constants import (
    CIFAR10_CLASSES,
    CIFAR10_MEAN,
    CIFAR10_SHAPE,
    CIFAR10_STD,
)
from keras_hebb.data.options import TFDS, TFDS_DEFAULT, tfds_name
from keras_hebb.data.sources import (
    DataSourceError,
    check_decoded,
    check_image_folder,
    check_image_size,
    describe_source,
    first_image_shape,
    folder_fingerprint,
    read_split,
    stored_image_shape,
    tfds_features,
)
from keras_hebb.files import write_json
from keras_hebb.progress import say


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What a dataset is: its name, classes, image shape and input statistics.

    `mean` and `std` are per channel, of pixels in [0, 1].
    """

    name: str
    class_names: tuple
    image_shape: tuple
    mean: tuple
    std: tuple

    @property
    def num_classes(self):
        return len(self.class_names)

    def network_arguments(self):
        """The builder arguments that fit a network to this data."""
        return {
            "input_shape": self.image_shape,
            "num_classes": self.num_classes,
            "input_mean": self.mean,
            "input_std": self.std,
        }

    def is_cifar10(self):
        return (
            tuple(self.class_names) == CIFAR10_CLASSES
            and self.image_shape == CIFAR10_SHAPE
        )


def channel_statistics(dataset):
    """Per-channel mean and standard deviation of uint8 images in [0, 1] units."""
    total = total_squares = None
    count = 0
    for images, _ in dataset.batch(1000):
        pixels = images.numpy().reshape(-1, images.shape[-1]).astype("float64") / 255
        sums, squares = pixels.sum(0), (pixels**2).sum(0)
        total = sums if total is None else total + sums
        total_squares = squares if total_squares is None else total_squares + squares
        count += len(pixels)
    mean = total / count
    std = np.sqrt(np.maximum(total_squares / count - mean**2, 0.0))
    return tuple(round(float(v), 6) for v in mean), tuple(
        round(float(v), 6) for v in np.maximum(std, 1e-3)
    )


def training_statistics(source, shape, image_size, tfds_data_dir):
    """The training split's per-channel mean and std, from the cache
    (`~/.cache/keras-hebb/statistics`) or computed once and cached; `shape`
    is what `read_split` takes."""
    name = tfds_name(source)
    if name is not None:
        key = hashlib.sha256(f"{name}|{image_size}|{tfds_data_dir}".encode())
        key = key.hexdigest()[:32]
    else:
        key = folder_fingerprint(source, image_size)
    path = cache_folder("statistics") / f"{key}.json"
    if path.exists():
        cached = json.loads(path.read_text())
        return tuple(cached["mean"]), tuple(cached["std"])
    say(f"computing the per-channel mean and std of {source}'s training split")
    dataset, paths = read_split(source, "train", shape, image_size, tfds_data_dir)
    dataset = dataset.cache()
    check_decoded(dataset, paths, shape)
    mean, std = channel_statistics(dataset)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, {"source": str(source), "mean": mean, "std": std})
    return mean, std


@functools.lru_cache(maxsize=16)
def cached_info(source, image_size, tfds_data_dir):
    name = tfds_name(source)
    if name is not None:
        class_names, shape = tfds_features(name, tfds_data_dir)
        if name == TFDS_DEFAULT:
            # tfds reads CIFAR-10's label names from the data once prepared.
            class_names = CIFAR10_CLASSES
    else:
        class_names = tuple(check_image_folder(source))
        shape = first_image_shape(source)
    stored = stored_image_shape(shape, image_size)
    if image_size is not None:
        shape = (*image_size, shape[-1])
    if None in shape:
        raise DataSourceError(
            f"{source}'s images have no single size ({shape}); set "
            "data.image_size=[height,width] to resize them."
        )
    info = DatasetInfo(describe_source(source), class_names, shape, (), ())
    if info.is_cifar10():
        return dataclasses.replace(info, mean=CIFAR10_MEAN, std=CIFAR10_STD)
    mean, std = training_statistics(source, stored, image_size, tfds_data_dir)
    return dataclasses.replace(info, mean=mean, std=std)


def dataset_info(source=TFDS, image_size=None, tfds_data_dir=None):
    """The `DatasetInfo` of a source: class names, image shape, statistics.

    Args:
        source: "tfds", "tfds:<name>" or a `{train,test}/<class>/` folder.
        image_size: None (the images' own size, which must be one size), or
            `(height, width)` to resize every image to.
        tfds_data_dir: tensorflow-datasets' data dir (None: its default).

    Returns:
        A `DatasetInfo`. CIFAR-10 (ten CIFAR-10 classes, 32x32 RGB) is
        standardised with its published statistics, any other dataset with
        its training split's.

    Example:

    >>> info = dataset_info(folder)
    >>> info.num_classes, info.image_shape
    (10, (32, 32, 3))
    """
    return cached_info(str(source), check_image_size(image_size), tfds_data_dir)
