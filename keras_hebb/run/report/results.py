"""results.md: every network of a `ResultsRecord` side by side.

Every variant is a column; every cell is a mean over seeds with its spread
(`keras_hebb.run.report.tables.cell`). Comparisons with the reference
variant are the paired statistics of `keras_hebb.run.comparison`.
"""

from keras_hebb.run.records import figure_of
from keras_hebb.run.report.results_plots import PLOTS
from keras_hebb.run.report.tables import (
    cell,
    difference_text,
    p_values_text,
    seeds_text,
    table,
)

# A clean-accuracy drop of at most this much counts as "slight" (the paper's
# "only a slight accuracy loss", claim (a)).
SLIGHT = 0.02


def spread_note(record):
    if len(record.seeds) > 1:
        return "Cells: mean ± sample sd over the seeds."
    return (
        "Cells: one seed, so the spread over seeds is unknown; brackets give the "
        "95% Wilson interval over the test images."
    )


def introduction(record):
    config, evaluation = record.config, record.evaluation
    counts = record.image_counts()
    training = config["training"]
    network = ", ".join(
        f"{k}={v}" for k, v in config["network_args"].items() if v is not None
    )
    source = (
        f"saved models {', '.join(record.models.values())}"
        if record.models is not None
        else f"{training['epochs']} epochs, batch {training['batch_size']}, "
        f"{training['optimizer']} at {training['learning_rate']:g} ({training['schedule']} "
        f"schedule), {seeds_text(record.seeds)}; network arguments {network}"
    )
    commit = record.provenance["git_commit"] or "unknown commit"
    return (
        f"Data: {record.data_source}. {source}. Clean accuracy on "
        f"{counts['clean']} test images, noise on the first {counts['noise']} "
        f"(clipped to [0, 1], mean of {evaluation['noise_draws']} draws), "
        f"PGD on the first {counts['attack']} (CleverHans, "
        f"{evaluation['attack_steps']} steps, random start), per-layer "
        f"figures on the first {counts['probe']}. Code: {commit[:12]}"
        f"{' with local changes' if record.provenance['git_dirty'] else ''}. "
        f"{spread_note(record)} PGD figures are single-attack upper bounds on "
        "robust accuracy (hard thresholds can hide gradients); the robust accuracy "
        "is the worst case over the attack set in robustness.md."
    )


def accuracy_table(record):
    names, labels = record.names, record.labels()
    steps = record.evaluation["attack_steps"]
    rows = [
        [
            key.label(steps),
            *[
                cell(figure_of(record.summary[n], key), record.images_of(key))
                for n in names
            ],
        ]
        for key in record.metric_keys()
    ]
    if record.sparse_blocks:
        rows.append(
            [
                f"non-zero fraction, sparse blocks ({', '.join(record.sparse_blocks)})",
                *[cell(record.summary[n]["sparse_nonzero"], digits=3) for n in names],
            ]
        )
    return table(["", *[labels[n] for n in names]], rows)


def sparse_row(sparse):
    """The comparison row of the non-zero fraction over the sparse blocks."""
    seeds = sparse["across_seeds"]
    return [
        sparse["label"],
        f"{sparse['difference']:+.3f} (fraction)",
        "sparser" if sparse["difference"] < 0 else "not sparser",
        f"t-test over {seeds['seeds']} seeds p {seeds['p_value']:.2g}"
        if seeds and seeds["p_value"] is not None
        else "-",
    ]


