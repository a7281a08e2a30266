"""Runs that die resume where they stopped.

A `keras-hebb train` killed with SIGKILL mid-epoch resumes to the same end.

Real processes: one uninterrupted run, and one killed during its second epoch
and started again with the same command. With op determinism (on by default
on CPU) the resumed run ends with the very weights and history of the
uninterrupted one. A copy of the killed run with its checkpoint truncated
refuses to resume. A run that dies in its second variant's training
resumes that variant at its epoch and goes on to the next.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
from folders import write_image_folder
from scripts import LENET_CONFIG, LENET_WIDTH, lenet_smoke_config

from keras_hebb.run import experiment
from keras_hebb.run.checkpoint import CheckpointError
from keras_hebb.run.experiment import run_experiment
from keras_hebb.run.folder import RunFolder
from keras_hebb.run.train import train_network
from keras_hebb.saving import load_model

# Trained fixtures, subprocesses or other sessions: the slow tier.
pytestmark = pytest.mark.slow


VARIANT = "hah"
SEED = 2022


def keras_hebb(*args):
    return subprocess.Popen(
        [sys.executable, "-m", "keras_hebb.run.cli", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def seed_folder(output):
    return output / VARIANT / f"seed_{SEED}"


def train(folder, output):
    """`keras-hebb train` of the smoke preset's LeNet-sized HaH variant."""
    command = ("train", "--variant", VARIANT, "--preset", "smoke")
    command += ("--config", LENET_CONFIG, "--data", folder, "--output", output)
    return keras_hebb(*command, LENET_WIDTH)


def finish(process):
    stdout, stderr = process.communicate(timeout=300)
    return process.returncode, stdout + stderr


def kill_after_first_epoch(process, history):
    """SIGKILLs `process` as soon as `history` holds its first epoch's row."""
    deadline = time.monotonic() + 240
    while process.poll() is None and time.monotonic() < deadline:
        if history.is_file() and len(history.read_text().splitlines()) >= 2:
            os.kill(process.pid, signal.SIGKILL)
            break
        time.sleep(0.02)
    process.communicate(timeout=60)
    return process.returncode


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("resume")
    folder = write_image_folder(root / "data", train_per_class=13, test_per_class=4)
    whole, killed, corrupt = root / "whole", root / "killed", root / "corrupt"
    uninterrupted = train(folder, whole)
    killed_code = kill_after_first_epoch(
        train(folder, killed), seed_folder(killed) / "history.csv"
    )
    state = {
        "killed_code": killed_code,
        "checkpoints": sorted(
            p.name for p in (seed_folder(killed) / "backup").iterdir()
        ),
        "model_after_kill": (seed_folder(killed) / "model.keras").exists(),
    }
    shutil.copytree(killed, corrupt)
    weights = seed_folder(corrupt) / "backup" / "epoch_0001" / "model.weights.h5"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    state["corrupt_history"] = (seed_folder(corrupt) / "history.csv").read_text()
    results = {"resumed": finish(train(folder, killed)), "whole": finish(uninterrupted)}
    return root, state, results, folder


def test_killed_run_resumes_to_the_uninterrupted_weights(runs):
    root, state, results, _ = runs
    assert state["killed_code"] == -signal.SIGKILL
    assert state["checkpoints"] == ["epoch_0001"] and not state["model_after_kill"]
    for name in ("whole", "resumed"):
        code, output = results[name]
        assert code == 0, output[-3000:]
    assert "training epochs 2-2" in results["resumed"][1]
    whole = load_model(seed_folder(root / "whole") / "model.keras")
    resumed = load_model(seed_folder(root / "killed") / "model.keras")
    for a, b in zip(whole.weights, resumed.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
    histories = [
        (seed_folder(root / run) / "history.csv").read_text()
        for run in ("whole", "killed")
    ]
    assert histories[0] == histories[1]
    assert [row.split(",")[0] for row in histories[0].splitlines()] == [
        "epoch",
        "0.0",
        "1.0",
    ]
    records = [
        json.loads((seed_folder(root / run) / "training.json").read_text())
        for run in ("whole", "killed")
    ]
    assert records[0] == records[1]
    assert records[0]["seed"] == 2022 and records[0]["deterministic"] is True
    assert not (seed_folder(root / "killed") / "backup").exists()


def test_truncated_checkpoint_is_an_error_naming_the_file(runs):
    root, state, _, folder = runs
    corrupt = root / "corrupt"
    weights = seed_folder(corrupt) / "backup" / "epoch_0001" / "model.weights.h5"
    config = lenet_smoke_config(folder)
    with pytest.raises(CheckpointError, match=f"Cannot read the checkpoint {weights}"):
        train_network(config, VARIANT, SEED, seed_folder(corrupt))
    assert not (seed_folder(corrupt) / "model.keras").exists()
    history = (seed_folder(corrupt) / "history.csv").read_text()
    assert history == state["corrupt_history"]


class DieInSecondEpoch(keras.callbacks.Callback):
    """Raises as the second epoch begins, after the first one's checkpoint."""

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 1:
            raise RuntimeError("interrupted")


def test_a_run_dying_mid_variant_list_resumes_there(tmp_path, capsys, monkeypatch):
    data_folder = write_image_folder(
        tmp_path / "data", train_per_class=13, test_per_class=7
    )
    config = lenet_smoke_config(
        data_folder,
        "variants.no_threshold.network=hah_lenet",
        "variants.no_threshold.args.threshold=none",
        "evaluation.noise_stds=[0.1]",
        "evaluation.noise_kinds=[gaussian]",
        "evaluation.attack_budgets=[{norm: linf, eps: 0.01}]",
    )
    assert list(config.variants) == ["baseline", "hah", "no_threshold"]
    real_train = experiment.train_network

    def dies_in_hah(config, variant, seed, folder, callbacks=(), strategy=None):
        if variant == "hah":
            callbacks = [DieInSecondEpoch()]
        return real_train(config, variant, seed, folder, callbacks, strategy)

    monkeypatch.setattr(experiment, "train_network", dies_in_hah)
    with pytest.raises(RuntimeError, match="interrupted"):
        run_experiment(config, tmp_path / "out")
    monkeypatch.setattr(experiment, "train_network", real_train)
    baseline_file = RunFolder(tmp_path / "out").network("baseline", 2022).evaluation
    assert baseline_file.is_file()
    assert not (RunFolder(tmp_path / "out").network("hah", 2022).model).exists()
    assert not RunFolder(tmp_path / "out").network("no_threshold", 2022).path.exists()
    mtime = baseline_file.stat().st_mtime
    capsys.readouterr()
    record = run_experiment(config, tmp_path / "out")
    log = capsys.readouterr().out
    assert "baseline seed 2022: evaluation found" in log
    assert "hah seed 2022: training epochs 2-2 of 2" in log
    assert "no_threshold seed 2022: training epochs 1-2 of 2" in log
    assert baseline_file.stat().st_mtime == mtime
    history = RunFolder(tmp_path / "out").network("hah", 2022).read_history()
    assert history["epoch"] == [0.0, 1.0]
    assert list(record.comparisons) == ["hah", "no_threshold"]
    assert "threshold1" not in json.dumps(
        record.variants["no_threshold"]["2022"]["sparsity"]
    )
