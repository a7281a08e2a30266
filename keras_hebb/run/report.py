"""results.md, robustness.md and the plots, from the JSON records alone.

Every variant of a run is a column; every cell is a mean over seeds with its
spread ("mean ± sd" over seeds, or with one seed the 95% Wilson interval over
the images), and every plot's error bars are the same spreads. Comparisons
with the reference variant are the paired statistics of
`keras_hebb.run.comparison`.
"""

import json
import pathlib
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from keras_hebb.files import write_atomically, write_text
from keras_hebb.robustness.budgets import (
    AUTOATTACK_ATTACKS,
    budget_label,
    parse_budget_key,
    strength_label,
)
from keras_hebb.run.comparison import metric_label, noise_key, pgd_key
from keras_hebb.run.statistics import binomial_interval

# A clean-accuracy drop of at most this much counts as "slight" (the paper's
# "only a slight accuracy loss", claim (a)).
SLIGHT = 0.02
CORRUPTION_PLOT = "corruption_accuracy.png"
PLOTS = {
    "noise": "accuracy_vs_noise.png",
    "eps": "accuracy_vs_eps.png",
    "layers": "sparsity_snr_per_layer.png",
    "histogram": "activation_histograms.png",
    "comparison": "differences_from_reference.png",
}


def labels_of(record):
    """{variant: label} of the networks a record summarises, in its order:
    the configured label, or the name (saved model files)."""
    configured = record["config"]["variants"]
    return {
        name: (configured.get(name) or {}).get("label") or name
        for name in record["summary"]
    }


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def cell(spread, images=None, digits=4):
    """'0.7920 ± 0.0041' over seeds; with one seed and a count of images,
    '0.7920 [0.784, 0.800]' (95% Wilson interval over the images)."""
    mean = spread["mean"]
    if spread["sd"] is not None:
        return f"{mean:.{digits}f} ± {spread['sd']:.{digits}f}"
    if images:
        low, high = binomial_interval(round(mean * images), images)
        return f"{mean:.{digits}f} [{low:.3f}, {high:.3f}]"
    return f"{mean:.{digits}f}"


def error_bar(spread, images=None):
    """(low, high) error of a point: ± sd over seeds, or the Wilson interval
    over the images with one seed; zero without either."""
    mean = spread["mean"]
    if spread["sd"] is not None:
        return spread["sd"], spread["sd"]
    if images:
        low, high = binomial_interval(round(mean * images), images)
        return mean - low, high - mean
    return 0.0, 0.0


def image_counts(record):
    """How many test images each kind of figure rests on."""
    evaluation = record["config"]["evaluation"]
    total = record["test_images"]
    return {
        "clean": total,
        "noise": min(evaluation["noise_examples"] or total, total),
        "attack": min(evaluation["attack_examples"], total),
        "probe": min(evaluation["probe_examples"], total),
    }


def seeds_text(record):
    seeds = record["config"]["training"]["seeds"]
    return f"{len(seeds)} seed{'s' if len(seeds) > 1 else ''} ({', '.join(map(str, seeds))})"


def spread_note(record):
    if len(record["config"]["training"]["seeds"]) > 1:
        return "Cells: mean ± sample sd over the seeds."
    return (
        "Cells: one seed, so the spread over seeds is unknown; brackets give the "
        "95% Wilson interval over the test images."
    )


def introduction(record):
    config = record["config"]
    counts = image_counts(record)
    training = config["training"]
    network = ", ".join(
        f"{k}={v}" for k, v in config["network_args"].items() if v is not None
    )
    source = (
        f"saved models {', '.join(record['models'].values())}"
        if "models" in record
        else f"{training['epochs']} epochs, batch {training['batch_size']}, "
        f"{training['optimizer']} at {training['learning_rate']:g} ({training['schedule']} "
        f"schedule), {seeds_text(record)}; network arguments {network}"
    )
    commit = record["provenance"]["git_commit"] or "unknown commit"
    return (
        f"Data: {record['data_source']}. {source}. Clean accuracy on "
        f"{counts['clean']} test images, noise on the first {counts['noise']} "
        f"(clipped to [0, 1], mean of {config['evaluation']['noise_draws']} draws), "
        f"PGD on the first {counts['attack']} (CleverHans, "
        f"{config['evaluation']['attack_steps']} steps, random start), per-layer "
        f"figures on the first {counts['probe']}. Code: {commit[:12]}"
        f"{' with local changes' if record['provenance']['git_dirty'] else ''}. "
        f"{spread_note(record)} PGD figures are single-attack upper bounds on "
        "robust accuracy (hard thresholds can hide gradients); the robust accuracy "
        "is the worst case over the attack set in robustness.md."
    )


