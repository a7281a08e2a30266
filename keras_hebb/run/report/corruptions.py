"""corruptions.md and corruption_accuracy.png of a `CorruptionsRecord`:
accuracy per corruption (mean over severities) and per severity (mean over
corruptions), mean corruption accuracy and mCE per network, the paired
comparison, and a heat map per network."""

import textwrap

import matplotlib.pyplot as plt
import numpy as np

from keras_hebb.run.report.plots import save
from keras_hebb.run.report.tables import cell, difference_text, p_values_text, table

CORRUPTION_PLOT = "corruption_accuracy.png"


def point(mean):
    """A value without a spread, as `cell` takes it."""
    return {"mean": float(mean), "sd": None}


def spread_text(record):
    if len(record.seeds) > 1:
        return (
            "the summary rows are mean ± sd over the seeds, the per-corruption and "
            "per-severity cells means over the seeds"
        )
    return (
        "one seed, so the cells are point values, except the clean accuracy "
        "(95% Wilson interval over the images); the uncertainty of each "
        "difference from the reference is the paired interval at the end"
    )


def summary_rows(record):
    """Mean corruption accuracy, mCE and, where the clean images are known,
    their clean accuracy and the relative mCE."""
    names, summary = record.names, record.summary
    reference = record.labels()[record.reference]
    rows = [
        [
            "**mean corruption accuracy**",
            *[f"**{cell(summary[n]['mean_accuracy'])}**" for n in names],
        ],
        [
            f"mCE (% of {reference}'s errors)",
            *[cell(summary[n]["mce"], digits=1) for n in names],
        ],
    ]
    if record.relative:
        rows += [
            [
                "clean accuracy, same images",
                *[
                    cell(summary[n]["clean_accuracy"], record.test_images)
                    for n in names
                ],
            ],
            [
                f"relative mCE (% of {reference}'s added errors)",
                *[cell(summary[n]["relative_mce"], digits=1) for n in names],
            ],
        ]
    return rows


def corruption_rows(record):
    """Each corruption's accuracy, the mean over its severities."""
    return [
        [
            corruption.replace("_", " "),
            *[
                cell(
                    point(
                        sum(v["mean"] for v in by_severity.values()) / len(by_severity)
                    )
                )
                for by_severity in (
                    record.summary[n]["accuracy"][corruption] for n in record.names
                )
            ],
        ]
        for corruption in record.corruptions()
    ]


def severity_rows(record):
    """Each severity's accuracy, the mean over the corruptions."""
    return [
        [
            f"severity {severity}",
            *[
                cell(
                    point(
                        np.mean(
                            [
                                by[severity]["mean"]
                                for by in record.summary[n]["accuracy"].values()
                            ]
                        )
                    )
                )
                for n in record.names
            ],
        ]
        for severity in record.severities()
    ]


def corruptions_markdown(record):
    """The `CorruptionsRecord` as Markdown."""
    labels, reference = record.labels(), record.reference
    comparison_rows = [
        [
            labels[n],
            difference_text(record.comparisons[n]),
            record.comparisons[n]["verdict"],
            p_values_text(record.comparisons[n]),
        ]
        for n in record.names
        if n != reference
    ]
    header = ["", *[labels[n] for n in record.names]]
    return (
        "\n\n".join(
            [
                "# Common corruptions",
                (
                    f"Data: {record.data_source}; {record.test_images} test images "
                    f"under each of {len(record.corruptions())} corruptions at "
                    f"{len(record.severities())} severities; {spread_text(record)}; "
                    f"{record.seconds / 60:.1f} minutes. mCE: each corruption's errors "
                    "summed over severities as a percentage of the reference network's "
                    "(same seed), averaged over corruptions (100: as the reference; lower "
                    "is better). Relative mCE: the same of the errors each corruption "
                    "adds to the network's clean errors on the same images (low: it "
                    "degrades less than the reference, whatever its clean accuracy)."
                ),
                "## Accuracy per corruption (mean over severities)",
                table(header, summary_rows(record) + corruption_rows(record)),
                "## Accuracy per severity (mean over corruptions)",
                table(header, severity_rows(record)),
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
    labels, names = record.labels(), record.names
    corruptions, severities = record.corruptions(), record.severities()
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
                [record.summary[name]["accuracy"][c][s]["mean"] for s in severities]
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
        f"{record.test_images} test images per cell, {len(record.seeds)} seed(s)",
        fontsize=9,
    )
    save(fig, path, tight=False)
