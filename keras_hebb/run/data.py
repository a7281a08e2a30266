"""CIFAR-10 input pipelines from tensorflow-datasets or a class-folder copy.

Both sources give `(image, label)` with images as float32 NHWC pixels in
[0, 1] and int32 labels. Images are decoded once, before training, and cached
in memory as uint8; training batches are shuffled and augmented on the fly
(zero-pad 4 and random 32x32 crop, random horizontal flip) in parallel, then
prefetched.

Bad input stops the pipeline before training with a `DataSourceError` naming
the folder or file: a missing split or class folder, a class folder without
images, an image that cannot be decoded or is not 32x32 RGB. Files that are
not .png/.jpg/.jpeg images are skipped, and their count is logged. Every
batch is also checked in-graph (`validation.assert_valid_batch`: finite
pixels in [0, 1], labels in [0, 10)).
"""

import pathlib
import random

import tensorflow as tf
import tensorflow_datasets as tfds

from keras_hebb.progress import say
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
IMAGE_SHAPE = (32, 32, 3)
SPLITS = ("train", "test")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
TFDS = "tfds"


class DataSourceError(RuntimeError):
    """Raised when CIFAR-10 cannot be read from the requested source."""


FOLDER_LAYOUT = (
    "An image folder must hold train/<class>/*.{png,jpg} and "
    "test/<class>/*.{png,jpg} with one folder per CIFAR-10 class; for example "
    "the offline copy ../shared/data/cifar10-jpeg."
)


def class_folders(split_dir):
    """Names of the sub-folders of `split_dir` (empty if it is not a folder)."""
    if not split_dir.is_dir():
        return set()
    return {p.name for p in split_dir.iterdir() if p.is_dir()}


def check_image_folder(root):
    """Raises DataSourceError unless `root` holds train/ and test/ CIFAR-10 class folders.

    Each split must hold exactly the folders named in `CIFAR10_CLASSES`
    (their sorted order gives the label ids). Returns the class names.
    """
    root = pathlib.Path(root)
    if not root.is_dir():
        raise DataSourceError(f"{root} is not a folder. {FOLDER_LAYOUT}")
    found = {split: class_folders(root / split) for split in SPLITS}
    for split, classes in found.items():
        if not classes:
            raise DataSourceError(
                f"{root / split} is not a folder of class folders. {FOLDER_LAYOUT}"
            )
    for split, classes in found.items():
        missing = sorted(set(CIFAR10_CLASSES) - classes)
        unknown = sorted(classes - set(CIFAR10_CLASSES))
        if missing or unknown:
            problems = [
                f"{what} class folders {names}"
                for what, names in (("lacks", missing), ("has unknown", unknown))
                if names
            ]
            raise DataSourceError(
                f"{root / split} {' and '.join(problems)}; CIFAR-10 needs exactly "
                f"{list(CIFAR10_CLASSES)}."
            )
    return sorted(CIFAR10_CLASSES)


