"""results.md and plots of a baseline-against-HaH results record."""

import json
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from keras_hebb.files import write_atomically, write_text  # noqa: E402

NAMES = ("baseline_vgg", "hah_vgg")
# A clean-accuracy drop of at most this much counts as "slight" (method.md 5a).
SLIGHT = 0.02
LABELS = {"baseline_vgg": "baseline", "hah_vgg": "HaH"}
PLOTS = {
    "noise": "accuracy_vs_noise.png",
    "eps": "accuracy_vs_eps.png",
    "layers": "sparsity_snr_per_layer.png",
    "histogram": "activation_histograms.png",
}


def budget_label(key):
    """'linf_0.00784314' -> 'L_inf 2/255'; 'l2_0.25' -> 'L2 0.25'."""
    norm, eps = key.split("_")
    if norm == "linf":
        return f"L_inf {round(float(eps) * 255):d}/255"
    return f"L2 {float(eps):g}"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def side_by_side(networks, label, value_of, fmt="{:.4f}"):
    return [label] + [fmt.format(value_of(networks[name])) for name in NAMES]


def introduction(record):
    preset = record["preset"]
    noise_images = preset["noise_examples"] or record["test_images"]
    return (
        f"Data: {record['data_source']}; clean accuracy on {record['test_images']} "
        f"test images, noise on the first {noise_images}, PGD on the first "
        f"{preset['attack_examples']}. VGG{preset['depth']}, "
        f"width {preset['width']:g}, {preset['epochs']} epochs, "
        f"batch {preset['batch_size']}, seed {record['seed']}. "
        f"Noise: clipped to [0, 1], mean of {preset['noise_draws']} draws. PGD: "
        f"CleverHans, {preset['attack_steps']} steps, random start, step 2.5 eps / "
        "steps. The PGD figures are single-attack figures, not a worst case over an "
        "attack set: hard thresholds can hide gradients (method.md section 6), so they "
        "are upper bounds on robust accuracy, weakest for the HaH network. The robust "
        "accuracy (per-example worst case over APGD-CE, APGD-T, PGD with restarts, "
        "BPDA-PGD, SPSA and transfer) is in robustness.md, made by "
        "`keras-hebb robustness` on the same output folder."
    )


def claims(record):
    """The paper's three claims (method.md section 5), checked on these numbers."""
    base, hah = (record["networks"][name] for name in NAMES)
    hah_blocks = [c for c, s in hah["sparsity"].items() if s["nonzero"] <= 0.25]

    def mean_nonzero(net):
        return sum(net["sparsity"][c]["nonzero"] for c in hah_blocks) / len(hah_blocks)

    gap = hah["clean_accuracy"] - base["clean_accuracy"]
    sparser = mean_nonzero(hah) < mean_nonzero(base)
    lines = [
        f"(a) Sparser activations: {'holds' if sparser else 'does not hold'}; over "
        f"the thresholded blocks ({', '.join(hah_blocks)}) HaH keeps "
        f"{mean_nonzero(hah):.3f} of activations non-zero against "
        f"{mean_nonzero(base):.3f}. Only a slight clean-accuracy loss: "
        f"{'holds' if gap > -SLIGHT else 'does not hold'} at this size, "
        f"{hah['clean_accuracy']:.4f} against {base['clean_accuracy']:.4f} "
        f"({gap * 100:+.1f} points).",
    ]
    for std in ("0.1", "0.2"):
        accs = [net["noise_accuracy"]["gaussian"].get(std) for net in (base, hah)]
        if None in accs:
            continue
        kept = [a / net["clean_accuracy"] for a, net in zip(accs, (base, hah))]
        images = record["preset"]["noise_examples"] or record["test_images"]
        error = (sum(a * (1 - a) for a in accs) / images) ** 0.5
        lines.append(
            f"(b) Gaussian noise std {std}: HaH {accs[1]:.4f} against {accs[0]:.4f} "
            f"({(accs[1] - accs[0]) * 100:+.1f} points, standard error of the "
            f"difference {error * 100:.1f} over {images} images; "
            f"{(accs[1] > accs[0]) and 'holds' or 'does not hold'} in absolute "
            f"accuracy). Relative to clean accuracy HaH keeps {kept[1]:.0%}, the "
            f"baseline {kept[0]:.0%}."
        )
    attacks = base["adversarial_accuracy"]
    better = sum(hah["adversarial_accuracy"][k] > attacks[k] for k in attacks)
    lines.append(
        f"(c) Single-attack PGD: HaH is more accurate than the baseline under {better} "
        f"of {len(attacks)} budgets. This is not the robustness verdict: see "
        "robustness.md for the worst case over the attack set and the "
        "gradient-masking checks."
    )
    return "\n".join(f"- {line}" for line in lines)


