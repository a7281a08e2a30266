"""Batched `tf.data` pipelines of `(image, label)`: float32 NHWC pixels in
[0, 1] and int32 labels.

Images are decoded once, before training, and cached in memory as uint8;
training batches are shuffled and augmented on the fly (see
`keras_hebb.data.options.AUGMENTATIONS`) in parallel, then prefetched. Every
batch is also checked in-graph (`validation.assert_valid_batch`: finite
pixels in [0, 1], labels in [0, number of classes)).
"""

import tensorflow as tf

from keras_hebb.data.options import AUGMENTATIONS, TFDS
from keras_hebb.data.sources import (
    check_decoded,
    check_image_size,
    examples_in,
    stored_image_shape,
    take_split,
)
from keras_hebb.data.statistics import dataset_info
from keras_hebb.validation import assert_valid_batch, check_positive_int

PAD = 4


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
