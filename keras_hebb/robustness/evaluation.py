"""Robust accuracy as a per-example worst case over an attack set, with masking checks.

`robustness_evaluation` is what the project reports as robust accuracy: for
each model and budget, the reference AutoAttack (standard version: APGD-CE,
APGD-T, FAB-T, Square) with its running robust accuracy after each of its
attacks, then adaptive attacks for HaH's known traps on top (PGD with
restarts, BPDA-PGD through the thresholds, SPSA on L_inf, transfer from the
reference network), and the worst case per example over all of them; plus
the gradient-masking checks for that budget, AutoAttack's own checks among
them.
"""

import dataclasses
import time

from keras_hebb.progress import say
from keras_hebb.robustness.attacks import BPDA, PGD, Transfer, worst_case_accuracy
from keras_hebb.robustness.autoattack import AutoAttack
from keras_hebb.robustness.budgets import AttackBudgets, Budget, strength_label
from keras_hebb.robustness.masking import (
    FAIL,
    NOT_APPLICABLE,
    PASS,
    bpda_verdict,
    check_result,
    has_hard_choices,
    report_checks,
    sweep_checks,
    white_box_verdict,
)
from keras_hebb.robustness.spsa import SPSA

# Attacks that white-box PGD must beat, by the name the checks give them.
RIVALS = {SPSA: "spsa", Transfer: "transfer"}


def adaptive_attacks(eps, norm, budgets, source_model=None, bpda=True):
    """The attacks run on top of AutoAttack, for HaH's known traps: PGD with
    restarts (the masking checks' white box), BPDA-PGD through the thresholds
    and divisive normalisation, SPSA (L_inf, gradient-free) and transfer."""
    pgd = PGD(eps, norm, budgets.pgd_steps, budgets.pgd_restarts)
    attacks = [pgd]
    if bpda:
        attacks.append(BPDA(pgd, divisive_normalization=True))
    if norm == "linf":
        attacks.append(SPSA(eps, budgets.spsa_iterations, budgets.spsa_samples))
    if source_model is not None:
        attacks.append(Transfer(source_model, pgd))
    return attacks


def autoattack_check(run):
    """AutoAttack's own checks as one masking check: FAIL if any warned."""
    if not run.flags:
        return check_result(PASS, "no AutoAttack check warned")
    return check_result(FAIL, " | ".join(run.flags))


def evaluate_budget(
    model, images, labels, eps, norm, budgets, source_model=None, masking_examples=None
):
    """Per-attack and worst-case accuracy, and the masking verdicts, for one budget.

    The eps sweep and the convergence sweep run on the first
    `masking_examples` images (all by default).
    """
    reference = AutoAttack(eps, norm, budgets.strength, budgets.seed)
    autoattack = reference.evaluate(model, images, labels)
    attacks = adaptive_attacks(
        eps, norm, budgets, source_model, has_hard_choices(model)
    )
    result = worst_case_accuracy(
        model, attacks, images, labels, robust=autoattack.robust
    )
    accuracy = {attack: result["per_attack"][attack.name] for attack in attacks}
    white_box = next(acc for a, acc in accuracy.items() if type(a) is PGD)
    rivals = {
        RIVALS[type(a)]: (acc, white_box)
        for a, acc in accuracy.items()
        if type(a) in RIVALS
    }
    checks = sweep_checks(
        model,
        images[:masking_examples],
        labels[:masking_examples],
        eps,
        norm,
        budgets.sweep_steps,
        budgets.sweep_restarts,
        budgets.eps_multiples,
        budgets.tolerance,
    )
    checks["white_box_strongest"] = check_result(
        *white_box_verdict(white_box, rivals, budgets.tolerance)
    )
    bpda = [acc for a, acc in accuracy.items() if isinstance(a, BPDA)]
    checks["bpda"] = check_result(
        *(
            bpda_verdict(white_box, bpda[0], budgets.tolerance)
            if bpda
            else (NOT_APPLICABLE, "no thresholds or divisive normalisation")
        )
    )
    checks["autoattack"] = autoattack_check(autoattack)
    report_checks(model, norm, eps, checks)
    return {
        "eps": eps,
        "norm": norm,
        "examples": len(labels),
        "clean": result["clean"],
        "autoattack": autoattack.to_dict(),
        "per_attack": {
            reference.name: float(autoattack.robust.mean()),
            **result["per_attack"],
        },
        "worst_case": result["worst_case"],
        "robust_images": result["robust"].astype(int).tolist(),
        "attack_seconds": {reference.name: autoattack.seconds, **result["seconds"]},
        "checks": checks,
        "flagged": any(c["verdict"] == FAIL for c in checks.values()),
    }


def transfer_sources(models):
    """Each model's transfer source: the first model for every other model,
    the second for the first (none with one model)."""
    names = list(models)
    if len(names) < 2:
        return {name: None for name in names}
    return {
        name: models[names[1]] if name == names[0] else models[names[0]]
        for name in names
    }


def robustness_evaluation(
    models,
    images,
    labels,
    budget_list,
    budgets=None,
    masking_examples=None,
    sources=None,
):
    """Evaluates every model (dict name -> model) under every (norm, eps) budget.

    `budgets` is an `AttackBudgets` (default: AutoAttack standard and the
    adaptive attacks' strengths). `sources` (dict name -> model or None) gives each model's transfer
    source; by default `transfer_sources(models)`. The record's
    "robust_images" list which images every attack failed on (1), so that
    two models can be compared image by image.
    """
    budgets = budgets or AttackBudgets()
    sources = transfer_sources(models) if sources is None else sources
    record = {"budgets": dataclasses.asdict(budgets), "models": {}}
    for index, (name, model) in enumerate(models.items(), start=1):
        record["models"][name] = {}
        for number, (norm, eps) in enumerate(budget_list, start=1):
            say(
                f"robustness: {name} (model {index} of {len(models)}), budget "
                f"{number} of {len(budget_list)}: {norm} {eps:.4g}, "
                f"AutoAttack {strength_label(budgets.strength)} and adaptive attacks, "
                f"{len(labels)} images"
            )
            start = time.perf_counter()
            result = evaluate_budget(
                model,
                images,
                labels,
                eps,
                norm,
                budgets,
                sources.get(name),
                masking_examples,
            )
            record["models"][name][Budget(norm, eps).key] = result
            say(
                f"robustness: {name} {norm} {eps:.4g}: worst case "
                f"{result['worst_case']:.4f} ({time.perf_counter() - start:.0f} s)"
            )
    return record
