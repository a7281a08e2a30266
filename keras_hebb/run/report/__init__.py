"""The reports of a run, each rendered from its record alone.

- `results`: results.md from a `ResultsRecord`, with `results_plots`;
- `robustness`: robustness.md from a `RobustnessRecord`;
- `corruptions`: corruptions.md and its heat map from a `CorruptionsRecord`;
- `tables` and `plots`: the cells, tables, error bars and saving they share.

Every cell is a mean over seeds with its spread ("mean ± sd" over seeds,
or with one seed the 95% Wilson interval over the images), and every plot's
error bars are the same spreads. `write_with_report` writes a record and
its report; `write_reports` re-renders every record a run folder holds
(`keras-hebb report`).
"""

from keras_hebb.run.report.corruptions import (
    CORRUPTION_PLOT,
    corruptions_markdown,
    plot_corruptions,
)
from keras_hebb.run.report.results import results_markdown
from keras_hebb.run.report.results_plots import PLOTS, write_results_plots
from keras_hebb.run.report.robustness import robustness_markdown


def write_results_report(record, run):
    """results.md and the plots of a `ResultsRecord` into the `RunFolder`."""
    run.write_text("results.md", results_markdown(record))
    write_results_plots(record, run)


def write_robustness_report(record, run):
    run.write_text("robustness.md", robustness_markdown(record))


def write_corruptions_report(record, run):
    run.write_text("corruptions.md", corruptions_markdown(record))
    plot_corruptions(record, run.file(CORRUPTION_PLOT))


WRITERS = {
    "results": write_results_report,
    "robustness": write_robustness_report,
    "corruptions": write_corruptions_report,
}


def write_with_report(run, kind, record):
    """Writes the record of `kind` into the `RunFolder` `run`, then its report."""
    run.path.mkdir(parents=True, exist_ok=True)
    run.write_record(kind, record)
    WRITERS[kind](record, run)


def write_reports(run):
    """Re-renders the report of every record in the `RunFolder` `run`;
    returns the kinds rendered."""
    kinds = [kind for kind in WRITERS if run.has_record(kind)]
    for kind in kinds:
        WRITERS[kind](run.read_record(kind), run)
    return kinds


__all__ = [
    "CORRUPTION_PLOT",
    "PLOTS",
    "corruptions_markdown",
    "results_markdown",
    "robustness_markdown",
    "write_corruptions_report",
    "write_reports",
    "write_results_report",
    "write_robustness_report",
    "write_with_report",
]
