"""A tiny CIFAR-10-like image folder that the tests write themselves."""

import numpy as np
from PIL import Image

from keras_hebb.data.constants import CIFAR10_CLASSES


def class_level(label):
    """The red-channel value that marks images of class `label`."""
    return 20 * label + 10


def write_image_folder(root, train_per_class=4, test_per_class=2, seed=0):
    """Writes {train,test}/<class>/*.png (and one .jpg per class) under `root`.

    Each image is random in green and blue (per pixel for PNG, per image for
    JPEG), and constant in red at
    `class_level(label)`, so a reader's labels can be checked from pixels.
    """
    rng = np.random.default_rng(seed)
    for split, count in (("train", train_per_class), ("test", test_per_class)):
        for label, name in enumerate(CIFAR10_CLASSES):
            folder = root / split / name
            folder.mkdir(parents=True)
            for index in range(count):
                suffix = "jpg" if index == count - 1 and split == "train" else "png"
                pixels = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
                if suffix == "jpg":
                    # JPEG's colour subsampling would spill noise into red.
                    pixels[...] = rng.integers(0, 256, size=3, dtype=np.uint8)
                pixels[..., 0] = class_level(label)
                Image.fromarray(pixels).save(folder / f"{index:04d}.{suffix}")
    return root


def write_class_folder(root, classes, shape, train_per_class=4, test_per_class=2):
    """Writes {train,test}/<class>/*.png images of `shape` (h, w) or (h, w, c).

    Every pixel of an image of class `label` is `class_level(label)` plus
    noise in [0, 10), so labels can be checked from pixels.
    """
    rng = np.random.default_rng(1)
    for split, count in (("train", train_per_class), ("test", test_per_class)):
        for label, name in enumerate(classes):
            folder = root / split / name
            folder.mkdir(parents=True)
            for index in range(count):
                noise = rng.integers(0, 10, size=shape, dtype=np.uint8)
                Image.fromarray(noise + class_level(label)).save(
                    folder / f"{index:04d}.png"
                )
    return root
