"""The training-length study script runs end to end at the smoke size."""

import json

import pytest
from folders import write_image_folder
from scripts import LENET_CONFIG, LENET_WIDTH, load_script


@pytest.mark.slow
def test_one_run_per_length_and_the_gap_table(tmp_path, capsys):
    study = load_script("training_length")
    folder = write_image_folder(tmp_path / "data", train_per_class=4, test_per_class=3)
    out = tmp_path / "out"
    study.main(
        [
            "--preset",
            "smoke",
            "--config",
            str(LENET_CONFIG),
            "--data",
            str(folder),
            "--epochs",
            "1",
            "2",
            "--output",
            str(out),
            "training.seeds=[5]",
            LENET_WIDTH,
            "evaluation.noise_stds=[0.1]",
            "evaluation.attack_budgets=[{norm: linf, eps: 0.01}]",
        ]
    )
    record = json.loads((out / "training_length.json").read_text())
    assert record["epochs"] == [1, 2]
    for epochs in ("1", "2"):
        run = json.loads((out / f"epochs_{epochs}" / "results.json").read_text())
        assert run["config"]["training"]["epochs"] == int(epochs)
        gap = record["gap"][epochs]
        assert gap == run["comparisons"]["hah"]["clean"]
        hah, base = (
            record["clean_accuracy"][epochs][v]["mean"] for v in ("hah", "baseline")
        )
        assert abs(gap["difference"] - (hah - base)) < 1e-6
    text = (out / "training_length.md").read_text()
    assert "| epochs | baseline LeNet | HaH LeNet | gap (points) |" in text
    assert (out / "training_length.png").stat().st_size > 10_000
    assert "gap (points)" in capsys.readouterr().out
