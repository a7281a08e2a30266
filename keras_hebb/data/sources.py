"""Where images come from, and the checks that stop bad input by name.

A source is "tfds" (CIFAR-10 from tensorflow-datasets), "tfds:<name>" (any
tfds image-classification dataset, e.g. "tfds:mnist", read from its local
data dir when it is there, so offline too) or the path of a folder laid out
as `{train,test}/<class>/*.{png,jpg,jpeg}`, with any class folders (their
sorted names give the label ids), of any one image size, RGB or grayscale.

Bad input stops before training with a `DataSourceError` naming the folder
or file: a missing split or class folder, class folders that differ between
the splits, a class folder without images, an image that cannot be decoded
or has another shape than the dataset's (the first training image's, or
`image_size` when images are resized). Files that are not .png/.jpg/.jpeg
images are skipped, and their count is logged. The "validation" split is the
last `holdout` images of the training split's fixed order, which the "train"
split then leaves out.
"""

import hashlib
import json
import pathlib
import random

import tensorflow as tf
import tensorflow_datasets as tfds

from keras_hebb.data.options import TFDS_DEFAULT, tfds_name
from keras_hebb.progress import say

SPLITS = ("train", "validation", "test")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


class DataSourceError(RuntimeError):
    """Raised when a dataset cannot be read from the requested source."""


JPEG_COPY = "CIFAR-10 (JPEG q75 copy)"

FOLDER_LAYOUT = (
    "An image folder must hold train/<class>/*.{png,jpg} and "
    "test/<class>/*.{png,jpg} with the same class folders in both; for example "
    "the offline CIFAR-10 copy ../shared/data/cifar10-jpeg."
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
