"""experiments/precision.py: a run in float32 against the same run in mixed
bfloat16, on fixture run folders (no training)."""

import json

import numpy as np
import pytest
import records as fixtures
from scripts import load_script

BF16 = "training.precision=mixed_bfloat16"


@pytest.fixture(scope="module")
def precision():
    return load_script("precision")


def check(precision, float32, bfloat16, output):
    precision.main(
        [
            "--float32",
            str(float32),
            "--bfloat16",
            str(bfloat16),
            "--output",
            str(output),
        ]
    )
    return (output / "precision.md").read_text(), json.loads(
        (output / "precision.json").read_text()
    )


def test_each_figure_is_compared_with_itself_across_precisions(precision, tmp_path):
    float32 = fixtures.filled_run(tmp_path / "f32", rng_seed=0)
    bfloat16 = fixtures.filled_run(tmp_path / "bf16", BF16, rng_seed=1)
    text, record = check(precision, float32.path, bfloat16.path, tmp_path / "out")
    assert record["seeds"] == ["2022", "2023"]
    assert (
        text.count("\n## ") == 2 and "\n## baseline\n" in text and "\n## HaH\n" in text
    )
    for variant in fixtures.NAMES:
        rows = record["variants"][variant]["figures"]
        assert [r["figure"] for r in rows] == [
            "clean",
            "gaussian_0.1",
            "gaussian_0.2",
            "pgd_linf_0.00784314",
            "pgd_l2_0.25",
        ]
        for row in rows:
            means = [
                np.mean(
                    [
                        np.mean(
                            run.network(variant, s).read_evaluation()[1][row["figure"]]
                        )
                        for s in fixtures.SEEDS
                    ]
                )
                for run in (float32, bfloat16)
            ]
            assert [v["mean"] for v in row["values"]] == pytest.approx(means, abs=1e-6)
            assert row["difference"]["difference"] == pytest.approx(
                means[1] - means[0], abs=1e-6
            )
    assert text.count(f"| clean accuracy ({fixtures.IMAGES} images) |") == 2
    assert text.count("non-zero fraction, sparse blocks") == 2
    assert text.count("training time (wall clock, s)") == 2


def test_the_same_scores_show_no_difference(precision, tmp_path):
    float32 = fixtures.filled_run(tmp_path / "f32", rng_seed=0)
    bfloat16 = fixtures.filled_run(tmp_path / "bf16", BF16, rng_seed=0)
    _, record = check(precision, float32.path, bfloat16.path, tmp_path / "out")
    for variant in fixtures.NAMES:
        for row in record["variants"][variant]["figures"]:
            assert row["difference"]["difference"] == 0
            assert row["difference"]["verdict"] == "no difference shown"


def test_refuses_runs_that_cannot_be_compared(precision, tmp_path, capsys):
    float32 = fixtures.filled_run(tmp_path / "f32")
    bfloat16 = fixtures.filled_run(tmp_path / "bf16", BF16)
    longer = fixtures.filled_run(tmp_path / "longer", BF16, "training.epochs=3")
    cases = [
        (bfloat16.path, bfloat16.path, "was trained in mixed_bfloat16, not float32"),
        (float32.path, float32.path, "was trained in float32, not mixed_bfloat16"),
        (float32.path, longer.path, "differ beyond the precision: ['training.epochs']"),
        (float32.path, tmp_path / "empty", "has no results.json"),
    ]
    for first, second, message in cases:
        with pytest.raises(SystemExit) as raised:
            check(precision, first, second, tmp_path / "out")
        assert message in str(raised.value)
    assert not (tmp_path / "out").exists()
