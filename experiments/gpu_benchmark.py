"""Training speed of HaH and baseline VGG16 on Keras' JAX backend (a GPU when
JAX has one), and what the paper's 100 epochs would take at that speed.

Needs only Keras, JAX and keras_hebb (no TensorFlow), so that it runs on a
machine that has JAX with CUDA and nothing else; the data are synthetic
CIFAR-10-shaped batches (speed does not depend on the pixels). For each
precision and batch size it times whole training epochs of `--steps` steps
(`model.fit`, XLA-compiled, Adam as in the paper; the first epoch, which
compiles, is left out) and prints a Markdown table: images/s, ms per step,
the HaH step time over the baseline's, and the projected time of 100
epochs of CIFAR-10's 50,000 training images.

    KERAS_BACKEND=jax python experiments/gpu_benchmark.py     # VGG16, full width
    KERAS_BACKEND=jax python experiments/gpu_benchmark.py --batch-sizes 128

It never asserts a time; it compares only what it times itself, in one run.
"""

import argparse
import json
import platform
import time

import keras
import numpy as np

from keras_hebb.models import baseline_vgg, hah_vgg

NETWORKS = {"baseline_vgg": baseline_vgg, "hah_vgg": hah_vgg}
PRECISIONS = ("float32", "mixed_bfloat16")
# The paper's protocol: 100 epochs of CIFAR-10's training split.
PAPER_EPOCHS = 100
CIFAR10_TRAINING_IMAGES = 50_000


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--depth", type=int, default=16, choices=(11, 13, 16, 19))
    parser.add_argument("--width", type=float, default=1.0)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[128, 512])
    parser.add_argument(
        "--precisions", nargs="+", default=list(PRECISIONS), choices=PRECISIONS
    )
    parser.add_argument("--steps", type=int, default=30, help="timed steps per epoch")
    parser.add_argument(
        "--epochs", type=int, default=2, help="timed epochs (median), after the first"
    )
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    for name in ("steps", "epochs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1; got {getattr(args, name)}")
    if not 0 < args.width <= 4:
        parser.error(f"--width must be in (0, 4]; got {args.width}")
    if min(args.batch_sizes) < 1:
        parser.error(f"--batch-sizes must be positive; got {args.batch_sizes}")
    return args


class EpochTimes(keras.callbacks.Callback):
    """Wall-clock seconds of each epoch (Keras waits for the device at an
    epoch's end, when it reads the logs)."""

    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


def synthetic_batches(batch_size, steps, num_classes=10, seed=0):
    """`steps` batches of uniform [0, 1] 32x32 RGB images and random labels."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(batch_size * steps, 32, 32, 3)).astype("float32")
    return x, rng.integers(0, num_classes, size=len(x)).astype("int32")


def seconds_per_step(build, args, batch_size, precision):
    """Median over the timed epochs of an epoch's seconds per step."""
    keras.config.set_dtype_policy(precision)
    try:
        keras.utils.set_random_seed(2022)
        model = build(depth=args.depth, width=args.width)
        model.compile(
            keras.optimizers.Adam(1e-3),
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            jit_compile=True,
        )
        x, y = synthetic_batches(batch_size, args.steps)
        times = EpochTimes()
        model.fit(
            x,
            y,
            batch_size=batch_size,
            epochs=1 + args.epochs,
            shuffle=False,
            verbose=0,
            callbacks=[times],
        )
    finally:
        keras.config.set_dtype_policy("float32")
    return float(np.median(times.seconds[1:])) / args.steps


def figures_of(args):
    """One record per (precision, batch size, network)."""
    records = []
    for precision in args.precisions:
        for batch_size in args.batch_sizes:
            for name, build in NETWORKS.items():
                step = seconds_per_step(build, args, batch_size, precision)
                records.append(
                    {
                        "network": name,
                        "precision": precision,
                        "batch_size": batch_size,
                        "seconds_per_step": step,
                        "images_per_second": batch_size / step,
                    }
                )
                print(
                    f"[gpu_benchmark] {name} {precision} batch {batch_size}: "
                    f"{batch_size / step:.0f} images/s",
                    flush=True,
                )
    return records


def projected_minutes(images_per_second):
    """Minutes of the paper's 100 epochs of 50,000 images at this speed."""
    return PAPER_EPOCHS * CIFAR10_TRAINING_IMAGES / images_per_second / 60


def table(records):
    """The figures as Markdown, one row per network and setting."""
    step = {
        (r["network"], r["precision"], r["batch_size"]): r["seconds_per_step"]
        for r in records
    }
    header = (
        "| network | precision | batch | images/s | ms/step | HaH / baseline step "
        "| 100 epochs (min) |"
    )
    lines = [header, "|---|---|---|---|---|---|---|"]
    for r in records:
        key = (r["precision"], r["batch_size"])
        ratio = step[("hah_vgg", *key)] / step[("baseline_vgg", *key)]
        lines.append(
            f"| {r['network']} | {r['precision']} | {r['batch_size']} "
            f"| {r['images_per_second']:.0f} | {1000 * r['seconds_per_step']:.1f} "
            f"| {ratio:.2f}x | {projected_minutes(r['images_per_second']):.1f} |"
        )
    return "\n".join(lines)


def device_description():
    import jax

    device = jax.devices()[0]
    return (
        f"{device.platform} ({device.device_kind}), JAX {jax.__version__}, "
        f"Keras {keras.__version__}, {platform.python_implementation()} "
        f"{platform.python_version()}"
    )


def main(argv=None):
    args = parse_args(argv)
    if keras.backend.backend() != "jax":
        raise SystemExit(
            f"gpu_benchmark runs on Keras' JAX backend; KERAS_BACKEND is "
            f"{keras.backend.backend()!r}."
        )
    records = figures_of(args)
    print(
        f"\nVGG{args.depth}, width {args.width:g}, {args.steps} steps per epoch, "
        f"median of {args.epochs} epochs; device: {device_description()}\n"
    )
    print(table(records))
    if args.json:
        with open(args.json, "w") as file:
            json.dump(
                {
                    "device": device_description(),
                    "args": vars(args),
                    "records": records,
                },
                file,
                indent=1,
            )
    return records


if __name__ == "__main__":
    main()
