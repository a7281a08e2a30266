"""Reports rendered from records: fixture records against committed expected
files, and every committed report of experiments/results re-rendered byte
for byte from its record.

After a deliberate change of a report's text, rewrite the expected files with
`KERAS_HEBB_WRITE_EXPECTED=1 pytest tests/test_reports.py` and read the diff.
"""

import filecmp
import os
import pathlib
import shutil
import subprocess

import pytest
import records
from PIL import Image

from keras_hebb.run.folder import RECORD_TYPES, RunFolder
from keras_hebb.run.report import (
    CORRUPTION_PLOT,
    PLOTS,
    corruptions_markdown,
    results_markdown,
    robustness_markdown,
    write_reports,
)

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXPECTED = pathlib.Path(__file__).parent / "expected"
RENDER = {
    "results": (records.results_record, results_markdown),
    "robustness": (records.robustness_record, robustness_markdown),
    "corruptions": (records.corruptions_record, corruptions_markdown),
}


@pytest.mark.parametrize("kind", RENDER)
def test_fixture_record_renders_the_expected_markdown(kind):
    make, render = RENDER[kind]
    text = render(make())
    expected = EXPECTED / f"{kind}.md"
    if os.environ.get("KERAS_HEBB_WRITE_EXPECTED"):
        expected.write_text(text)
    assert text == expected.read_text()


def test_fixture_records_write_every_report_and_plot(tmp_path):
    run = RunFolder(tmp_path)
    for kind, (make, _) in RENDER.items():
        run.write_record(kind, make())
    assert write_reports(run) == list(RENDER)
    for name in ("results.md", "robustness.md", "corruptions.md"):
        assert (tmp_path / name).read_text() == (EXPECTED / name).read_text()
    for plot in [*PLOTS.values(), CORRUPTION_PLOT]:
        if plot == PLOTS["histogram"]:
            # The fixture's figures carry no histogram: none is drawn.
            assert not (tmp_path / plot).exists()
            continue
        with Image.open(tmp_path / plot) as image:
            assert image.width > 300 and image.height > 150, plot


def committed_records():
    listed = subprocess.run(
        ["git", "ls-files", "experiments/results/*.json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [path for path in map(pathlib.Path, listed) if path.stem in RECORD_TYPES]


COMMITTED = committed_records()


def test_the_committed_records_are_found():
    assert len(COMMITTED) >= 10
    assert {path.stem for path in COMMITTED} == set(RECORD_TYPES)


@pytest.mark.parametrize("path", COMMITTED, ids=str)
def test_committed_report_re_renders_byte_identical(path):
    record = RunFolder(ROOT / path.parent).read_record(path.stem)
    _, render = RENDER[path.stem]
    assert render(record) == (ROOT / path.with_suffix(".md")).read_text()


def test_committed_plots_re_render_byte_identical(tmp_path):
    folder = ROOT / "experiments/results/defences"
    for kind in RECORD_TYPES:
        shutil.copy(folder / f"{kind}.json", tmp_path)
    write_reports(RunFolder(tmp_path))
    for plot in [*PLOTS.values(), CORRUPTION_PLOT]:
        assert filecmp.cmp(tmp_path / plot, folder / plot, shallow=False), plot
