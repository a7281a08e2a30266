"""Image-classification input pipelines from tensorflow-datasets or a class folder.

A source is "tfds" (CIFAR-10 from tensorflow-datasets), "tfds:<name>" (any
tfds image-classification dataset, e.g. "tfds:mnist", read from its local
data dir when it is there, so offline too) or the path of a folder laid out
as `{train,test}/<class>/*.{png,jpg,jpeg}`, with any class folders (their
sorted names give the label ids), of any one image size, RGB or grayscale.

`dataset_info(source)` says what the data is: class names, image shape and
the per-channel mean and standard deviation the networks standardise with
(CIFAR-10's published constants for CIFAR-10; for any other dataset the
statistics of its whole training split, computed once and cached). The
pipelines give `(image, label)` batches with images as float32 NHWC pixels
in [0, 1] and int32 labels. Images are decoded once, before training, and
cached in memory as uint8; training batches are shuffled and augmented on the
fly (see `AUGMENTATIONS`) in parallel, then prefetched. The "validation"
split is the last `holdout` images of the training split's fixed order,
which the "train" split then leaves out.

Bad input stops the pipeline before training with a `DataSourceError` naming
the folder or file: a missing split or class folder, class folders that
differ between the splits, a class folder without images, an image that
cannot be decoded or has another shape than the dataset's (the first
training image's, or `image_size` when images are resized). Files that are
not .png/.jpg/.jpeg images are skipped, and their count is logged. Every
batch is also checked in-graph (`validation.assert_valid_batch`: finite
pixels in [0, 1], labels in [0, number of classes)).
"""

import dataclasses
import functools
import hashlib
import json
import pathlib
import random

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from keras_hebb.models.blocks import CIFAR10_MEAN, CIFAR10_STD
from keras_hebb.progress import say
from keras_hebb.run.cache import cache_folder
from keras_hebb.run.data_options import AUGMENTATIONS, TFDS, TFDS_DEFAULT, tfds_name
from keras_hebb.run.files import write_json
from keras_hebb.validation import assert_valid_batch, check_positive_int

CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
CIFAR10_SHAPE = (32, 32, 3)
SPLITS = ("train", "validation", "test")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
PAD = 4


class DataSourceError(RuntimeError):
    """Raised when a dataset cannot be read from the requested source."""


JPEG_COPY = "CIFAR-10 (JPEG q75 copy)"

FOLDER_LAYOUT = (
    "An image folder must hold train/<class>/*.{png,jpg} and "
    "test/<class>/*.{png,jpg} with the same class folders in both; for example "
    "the offline CIFAR-10 copy ../shared/data/cifar10-jpeg."
)


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


def describe_source(source):
    """How results name their data: a tfds dataset by its name; a folder as
    its README.md's first heading says (the shared JPEG copy as "CIFAR-10
    (JPEG q75 copy)": it is not CIFAR-10 itself), else by its path."""
    name = tfds_name(source)
    if name is not None:
        return f"{'CIFAR-10' if name == TFDS_DEFAULT else name} (tensorflow-datasets)"
    readme = pathlib.Path(source) / "README.md"
    text = readme.read_text() if readme.is_file() else ""
    if JPEG_COPY in text:
        return f"{JPEG_COPY}, read from {source}"
    if text.startswith("# "):
        return f"{text.splitlines()[0][2:].strip()}, read from {source}"
    return f"image folder {source}"


def check_image_size(image_size):
    """None, or `(height, width)` as a tuple of two positive ints."""
    if image_size is None:
        return None
    size = tuple(image_size)
    if len(size) != 2 or not all(isinstance(v, int) and v > 0 for v in size):
        raise ValueError(
            "`image_size` must be None or (height, width), two positive ints. "
            f"Received: image_size={image_size!r}"
        )
    return size


def class_folders(split_dir):
    """Names of the sub-folders of `split_dir` (empty if it is not a folder)."""
    if not split_dir.is_dir():
        return set()
    return {p.name for p in split_dir.iterdir() if p.is_dir()}


