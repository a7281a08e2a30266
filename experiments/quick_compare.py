"""A short side-by-side training of baseline_vgg and hah_vgg on a CIFAR-10 sample.

Reads a class-folder copy of CIFAR-10 (`{train,test}/<class>/*.jpg`, such as
the shared JPEG copy), trains both networks for a few epochs on a sample,
and prints clean accuracy, accuracy under Gaussian noise (std 0.1, clipped
to [0, 1]) and the fraction of non-zero activations after each HaH
threshold. This is a first look, not the paper's protocol.

    python experiments/quick_compare.py --data ../shared/data/cifar10-jpeg
"""

import argparse
import json
import pathlib
import time

import keras
import numpy as np
import tensorflow as tf

from keras_hebb.models import baseline_vgg, hah_vgg

NETWORKS = {"baseline_vgg": baseline_vgg, "hah_vgg": hah_vgg}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data",
        type=pathlib.Path,
        required=True,
        help="folder holding train/<class>/ and test/<class>/ images",
    )
    parser.add_argument("--train-images", type=int, default=10000)
    parser.add_argument("--test-images", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--depth", type=int, default=16, choices=[11, 13, 16, 19])
    parser.add_argument("--width", type=float, default=0.25)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument(
        "--output", type=pathlib.Path, default=pathlib.Path("runs/quick")
    )
    args = parser.parse_args(argv)
    for split in ("train", "test"):
        if not (args.data / split).is_dir():
            parser.error(
                f"{args.data / split} is not a folder. --data must hold train/<class>/ "
                "and test/<class>/ image folders, e.g. ../shared/data/cifar10-jpeg"
            )
    if min(args.train_images, args.test_images, args.epochs, args.batch_size) < 1:
        parser.error(
            "--train-images, --test-images, --epochs, --batch-size must be positive"
        )
    return args


def image_sample(folder, count, seed):
    """`count` random images of a class folder as ([0, 1] float32 NHWC, int labels)."""
    dataset = keras.utils.image_dataset_from_directory(
        folder,
        image_size=(32, 32),
        batch_size=None,
        shuffle=True,
        seed=seed,
        verbose=False,
    )
    images, labels = [], []
    for image, label in dataset.take(count):
        images.append(image.numpy() / 255.0)
        labels.append(label.numpy())
    return np.stack(images).astype("float32"), np.array(labels)


def noisy_accuracy(model, x, y, std, seed):
    noise = np.random.default_rng(seed).normal(0.0, std, size=x.shape)
    noisy = np.clip(x + noise, 0.0, 1.0).astype("float32")
    return float(np.mean(model.predict(noisy, verbose=0).argmax(-1) == y))


def train_and_evaluate(name, args, train, test):
    keras.utils.set_random_seed(args.seed)
    model = NETWORKS[name](depth=args.depth, width=args.width)
    model.compile(
        keras.optimizers.Adam(1e-3),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    start = time.perf_counter()
    history = model.fit(
        *train, batch_size=args.batch_size, epochs=args.epochs, verbose=2
    )
    train_seconds = time.perf_counter() - start
    logs = model.evaluate(*test, batch_size=100, verbose=0, return_dict=True)
    return {
        "clean_accuracy": logs["accuracy"],
        "gaussian_0.1_accuracy": noisy_accuracy(model, *test, 0.1, args.seed),
        "nonzero_after_threshold": {
            key: value for key, value in logs.items() if key.endswith("_nonzero")
        },
        "train_seconds": train_seconds,
        "final_train_loss": history.history["loss"][-1],
    }


def main(argv=None):
    args = parse_args(argv)
    train = image_sample(args.data / "train", args.train_images, args.seed)
    test = image_sample(args.data / "test", args.test_images, args.seed + 1)
    print(f"{len(train[1])} train and {len(test[1])} test images from {args.data}")
    results = {name: train_and_evaluate(name, args, train, test) for name in NETWORKS}
    args.output.mkdir(parents=True, exist_ok=True)
    record = {
        "arguments": {k: str(v) for k, v in vars(args).items()},
        "tensorflow": tf.__version__,
        "results": results,
    }
    (args.output / "results.json").write_text(json.dumps(record, indent=2))
    print(f"\n{'':28s}{'baseline_vgg':>14s}{'hah_vgg':>14s}")
    for key in ("clean_accuracy", "gaussian_0.1_accuracy", "train_seconds"):
        print(f"{key:28s}" + "".join(f"{results[n][key]:14.3f}" for n in NETWORKS))
    for key, value in results["hah_vgg"]["nonzero_after_threshold"].items():
        print(f"{'hah_vgg ' + key:28s}{'':14s}{value:14.3f}")
    print(f"results written to {args.output / 'results.json'}")


if __name__ == "__main__":
    main()