def metric_rows(record):
    """(label, value_of(summary), images) for every accuracy figure."""
    first = record["summary"][next(iter(record["summary"]))]
    counts = image_counts(record)
    steps = record["config"]["evaluation"]["attack_steps"]
    rows = [
        (metric_label("clean", steps), lambda s: s["clean_accuracy"], counts["clean"])
    ]
    for kind, by_std in first["noise_accuracy"].items():
        for std in by_std:
            rows.append(
                (
                    metric_label(noise_key(kind, std), steps),
                    lambda s, k=kind, d=std: s["noise_accuracy"][k][d],
                    counts["noise"],
                )
            )
    for key in first["adversarial_accuracy"]:
        rows.append(
            (
                metric_label(pgd_key(key), steps),
                lambda s, k=key: s["adversarial_accuracy"][k],
                counts["attack"],
            )
        )
    return rows


def accuracy_table(record):
    names = list(record["summary"])
    labels = labels_of(record)
    rows = [
        [label, *[cell(value_of(record["summary"][n]), images) for n in names]]
        for label, value_of, images in metric_rows(record)
    ]
    if record["sparse_blocks"]:
        rows.append(
            [
                f"non-zero fraction, sparse blocks ({', '.join(record['sparse_blocks'])})",
                *[
                    cell(record["summary"][n]["sparse_nonzero"], digits=3)
                    for n in names
                ],
            ]
        )
    return table(["", *[labels[n] for n in names]], rows)


def difference_text(comparison):
    low, high = comparison["interval"]
    return (
        f"{comparison['difference'] * 100:+.1f} [{low * 100:+.1f}, {high * 100:+.1f}]"
    )


def p_values_text(comparison):
    parts = []
    if comparison.get("mcnemar"):
        p = ", ".join(f"{t['p_value']:.2g}" for t in comparison["mcnemar"].values())
        parts.append(f"McNemar p {p}")
    seeds = comparison.get("across_seeds")
    if seeds and seeds["p_value"] is not None:
        parts.append(f"t-test over {seeds['seeds']} seeds p {seeds['p_value']:.2g}")
    return "; ".join(parts) or "-"


def comparison_section(record):
    """Each variant against the reference: differences in points with their
    95% paired-bootstrap intervals over the images, and the verdicts."""
    labels = labels_of(record)
    reference = record["reference"]
    confidence = record["config"]["evaluation"]["confidence"]
    text = [
        (
            f"Each variant minus **{labels[reference]}**, in accuracy points, with "
            f"the {confidence:.0%} paired-bootstrap interval over the same test "
            "images (each image's score averaged over the seeds first). "
            '"higher"/"lower": the interval excludes zero; McNemar\'s test per seed '
            "for right/wrong figures; the paired t-test over seeds with two or more "
            "seeds."
        )
    ]
    for variant, comparisons in record["comparisons"].items():
        rows = []
        for comparison in comparisons.values():
            if "interval" not in comparison:
                continue
            rows.append(
                [
                    comparison["label"],
                    difference_text(comparison),
                    comparison["verdict"],
                    p_values_text(comparison),
                ]
            )
        sparse = comparisons.get("sparse_nonzero")
        if sparse:
            seeds = sparse["across_seeds"]
            rows.append(
                [
                    sparse["label"],
                    f"{sparse['difference']:+.3f} (fraction)",
                    "sparser" if sparse["difference"] < 0 else "not sparser",
                    f"t-test over {seeds['seeds']} seeds p {seeds['p_value']:.2g}"
                    if seeds and seeds["p_value"] is not None
                    else "-",
                ]
            )
        text.append(
            f"### {labels[variant]} against {labels[reference]}\n\n"
            + claims_line(record, variant)
            + "\n\n"
            + table(["figure", "difference (points)", "verdict", "tests"], rows)
        )
    return "\n\n".join(text)


