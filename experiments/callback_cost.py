"""What the evaluation callbacks add to an epoch, next to the epoch's own cost.

Loads a trained model, times each callback's evaluation (after one warm-up
run) and one epoch's worth of training steps measured on the same machine in
the same run, and prints both and their ratio.

    python experiments/callback_cost.py --model experiments/results/cpu/hah_vgg.keras \
        --data ../shared/data/cifar10-jpeg
"""

import argparse
import time

import keras

from keras_hebb.callbacks import AttackEvaluation, NoiseEvaluation, SparsityEvaluation
from keras_hebb.data import as_arrays, image_dataset
from keras_hebb.robustness import PGD
from keras_hebb.saving import load_model


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a trained .keras model")
    parser.add_argument("--data", required=True, help="a class-folder copy or tfds")
    parser.add_argument(
        "--examples",
        type=int,
        default=200,
        help="held-out images each callback evaluates",
    )
    parser.add_argument(
        "--train-images",
        type=int,
        default=50_000,
        help="images per epoch of the training the cost is compared to",
    )
    return parser.parse_args(argv)


def seconds(function):
    function()
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main(argv=None):
    args = parse_args(argv)
    model = load_model(args.model)
    model.compile(
        keras.optimizers.Adam(1e-3),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    images, labels = as_arrays(
        image_dataset(args.data, "test", 500, limit=args.examples)
    )
    train = image_dataset(args.data, "train", 128, limit=128 * 20).repeat()
    model.fit(train, steps_per_epoch=2, epochs=1, shuffle=False, verbose=0)
    start = time.perf_counter()
    model.fit(train, steps_per_epoch=20, epochs=1, shuffle=False, verbose=0)
    epoch = (time.perf_counter() - start) / (20 * 128) * args.train_images
    callbacks = {
        "AttackEvaluation(PGD-10 linf 2/255)": AttackEvaluation(
            PGD(2 / 255, steps=10), images, labels
        ),
        "NoiseEvaluation(gaussian 0.05, 0.1, 0.2)": NoiseEvaluation(
            images, labels, stds=(0.05, 0.1, 0.2)
        ),
        "SparsityEvaluation": SparsityEvaluation(images),
    }
    print(
        f"{model.name}: an epoch of {args.train_images} training images ~ {epoch:.0f} s"
    )
    for name, callback in callbacks.items():
        callback.set_model(model)
        cost = seconds(callback.evaluate)
        print(
            f"{name} on {args.examples} images: {cost:.1f} s per run, "
            f"{100 * cost / epoch:.1f}% of an epoch"
        )


if __name__ == "__main__":
    main()
