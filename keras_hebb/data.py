"""CIFAR-10 input pipelines from tensorflow-datasets or a class-folder copy.

Both sources give `(image, label)` with images as float32 NHWC pixels in
[0, 1] and int32 labels. Images are decoded once and cached in memory as
uint8; training batches are shuffled and augmented on the fly (zero-pad 4 and
random 32x32 crop, random horizontal flip) in parallel, then prefetched.
"""

import pathlib

import tensorflow as tf
import tensorflow_datasets as tfds

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
TFDS = "tfds"


class DataSourceError(RuntimeError):
    """Raised when CIFAR-10 cannot be read from the requested source."""


def check_image_folder(root):
    """Raises DataSourceError unless `root` holds train/ and test/ class folders."""
    root = pathlib.Path(root)
    for split in SPLITS:
        split_dir = root / split
        classes = (
            sorted(p.name for p in split_dir.iterdir()) if split_dir.is_dir() else []
        )
        if not classes:
            raise DataSourceError(
                f"{split_dir} is not a folder of class folders. An image folder "
                "must hold train/<class>/*.{png,jpg} and test/<class>/*.{png,jpg}; "
                "for example the offline copy ../shared/data/cifar10-jpeg."
            )
    train_classes = sorted(p.name for p in (root / "train").iterdir())
    test_classes = sorted(p.name for p in (root / "test").iterdir())
    if train_classes != test_classes:
        raise DataSourceError(
            f"{root}: train and test class folders differ: {train_classes} against "
            f"{test_classes}."
        )
    return train_classes


def read_split(source, split):
    """Undecoded-size dataset of (uint8 image, int label) and its class names.

    Args:
        source: "tfds" for `tfds.load("cifar10")`, or the path of a folder
            laid out as `{train,test}/<class>/*.{png,jpg}`.
        split: "train" or "test".
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
        return dataset, list(CIFAR10_CLASSES)
    classes = check_image_folder(source)
    # ImageFolder reads the class-folder layout with class ids in sorted order.
    builder = tfds.folder_dataset.ImageFolder(str(source), shape=IMAGE_SHAPE)
    dataset = builder.as_dataset(split=split, as_supervised=True, shuffle_files=False)
    return dataset, classes


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

    >>> train = cifar10(folder, "train", 128, epochs=range(first, 10))
    >>> model.fit(train, epochs=10, initial_epoch=first,
    ...           steps_per_epoch=int(train.cardinality()) // (10 - first))
    """
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(
            f"`batch_size` must be a positive int. Received: {batch_size!r}"
        )
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise ValueError(f"`limit` must be None or a positive int. Received: {limit!r}")
    training = split == "train"
    augment_images = training if augment_images is None else augment_images
    shuffle = training if shuffle is None else shuffle
    dataset, _ = read_split(source, split)
    if limit is not None:
        dataset = dataset.take(limit)
    dataset = dataset.cache()

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
    `epoch_seeds(seed, epoch)` say, in [0, 1], batched."""
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
    return examples.batch(batch_size)


def as_arrays(dataset):
    """Concatenates a batched dataset into (images, labels) NumPy arrays."""
    images, labels = [], []
    for x, y in dataset:
        images.append(x.numpy())
        labels.append(y.numpy())
    return tf.concat(images, 0).numpy(), tf.concat(labels, 0).numpy()
