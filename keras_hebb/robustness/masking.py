"""Checks that a robustness figure is not an artefact of masked gradients.

Hard thresholds can hide gradients from an attacker (method.md section 6).
`gradient_masking_checks` runs the standard sanity checks of Athalye et al.
(2018) and Carlini et al. (2019) for one model and budget, prints a verdict
per check with the numbers behind it, and returns them.
"""

import numpy as np

from keras_hebb._compat import nested_layers
from keras_hebb.layers import THRESHOLDS, DivisiveNormalization
from keras_hebb.progress import say
from keras_hebb.robustness.attacks import BPDA, PGD, Transfer, attack_accuracy
from keras_hebb.robustness.spsa import SPSA

PASS, FAIL, NOT_APPLICABLE = "pass", "FAIL", "n/a"
MASKING_LAYERS = THRESHOLDS + (DivisiveNormalization,)


def beyond(difference, tolerance):
    """`difference > tolerance`, blind to float rounding (0.33 - 0.31 is not > 0.02)."""
    return round(difference - tolerance, 9) > 0


def has_hard_choices(model):
    """Whether `model` has a threshold or divisive normalisation at any depth."""
    return any(isinstance(layer, MASKING_LAYERS) for layer in nested_layers(model))


def pgd(model, images, labels, eps, norm, steps=20, restarts=1):
    return attack_accuracy(model, PGD(eps, norm, steps, restarts), images, labels)[0]


def check_eps_sweep(model, images, labels, eps, norm, multiples, tolerance):
    """Accuracy must reach ~0% as the budget grows."""
    largest = 1.0 if norm == "linf" else float(np.sqrt(np.prod(images.shape[1:])))
    budgets = sorted({min(eps * m, largest) for m in multiples})
    accuracy = {f"{b:.6g}": pgd(model, images, labels, b, norm) for b in budgets}
    final = accuracy[f"{budgets[-1]:.6g}"]
    verdict = PASS if not beyond(final, tolerance) else FAIL
    return (
        verdict,
        {"pgd20_accuracy_by_eps": accuracy},
        (
            f"PGD-20 accuracy at the largest eps {budgets[-1]:.4g} is {final:.3f}"
            + (
                ""
                if verdict == PASS
                else f", not <= {tolerance}: gradients may be masked"
            )
        ),
    )


def check_convergence(model, images, labels, eps, norm, steps, restarts, tolerance):
    """More steps and more restarts must stop helping: the attack has converged."""
    by_steps = {str(s): pgd(model, images, labels, eps, norm, s) for s in steps}
    by_restarts = {
        str(r): pgd(model, images, labels, eps, norm, steps[1], r) for r in restarts
    }
    step_gain = by_steps[str(steps[-2])] - by_steps[str(steps[-1])]
    restart_gain = by_restarts[str(restarts[0])] - by_restarts[str(restarts[-1])]
    verdict = PASS if not beyond(max(step_gain, restart_gain), tolerance) else FAIL
    numbers = {
        "pgd_accuracy_by_steps": by_steps,
        f"pgd{steps[1]}_accuracy_by_restarts": by_restarts,
    }
    return (
        verdict,
        numbers,
        (
            f"{steps[-2]}->{steps[-1]} steps lowers accuracy by {step_gain:.3f}, "
            f"{restarts[0]}->{restarts[-1]} restarts by {restart_gain:.3f} "
            f"(flat if both <= {tolerance})"
        ),
    )


def check_result(verdict, summary, numbers=None):
    """A check's entry in a report: verdict, one-line summary, numbers if any."""
    result = {"verdict": verdict, "summary": summary}
    if numbers is not None:
        result["numbers"] = numbers
    return result


def sweep_checks(
    model, images, labels, eps, norm, steps, restarts, multiples, tolerance
):
    """The two checks that sweep PGD itself: the eps sweep and convergence."""
    eps_sweep = check_eps_sweep(model, images, labels, eps, norm, multiples, tolerance)
    convergence = check_convergence(
        model, images, labels, eps, norm, steps, restarts, tolerance
    )
    return {
        "eps_sweep": check_result(eps_sweep[0], eps_sweep[2], eps_sweep[1]),
        "convergence": check_result(convergence[0], convergence[2], convergence[1]),
    }


def report_checks(model, norm, eps, checks):
    """Prints a verdict line per check."""
    for name, check in checks.items():
        say(
            f"{model.name} {norm} eps={eps:.4g} {name}: {check['verdict']}: "
            f"{check['summary']}"
        )


def white_box_verdict(white_box, rivals, tolerance):
    """PASS unless a rival (name -> (its accuracy, white-box accuracy on the same
    images)) beats white-box PGD by more than `tolerance`."""
    if not rivals:
        return NOT_APPLICABLE, "no transfer source and no L_inf budget for SPSA"
    stronger = [
        name
        for name, (rival, white) in rivals.items()
        if beyond(white - rival, tolerance)
    ]
    if stronger:
        return (
            FAIL,
            f"{' and '.join(stronger)} beat white-box PGD: its gradients mislead",
        )
    return PASS, "white-box PGD is at least as strong as " + " and ".join(rivals)


