"""The corrupted test sets a run evaluates on: generated and cached, or published.

`corrupted_test_set(config, images, labels)` returns every corruption and
severity of `config.corruptions`:

- with `source: generated` (the default), made from the run's own test
  images by `keras_hebb.robustness.corruptions.corrupt`, once: the arrays are
  cached as an `.npz` named by a hash of the images, corruptions, severities,
  seed and generator version, beside a JSON file holding the SHA-256 of each
  array, which is checked on every read (a file that fails is made again);
- with `source: tfds`, tensorflow-datasets' `cifar10_corrupted` (the published
  arrays as a tfds dataset), from its local data dir (`TFDS_DATA_DIR`, else
  `~/tensorflow_datasets`), never downloading;
- with `source` a folder holding the published CIFAR-10-C arrays
  (`<corruption>.npy`, 50,000 images each: severities 1-5 of the 10,000 test
  images in order, and `labels.npy`), read from there with their own labels.

Results name what was used: "CIFAR-10-C" only for the published arrays.
"""

import dataclasses
import hashlib
import json
import pathlib

import numpy as np

from keras_hebb.data.cache import cache_folder
from keras_hebb.files import write_atomically, write_json
from keras_hebb.progress import say
from keras_hebb.robustness.corruptions import corrupt, to_uint8

GENERATED = "generated"
TFDS = "tfds"
# Changes whenever the generated images would change: cached sets of another
# version are not read.
GENERATOR_VERSION = 2
PUBLISHED_IMAGES_PER_SEVERITY = 10000


@dataclasses.dataclass
class CorruptedSet:
    """Corrupted test images: {corruption: {severity: uint8 (n, h, w, c)}},
    their labels `(n,)`, how results name where they came from, and the
    same images uncorrupted (float, in [0, 1]; None for the published
    arrays, which come without them)."""

    images: dict
    labels: np.ndarray
    source: str
    clean: np.ndarray | None = None


def set_key(images, corruptions, seed):
    """The cache name of a generated set: what its arrays depend on, hashed."""
    digest = hashlib.sha256(np.ascontiguousarray(images).tobytes())
    digest.update(
        json.dumps(
            {
                "names": list(corruptions.corruptions),
                "severities": list(corruptions.severities),
                "seed": seed,
                "version": GENERATOR_VERSION,
                "shape": list(images.shape),
            }
        ).encode()
    )
    return digest.hexdigest()[:20]


def array_key(name, severity):
    return f"{name}_{severity}"


def checksums(arrays):
    """SHA-256 of each array's bytes, by key."""
    return {
        key: hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()
        for key, a in arrays.items()
    }


def read_cached(path, expected_keys):
    """The cached arrays at `path` if present, complete and matching their
    recorded checksums; else None."""
    record_path = path.with_suffix(".json")
    if not (path.is_file() and record_path.is_file()):
        return None
    with np.load(path) as stored:
        arrays = {key: stored[key] for key in stored.files}
    recorded = json.loads(record_path.read_text()).get("sha256", {})
    if set(arrays) != set(expected_keys) or checksums(arrays) != recorded:
        say(f"corruptions: {path} does not match its checksums; making it again")
        return None
    return arrays


def generated_set(images, corruptions, cache=True):
    """Every corruption and severity of `corruptions` (a `CorruptionConfig`)
    made from `images` (float `(n, h, w, c)` in [0, 1]), read from the cache
    when it holds them; uint8 arrays by `array_key`."""
    keys = [
        array_key(name, severity)
        for name in corruptions.corruptions
        for severity in corruptions.severities
    ]
    path = cache_folder("corruptions", corruptions.cache) / (
        f"corruptions_{set_key(images, corruptions, corruptions.seed)}.npz"
    )
    arrays = read_cached(path, keys) if cache else None
    if arrays is not None:
        say(f"corruptions: read {len(keys)} sets of {len(images)} images from {path}")
        return arrays
    arrays = {}
    for count, name in enumerate(corruptions.corruptions, 1):
        say(f"corruptions: making {name} ({count}/{len(corruptions.corruptions)})")
        for severity in corruptions.severities:
            made = corrupt(images, name, severity, corruptions.seed)
            arrays[array_key(name, severity)] = to_uint8(made)
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(
            path, lambda temporary: np.savez_compressed(temporary, **arrays)
        )
        write_json(
            path.with_suffix(".json"),
            {
                "images": len(images),
                "seed": corruptions.seed,
                "version": GENERATOR_VERSION,
                "sha256": checksums(arrays),
            },
        )
        say(f"corruptions: cached in {path}")
    return arrays