def accuracy_rows(record):
    nets = record["networks"]
    base = nets["baseline_vgg"]
    steps = record["preset"]["attack_steps"]
    rows = [side_by_side(nets, "clean accuracy", lambda n: n["clean_accuracy"])]
    for kind in ("gaussian", "uniform"):
        for std in base["noise_accuracy"][kind]:
            rows.append(
                side_by_side(
                    nets,
                    f"{kind} noise std {std}",
                    lambda n, k=kind, s=std: n["noise_accuracy"][k][s],
                )
            )
    for key in base["adversarial_accuracy"]:
        rows.append(
            side_by_side(
                nets,
                f"PGD-{steps} {budget_label(key)}",
                lambda n, k=key: n["adversarial_accuracy"][k],
            )
        )
    return rows


def layer_rows(record):
    nets = record["networks"]
    rows = []
    for conv in nets["baseline_vgg"]["sparsity"]:
        stats = [nets[name]["sparsity"][conv] for name in NAMES]
        rows.append(
            [conv]
            + [f"{s['nonzero']:.3f}" for s in stats]
            + [f"{s['top_to_rest']:.2f}" for s in stats]
            + [f"{nets[name]['snr_db'][conv]:.2f}" for name in NAMES]
        )
    return rows


def training_rows(record):
    nets = record["networks"]

    def seconds(net):
        return float("nan") if net["train_seconds"] is None else net["train_seconds"]

    def last(net, key):
        return net["history"].get(key, [float("nan")])[-1]

    return [
        side_by_side(nets, "training time (s)", seconds, "{:.0f}"),
        side_by_side(nets, "final train accuracy", lambda n: last(n, "accuracy")),
        side_by_side(
            nets, "final validation accuracy", lambda n: last(n, "val_accuracy")
        ),
    ]


def results_markdown(record):
    """The results as a Markdown page: baseline and HaH side by side."""
    snr_std = record["preset"]["snr_std"]
    sections = [
        f"# Baseline against HaH: preset `{record['preset']['name']}`",
        introduction(record),
        "## The paper's claims on these numbers\n\n" + claims(record),
        "## Accuracy\n\n" + table(["", "baseline", "HaH"], accuracy_rows(record)),
        "## Per layer\n\nFraction of non-zero activations of each conv block (HaH "
        "blocks: after the threshold; other blocks: after ReLU), ratio of the mean of "
        "the top 10% of channels to the mean of the rest, and SNR (dB) at the conv's "
        f"input under Gaussian noise of std {snr_std}.\n\n"
        + table(
            [
                "conv",
                "non-zero baseline",
                "non-zero HaH",
                "top/rest baseline",
                "top/rest HaH",
                "SNR baseline",
                "SNR HaH",
            ],
            layer_rows(record),
        ),
        "## Training\n\n" + table(["", "baseline", "HaH"], training_rows(record)),
        "## Plots\n\n" + "\n".join(f"![{k}]({v})" for k, v in PLOTS.items()),
    ]
    return "\n\n".join(sections) + "\n"


def label_axis(axis, **labels):
    """Titles and labels an axis comparing the two networks, with grid and legend."""
    axis.set(**labels)
    axis.grid(alpha=0.3)
    axis.legend()


def save(fig, path):
    fig.tight_layout()
    write_atomically(path, lambda temporary: fig.savefig(temporary, dpi=110))
    plt.close(fig)


def plot_noise(record, path):
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for axis, kind in zip(axes, ("gaussian", "uniform")):
        for name in NAMES:
            net = record["networks"][name]
            stds = [0.0] + [float(s) for s in net["noise_accuracy"][kind]]
            accs = [net["clean_accuracy"]] + list(net["noise_accuracy"][kind].values())
            axis.plot(stds, accs, "o-", label=LABELS[name])
        label_axis(axis, title=f"{kind} noise", xlabel="noise std", ylabel="accuracy")
    save(fig, path)


def plot_eps(record, path):
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for axis, norm in zip(axes, ("linf", "l2")):
        for name in NAMES:
            net = record["networks"][name]
            points = sorted(
                (float(key.split("_")[1]), acc)
                for key, acc in net["adversarial_accuracy"].items()
                if key.startswith(norm + "_")
            )
            axis.plot(
                [0.0] + [p[0] for p in points],
                [net["clean_accuracy"]] + [p[1] for p in points],
                "o-",
                label=LABELS[name],
            )
        label_axis(axis, title=f"PGD, {norm}", xlabel="eps", ylabel="accuracy")
    save(fig, path)


def plot_layers(record, path):
    nets = record["networks"]
    convs = list(nets["baseline_vgg"]["sparsity"])
    panels = (
        ("non-zero fraction", lambda n, c: n["sparsity"][c]["nonzero"]),
        ("top-10% mean / rest mean", lambda n, c: n["sparsity"][c]["top_to_rest"]),
        ("SNR at conv input (dB)", lambda n, c: n["snr_db"][c]),
    )
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for axis, (title, value) in zip(axes, panels):
        for name in NAMES:
            axis.plot(
                range(1, len(convs) + 1),
                [value(nets[name], c) for c in convs],
                "o-",
                label=LABELS[name],
            )
        label_axis(axis, title=title, xlabel="conv layer")
    save(fig, path)