def list_images(root, split):
    """Paths and label ids of the images of one split of a class-folder copy.

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


def read_pixels(path):
    """The decoded pixels of a PNG or JPEG file, in its own shape and channels."""
    # tf.io: Keras has no image-decoding op.
    return tf.io.decode_image(
        tf.io.read_file(path), channels=0, expand_animations=False
    )


def decode_image(path):
    """The uint8 `(32, 32, 3)` pixels of a PNG or JPEG file (a string tensor).

    Fails with `InvalidArgumentError` on a file that cannot be decoded or
    has another shape; `check_decoded` names that file.
    """
    return tf.ensure_shape(read_pixels(path), IMAGE_SHAPE)


def describe_bad_image(path):
    """Why one image file fails `decode_image` (decoded eagerly, one file)."""
    try:
        image = read_pixels(path)
    except tf.errors.OpError as error:
        return f"{path} cannot be decoded as an image: {error.message}"
    return (
        f"{path} has shape {tuple(image.shape)}; CIFAR-10 images are "
        f"{IMAGE_SHAPE} (32x32 RGB)."
    )


def check_decoded(dataset, paths=None, chunk=1000):
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
                decode_image(path)
            except tf.errors.OpError:
                raise DataSourceError(describe_bad_image(path)) from error
        raise DataSourceError(error.message) from error


def read_split(source, split):
    """Undecoded-size dataset of (uint8 image, int label) and its image paths.

    Args:
        source: "tfds" for `tfds.load("cifar10")`, or the path of a folder
            laid out as `{train,test}/<class>/*.{png,jpg}`.
        split: "train" or "test".

    Returns:
        `(dataset, paths)`; `paths` (in dataset order) is `None` for tfds.
    """
    if split not in SPLITS:
        raise ValueError(f"`split` must be one of {SPLITS}. Received: {split!r}")
    if str(source) == TFDS:
        try:
            dataset = tfds.load("cifar10", split=split, as_supervised=True)
        except Exception as error:
            raise DataSourceError(
                'tfds.load("cifar10") failed (it needs internet the first time): '
                f"{type(error).__name__}: {error}. Pass the path of a local copy "
                "laid out as train/<class>/*.jpg and test/<class>/*.jpg instead, "
                "e.g. --data ../shared/data/cifar10-jpeg."
            ) from error
        return dataset, None
    paths, labels = list_images(source, split)
    dataset = tf.data.Dataset.from_tensor_slices((paths, labels)).map(
        lambda path, label: (decode_image(path), label),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    return dataset, paths


def to_unit_range(image, label):
    """uint8 image -> float32 in [0, 1]; label -> int32."""
    return tf.cast(image, tf.float32) / 255.0, tf.cast(label, tf.int32)


def augment(image, label, seed):
    """Zero-pad 4 pixels, random 32x32 crop, random horizontal flip."""
    crop_seed, flip_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    padded = tf.pad(image, ((4, 4), (4, 4), (0, 0)))
    image = tf.image.stateless_random_crop(padded, IMAGE_SHAPE, seed=crop_seed)
    image = tf.image.stateless_random_flip_left_right(image, seed=flip_seed)
    return image, label


def cifar10(
    source=TFDS,
    split="train",
    batch_size=128,
    augment_images=None,
    shuffle=None,
    limit=None,
    seed=2022,
    epochs=None,
):
    """A batched CIFAR-10 `tf.data.Dataset` of ([0, 1] images, int32 labels).

    Args:
        source: "tfds" or the path of a `{train,test}/<class>/` image folder.
        split: "train" or "test".
        batch_size: positive int.
        augment_images: crop-and-flip augmentation; defaults to True for
            "train", False for "test".
        shuffle: shuffle every epoch; defaults to True for "train".
        limit: if set, only the first `limit` examples of the split.
        seed: seed of shuffling and augmentation.
        epochs: None, or the epoch numbers (e.g. `range(3, 10)`) to yield one
            after the other. Each epoch's shuffle and augmentation are then a
            function of `(seed, epoch)` alone, so a run resumed at epoch 3
            sees what an uninterrupted run saw; pass
            `steps_per_epoch=dataset.cardinality() // len(epochs)` to `fit`.
            With None, every iteration over the dataset draws a fresh epoch.

    Returns:
        A dataset of `((batch, 32, 32, 3) float32, (batch,) int32)`.

    Example:

    >>> first = 0  # the epoch to start at (a resumed run's)
    >>> train = cifar10(folder, "train", 8, epochs=range(first, 2))
    >>> history = model.fit(train, epochs=2, initial_epoch=first,
    ...                     steps_per_epoch=int(train.cardinality()) // (2 - first))
    """
    check_positive_int("batch_size", batch_size)
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise ValueError(f"`limit` must be None or a positive int. Received: {limit!r}")
    training = split == "train"
    augment_images = training if augment_images is None else augment_images
    shuffle = training if shuffle is None else shuffle
    dataset, paths = read_split(source, split)
    if limit is not None:
        dataset = dataset.take(limit)
    dataset = dataset.cache()
    check_decoded(dataset, paths)

    def one_epoch(epoch):
        return batched_epoch(dataset, epoch, seed, batch_size, shuffle, augment_images)

    if not (shuffle or augment_images):
        return one_epoch(0).prefetch(tf.data.AUTOTUNE)
    if epochs is None:
        epoch_numbers = tf.data.Dataset.random(
            seed=seed, rerandomize_each_iteration=True
        ).take(1)
        return epoch_numbers.flat_map(one_epoch).prefetch(tf.data.AUTOTUNE)
    epochs = list(epochs)
    epoch_numbers = tf.data.Dataset.from_tensor_slices(tf.constant(epochs, tf.int64))
    steps = -(-int(dataset.cardinality()) // batch_size)
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


def batched_epoch(examples, epoch, seed, batch_size, shuffle, augment_images):
    """One epoch of `examples` (uint8 images): shuffled and augmented as
    `epoch_seeds(seed, epoch)` say, in [0, 1], batched, each batch checked
    (`assert_valid_batch`)."""
    shuffle_seed, augment_seed = epoch_seeds(seed, epoch)
    if shuffle:
        examples = examples.shuffle(50_000, seed=shuffle_seed)
    examples = examples.map(to_unit_range, num_parallel_calls=tf.data.AUTOTUNE)
    if augment_images:
        pairs = tf.data.Dataset.random(seed=augment_seed).batch(2)
        examples = tf.data.Dataset.zip((examples, pairs)).map(
            lambda example, pair: augment(*example, pair),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    return examples.batch(batch_size).map(
        lambda images, labels: assert_valid_batch(images, labels, len(CIFAR10_CLASSES)),
        num_parallel_calls=tf.data.AUTOTUNE,
    )


def as_arrays(dataset):
    """Concatenates a batched dataset into (images, labels) NumPy arrays."""
    images, labels = [], []
    for x, y in dataset:
        images.append(x.numpy())
        labels.append(y.numpy())
    return tf.concat(images, 0).numpy(), tf.concat(labels, 0).numpy()