def bpda_verdict(white_box, bpda, tolerance):
    """PASS unless straight-through gradients beat the model's own by > tolerance."""
    verdict = PASS if not beyond(white_box - bpda, tolerance) else FAIL
    return verdict, (
        f"BPDA-PGD accuracy {bpda:.3f} against plain PGD {white_box:.3f}"
        + ("" if verdict == PASS else ": the hard choices mask plain gradients")
    )


def check_white_box_strongest(
    model,
    images,
    labels,
    eps,
    norm,
    white_box,
    source_model,
    spsa_images,
    spsa_iterations,
    spsa_samples,
    tolerance,
):
    """White-box PGD must beat transfer from another model and gradient-free SPSA."""
    numbers = {"white_box_pgd_accuracy": white_box}
    rivals = {}
    if source_model is not None:
        transfer = Transfer(source_model, PGD(eps, norm, 20, 5))
        numbers["transfer"] = attack_accuracy(model, transfer, images, labels)[0]
        rivals["transfer"] = (numbers["transfer"], white_box)
    if norm == "linf" and spsa_images > 0:
        x, y = images[:spsa_images], labels[:spsa_images]
        spsa = SPSA(eps, spsa_iterations, spsa_samples)
        numbers["spsa"] = attack_accuracy(model, spsa, x, y)[0]
        numbers["white_box_pgd_on_spsa_images"] = pgd(model, x, y, eps, norm, 20, 5)
        rivals["spsa"] = (numbers["spsa"], numbers["white_box_pgd_on_spsa_images"])
    verdict, summary = white_box_verdict(white_box, rivals, tolerance)
    return verdict, numbers, summary


def check_bpda(model, images, labels, eps, norm, white_box, tolerance):
    """Straight-through gradients must not be stronger than the model's own."""
    if not has_hard_choices(model):
        return (
            NOT_APPLICABLE,
            {},
            "the model has no thresholds or divisive normalisation",
        )
    numbers = {
        "white_box_pgd_accuracy": white_box,
        "bpda_thresholds": attack_accuracy(
            model, BPDA(PGD(eps, norm, 20, 5)), images, labels
        )[0],
        "bpda_thresholds_and_divisive_normalization": attack_accuracy(
            model,
            BPDA(PGD(eps, norm, 20, 5), divisive_normalization=True),
            images,
            labels,
        )[0],
    }
    strongest = min(
        numbers["bpda_thresholds"],
        numbers["bpda_thresholds_and_divisive_normalization"],
    )
    verdict, summary = bpda_verdict(white_box, strongest, tolerance)
    return verdict, numbers, summary


def gradient_masking_checks(
    model,
    images,
    labels,
    eps,
    norm="linf",
    source_model=None,
    spsa_images=200,
    spsa_iterations=20,
    spsa_samples=128,
    steps=(10, 20, 50, 100),
    restarts=(1, 5),
    eps_multiples=(1, 2, 4, 8, 16, 32),
    tolerance=0.02,
    verbose=True,
):
    """Runs the four gradient-masking checks for one model and budget.

    1. eps sweep: PGD-20 accuracy as eps grows must reach ~0% (<= tolerance).
    2. convergence: PGD accuracy must flatten from 50 to 100 steps and from
       1 to 5 restarts.
    3. white-box strongest: PGD-20 with 5 restarts must be at least as strong
       as transfer from `source_model` and as SPSA (L_inf only).
    4. BPDA: attacking through straight-through thresholds (and divisive
       normalisation) must not be stronger than attacking the model itself.

    Args:
        model: the model under test; `images` (NHWC in [0, 1]) and `labels`.
        eps, norm: the budget.
        source_model: a model to transfer attacks from (e.g. the baseline).
        spsa_images, spsa_iterations, spsa_samples: SPSA's budget.
        steps, restarts, eps_multiples: the sweeps.
        tolerance: accuracy difference treated as noise.
        verbose: print a line per check.

    Returns:
        dict check name -> {"verdict", "summary", "numbers"}, and "flagged":
        True if any check failed.
    """
    images = np.asarray(images, "float32")
    labels = np.asarray(labels)
    white_box = pgd(model, images, labels, eps, norm, 20, 5)
    results = sweep_checks(
        model, images, labels, eps, norm, steps, restarts, eps_multiples, tolerance
    )
    verdict, numbers, summary = check_white_box_strongest(
        model,
        images,
        labels,
        eps,
        norm,
        white_box,
        source_model,
        spsa_images,
        spsa_iterations,
        spsa_samples,
        tolerance,
    )
    results["white_box_strongest"] = check_result(verdict, summary, numbers)
    verdict, numbers, summary = check_bpda(
        model, images, labels, eps, norm, white_box, tolerance
    )
    results["bpda"] = check_result(verdict, summary, numbers)
    if verbose:
        report_checks(model, norm, eps, results)
    results["flagged"] = any(r["verdict"] == FAIL for r in results.values())
    return results
