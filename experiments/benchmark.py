"""Speed of HaH training and evaluation against plain training, side by side.

Prints images/s of each network at each width (median over interleaved
rounds, so all see the same machine load): baseline_vgg, hah_vgg, and
hah_vgg without its fractional threshold (`keep=1`, to show that layer's
share); the HaH/baseline cost ratio; and the platform, TensorFlow version
and thread settings. It never asserts times, and it compares only what it
times itself, in one run.

    python experiments/benchmark.py --widths 0.25 1.0 --batch-size 128

Each network is timed in every precision of `--precisions` (float32 and
mixed bfloat16 by default), as a ratio to the baseline's step in the same
precision and, for bfloat16, to its own float32 step.

With `--profile` it also times hah_vgg with each of its parts removed (the
fractional threshold, divisive normalisation, the HaH blocks altogether),
which shows where HaH's extra time goes.

    python experiments/benchmark.py --widths 0.25 1.0 --profile

With `--ops` it times the selections and the divisive normalisation of the
HaH layers at the shapes of each width, in each precision: the HaH top-K
sum (fused iterated max against `top_k`, forward and backward), the
threshold's k-th value (bisection on the bit patterns against `top_k`) and
divisive normalisation (forward and backward).

    python experiments/benchmark.py --widths 0.25 1.0 --ops

With `--evaluation` it times PGD-20 (L_inf 2/255) and the experiment's
noise sweep on each network against the plain forward(+backward) passes
they imply, on `--eval-images` images.

    python experiments/benchmark.py --widths 1.0 --evaluation --eval-images 1000

With `--training-modes` it times a training step of each network under each
training mode (Gaussian noise, FGSM-RS and PGD-7 adversarial training at
L_inf 8/255) as a ratio to a standard step.

    python experiments/benchmark.py --widths 0.25 --training-modes

`--networks hah_vgg` limits `--training-modes` and `--evaluation` to one of
the paper's networks.

With `--implementations` it also times hah_vgg with the HaH cost's local
gradient computed by two passes (the form JAX uses) against the custom
gradient TensorFlow uses by default.

    python experiments/benchmark.py --widths 0.25 1.0 --implementations

With `--data FOLDER` it also compares training steps/s fed by the real
input pipeline (`keras_hebb.data.image_dataset`, cache warmed) against steps fed
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

from keras_hebb.data import image_dataset
from keras_hebb.hah import num_winners
from keras_hebb.layers import DivisiveNormalization
from keras_hebb.models import baseline_vgg, hah_vgg
from keras_hebb.models.vgg import conv_widths
from keras_hebb.order_statistics import (
    _kth_smallest_by_bisection,
    _kth_smallest_by_top_k,
    kth_largest,
    top_k_sum,
)
from keras_hebb.precision import PRECISIONS, precision_policy
from keras_hebb.robustness.attacks import PGD
from keras_hebb.robustness.budgets import NOISE_KINDS
from keras_hebb.robustness.noise import noise_sweep
from keras_hebb.robustness.predict import predicted_logits
from keras_hebb.run.config import load_config
from keras_hebb.training.adversarial_training import AdversarialTraining, fgsm_rs
from keras_hebb.training.noise_training import GaussianNoiseTraining


def with_two_pass_local_gradient(model):
    """`model` rebuilt with every HaHCost computing its local gradient by two
    passes (`implementation="two_pass"`) instead of a custom gradient."""
    config = model.get_config()
    for layer in config["layers"]:
        if "implementation" in layer["config"]:
            layer["config"]["implementation"] = "two_pass"
    return type(model).from_config(config)


NETWORKS = {
    "baseline_vgg": baseline_vgg,
    "hah_vgg": hah_vgg,
    "hah_vgg keep=1": lambda **kwargs: hah_vgg(keep=1.0, **kwargs),
}
# `--profile` adds them: hah_vgg without each of its parts.
PROFILE = {
    "hah_vgg no divnorm": lambda **kwargs: hah_vgg(divisive_norm=False, **kwargs),
    "hah_vgg no HaH blocks": lambda **kwargs: hah_vgg(
        hah_layers=(), alphas=(), **kwargs
    ),
}
# `--implementations` adds it to the networks timed.
TWO_PASS = {
    "hah_vgg two-pass": lambda **kwargs: with_two_pass_local_gradient(hah_vgg(**kwargs))
}
# The two networks of the paper; evaluation and the pipeline compare only these.
PAPER_NETWORKS = ("baseline_vgg", "hah_vgg")


# The training modes `--training-modes` times (the authors' noise std and PGD
# training: 7 steps of 2/255 in L_inf 8/255).
TRAINING_MODES = {
    "standard": lambda: None,
    "gaussian noise 0.1": lambda: GaussianNoiseTraining(0.1),
    "FGSM-RS 8/255": lambda: fgsm_rs(8 / 255),
    "PGD-7 8/255": lambda: AdversarialTraining(8 / 255, steps=7, step_size=2 / 255),
}


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
        "--intra-op-threads",
        type=int,
        default=0,
        help="threads inside one op (0: TensorFlow's default, all cores)",
    )
    parser.add_argument(
        "--inter-op-threads",
        type=int,
        default=0,
        help="ops run at once (0: TensorFlow's default)",
    )
    parser.add_argument(
        "--precisions",
        nargs="+",
        default=list(PRECISIONS),
        choices=PRECISIONS,
        help="the precisions each network is timed in",
    )
    parser.add_argument(
        "--ops",
        action="store_true",
        help="time the HaH selections and divisive normalisation",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also time hah_vgg with each of its parts removed",
    )
    parser.add_argument(
        "--implementations",
        action="store_true",
        help="also time hah_vgg with the two-pass local gradient of the HaH cost",
    )
    parser.add_argument(
        "--evaluation", action="store_true", help="time PGD-20 and the noise sweep"
    )
    parser.add_argument("--eval-images", type=int, default=1000)
    parser.add_argument(
        "--training-modes",
        action="store_true",
        help="time noise and adversarial training steps against standard ones",
    )
    parser.add_argument(
        "--networks",
        nargs="+",
        choices=PAPER_NETWORKS,
        default=list(PAPER_NETWORKS),
        help="the paper networks that --training-modes and --evaluation time",
    )
    parser.add_argument(
        "--data",
        default=None,
        help="also time the real input pipeline from this source (a folder or tfds)",
    )
    args = parser.parse_args(argv)
    if args.networks != list(PAPER_NETWORKS) and not (
        args.training_modes or args.evaluation
    ):
        parser.error("--networks applies to --training-modes and --evaluation only")
    if min(args.intra_op_threads, args.inter_op_threads) < 0:
        parser.error("thread counts must be 0 (default) or positive")
    if min(args.batch_size, args.steps, args.rounds, args.eval_images) < 1:
        parser.error(
            "--batch-size, --steps, --rounds and --eval-images must be positive"
        )
    if min(args.widths) <= 0:
        parser.error(f"--widths must be positive, got {args.widths}")
    return args


def compiled_network(name, depth, width, jit_compile, precision="float32"):
    with precision_policy(precision):
        model = {**NETWORKS, **PROFILE, **TWO_PASS}[name](depth=depth, width=width)
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
    real = image_dataset(source, "train", batch_size).repeat()
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
    # Only when asked: TensorFlow refuses a change once it has started.
    if args.intra_op_threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.intra_op_threads)
    if args.inter_op_threads:
        tf.config.threading.set_inter_op_parallelism_threads(args.inter_op_threads)
    print(platform_summary())
    rng = np.random.default_rng(2022)
    x = rng.uniform(size=(args.batch_size, 32, 32, 3)).astype("float32")
    y = rng.integers(0, 10, size=args.batch_size)
    print(
        f"VGG{args.depth}, batch {args.batch_size}, jit_compile={args.jit_compile}, "
        f"{args.rounds} rounds of {args.steps} steps"
    )
    for width in args.widths:
        if args.ops:
            compare_order_statistics(
                args.depth, width, args.batch_size, args.precisions
            )
            continue
        if args.training_modes:
            compare_training_modes(x, y, width, args)
            continue
        if args.evaluation:
            models = {
                name: compiled_network(name, args.depth, width, args.jit_compile)
                for name in args.networks
            }
            compare_evaluation(models, args.eval_images)
            continue
        names = [
            *NETWORKS,
            *(PROFILE if args.profile else ()),
            *(TWO_PASS if args.implementations else ()),
        ]
        models = {
            (name, precision): compiled_network(
                name, args.depth, width, args.jit_compile, precision
            )
            for precision in args.precisions
            for name in names
        }
        compare_training(models, x, y, width, args)
        if args.data is not None:
            models = {
                name: compiled_network(name, args.depth, width, args.jit_compile)
                for name in PAPER_NETWORKS
            }
            compare_pipeline(
                {name: models[name] for name in PAPER_NETWORKS},
                args.data,
                args.batch_size,
                10 * args.steps,
                args.rounds,
            )


def compare_training(models, x, y, width, args):
    """Prints training images/s of each (network, precision) and its step as a
    ratio to the baseline's in the same precision (and, in bfloat16, its
    speed-up over its own float32 step); with `--profile`, the share of
    HaH's extra time each removed part took."""
    for model in models.values():
        seconds_per_step(model, x, y, 2)
    times = {key: [] for key in models}
    for _ in range(args.rounds):
        for key, model in models.items():
            times[key].append(seconds_per_step(model, x, y, args.steps))
    steps = {key: statistics.median(t) for key, t in times.items()}
    for (name, precision), step in steps.items():
        line = (
            f"width {width:g}  {precision:14s} {name:21s} {len(x) / step:8.1f} "
            f"images/s, {step / steps['baseline_vgg', precision]:.2f}x the "
            "baseline step"
        )
        if precision != "float32" and (name, "float32") in steps:
            line += f", {steps[name, 'float32'] / step:.2f}x faster than float32"
        print(line)
    if args.profile:
        print_time_shares(steps, width)


