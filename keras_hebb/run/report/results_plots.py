"""The plots of a `ResultsRecord`: accuracy against noise and against eps,
sparsity and SNR per layer, activation histograms, and each variant's
differences from the reference."""

import matplotlib.pyplot as plt

from keras_hebb.robustness.budgets import Budget
from keras_hebb.run.records import MetricKey
from keras_hebb.run.report.plots import error_bar, label_axis, save
from keras_hebb.run.report.tables import seeds_text

PLOTS = {
    "noise": "accuracy_vs_noise.png",
    "eps": "accuracy_vs_eps.png",
    "layers": "sparsity_snr_per_layer.png",
    "histogram": "activation_histograms.png",
    "comparison": "differences_from_reference.png",
}


def plot_curves(record, path, panels, xlabel, images):
    """One panel per (title, points_of(summary) -> [(x, spread)]), a line with
    error bars per variant."""
    labels = record.labels()
    fig, axes = plt.subplots(
        1, len(panels), figsize=(5.5 * len(panels), 4.2), squeeze=False
    )
    for axis, (title, points_of) in zip(axes[0], panels):
        for name, summary in record.summary.items():
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
    fig.suptitle(
        f"{images} test images per point, {seeds_text(record.seeds)}", fontsize=9
    )
    save(fig, path)


def plot_noise(record, path):
    kinds = list(record.summary[record.names[0]]["noise_accuracy"])

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
        record.image_counts()["noise"],
    )


def plot_eps(record, path):
    budgets = [
        Budget.parse(k) for k in record.summary[record.names[0]]["adversarial_accuracy"]
    ]
    norms = sorted({budget.norm for budget in budgets})

    def points(norm):
        return lambda s: (
            [(0.0, s["clean_accuracy"])]
            + sorted(
                (budget.eps, s["adversarial_accuracy"][budget.key])
                for budget in budgets
                if budget.norm == norm
            )
        )

    plot_curves(
        record,
        path,
        [
            (f"PGD-{record.evaluation['attack_steps']}, {norm}", points(norm))
            for norm in norms
        ],
        "eps",
        record.image_counts()["attack"],
    )


def plot_layers(record, path):
    labels = record.labels()
    convs = list(record.summary[record.names[0]]["sparsity"])
    panels = (
        ("non-zero fraction", lambda s, c: s["sparsity"][c]["nonzero"]),
        ("top-10% mean / rest mean", lambda s, c: s["sparsity"][c]["top_to_rest"]),
        ("SNR at conv input (dB)", lambda s, c: s["snr_db"][c]),
    )
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.2))
    for axis, (title, value) in zip(axes, panels):
        for name, summary in record.summary.items():
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
        f"{record.image_counts()['probe']} test images, {seeds_text(record.seeds)} "
        "(error bars: sd over seeds)",
        fontsize=9,
    )
    save(fig, path)


def plot_histograms(record, path):
    labels = record.labels()
    histograms = {
        name: next(iter(by_seed.values())).get("histogram")
        for name, by_seed in record.variants.items()
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
    fig.suptitle(
        f"first seed, {record.image_counts()['probe']} test images", fontsize=9
    )
    save(fig, path)


def difference_keys(comparisons):
    """The comparison keys a difference plot shows: clean, the strongest
    noise of each kind, every PGD budget."""
    keys = [MetricKey.parse(k) for k in comparisons if k != "sparse_nonzero"]
    strongest = {}
    for key in keys:
        if key.is_noise and "interval" in comparisons[str(key)]:
            strongest[key.kind] = key
    return [
        "clean",
        *[str(key) for key in strongest.values()],
        *[str(key) for key in keys if key.kind == "pgd"],
    ]


def plot_differences(record, path):
    """Each variant minus the reference, with its paired interval, for the
    clean accuracy, the strongest noise of each kind and every PGD budget."""
    if not record.comparisons:
        return
    labels = record.labels()
    first = next(iter(record.comparisons.values()))
    keys = difference_keys(first)
    variants = list(record.comparisons)
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
        comparisons = [record.comparisons[v][key] for v in variants]
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
        f"minus {labels[record.reference]}, "
        f"{record.evaluation['confidence']:.0%} paired-bootstrap "
        f"intervals over the test images, {seeds_text(record.seeds)}",
        fontsize=9,
    )
    save(fig, path)


def write_results_plots(record, run):
    """Every plot of `record` into the `RunFolder` `run`."""
    plot_noise(record, run.file(PLOTS["noise"]))
    plot_eps(record, run.file(PLOTS["eps"]))
    plot_layers(record, run.file(PLOTS["layers"]))
    plot_histograms(record, run.file(PLOTS["histogram"]))
    plot_differences(record, run.file(PLOTS["comparison"]))