def comparison_section(record):
    """Each variant against the reference: differences in points with their
    95% paired-bootstrap intervals over the images, and the verdicts."""
    labels, reference = record.labels(), record.reference
    text = [
        (
            f"Each variant minus **{labels[reference]}**, in accuracy points, with "
            f"the {record.evaluation['confidence']:.0%} paired-bootstrap interval "
            "over the same test "
            "images (each image's score averaged over the seeds first). "
            '"higher"/"lower": the interval excludes zero; McNemar\'s test per seed '
            "for right/wrong figures; the paired t-test over seeds with two or more "
            "seeds."
        )
    ]
    for variant, comparisons in record.comparisons.items():
        rows = [
            [
                comparison["label"],
                difference_text(comparison),
                comparison["verdict"],
                p_values_text(comparison),
            ]
            for comparison in comparisons.values()
            if "interval" in comparison
        ]
        if comparisons.get("sparse_nonzero"):
            rows.append(sparse_row(comparisons["sparse_nonzero"]))
        text.append(
            f"### {labels[variant]} against {labels[reference]}\n\n"
            + claims_line(record, variant)
            + "\n\n"
            + table(["figure", "difference (points)", "verdict", "tests"], rows)
        )
    return "\n\n".join(text)


def clean_loss_text(interval):
    """What a clean-accuracy difference interval says of the paper's "slight
    loss"."""
    low, high = interval
    slight = f"{SLIGHT * 100:.0f} points"
    if high < -SLIGHT:
        return f"a loss of more than {slight}: more than slight"
    if low > -SLIGHT:
        return f"at most a slight loss ({slight})"
    return f"a loss of more than {slight} is neither shown nor excluded"


def claims_line(record, variant):
    """The paper's claims read on this pair: sparser, slight clean loss,
    noise and single-attack PGD verdicts."""
    comparisons = record.comparisons[variant]
    clean = comparisons["clean"]
    noise = [c for c in comparisons.values() if "noise" in c.get("label", "")]
    noise_better = sum(c["verdict"] == "higher" for c in noise)
    pgd = [c for k, c in comparisons.items() if k.startswith("pgd_")]
    pgd_better = sum(c["verdict"] == "higher" for c in pgd)
    sparse = comparisons.get("sparse_nonzero")
    sparse_text = f"non-zero fraction {sparse['difference']:+.3f}; " if sparse else ""
    return (
        f"{sparse_text}clean accuracy {difference_text(clean)} points "
        f"({clean_loss_text(clean['interval'])}); higher under "
        f"{noise_better} of {len(noise)} noise settings and {pgd_better} of "
        f"{len(pgd)} single-attack PGD budgets."
    )


def layer_tables(record):
    names, labels = record.names, record.labels()
    header = ["conv", *[labels[n] for n in names]]
    convs = list(record.summary[names[0]]["sparsity"])
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
                f"{record.evaluation['snr_std']}"
            ),
            lambda s, c: s["snr_db"][c],
            2,
        ),
    ):
        rows = [
            [
                conv,
                *[
                    cell(value_of(record.summary[n], conv), digits=digits)
                    for n in names
                ],
            ]
            for conv in convs
        ]
        sections.append(f"{title}:\n\n" + table(header, rows))
    return "\n\n".join(sections)


def training_table(record):
    names, labels = record.names, record.labels()
    rows = [
        [label, *[cell(record.summary[n][key], digits=digits) for n in names]]
        for key, label, digits in (
            ("train_seconds", "training time (s)", 0),
            ("final_val_accuracy", "final validation accuracy", 4),
        )
        if all(key in record.summary[n] for n in names)
    ]
    return (
        table(["", *[labels[n] for n in names]], rows)
        if rows
        else "No training in this record."
    )


def results_markdown(record):
    """The `ResultsRecord` as a Markdown page: every variant side by side."""
    config = record.config
    title = (
        f"# Results: run preset `{config['name']}`, variants `{config['variant_set']}`"
        if record.models is None
        else "# Results: saved models"
    )
    sections = [
        title,
        introduction(record),
        "## Accuracy and sparsity\n\n" + accuracy_table(record),
        "## Against the reference\n\n" + comparison_section(record)
        if record.comparisons
        else "",
        "## Per layer\n\nBlocks with a threshold: after it; other blocks: after "
        "their ReLU.\n\n" + layer_tables(record),
        "## Training\n\n" + training_table(record),
        "## Plots\n\n" + "\n".join(f"![{k}]({v})" for k, v in PLOTS.items()),
    ]
    return "\n\n".join(s for s in sections if s) + "\n"