def check_image_folder(root):
    """The sorted class names of a `{train,test}/<class>/` folder, or a
    `DataSourceError` saying what is wrong with it (the label ids are the
    positions in this list)."""
    root = pathlib.Path(root)
    if not root.is_dir():
        raise DataSourceError(f"{root} is not a folder. {FOLDER_LAYOUT}")
    train, test = (class_folders(root / split) for split in ("train", "test"))
    for split, classes in (("train", train), ("test", test)):
        if not classes:
            raise DataSourceError(
                f"{root / split} is not a folder of class folders. {FOLDER_LAYOUT}"
            )
    missing, unknown = sorted(train - test), sorted(test - train)
    if missing or unknown:
        problems = [
            f"{what} class folders {names}"
            for what, names in (("lacks", missing), ("has unknown", unknown))
            if names
        ]
        raise DataSourceError(
            f"{root / 'test'} {' and '.join(problems)}; the test split needs the "
            f"class folders of the train split: {sorted(train)}."
        )
    return sorted(train)


def list_images(root, split):
    """Paths and label ids of the images of one split ("train" or "test") of
    a class-folder dataset.

    The order is the fixed pseudo-random one of tfds' `ImageFolder` (files
    sorted by class then name, shuffled by `random.Random(split)`), so that
    `limit` takes a mix of classes and runs read the images in the same
    order as before. Files whose suffix is not one of `IMAGE_SUFFIXES` are
    skipped; their count is logged. A class folder without images is an
    error.

    Returns:
        `(paths, labels)`: lists of str and int.
    """
    examples, skipped = [], []
    for label, name in enumerate(check_image_folder(root)):
        folder = pathlib.Path(root) / split / name
        files = sorted((p for p in folder.iterdir() if p.is_file()), key=str)
        images = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
        if not images:
            raise DataSourceError(
                f"{folder} holds no images ({', '.join(IMAGE_SUFFIXES)} files)."
            )
        skipped += [p for p in files if p.suffix.lower() not in IMAGE_SUFFIXES]
        examples += [(str(p), label) for p in images]
    if skipped:
        say(
            f"{pathlib.Path(root) / split}: skipped {len(skipped)} files that are "
            f"not {'/'.join(IMAGE_SUFFIXES)} images, e.g. {skipped[0]}"
        )
    random.Random(split).shuffle(examples)
    paths, labels = zip(*examples)
    return list(paths), list(labels)


def read_pixels(path, channels=0):
    """The decoded pixels of a PNG or JPEG file (`channels=0`: its own)."""
    # tf.io: Keras has no image-decoding op.
    return tf.io.decode_image(
        tf.io.read_file(path), channels=channels, expand_animations=False
    )


def resized(image, image_size):
    """uint8 `image` resized to `image_size` (antialiased bilinear), or as is."""
    if image_size is None:
        return image
    image = tf.image.resize(image, image_size, antialias=True)
    return tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)


def decode_image(path, stored_shape, image_size=None):
    """The uint8 pixels of a PNG or JPEG file (a string tensor), resized to
    `image_size` when given.

    Fails with `InvalidArgumentError` on a file that cannot be decoded or
    whose shape is not `stored_shape` (None for a height or width: any,
    for images that are resized); `check_decoded` names that file.
    """
    return resized(tf.ensure_shape(read_pixels(path), stored_shape), image_size)


def describe_bad_image(path, stored_shape):
    """Why one image file fails `decode_image` (decoded eagerly, one file)."""
    try:
        image = read_pixels(path)
    except tf.errors.OpError as error:
        return f"{path} cannot be decoded as an image: {error.message}"
    return (
        f"{path} has shape {tuple(image.shape)}; the dataset's images are "
        f"{tuple(stored_shape)} (height, width, channels; None: any), as its "
        "first training image."
    )


