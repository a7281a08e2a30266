"""The names of the data options, importable without TensorFlow (for the
configuration's checks)."""

TFDS = "tfds"
TFDS_DEFAULT = "cifar10"
# Training augmentations: zero-pad 4 pixels and take a random crop of the
# image size ("crop"), and also flip left-right at random ("crop_flip").
AUGMENTATIONS = ("crop_flip", "crop", "none")
# Where validation images come from: held out of the training split, or the
# first images of the test split (monitoring only; nothing is selected on it).
VALIDATION_SOURCES = ("train", "test")


def tfds_name(source):
    """The tfds dataset of a "tfds" (CIFAR-10) or "tfds:<name>" source, else None."""
    source = str(source)
    if source == TFDS:
        return TFDS_DEFAULT
    if source.startswith(TFDS + ":"):
        return source.split(":", 1)[1]
    return None