def claims_line(record, variant):
    """The paper's claims read on this pair: sparser, slight clean loss,
    noise and single-attack PGD verdicts."""
    comparisons = record["comparisons"][variant]
    clean = comparisons["clean"]
    noise = [c for c in comparisons.values() if "noise" in c.get("label", "")]
    noise_better = sum(c["verdict"] == "higher" for c in noise)
    pgd = [c for k, c in comparisons.items() if k.startswith("pgd_")]
    pgd_better = sum(c["verdict"] == "higher" for c in pgd)
    sparse = comparisons.get("sparse_nonzero")
    sparse_text = f"non-zero fraction {sparse['difference']:+.3f}; " if sparse else ""
    low, high = clean["interval"]
    slight = f"{SLIGHT * 100:.0f} points"
    if high < -SLIGHT:
        loss = f"a loss of more than {slight}: more than slight"
    elif low > -SLIGHT:
        loss = f"at most a slight loss ({slight})"
    else:
        loss = f"a loss of more than {slight} is neither shown nor excluded"
    return (
        f"{sparse_text}clean accuracy {difference_text(clean)} points ({loss}); "
        "higher under "
        f"{noise_better} of {len(noise)} noise settings and {pgd_better} of "
        f"{len(pgd)} single-attack PGD budgets."
    )


def layer_tables(record):
    names = list(record["summary"])
    labels = labels_of(record)
    header = ["conv", *[labels[n] for n in names]]
    first = record["summary"][names[0]]
    sections = []
    for title, value_of, digits in (
        (
            "Non-zero fraction of each block's activations",
            lambda s, c: s["sparsity"][c]["nonzero"],
            3,
        ),
        (
            "Mean of the top 10% of channels / mean of the rest",
            lambda s, c: s["sparsity"][c]["top_to_rest"],
            2,
        ),
        (
            (
                "SNR (dB) at each conv's input under Gaussian noise std "
                f"{record['config']['evaluation']['snr_std']}"
            ),
            lambda s, c: s["snr_db"][c],
            2,
        ),
    ):
        rows = [
            [
                conv,
                *[
                    cell(value_of(record["summary"][n], conv), digits=digits)
                    for n in names
                ],
            ]
            for conv in first["sparsity"]
        ]
        sections.append(f"{title}:\n\n" + table(header, rows))
    return "\n\n".join(sections)


def training_table(record):
    names = list(record["summary"])
    labels = labels_of(record)
    rows = []
    for key, label, digits in (
        ("train_seconds", "training time (s)", 0),
        ("final_val_accuracy", "final validation accuracy", 4),
    ):
        if all(key in record["summary"][n] for n in names):
            rows.append(
                [
                    label,
                    *[cell(record["summary"][n][key], digits=digits) for n in names],
                ]
            )
    return (
        table(["", *[labels[n] for n in names]], rows)
        if rows
        else "No training in this record."
    )


def results_markdown(record):
    """The results as a Markdown page: every variant side by side."""
    config = record["config"]
    title = (
        f"# Results: run preset `{config['name']}`, variants `{config['variant_set']}`"
        if "models" not in record
        else "# Results: saved models"
    )
    sections = [
        title,
        introduction(record),
        "## Accuracy and sparsity\n\n" + accuracy_table(record),
        "## Against the reference\n\n" + comparison_section(record)
        if record["comparisons"]
        else "",
        "## Per layer\n\nBlocks with a threshold: after it; other blocks: after "
        "their ReLU.\n\n" + layer_tables(record),
        "## Training\n\n" + training_table(record),
        "## Plots\n\n" + "\n".join(f"![{k}]({v})" for k, v in PLOTS.items()),
    ]
    return "\n\n".join(s for s in sections if s) + "\n"