def first_image_shape(root):
    """The shape of a folder dataset's first training image: the shape of
    its images."""
    first = list_images(root, "train")[0][0]
    try:
        return tuple(read_pixels(first).shape)
    except tf.errors.OpError as error:
        raise DataSourceError(describe_bad_image(first, (None,) * 3)) from error


def stored_image_shape(image_shape, image_size):
    """The shape every stored image must have, for a dataset of `image_shape`:
    that shape, with any height and width when images are resized."""
    return image_shape if image_size is None else (None, None, image_shape[-1])


def check_decoded(dataset, paths=None, stored_shape=None, chunk=1000):
    """Reads `dataset` once (filling its cache), or raises DataSourceError.

    Run before training so that an undecodable or wrongly sized image stops
    the run at once, naming the file (`paths`, in dataset order), instead of
    failing an epoch later. On the `.cache()`d dataset this pass is the
    decoding the first epoch would do anyway.
    """
    done = 0
    try:
        for images, _ in dataset.batch(chunk):
            done += len(images)
    except tf.errors.OpError as error:
        if paths is None:
            raise DataSourceError(
                f"image {done} to {done + chunk} of the dataset is unreadable: "
                f"{error.message}"
            ) from error
        for path in paths[done : done + chunk]:
            try:
                decode_image(path, stored_shape)
            except tf.errors.OpError:
                raise DataSourceError(describe_bad_image(path, stored_shape)) from error
        raise DataSourceError(error.message) from error


def load_tfds(name, split, data_dir=None):
    """`tfds.load(name, split)` as (image, label) pairs, or a DataSourceError
    that says what to pass instead."""
    try:
        return tfds.load(name, split=split, as_supervised=True, data_dir=data_dir)
    except Exception as error:
        raise DataSourceError(
            f'tfds.load("{name}", split="{split}") failed (it needs internet '
            "the first time, unless the dataset is prepared in the local tfds "
            f"data dir, data.tfds_data_dir): {type(error).__name__}: {error}. "
            "Or pass the path of a local copy laid out as train/<class>/*.jpg and "
            "test/<class>/*.jpg instead, e.g. --data ../shared/data/cifar10-jpeg."
        ) from error


def tfds_features(name, data_dir=None):
    """The class names and image shape of a tfds image-classification dataset."""
    try:
        info = tfds.builder(name, data_dir=data_dir).info
    except Exception as error:
        raise DataSourceError(
            f"tensorflow-datasets has no dataset {name!r} here: "
            f"{type(error).__name__}: {error}"
        ) from error
    image_key, label_key = info.supervised_keys or ("image", "label")
    label, image = info.features[label_key], info.features[image_key]
    if not hasattr(label, "names") or not hasattr(image, "shape"):
        raise DataSourceError(
            f"tfds dataset {name!r} is not an image-classification dataset "
            f"(its supervised keys are {info.supervised_keys})."
        )
    return tuple(label.names), tuple(image.shape)


