"""Markdown tables and their cells, shared by every report.

A cell is a mean with its spread: "mean ± sd" over seeds, or with one seed
and a count of images the 95% Wilson interval over the images.
"""

from keras_hebb.run.statistics import binomial_interval


def table(header, rows):
    """A Markdown table of `header` and `rows` (lists of cell strings)."""
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


def difference_text(comparison):
    """A paired difference in points with its interval: '+5.5 [+3.8, +7.2]'."""
    low, high = comparison["interval"]
    return (
        f"{comparison['difference'] * 100:+.1f} [{low * 100:+.1f}, {high * 100:+.1f}]"
    )


def p_values_text(comparison):
    """McNemar's p per seed and the t-test over seeds of a comparison, or '-'."""
    parts = []
    if comparison.get("mcnemar"):
        p = ", ".join(f"{t['p_value']:.2g}" for t in comparison["mcnemar"].values())
        parts.append(f"McNemar p {p}")
    seeds = comparison.get("across_seeds")
    if seeds and seeds["p_value"] is not None:
        parts.append(f"t-test over {seeds['seeds']} seeds p {seeds['p_value']:.2g}")
    return "; ".join(parts) or "-"


def seeds_text(seeds):
    """'1 seed (2022)', '3 seeds (2022, 2023, 2024)'."""
    return f"{len(seeds)} seed{'s' if len(seeds) > 1 else ''} ({', '.join(map(str, seeds))})"
