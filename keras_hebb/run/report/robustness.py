"""robustness.md: the worst case of a `RobustnessRecord` per variant and
budget with its spread and paired comparison, then each attack and check
per seed."""

from keras_hebb.robustness.budgets import AUTOATTACK_ATTACKS, strength_label
from keras_hebb.run.report.tables import cell, difference_text, p_values_text, table

REDUCED_WARNING = (
    "**AutoAttack ran at REDUCED strength (tests only): these figures are not "
    "robust accuracy.**"
)


def attack_label(name):
    """An attack's row label; transfers are named by their attack, not their source."""
    if name.startswith("transfer from "):
        return "transfer from the reference: " + name.split(": ", 1)[1]
    return name


def describe_attacks(attacks):
    """The attack set of a robustness record, in words. A record made before
    the reference AutoAttack joined the set names the weaker set it ran."""
    adaptive = (
        f"PGD {attacks['pgd_steps']} steps x {attacks['pgd_restarts']} restarts "
        f"(also behind BPDA and transfer), SPSA {attacks['spsa_iterations']} "
        f"iterations x {attacks['spsa_samples']} samples (L_inf only)"
    )
    checks = (
        f"checks: PGD steps {list(attacks['sweep_steps'])}, restarts "
        f"{list(attacks['sweep_restarts'])}, eps x {list(attacks['eps_multiples'])}, "
        f"tolerance {attacks['tolerance']}"
    )
    if "apgd_steps" in attacks:
        square = (
            f" and Square {attacks['square_queries']} queries (L_inf only)"
            if "square_queries" in attacks
            else ""
        )
        return (
            "**the weaker attack set of an earlier version, not AutoAttack "
            "standard**: ART's APGD-CE and APGD-T "
            f"{attacks['apgd_steps']} steps (APGD-T over the {attacks['apgd_targets']} "
            f"highest other classes){square}, {adaptive}; {checks}"
        )
    strength = (
        "standard version (APGD-CE, APGD-T, FAB-T, Square: 100 steps, 9 target "
        "classes, 5,000 queries"
        if attacks["strength"] == "standard"
        else f"{strength_label(attacks['strength'])} (APGD-CE, APGD-T, FAB-T, Square"
    )
    return (
        f"the reference AutoAttack, {strength}"
        + f"; seed {attacks['seed']}), then adaptive attacks on top: {adaptive}; "
        f"{checks}, and AutoAttack's own checks. The networks are deterministic, so "
        "AutoAttack's randomised version (EoT) is not needed; its randomness check "
        "confirms it on every run"
    )


def robust_summary_table(record, budget):
    labels = record.labels()
    rows = []
    for name, by_budget in record.summary.items():
        comparison = record.comparisons.get(name, {}).get(budget.key)
        rows.append(
            [
                labels[name],
                cell(by_budget[budget.key], record.images_of(budget)),
                difference_text(comparison) if comparison else "(reference)",
                comparison["verdict"] if comparison else "",
                p_values_text(comparison) if comparison else "",
            ]
        )
    return table(
        [
            "",
            "robust accuracy (worst case)",
            f"minus {labels[record.reference]} (points)",
            "verdict",
            "tests",
        ],
        rows,
    )


def autoattack_rows(results, names):
    """AutoAttack's running robust accuracy after each of its attacks."""
    if not all("autoattack" in results[n] for n in names):
        return []
    return [
        [
            f"AutoAttack: after {shown}",
            *[f"{results[n]['autoattack']['running'][attack]:.4f}" for n in names],
        ]
        for attack, shown in AUTOATTACK_ATTACKS.items()
    ]


def per_attack_table(models, budget, labels):
    """Each network of one seed at `budget`: clean, the worst case, each
    attack's accuracy and each check's verdict."""
    names = list(models)
    results = {n: models[n][budget.key] for n in names}
    rows = [
        ["clean", *[f"{results[n]['clean']:.4f}" for n in names]],
        ["**worst case**", *[f"**{results[n]['worst_case']:.4f}**" for n in names]],
        *autoattack_rows(results, names),
    ]
    attacks = {
        n: {attack_label(a): acc for a, acc in results[n]["per_attack"].items()}
        for n in names
    }
    for attack in dict.fromkeys(a for n in names for a in attacks[n]):
        rows.append(
            [
                attack,
                *[
                    f"{attacks[n][attack]:.4f}" if attack in attacks[n] else "n/a"
                    for n in names
                ],
            ]
        )
    for check in results[names[0]]["checks"]:
        rows.append(
            [
                f"check: {check}",
                *[
                    f"{results[n]['checks'][check]['verdict']}: "
                    f"{results[n]['checks'][check]['summary']}"
                    for n in names
                ],
            ]
        )
    return table(["", *[labels.get(n, n) for n in names]], rows)


def robustness_markdown(record):
    """The `RobustnessRecord` as Markdown."""
    labels = record.labels()
    lines = [
        "# Robust accuracy: per-example worst case over the attack set",
        *([REDUCED_WARNING] if record.reduced else []),
        (
            f"Data: {record.data_source}; {len(record.seeds)} seed(s) of each network; "
            f"{record.seconds / 60:.1f} minutes. Attacks: "
            f"{describe_attacks(record.attacks)}; each network's transfer attack "
            "comes from the reference network of the same seed (the reference's from "
            "the second). The robust accuracy is the fraction of test images that "
            "every attack fails on (clean-correct included), as AutoAttack reports "
            "its ensemble. A check that FAILs means the figure may be inflated by "
            "masked gradients or an unconverged attack. Differences: 95% "
            "paired-bootstrap intervals over the same images; one seed: brackets are "
            "the 95% Wilson interval over the images."
        ),
    ]
    for budget in record.budgets():
        lines.append(
            f"## {budget.label} ({record.images_of(budget)} test images)\n\n"
            + robust_summary_table(record, budget)
        )
        for seed in record.seeds:
            lines.append(
                f"### Each attack, seed {seed}\n\n"
                + per_attack_table(record.by_seed[seed], budget, labels)
            )
    return "\n\n".join(lines) + "\n"