def read_split(source, split, shape, image_size=None, tfds_data_dir=None):
    """The whole "train" or "test" split as (uint8 image, int label) pairs,
    at the dataset's image shape, and its image paths.

    Args:
        shape: the shape every stored image of a folder must have
            (`stored_image_shape`; unused for tfds).

    Returns:
        `(dataset, paths)`; `paths` (in dataset order) is None for tfds.
    """
    name = tfds_name(source)
    if name is not None:
        dataset = load_tfds(name, split, tfds_data_dir)
        if image_size is not None:
            dataset = dataset.map(
                lambda image, label: (resized(image, image_size), label)
            )
        return dataset, None
    paths, labels = list_images(source, split)
    dataset = tf.data.Dataset.from_tensor_slices((paths, labels)).map(
        lambda path, label: (decode_image(path, shape, image_size), label),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    return dataset, paths


def examples_in(dataset):
    """The number of examples of a dataset (counted when tf.data does not know)."""
    count = int(dataset.cardinality())
    return count if count >= 0 else int(dataset.reduce(0, lambda n, _: n + 1))


def take_split(source, split, holdout, shape, image_size=None, tfds_data_dir=None):
    """`read_split` for "train" (without the last `holdout` training
    examples), "validation" (those) or "test"; returns (dataset, paths)."""
    if split not in SPLITS:
        raise ValueError(f"`split` must be one of {SPLITS}. Received: split={split!r}")
    stored = "test" if split == "test" else "train"
    dataset, paths = read_split(source, stored, shape, image_size, tfds_data_dir)
    if split == "test":
        return dataset, paths
    kept = examples_in(dataset) - holdout
    if kept < 1 or (split == "validation" and holdout < 1):
        raise ValueError(
            f"`holdout` must leave training images and give validation ones; "
            f"the training split has {kept + holdout}. Received: holdout={holdout}"
        )
    if split == "train":
        return dataset.take(kept), paths and paths[:kept]
    return dataset.skip(kept), paths and paths[kept:]


def folder_fingerprint(root, image_size):
    """A hash of a folder dataset's training files (names, sizes, times)."""
    digest = hashlib.sha256(json.dumps(image_size).encode())
    for path in sorted(list_images(root, "train")[0]):
        status = pathlib.Path(path).stat()
        digest.update(f"{path}|{status.st_size}|{status.st_mtime_ns}".encode())
    return digest.hexdigest()[:32]


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


def to_unit_range(image, label):
    """uint8 image -> float32 in [0, 1]; label -> int32."""
    return tf.cast(image, tf.float32) / 255.0, tf.cast(label, tf.int32)


def augment(image, label, seed, augmentation):
    """Zero-pad `PAD` pixels and crop back at random; flip left-right at
    random too for "crop_flip"."""
    crop_seed, flip_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    padded = tf.pad(image, ((PAD, PAD), (PAD, PAD), (0, 0)))
    image = tf.image.stateless_random_crop(padded, tf.shape(image), seed=crop_seed)
    if augmentation == "crop_flip":
        image = tf.image.stateless_random_flip_left_right(image, seed=flip_seed)
    return image, label


def image_dataset(
    source=TFDS,
    split="train",
    batch_size=128,
    augment_images=None,
    shuffle=None,
    limit=None,
    seed=2022,
    epochs=None,
    holdout=0,
    image_size=None,
    augmentation="crop_flip",
    tfds_data_dir=None,
):
    """A batched `tf.data.Dataset` of ([0, 1] images, int32 labels).

    Args:
        source: "tfds" (CIFAR-10), "tfds:<name>" or the path of a
            `{train,test}/<class>/` image folder.
        split: "train", "validation" (the last `holdout` training images)
            or "test".
        batch_size: positive int.
        augment_images: apply `augmentation`; defaults to True for "train",
            False otherwise.
        shuffle: shuffle every epoch; defaults to True for "train".
        limit: if set, only the first `limit` examples of the split.
        seed: seed of shuffling and augmentation.
        epochs: None, or the epoch numbers (e.g. `range(3, 10)`) to yield one
            after the other. Each epoch's shuffle and augmentation are then a
            function of `(seed, epoch)` alone, so a run resumed at epoch 3
            sees what an uninterrupted run saw; pass
            `steps_per_epoch=dataset.cardinality() // len(epochs)` to `fit`.
            With None, every iteration over the dataset draws a fresh epoch.
        holdout: number of training images held out for validation (the
            last ones of the fixed order); "train" leaves them out.
        image_size: None, or `(height, width)` to resize every image to.
        augmentation: one of `AUGMENTATIONS`.
        tfds_data_dir: tensorflow-datasets' data dir (None: its default).

    Returns:
        A dataset of `((batch, height, width, channels) float32, (batch,)
        int32)`, the shape of `dataset_info(source, image_size).image_shape`.

    Example:

    >>> first = 0  # the epoch to start at (a resumed run's)
    >>> train = image_dataset(folder, "train", 8, epochs=range(first, 2))
    >>> history = model.fit(train, epochs=2, initial_epoch=first,
    ...                     steps_per_epoch=int(train.cardinality()) // (2 - first))
    """
    check_positive_int("batch_size", batch_size)
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise ValueError(f"`limit` must be None or a positive int. Received: {limit!r}")
    if augmentation not in AUGMENTATIONS:
        raise ValueError(
            f"`augmentation` must be one of {AUGMENTATIONS}. "
            f"Received: augmentation={augmentation!r}"
        )
    image_size = check_image_size(image_size)
    info = dataset_info(source, image_size, tfds_data_dir)
    training = split == "train"
    augment_images = training if augment_images is None else augment_images
    augmentation = augmentation if augment_images else "none"
    shuffle = training if shuffle is None else shuffle
    shape = stored_image_shape(info.image_shape, image_size)
    dataset, paths = take_split(
        source, split, holdout, shape, image_size, tfds_data_dir
    )
    if limit is not None:
        dataset = dataset.take(limit)
    dataset = dataset.cache()
    check_decoded(dataset, paths, shape)

    def one_epoch(epoch):
        return batched_epoch(
            dataset, epoch, seed, batch_size, shuffle, augmentation, info.num_classes
        )

    if not shuffle and augmentation == "none":
        return one_epoch(0).prefetch(tf.data.AUTOTUNE)
    if epochs is None:
        epoch_numbers = tf.data.Dataset.random(
            seed=seed, rerandomize_each_iteration=True
        ).take(1)
        return epoch_numbers.flat_map(one_epoch).prefetch(tf.data.AUTOTUNE)
    epochs = list(epochs)
    epoch_numbers = tf.data.Dataset.from_tensor_slices(tf.constant(epochs, tf.int64))
    steps = -(-examples_in(dataset) // batch_size)
    return (
        epoch_numbers.flat_map(one_epoch)
        .apply(tf.data.experimental.assert_cardinality(len(epochs) * steps))
        .prefetch(tf.data.AUTOTUNE)
    )


def epoch_seeds(seed, epoch):
    """The shuffle seed and the augmentation seed of epoch `epoch`, int64 scalars
    that depend on `(seed, epoch)` alone."""
    pair = tf.stack([tf.constant(seed, tf.int64), tf.cast(epoch, tf.int64)])
    shuffle_seed, augment_seed = tf.unstack(
        tf.random.experimental.stateless_split(pair, 2)
    )
    return shuffle_seed[0], augment_seed[0]


def batched_epoch(
    examples, epoch, seed, batch_size, shuffle, augmentation, num_classes
):
    """One epoch of `examples` (uint8 images): shuffled and augmented (one of
    `AUGMENTATIONS`) as `epoch_seeds(seed, epoch)` say, in [0, 1], batched,
    each batch checked (`assert_valid_batch`)."""
    shuffle_seed, augment_seed = epoch_seeds(seed, epoch)
    if shuffle:
        examples = examples.shuffle(50_000, seed=shuffle_seed)
    examples = examples.map(to_unit_range, num_parallel_calls=tf.data.AUTOTUNE)
    if augmentation != "none":
        pairs = tf.data.Dataset.random(seed=augment_seed).batch(2)
        examples = tf.data.Dataset.zip((examples, pairs)).map(
            lambda example, pair: augment(*example, pair, augmentation),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    return examples.batch(batch_size).map(
        lambda images, labels: assert_valid_batch(images, labels, num_classes),
        num_parallel_calls=tf.data.AUTOTUNE,
    )


def as_arrays(dataset):
    """Concatenates a batched dataset into (images, labels) NumPy arrays."""
    images, labels = [], []
    for x, y in dataset:
        images.append(x.numpy())
        labels.append(y.numpy())
    return tf.concat(images, 0).numpy(), tf.concat(labels, 0).numpy()
