"""Training-step throughput of hah_vgg against baseline_vgg, side by side.

Prints images/s of each network at each width (median over interleaved
rounds, so both see the same machine load), the HaH/baseline cost ratio,
and the platform, TensorFlow version and thread settings. It never asserts
times.

    python experiments/benchmark.py --widths 0.25 1.0 --batch-size 128

With `--data FOLDER` it also compares training steps/s fed by the real
input pipeline (`keras_hebb.data.cifar10`, cache warmed) against steps fed
by one constant in-memory batch, to show whether the pipeline limits speed.

    python experiments/benchmark.py --widths 0.25 --data ../shared/data/cifar10-jpeg
"""

import argparse
import os
import platform
import statistics
import time

import keras
import numpy as np
import tensorflow as tf

from keras_hebb.data import cifar10
from keras_hebb.models import baseline_vgg, hah_vgg

NETWORKS = {"baseline_vgg": baseline_vgg, "hah_vgg": hah_vgg}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--widths", type=float, nargs="+", default=[0.25, 1.0])
    parser.add_argument("--depth", type=int, default=16, choices=[11, 13, 16, 19])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=3, help="timed steps per round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument(
        "--jit-compile",
        default="auto",
        choices=["auto", "true", "false"],
        help="XLA for the train step; auto is Keras' default (GPU only)",
    )
    parser.add_argument(
        "--data",
        default=None,
        help="also time the real input pipeline from this source (a folder or tfds)",
    )
    args = parser.parse_args(argv)
    if args.batch_size < 1 or args.steps < 1 or args.rounds < 1:
        parser.error("--batch-size, --steps and --rounds must be positive")
    if min(args.widths) <= 0:
        parser.error(f"--widths must be positive, got {args.widths}")
    return args


def compiled_network(name, depth, width, jit_compile):
    model = NETWORKS[name](depth=depth, width=width)
    model.compile(
        keras.optimizers.Adam(1e-3),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        jit_compile={"auto": "auto", "true": True, "false": False}[jit_compile],
    )
    return model


def seconds_per_step(model, x, y, steps):
    """Mean wall time of `steps` training steps on one in-memory batch."""
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    return (time.perf_counter() - start) / steps


def steps_per_second(model, dataset, steps):
    """Training steps/s of `fit` on `steps` batches of `dataset` (after warm-up)."""
    model.fit(dataset, steps_per_epoch=2, epochs=1, shuffle=False, verbose=0)
    start = time.perf_counter()
    model.fit(dataset, steps_per_epoch=steps, epochs=1, shuffle=False, verbose=0)
    return steps / (time.perf_counter() - start)


def compare_pipeline(models, source, batch_size, steps, rounds):
    """Prints steps/s with the real pipeline against a constant in-memory batch."""
    real = cifar10(source, "train", batch_size).repeat()
    for _ in real.take(50_000 // batch_size + 1):
        pass
    x, y = next(iter(real))
    constant = tf.data.Dataset.from_tensors((x, y)).repeat()
    for name, model in models.items():
        rates = {"real data": [], "constant batch": []}
        for _ in range(rounds):
            rates["real data"].append(steps_per_second(model, real, steps))
            rates["constant batch"].append(steps_per_second(model, constant, steps))
        real_rate = statistics.median(rates["real data"])
        constant_rate = statistics.median(rates["constant batch"])
        print(
            f"{name:13s} steps/s: real data {real_rate:.2f}, constant batch "
            f"{constant_rate:.2f}, ratio {real_rate / constant_rate:.2f}"
        )


def platform_summary():
    return (
        f"platform: {platform.platform()}, {os.cpu_count()} CPUs, "
        f"devices {[d.device_type for d in tf.config.list_physical_devices()]}\n"
        f"tensorflow {tf.__version__}, keras {keras.__version__}, "
        f"intra-op threads {tf.config.threading.get_intra_op_parallelism_threads()}, "
        f"inter-op threads {tf.config.threading.get_inter_op_parallelism_threads()} "
        "(0 = TensorFlow's default: all cores)"
    )


def main(argv=None):
    args = parse_args(argv)
    print(platform_summary())
    rng = np.random.default_rng(2022)
    x = rng.uniform(size=(args.batch_size, 32, 32, 3)).astype("float32")
    y = rng.integers(0, 10, size=args.batch_size)
    print(
        f"VGG{args.depth}, batch {args.batch_size}, jit_compile={args.jit_compile}, "
        f"{args.rounds} rounds of {args.steps} steps"
    )
    for width in args.widths:
        models = {
            name: compiled_network(name, args.depth, width, args.jit_compile)
            for name in NETWORKS
        }
        for model in models.values():
            seconds_per_step(model, x, y, 2)
        times = {name: [] for name in NETWORKS}
        for _ in range(args.rounds):
            for name, model in models.items():
                times[name].append(seconds_per_step(model, x, y, args.steps))
        speeds = {
            name: args.batch_size / statistics.median(t) for name, t in times.items()
        }
        for name, speed in speeds.items():
            print(f"width {width:g}  {name:13s} {speed:8.1f} images/s")
        print(
            f"width {width:g}  HaH step cost / baseline step cost: "
            f"{speeds['baseline_vgg'] / speeds['hah_vgg']:.2f}x"
        )
        if args.data is not None:
            compare_pipeline(
                models, args.data, args.batch_size, 10 * args.steps, args.rounds
            )


if __name__ == "__main__":
    main()
