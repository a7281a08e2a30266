"""The figures of one trained network: clean and noisy accuracy, SNR,
sparsity, an activation histogram and single-attack PGD, with the per-image
scores the paired statistics use."""

import time

import keras
import numpy as np

from keras_hebb.metrics import activation_histogram, activation_sparsity
from keras_hebb.probes import sparse_blocks
from keras_hebb.progress import say
from keras_hebb.robustness.attacks import PGD, attack_accuracy
from keras_hebb.robustness.budgets import Budget
from keras_hebb.robustness.noise import conv_input_snr, correct, noise_sweep_correct
from keras_hebb.run.records import MetricKey


def evaluate_network(model, config, images, labels, seed):
    """Clean, noisy, SNR, sparsity and PGD figures of one trained network.

    Seeds Python, NumPy, TensorFlow and Keras with `seed` first, so the
    figures do not depend on what the process did before (a resumed run
    evaluates as an uninterrupted one).

    Args:
        model: a trained classifier (logits).
        config: the run's `RunConfig`; `config.evaluation` says how many
            images each figure uses.
        images, labels: the test images (N, H, W, C) in [0, 1] and their
            labels (N,).
        seed: the seed of the noise draws and attacks.

    Returns:
        (figures, per_image): the JSON-ready figures, and a dict of per-image
        scores on the first images of the test set, keyed by `MetricKey`
        strings: "clean" and each PGD budget 1/0 for right/wrong, each noise
        the fraction of draws right.
    """
    keras.utils.set_random_seed(seed)
    evaluation = config.evaluation
    timings, results, per_image = {}, {}, {}

    def timed(phase, compute):
        start = time.perf_counter()
        results[phase] = compute()
        timings[phase] = time.perf_counter() - start

    noise_x = images[: evaluation.noise_examples]
    noise_y = labels[: evaluation.noise_examples]
    probe_x = images[: evaluation.probe_examples]
    attack_x = images[: evaluation.attack_examples]
    attack_y = labels[: evaluation.attack_examples]
    timed("clean", lambda: correct(model, images, labels))
    per_image[str(MetricKey("clean"))] = results.pop("clean")
    results["clean_accuracy"] = float(per_image["clean"].mean())
    say(
        f"{model.name}: clean accuracy {results['clean_accuracy']:.4f} "
        f"on {len(labels)} test images"
    )
    timed(
        "noise",
        lambda: noise_sweep_correct(
            model,
            noise_x,
            noise_y,
            evaluation.noise_stds,
            evaluation.noise_draws,
            seed,
            evaluation.noise_kinds,
        ),
    )
    noise = results.pop("noise")
    results["noise_accuracy"] = {
        kind: {std: float(right.mean()) for std, right in by_std.items()}
        for kind, by_std in noise.items()
    }
    per_image.update(
        {
            str(MetricKey.noise(kind, std)): right
            for kind, by_std in noise.items()
            for std, right in by_std.items()
        }
    )
    say(f"{model.name}: noise {results['noise_accuracy']}")
    timed("snr_db", lambda: conv_input_snr(model, probe_x, evaluation.snr_std, seed))
    timed("sparsity", lambda: activation_sparsity(model, probe_x))
    results["sparse_blocks"] = sparse_blocks(model)
    if evaluation.histogram_conv in results["sparsity"]:
        timed(
            "histogram",
            lambda: activation_histogram(model, probe_x, evaluation.histogram_conv),
        )
    adversarial = {}
    start = time.perf_counter()
    for configured in evaluation.attack_budgets:
        budget = Budget(configured.norm, configured.eps)
        attack = PGD(budget.eps, budget.norm, evaluation.attack_steps)
        adversarial[budget.key], right, _ = attack_accuracy(
            model, attack, attack_x, attack_y
        )
        per_image[str(MetricKey.pgd(budget))] = right
    timings["adversarial_accuracy"] = time.perf_counter() - start
    results["adversarial_accuracy"] = adversarial
    say(
        f"{model.name}: PGD-{evaluation.attack_steps} accuracy {adversarial} on "
        f"{len(attack_y)} images"
    )
    results["evaluation_seconds"] = timings
    per_image = {
        key: np.asarray(value, dtype="float32") for key, value in per_image.items()
    }
    return results, per_image