def published_set(folder, corruptions, limit):
    """The published CIFAR-10-C arrays in `folder`: the first `limit` images
    (None: all) of each corruption and severity, and their labels."""
    folder = pathlib.Path(folder)
    needed = [folder / "labels.npy"] + [
        folder / f"{name}.npy" for name in corruptions.corruptions
    ]
    missing = [str(path) for path in needed if not path.is_file()]
    if missing:
        raise FileNotFoundError(
            f"corruptions.source {folder} lacks the CIFAR-10-C files {missing}"
        )
    count = PUBLISHED_IMAGES_PER_SEVERITY if limit is None else limit
    labels = np.load(folder / "labels.npy", mmap_mode="r")[:count].astype("int32")
    arrays = {}
    for name in corruptions.corruptions:
        stored = np.load(folder / f"{name}.npy", mmap_mode="r")
        for severity in corruptions.severities:
            start = (severity - 1) * PUBLISHED_IMAGES_PER_SEVERITY
            arrays[array_key(name, severity)] = np.array(stored[start : start + count])
    return arrays, labels


def tfds_set(corruptions, limit):
    """tensorflow-datasets' `cifar10_corrupted`, prepared in its local data
    dir: the first `limit` images of each corruption and severity, and their
    labels."""
    import tensorflow_datasets as tfds

    arrays, labels = {}, None
    for name in corruptions.corruptions:
        for severity in corruptions.severities:
            config = f"cifar10_corrupted/{name}_{severity}"
            try:
                dataset = tfds.load(
                    config, split="test", download=False, as_supervised=True
                )
            except (AssertionError, tfds.core.registered.DatasetNotFoundError) as error:
                raise FileNotFoundError(
                    f"corruptions.source tfds: {config} is not prepared in the "
                    f"tensorflow-datasets data dir ({error})"
                ) from None
            images, these_labels = (
                np.stack(column) for column in zip(*tfds.as_numpy(dataset.take(limit)))
            )
            arrays[array_key(name, severity)] = images
            labels = these_labels if labels is None else labels
    return arrays, labels.astype("int32")


def corrupted_test_set(corruptions, images, labels, data_name):
    """The `CorruptedSet` of `corruptions` (a `CorruptionConfig`): generated from
    `images` (the run's first test images, named `data_name`) or read from
    the published arrays."""
    images = images[: corruptions.examples]
    labels = labels[: corruptions.examples]
    clean = None
    if corruptions.source == GENERATED:
        arrays, clean = generated_set(images, corruptions), images
        source = (
            f"CIFAR-10-C's corruptions and parameters applied by keras-hebb "
            f"(seed {corruptions.seed}) to {data_name}"
        )
    elif corruptions.source == TFDS:
        arrays, labels = tfds_set(corruptions, len(labels))
        source = "CIFAR-10-C (tensorflow-datasets cifar10_corrupted)"
    else:
        arrays, labels = published_set(corruptions.source, corruptions, len(labels))
        source = f"CIFAR-10-C (the published arrays, read from {corruptions.source})"
    by_name = {
        name: {
            severity: arrays[array_key(name, severity)]
            for severity in corruptions.severities
        }
        for name in corruptions.corruptions
    }
    return CorruptedSet(by_name, np.asarray(labels), source, clean)