def label_axis(axis, **labels):
    """Titles and labels an axis comparing networks, with grid and legend."""
    axis.set(**labels)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=7)


def save(fig, path):
    fig.tight_layout()
    write_atomically(path, lambda temporary: fig.savefig(temporary, dpi=110))
    plt.close(fig)


def plot_curves(record, path, panels, xlabel, images):
    """One panel per (title, points_of(summary) -> [(x, spread)]), a line with
    error bars per variant."""
    labels = labels_of(record)
    fig, axes = plt.subplots(
        1, len(panels), figsize=(5.5 * len(panels), 4.2), squeeze=False
    )
    for axis, (title, points_of) in zip(axes[0], panels):
        for name, summary in record["summary"].items():
            points = points_of(summary)
            errors = [error_bar(spread, images) for _, spread in points]
            axis.errorbar(
                [x for x, _ in points],
                [spread["mean"] for _, spread in points],
                yerr=list(zip(*errors)),
                fmt="o-",
                capsize=3,
                label=labels[name],
            )
        label_axis(axis, title=title, xlabel=xlabel, ylabel="accuracy")
    fig.suptitle(f"{images} test images per point, {seeds_text(record)}", fontsize=9)
    save(fig, path)


def plot_noise(record, path):
    kinds = list(record["summary"][next(iter(record["summary"]))]["noise_accuracy"])

    def points(kind):
        return lambda s: (
            [(0.0, s["clean_accuracy"])]
            + [
                (float(std), spread)
                for std, spread in s["noise_accuracy"][kind].items()
            ]
        )

    plot_curves(
        record,
        path,
        [(f"{kind} noise", points(kind)) for kind in kinds],
        "noise std",
        image_counts(record)["noise"],
    )


def plot_eps(record, path):
    first = record["summary"][next(iter(record["summary"]))]
    norms = sorted({parse_budget_key(k)[0] for k in first["adversarial_accuracy"]})

    def points(norm):
        return lambda s: (
            [(0.0, s["clean_accuracy"])]
            + sorted(
                (parse_budget_key(key)[1], spread)
                for key, spread in s["adversarial_accuracy"].items()
                if parse_budget_key(key)[0] == norm
            )
        )

    plot_curves(
        record,
        path,
        [
            (
                f"PGD-{record['config']['evaluation']['attack_steps']}, {norm}",
                points(norm),
            )
            for norm in norms
        ],
        "eps",
        image_counts(record)["attack"],
    )


def plot_layers(record, path):
    labels = labels_of(record)
    convs = list(record["summary"][next(iter(record["summary"]))]["sparsity"])
    panels = (
        ("non-zero fraction", lambda s, c: s["sparsity"][c]["nonzero"]),
        ("top-10% mean / rest mean", lambda s, c: s["sparsity"][c]["top_to_rest"]),
        ("SNR at conv input (dB)", lambda s, c: s["snr_db"][c]),
    )
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.2))
    for axis, (title, value) in zip(axes, panels):
        for name, summary in record["summary"].items():
            spreads = [value(summary, c) for c in convs]
            axis.errorbar(
                range(1, len(convs) + 1),
                [s["mean"] for s in spreads],
                yerr=[s["sd"] or 0.0 for s in spreads],
                fmt="o-",
                capsize=3,
                label=labels[name],
            )
        label_axis(axis, title=title, xlabel="conv layer")
    axes[1].set_yscale("log")
    fig.suptitle(
        f"{image_counts(record)['probe']} test images, {seeds_text(record)} "
        "(error bars: sd over seeds)",
        fontsize=9,
    )
    save(fig, path)


