import json
import math
import os
import pathlib

import keras
import pytest
from folders import write_image_folder
from PIL import Image

from keras_hebb.run.experiment import (
    NETWORKS,
    read_history,
    run_experiment,
    run_robustness,
    step_schedule,
    train_network,
    without_timings,
)
from keras_hebb.presets import PRESETS, get_preset
from keras_hebb.run.report import PLOTS

SMOKE = get_preset("smoke")


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("smoke")
    folder = write_image_folder(root / "data", train_per_class=13, test_per_class=7)
    renamed = []
    real_replace = os.replace

    def replace(source, destination):
        renamed.append(pathlib.Path(destination))
        real_replace(source, destination)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "replace", replace)
        record = run_experiment(SMOKE, folder, root / "out")
    SMOKE_RENAMED.extend(renamed)
    return root / "out", record, folder


SMOKE_RENAMED = []


def in_unit_range(value):
    return isinstance(value, float) and 0.0 <= value <= 1.0


def test_every_output_file_appears(smoke_run):
    out, _, _ = smoke_run
    for name in ["results.json", "results.md", *PLOTS.values()]:
        assert (out / name).is_file(), name
    for network in NETWORKS:
        assert (out / f"{network}.keras").is_file()
        assert (
            len((out / f"{network}_history.csv").read_text().splitlines())
            == 1 + SMOKE.epochs
        )
        assert any((out / "tensorboard" / network).rglob("events.out.tfevents.*"))
    for plot in PLOTS.values():
        with Image.open(out / plot) as image:
            assert image.width > 300 and image.height > 200
    assert not (out / "partial_results.json").exists()


def test_every_output_file_is_written_through_a_rename(smoke_run):
    out, _, _ = smoke_run
    written = {
        path
        for path in out.rglob("*")
        if path.is_file() and "tensorboard" not in path.relative_to(out).parts
    }
    assert written and written <= set(SMOKE_RENAMED)
    assert not list(out.rglob("*partial*"))


def test_results_hold_every_number_in_range(smoke_run):
    out, record, _ = smoke_run
    assert json.loads((out / "results.json").read_text()) == json.loads(
        json.dumps(record)
    )
    assert record["preset"]["name"] == "smoke" and record["seed"] == 2022
    assert record["replicas"] == 1 and isinstance(record["deterministic"], bool)
    for name in NETWORKS:
        training = json.loads((out / f"{name}_training.json").read_text())
        assert training["seed"] == 2022 and training["epochs"] == SMOKE.epochs
    assert record["test_images"] == SMOKE.test_limit
    assert {"tensorflow", "keras", "keras_hebb", "cleverhans"} <= set(
        record["versions"]
    )
    for name, net in record["networks"].items():
        assert in_unit_range(net["clean_accuracy"])
        for kind in ("gaussian", "uniform"):
            assert list(net["noise_accuracy"][kind]) == [
                str(s) for s in SMOKE.noise_stds
            ]
            assert all(in_unit_range(a) for a in net["noise_accuracy"][kind].values())
        assert len(net["adversarial_accuracy"]) == len(SMOKE.attack_budgets)
        assert all(in_unit_range(a) for a in net["adversarial_accuracy"].values())
        assert list(net["snr_db"]) == [f"conv{i}" for i in range(1, 9)]
        assert all(math.isfinite(v) for v in net["snr_db"].values())
        for conv, stats in net["sparsity"].items():
            assert in_unit_range(stats["nonzero"])
            assert stats["top_mean"] >= stats["rest_mean"] >= 0
        assert sum(net["histogram"]["counts"]) > 0
        assert net["train_seconds"] > 0
        assert len(net["history"]["accuracy"]) == SMOKE.epochs
    hah = record["networks"]["hah_vgg"]["sparsity"]
    assert all(hah[f"conv{i}"]["nonzero"] <= 0.25 for i in range(1, 7))


def test_results_md_shows_both_networks_side_by_side(smoke_run):
    out, record, _ = smoke_run
    text = (out / "results.md").read_text()
    base = record["networks"]["baseline_vgg"]["clean_accuracy"]
    hah = record["networks"]["hah_vgg"]["clean_accuracy"]
    assert f"| clean accuracy | {base:.4f} | {hah:.4f} |" in text
    assert "PGD-3 L_inf 2/255" in text and "PGD-3 L2 0.5" in text
    assert all(f"![{key}]({name})" in text for key, name in PLOTS.items())


def test_rerun_reuses_trained_models(smoke_run, capsys):
    out, first, folder = smoke_run
    mtime = (out / "hah_vgg.keras").stat().st_mtime
    again = run_experiment(SMOKE, folder, out)
    assert "not retraining" in capsys.readouterr().out
    assert (out / "hah_vgg.keras").stat().st_mtime == mtime
    for name in NETWORKS:
        assert again["networks"][name]["train_seconds"] is None
    # Evaluation seeds itself: the same figures, timings apart.
    assert (
        again["networks"]["hah_vgg"]["evaluation_seconds"]
        != (first["networks"]["hah_vgg"]["evaluation_seconds"])
    )
    assert without_timings(json.loads(json.dumps(again))) == without_timings(
        json.loads(json.dumps(first))
    )


def test_step_schedule_drops_at_60_and_80_percent():
    schedule = step_schedule(PRESETS["paper"])
    rates = [schedule(epoch) for epoch in (0, 59, 60, 79, 80, 99)]
    assert rates == pytest.approx([1e-3, 1e-3, 1e-4, 1e-4, 1e-5, 1e-5])


def test_unknown_preset_raises():
    with pytest.raises(ValueError, match="'huge'"):
        get_preset("huge")


class StopAfterFirstEpoch(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        raise RuntimeError("interrupted")


def test_interrupted_training_resumes_from_last_epoch(tmp_path):
    folder = write_image_folder(tmp_path / "data", train_per_class=13, test_per_class=4)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(RuntimeError, match="interrupted"):
        train_network(
            "baseline_vgg", SMOKE, folder, out, callbacks=[StopAfterFirstEpoch()]
        )
    assert not (out / "baseline_vgg.keras").exists()
    train_network("baseline_vgg", SMOKE, folder, out)
    history = read_history(out / "baseline_vgg_history.csv")
    assert history["epoch"] == [0.0, 1.0]
    assert (out / "baseline_vgg.keras").is_file()
    backup = out / "backup" / "baseline_vgg"
    assert not backup.exists() or not any(backup.iterdir())


def test_robustness_reports_worst_case_over_the_attack_set(smoke_run):
    out, _, folder = smoke_run
    record = run_robustness(SMOKE, folder, out)
    assert json.loads((out / "robustness.json").read_text()) == json.loads(
        json.dumps(record)
    )
    text = (out / "robustness.md").read_text()
    assert "worst case (robust accuracy)" in text
    for name in NETWORKS:
        for key, result in record["models"][name].items():
            names = " ".join(result["per_attack"])
            for attack in ("APGD-CE", "APGD-T", "PGD-3x2", "transfer from"):
                assert attack in names, (name, key, attack)
            assert ("SPSA" in names) == key.startswith("linf")
            assert ("BPDA" in names) == (name == "hah_vgg")
            assert result["worst_case"] <= min(result["per_attack"].values())
            assert set(result["checks"]) == {
                "eps_sweep",
                "convergence",
                "white_box_strongest",
                "bpda",
            }