def plot_histograms(record, path):
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for axis, name in zip(axes, NAMES):
        hist = record["networks"][name]["histogram"]
        edges, counts = hist["edges"], hist["counts"]
        axis.stairs(counts, edges, fill=True)
        axis.set_yscale("log")
        axis.set(
            title=f"{LABELS[name]} {hist['conv']}: "
            f"{hist['zero_fraction']:.0%} zeros (not shown)",
            xlabel="activation value",
            ylabel="count",
        )
    save(fig, path)


def attack_label(name):
    """An attack's row label; transfers are named by their attack, not their source."""
    if name.startswith("transfer from "):
        return "transfer from the other model: " + name.split(": ", 1)[1]
    return name


def describe_budgets(budgets):
    return (
        f"APGD-CE and APGD-T {budgets['apgd_steps']} steps (APGD-T over the "
        f"{budgets['apgd_targets']} highest other classes), PGD {budgets['pgd_steps']} "
        f"steps x {budgets['pgd_restarts']} restarts (also behind BPDA and transfer), "
        f"SPSA {budgets['spsa_iterations']} iterations x {budgets['spsa_samples']} "
        f"samples (L_inf only); checks: PGD steps {list(budgets['sweep_steps'])}, "
        f"restarts {list(budgets['sweep_restarts'])}, eps x "
        f"{list(budgets['eps_multiples'])}, tolerance {budgets['tolerance']}"
    )


def robust_verdict(models, key):
    """One line comparing the two networks' robust accuracy, with its standard error."""
    base, hah = (models[name][key] for name in NAMES)
    difference = hah["worst_case"] - base["worst_case"]
    error = (
        sum(r["worst_case"] * (1 - r["worst_case"]) for r in (base, hah))
        / base["examples"]
    ) ** 0.5
    holds = difference > 2 * error
    return (
        f"Claim (c), more robust: HaH {hah['worst_case']:.4f} against baseline "
        f"{base['worst_case']:.4f} ({difference * 100:+.1f} points, standard error "
        f"{error * 100:.1f}): {'holds' if holds else 'does not hold'} at this budget."
    )


def robustness_markdown(record):
    """The robustness record as Markdown: worst case first, then each attack."""
    models = record["models"]
    names = list(models)
    lines = [
        "# Robust accuracy: per-example worst case over the attack set",
        f"Data: {record['data_source']}; preset `{record['preset']}`, seed "
        f"{record['seed']}, {record['seconds'] / 60:.1f} minutes. Attacks: "
        f"{describe_budgets(record['budgets'])}. The robust accuracy is the fraction "
        "of test images that every attack fails on (clean-correct included), as "
        "AutoAttack reports its ensemble; each attack's own figure follows so that the "
        "strongest attack per model is visible. A check that FAILs means the figure "
        "may be inflated by masked gradients or an unconverged attack.",
    ]
    for key in models[names[0]]:
        first = models[names[0]][key]
        rows = [
            ["clean", *[f"{models[n][key]['clean']:.4f}" for n in names]],
            [
                "**worst case (robust accuracy)**",
                *[f"**{models[n][key]['worst_case']:.4f}**" for n in names],
            ],
        ]
        labelled = {
            n: {attack_label(a): acc for a, acc in models[n][key]["per_attack"].items()}
            for n in names
        }
        for label in dict.fromkeys(a for n in names for a in labelled[n]):
            rows.append(
                [
                    label,
                    *[
                        f"{labelled[n][label]:.4f}" if label in labelled[n] else "n/a"
                        for n in names
                    ],
                ]
            )
        for check in first["checks"]:
            rows.append(
                [
                    f"check: {check}",
                    *[
                        f"{models[n][key]['checks'][check]['verdict']}: "
                        f"{models[n][key]['checks'][check]['summary']}"
                        for n in names
                    ],
                ]
            )
        verdict = robust_verdict(models, key) if set(NAMES) <= set(names) else ""
        title = budget_label(f"{first['norm']}_{first['eps']}")
        lines.append(
            f"## {title} "
            f"({first['examples']} test images)\n\n{verdict}\n\n"
            + table(["", *names], rows)
        )
    return "\n\n".join(lines) + "\n"


def write_report(record, output):
    """Writes results.md and the four plots into `output`, and robustness.md
    from robustness.json when that exists."""
    output = pathlib.Path(output)
    robustness = output / "robustness.json"
    if robustness.is_file():
        write_text(
            output / "robustness.md",
            robustness_markdown(json.loads(robustness.read_text())),
        )
    write_text(output / "results.md", results_markdown(record))
    plot_noise(record, output / PLOTS["noise"])
    plot_eps(record, output / PLOTS["eps"])
    plot_layers(record, output / PLOTS["layers"])
    plot_histograms(record, output / PLOTS["histogram"])
