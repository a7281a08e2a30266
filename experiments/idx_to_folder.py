"""Writes an MNIST-format dataset (IDX files) as a class-folder image dataset.

MNIST and Fashion-MNIST come as four gzipped IDX files
(`train-images-idx3-ubyte.gz`, `train-labels-idx1-ubyte.gz`,
`t10k-images-idx3-ubyte.gz`, `t10k-labels-idx1-ubyte.gz`). This writes them
as `<output>/{train,test}/<class>/<index>.png` (28x28 grayscale PNGs,
lossless), the layout `keras-hebb --data` reads, and a README.md whose
heading names the dataset in results. Class folders are named
`<label>_<name>` so that their sorted order is the label order. Example, with
the Debian package `dataset-fashion-mnist` unpacked:

    python experiments/idx_to_folder.py /usr/share/datasets/fashion-mnist \
        --output data/fashion-mnist --class-names fashion
"""

import argparse
import gzip
import pathlib

import numpy as np
from PIL import Image

FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
# The label names published with each dataset, and how results name it.
TITLES = {"digits": "MNIST", "fashion": "Fashion-MNIST"}
CLASS_NAMES = {
    "digits": [str(i) for i in range(10)],
    "fashion": [
        "t-shirt_top",
        "trouser",
        "pullover",
        "dress",
        "coat",
        "sandal",
        "shirt",
        "sneaker",
        "bag",
        "ankle_boot",
    ],
}
IDX_MAGIC = {1: 2049, 3: 2051}  # labels (1 dimension), images (3 dimensions)


def read_idx(path, dimensions):
    """The uint8 array of a gzipped IDX file with `dimensions` dimensions."""
    raw = gzip.decompress(pathlib.Path(path).read_bytes())
    magic = int.from_bytes(raw[:4], "big")
    if magic != IDX_MAGIC[dimensions]:
        raise ValueError(
            f"{path} is not an IDX file of {dimensions} dimension(s) "
            f"(magic number {magic}, expected {IDX_MAGIC[dimensions]})."
        )
    shape = [
        int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(dimensions)
    ]
    start = 4 + 4 * dimensions
    return np.frombuffer(raw, np.uint8, offset=start).reshape(shape)


def write_split(images, labels, folder, class_names):
    """Each image as `folder/<label>_<name>/<index>.png`."""
    for label, name in enumerate(class_names):
        (folder / f"{label}_{name}").mkdir(parents=True, exist_ok=True)
    for index, (image, label) in enumerate(zip(images, labels)):
        name = f"{label}_{class_names[label]}"
        Image.fromarray(image).save(folder / name / f"{index:05d}.png")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="folder holding the four .gz IDX files")
    parser.add_argument("--output", required=True, help="folder to write")
    parser.add_argument(
        "--class-names",
        choices=sorted(CLASS_NAMES),
        default="digits",
        help="which published label names to use (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    source, output = pathlib.Path(args.source), pathlib.Path(args.output)
    for split, (images_file, labels_file) in FILES.items():
        images = read_idx(source / images_file, 3)
        labels = read_idx(source / labels_file, 1)
        if len(images) != len(labels):
            raise ValueError(f"{split}: {len(images)} images but {len(labels)} labels")
        write_split(images, labels, output / split, CLASS_NAMES[args.class_names])
        print(f"{split}: {len(images)} images written to {output / split}")
    write_readme(output, TITLES[args.class_names], source)


def write_readme(output, title, source):
    """A README.md whose first heading names the dataset in results."""
    (output / "README.md").write_text(
        f"# {title}\n\nWritten by keras-hebb's experiments/idx_to_folder.py from the "
        f"IDX files in {source}: 28x28 grayscale PNGs, lossless, in "
        "{train,test}/<label>_<name>/ class folders.\n"
    )


if __name__ == "__main__":
    main()