def print_time_shares(steps, width):
    """Prints what share of hah_vgg's extra time over the baseline each part
    took, as the time saved by removing it."""
    for precision in sorted({precision for _, precision in steps}):
        extra = steps["hah_vgg", precision] - steps["baseline_vgg", precision]
        shares = {
            part: (steps["hah_vgg", precision] - steps[name, precision]) / extra
            for part, name in (
                ("fractional threshold", "hah_vgg keep=1"),
                ("divisive normalisation", "hah_vgg no divnorm"),
                ("all HaH blocks", "hah_vgg no HaH blocks"),
            )
        }
        print(
            f"width {width:g}  {precision:14s} HaH's extra "
            f"{1000 * extra:.0f} ms/step: "
            + ", ".join(f"{part} {share:.0%}" for part, share in shares.items())
        )


def compare_training_modes(x, y, width, args):
    """Prints training images/s of each of `args.networks` under each training
    mode, and its step time as a ratio to the standard step's."""
    for network in args.networks:
        models = {}
        for mode, perturbation in TRAINING_MODES.items():
            models[mode] = compiled_network(
                network, args.depth, width, args.jit_compile
            )
            models[mode].training_perturbation = perturbation()
            seconds_per_step(models[mode], x, y, 2)
        times = {mode: [] for mode in models}
        for _ in range(args.rounds):
            for mode, model in models.items():
                times[mode].append(seconds_per_step(model, x, y, args.steps))
        standard = statistics.median(times["standard"])
        for mode, mode_times in times.items():
            step = statistics.median(mode_times)
            print(
                f"width {width:g}  {network:12s} {mode:19s} {len(x) / step:8.1f} "
                f"images/s, {step / standard:.2f}x the standard step"
            )