def plot_histograms(record, path):
    labels = labels_of(record)
    histograms = {
        name: next(iter(by_seed.values())).get("histogram")
        for name, by_seed in record["variants"].items()
    }
    histograms = {n: h for n, h in histograms.items() if h}
    if not histograms:
        return
    columns = min(3, len(histograms))
    rows = -(-len(histograms) // columns)
    fig, axes = plt.subplots(
        rows, columns, figsize=(5 * columns, 3.6 * rows), squeeze=False
    )
    for axis in axes.flat[len(histograms) :]:
        axis.axis("off")
    for axis, (name, hist) in zip(axes.flat, histograms.items()):
        axis.stairs(hist["counts"], hist["edges"], fill=True)
        axis.set_yscale("log")
        axis.set(
            title=f"{labels[name]} {hist['conv']}: {hist['zero_fraction']:.0%} zeros",
            xlabel="activation value (non-zero)",
            ylabel="count",
        )
    fig.suptitle(f"first seed, {image_counts(record)['probe']} test images", fontsize=9)
    save(fig, path)


def plot_differences(record, path):
    """Each variant minus the reference, with its paired interval, for the
    clean accuracy, the strongest noise of each kind and every PGD budget."""
    if not record["comparisons"]:
        return
    labels = labels_of(record)
    first = next(iter(record["comparisons"].values()))
    strongest = {}
    for key in first:
        if key != "clean" and not key.startswith("pgd_") and "interval" in first[key]:
            strongest[key.split("_")[0]] = key
    keys = ["clean", *strongest.values(), *[k for k in first if k.startswith("pgd_")]]
    variants = list(record["comparisons"])
    columns = min(3, len(keys))
    rows = -(-len(keys) // columns)
    fig, axes = plt.subplots(
        rows,
        columns,
        figsize=(4.6 * columns, rows * (0.35 * len(variants) + 1.6)),
        squeeze=False,
    )
    for axis in axes.flat[len(keys) :]:
        axis.axis("off")
    for axis, key in zip(axes.flat, keys):
        comparisons = [record["comparisons"][v][key] for v in variants]
        points = [100 * c["difference"] for c in comparisons]
        errors = [
            [100 * (c["difference"] - c["interval"][0]) for c in comparisons],
            [100 * (c["interval"][1] - c["difference"]) for c in comparisons],
        ]
        axis.errorbar(points, range(len(variants)), xerr=errors, fmt="o", capsize=3)
        axis.axvline(0, color="grey", lw=1)
        axis.set_yticks(range(len(variants)), [labels[v] for v in variants], fontsize=8)
        axis.invert_yaxis()
        axis.set(title=first[key]["label"], xlabel="difference (points)")
        axis.grid(alpha=0.3)
    fig.suptitle(
        f"minus {labels[record['reference']]}, "
        f"{record['config']['evaluation']['confidence']:.0%} paired-bootstrap "
        f"intervals over the test images, {seeds_text(record)}",
        fontsize=9,
    )
    save(fig, path)


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
    labels = labels_of(record)
    reference = record["reference"]
    first_seed = next(iter(record["by_seed"].values()))
    images = first_seed[next(iter(first_seed))][budget]["examples"]
    rows = []
    for name, by_budget in record["summary"].items():
        comparison = record["comparisons"].get(name, {}).get(budget)
        rows.append(
            [
                labels[name],
                cell(by_budget[budget], images),
                difference_text(comparison) if comparison else "(reference)",
                comparison["verdict"] if comparison else "",
                p_values_text(comparison) if comparison else "",
            ]
        )
    return images, table(
        [
            "",
            "robust accuracy (worst case)",
            f"minus {labels[reference]} (points)",
            "verdict",
            "tests",
        ],
        rows,
    )


def per_attack_table(models, budget, labels):
    names = list(models)
    results = {n: models[n][budget] for n in names}
    rows = [
        ["clean", *[f"{results[n]['clean']:.4f}" for n in names]],
        ["**worst case**", *[f"**{results[n]['worst_case']:.4f}**" for n in names]],
    ]
    if all("autoattack" in results[n] for n in names):
        for attack, shown in AUTOATTACK_ATTACKS.items():
            rows.append(
                [
                    f"AutoAttack: after {shown}",
                    *[
                        f"{results[n]['autoattack']['running'][attack]:.4f}"
                        for n in names
                    ],
                ]
            )
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


REDUCED_WARNING = (
    "**AutoAttack ran at REDUCED strength (tests only): these figures are not "
    "robust accuracy.**"
)


def robustness_markdown(record):
    """The robustness record as Markdown: the worst case per variant with its
    spread and paired comparison, then each attack and check per seed."""
    labels = labels_of(record)
    seeds = list(record["by_seed"])
    lines = [
        "# Robust accuracy: per-example worst case over the attack set",
        *([REDUCED_WARNING] if record["attacks"].get("strength") == "reduced" else []),
        (
            f"Data: {record['data_source']}; {len(seeds)} seed(s) of each network; "
            f"{record['seconds'] / 60:.1f} minutes. Attacks: "
            f"{describe_attacks(record['attacks'])}; each network's transfer attack "
            "comes from the reference network of the same seed (the reference's from "
            "the second). The robust accuracy is the fraction of test images that "
            "every attack fails on (clean-correct included), as AutoAttack reports "
            "its ensemble. A check that FAILs means the figure may be inflated by "
            "masked gradients or an unconverged attack. Differences: 95% "
            "paired-bootstrap intervals over the same images; one seed: brackets are "
            "the 95% Wilson interval over the images."
        ),
    ]
    budgets = list(next(iter(record["summary"].values())))
    for budget in budgets:
        images, summary = robust_summary_table(record, budget)
        lines.append(f"## {budget_label(budget)} ({images} test images)\n\n{summary}")
        for seed in seeds:
            lines.append(
                f"### Each attack, seed {seed}\n\n"
                + per_attack_table(record["by_seed"][seed], budget, labels)
            )
    return "\n\n".join(lines) + "\n"


def corruptions_markdown(record):
    """The corruption record as Markdown: accuracy per corruption (mean over
    severities) and per severity (mean over corruptions), mean corruption
    accuracy and mCE per network, and the paired comparison."""
    labels = labels_of(record)
    names = list(record["summary"])
    images = record["test_images"]
    reference = record["reference"]
    seeds = list(record["by_seed"])
    spread_text = (
        "the summary rows are mean ± sd over the seeds, the per-corruption and "
        "per-severity cells means over the seeds"
        if len(seeds) > 1
        else "one seed, so the cells are point values, except the clean accuracy "
        "(95% Wilson interval over the images); the uncertainty of each "
        "difference from the reference is the paired interval at the end"
    )

    def mean_of(by_key):
        return {
            "mean": float(sum(v["mean"] for v in by_key.values()) / len(by_key)),
            "sd": None,
        }

    first = record["summary"][names[0]]
    rows = [
        [
            "**mean corruption accuracy**",
            *[f"**{cell(record['summary'][n]['mean_accuracy'])}**" for n in names],
        ],
        [
            f"mCE (% of {labels[reference]}'s errors)",
            *[cell(record["summary"][n]["mce"], digits=1) for n in names],
        ],
    ]
    if "relative_mce" in first:
        rows += [
            [
                "clean accuracy, same images",
                *[cell(record["summary"][n]["clean_accuracy"], images) for n in names],
            ],
            [
                f"relative mCE (% of {labels[reference]}'s added errors)",
                *[cell(record["summary"][n]["relative_mce"], digits=1) for n in names],
            ],
        ]
    for corruption in first["accuracy"]:
        rows.append(
            [
                corruption.replace("_", " "),
                *[
                    cell(mean_of(record["summary"][n]["accuracy"][corruption]))
                    for n in names
                ],
            ]
        )
    severity_rows = [
        [
            f"severity {severity}",
            *[
                cell(
                    {
                        "mean": float(
                            np.mean(
                                [
                                    by[severity]["mean"]
                                    for by in record["summary"][n]["accuracy"].values()
                                ]
                            )
                        ),
                        "sd": None,
                    }
                )
                for n in names
            ],
        ]
        for severity in next(iter(first["accuracy"].values()))
    ]
    comparison_rows = [
        [
            labels[n],
            difference_text(record["comparisons"][n]),
            record["comparisons"][n]["verdict"],
            p_values_text(record["comparisons"][n]),
        ]
        for n in names
        if n != reference
    ]
    header = ["", *[labels[n] for n in names]]
    return (
        "\n\n".join(
            [
                "# Common corruptions",
                (
                    f"Data: {record['data_source']}; {images} test images under each of "
                    f"{len(first['accuracy'])} corruptions at "
                    f"{len(next(iter(first['accuracy'].values())))} severities; {spread_text}; "
                    f"{record['seconds'] / 60:.1f} minutes. mCE: each corruption's errors "
                    "summed over severities as a percentage of the reference network's "
                    "(same seed), averaged over corruptions (100: as the reference; lower "
                    "is better). Relative mCE: the same of the errors each corruption "
                    "adds to the network's clean errors on the same images (low: it "
                    "degrades less than the reference, whatever its clean accuracy)."
                ),
                "## Accuracy per corruption (mean over severities)",
                table(header, rows),
                "## Accuracy per severity (mean over corruptions)",
                table(header, severity_rows),
                f"## Against {labels[reference]}, image by image",
                (
                    "Per image: the fraction of its corrupted copies classified right; "
                    "the difference of its mean with its 95% paired-bootstrap interval."
                ),
                table(
                    ["", f"minus {labels[reference]} (points)", "verdict", "tests"],
                    comparison_rows,
                ),
            ]
        )
        + "\n"
    )


def plot_corruptions(record, path):
    """One heat map per network: accuracy by corruption and severity (mean over seeds)."""
    labels = labels_of(record)
    names = list(record["summary"])
    first = record["summary"][names[0]]["accuracy"]
    corruptions, severities = list(first), list(next(iter(first.values())))
    fig, axes = plt.subplots(
        1,
        len(names),
        figsize=(2.2 + 2.0 * len(names), 0.32 * len(corruptions) + 1.6),
        squeeze=False,
        sharey=True,
    )
    for axis, name in zip(axes[0], names):
        grid = np.array(
            [
                [record["summary"][name]["accuracy"][c][s]["mean"] for s in severities]
                for c in corruptions
            ]
        )
        image = axis.imshow(grid, vmin=0, vmax=1, cmap="viridis", aspect="auto")
        for (row, column), value in np.ndenumerate(grid):
            axis.text(
                column,
                row,
                f"{value:.2f}",
                ha="center",
                va="center",
                fontsize=6,
                color="white" if value < 0.5 else "black",
            )
        axis.set_xticks(range(len(severities)), severities)
        axis.set_yticks(
            range(len(corruptions)), [c.replace("_", " ") for c in corruptions]
        )
        axis.set_xlabel("severity")
        axis.set_title(textwrap.fill(labels[name], 16), fontsize=8)
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8, label="accuracy")
    fig.suptitle(
        f"{record['test_images']} test images per cell, {len(record['by_seed'])} seed(s)",
        fontsize=9,
    )
    write_atomically(path, lambda temporary: fig.savefig(temporary, dpi=110))
    plt.close(fig)


def write_report(record, output):
    """Writes results.md and the plots into `output`, and robustness.md
    from robustness.json when that exists."""
    output = pathlib.Path(output)
    robustness = output / "robustness.json"
    if robustness.is_file():
        write_text(
            output / "robustness.md",
            robustness_markdown(json.loads(robustness.read_text())),
        )
    corruptions = output / "corruptions.json"
    if corruptions.is_file():
        corruption_record = json.loads(corruptions.read_text())
        write_text(output / "corruptions.md", corruptions_markdown(corruption_record))
        plot_corruptions(corruption_record, output / CORRUPTION_PLOT)
    write_text(output / "results.md", results_markdown(record))
    plot_noise(record, output / PLOTS["noise"])
    plot_eps(record, output / PLOTS["eps"])
    plot_layers(record, output / PLOTS["layers"])
    plot_histograms(record, output / PLOTS["histogram"])
    plot_differences(record, output / PLOTS["comparison"])