def hah_layer_shapes(depth, width, batch_size, num_hah_layers=6):
    """Distinct output shapes of the first HaH convs of hah_vgg (32x32 inputs)."""
    shapes, side, convs = [], 32, 0
    for item in conv_widths(depth, width):
        if item == "M":
            side //= 2
            continue
        convs += 1
        shape = (batch_size, side, side, item)
        if convs <= num_hah_layers and shape not in shapes:
            shapes.append(shape)
    return shapes


def graph_function(function):
    """`tf.function` without AutoGraph: these functions have no Python control
    flow on tensors, and AutoGraph cannot convert closures of a script."""
    return tf.function(function, autograph=False)


def milliseconds(function, x, rounds=5):
    """Median wall time of `function(x)`, results fetched, after one warm-up."""
    function(x)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        tf.nest.map_structure(lambda tensor: tensor.numpy(), function(x))
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def with_gradient(function):
    """A graph function returning `function(x)`'s sum and its gradient."""

    @graph_function
    def value_and_gradient(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            value = tf.reduce_sum(function(x))
        return value, tape.gradient(value, x)

    return value_and_gradient


# The compute dtype of each precision.
COMPUTE_DTYPES = {"float32": "float32", "mixed_bfloat16": "bfloat16"}


def compare_order_statistics(depth, width, batch_size, precisions):
    """Prints the cost of each HaH layer's selections (ours against top_k)
    and of its divisive normalisation, in the compute dtype of each
    precision (the HaH score is float32 in both)."""
    rng = np.random.default_rng(2022)
    for shape in hah_layer_shapes(depth, width, batch_size):
        values = np.maximum(rng.normal(size=shape), 0).astype("float32")
        k = num_winners(shape[-1], 0.1)
        print(
            f"width {width:g} {shape!s:20s} K={k:3d}  "
            + ", ".join(
                f"{name} {ms:.1f} ms"
                for name, ms in hah_score_timings(tf.constant(values), k).items()
            )
        )
        for precision in precisions:
            x = tf.cast(values, COMPUTE_DTYPES[precision])
            timings = threshold_and_divnorm_timings(x, int(0.8 * shape[1] * shape[2]))
            print(
                f"width {width:g} {shape!s:20s} {precision:14s} "
                + ", ".join(f"{name} {ms:.1f} ms" for name, ms in timings.items())
            )


def hah_score_timings(x, k):
    """Milliseconds of the HaH top-K sum (both ways) and of its K-th value."""
    by_top_k = with_gradient(
        lambda a: tf.reduce_sum(tf.math.top_k(a, k, sorted=False).values, -1)
    )
    return {
        "HaH top-K sum (fwd+bwd), top_k": milliseconds(by_top_k, x),
        "ours": milliseconds(with_gradient(lambda a: top_k_sum(a, k)), x),
        "K-th value alone": milliseconds(
            graph_function(lambda a: kth_largest(a, k)), x
        ),
    }


def threshold_and_divnorm_timings(x, below):
    """Milliseconds of the threshold's k-th value (both ways) and of divisive
    normalisation forward and backward, on `x` in its own dtype."""
    return {
        "threshold k-th value, top_k": milliseconds(
            graph_function(lambda a: _kth_smallest_by_top_k(a, below)), x
        ),
        "bisection": milliseconds(lambda a: _kth_smallest_by_bisection(a, below), x),
        "divisive normalisation (fwd+bwd)": milliseconds(
            with_gradient(DivisiveNormalization(0.1, dtype=x.dtype.name)), x
        ),
    }


def compare_evaluation(models, num_images):
    """Prints PGD-20 and noise-sweep times against the passes they imply."""
    rng = np.random.default_rng(2022)
    images = rng.uniform(size=(num_images, 32, 32, 3)).astype("float32")
    labels = rng.integers(0, 10, size=num_images)
    evaluation = load_config("cpu").evaluation
    forward_passes = (
        len(NOISE_KINDS) * len(evaluation.noise_stds) * evaluation.noise_draws
    )
    for name, model in models.items():
        pgd, gradient_pass, sweep, forward_pass = evaluation_timings(
            model, images, labels, evaluation
        )
        print(
            f"{name:13s} PGD-20 on {num_images} images {pgd:.1f} s = "
            f"{pgd / (20 * gradient_pass):.2f}x 20 forward+backward passes "
            f"({gradient_pass:.2f} s each); noise sweep {sweep:.1f} s = "
            f"{sweep / (forward_passes * forward_pass):.2f}x "
            f"{forward_passes} forward passes ({forward_pass:.2f} s each)"
        )


def evaluation_timings(model, images, labels, evaluation):
    """Seconds of PGD-20, one gradient pass, the noise sweep, one forward pass."""
    pgd = PGD(2 / 255, "linf", steps=20)
    gradient = input_gradient_function(model)
    # Warm-up: every function traced and compiled for these batch sizes.
    input_gradient_pass(gradient, images[:100], labels[:100])
    pgd.generate(model, images[:100], labels[:100])
    predicted_logits(model, images)
    return (
        timed(lambda: pgd.generate(model, images, labels)),
        timed(lambda: input_gradient_pass(gradient, images, labels)),
        timed(
            lambda: noise_sweep(
                model, images, labels, evaluation.noise_stds, evaluation.noise_draws
            )
        ),
        timed(lambda: predicted_logits(model, images)),
    )


def timed(function):
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def input_gradient_function(model):
    """A graph function: the loss's gradient in the input of one batch."""
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @graph_function
    def gradient(x, y):
        with tf.GradientTape() as tape:
            tape.watch(x)
            value = loss(y, model(x, training=False))
        return tape.gradient(value, x)

    return gradient


def input_gradient_pass(gradient, images, labels, batch_size=100):
    """One forward+backward pass over `images`, batch by batch."""
    for start in range(0, len(images), batch_size):
        gradient(
            tf.constant(images[start : start + batch_size]),
            tf.constant(labels[start : start + batch_size]),
        ).numpy()


if __name__ == "__main__":
    main()
