"""`RunFolder` and `NetworkFolder`: layout, artefacts, discovery, and the one
writer of a network (real processes hold and lose the lock)."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import records as fixtures
from folders import write_image_folder

from keras_hebb.run.checkpoint import history_csv
from keras_hebb.run.config import load_config
from keras_hebb.run.folder import (
    LOCK_NAME,
    FolderLockedError,
    NetworkFolder,
    RunFolder,
    model_files,
)
from keras_hebb.run.train import train_network

HOLDER = textwrap.dedent(
    """
    import sys, time
    from keras_hebb.run.folder import NetworkFolder
    with NetworkFolder(sys.argv[1]).lock():
        print("held", flush=True)
        time.sleep(600)
    """
)


@pytest.fixture
def holder(tmp_path):
    """A live process holding the writer lock of `tmp_path / "net"`."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / "net")],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "held"
    yield process
    process.kill()
    process.wait()


def test_layout_of_a_run_folder(tmp_path):
    run = RunFolder(tmp_path)
    network = run.network("hah", 2022)
    assert network == NetworkFolder(tmp_path / "hah" / "seed_2022")
    assert network.model == tmp_path / "hah/seed_2022/model.keras"
    assert network.backup.name == "backup" and network.setting.name == "variant.json"
    assert run.record_path("robustness") == tmp_path / "robustness.json"
    with pytest.raises(ValueError, match="kind='plots'"):
        run.record_path("plots")


def test_evaluation_and_history_round_trip(tmp_path):
    network = RunFolder(tmp_path).network("hah", 7)
    assert network.read_history() == {} and not network.has_evaluation()
    figures = {"clean_accuracy": 0.5, "noise_accuracy": {"gaussian": {"0.1": 0.25}}}
    scores = {
        "clean": np.array([1, 0], "float32"),
        "gaussian_0.1": np.ones(2, "float32"),
    }
    network.write_evaluation(figures, scores)
    read_figures, read_scores = network.read_evaluation()
    assert network.has_evaluation() and read_figures == figures
    assert {k: v.tolist() for k, v in read_scores.items()} == {
        k: v.tolist() for k, v in scores.items()
    }
    network.history.write_text(history_csv({"epoch": [0, 1], "loss": [2.5, 1.25]}))
    assert network.read_history() == {"epoch": [0.0, 1.0], "loss": [2.5, 1.25]}
    network.history.write_text("epoch,loss\n")
    assert network.read_history() == {"epoch": [], "loss": []}


def test_records_round_trip_and_are_typed(tmp_path):
    run = RunFolder(tmp_path)
    record = fixtures.robustness_record()
    assert not run.has_record("robustness")
    run.write_record("robustness", record)
    assert run.read_record("robustness") == record
    with pytest.raises(TypeError, match="RobustnessRecord"):
        run.write_record("robustness", fixtures.results_record())


def test_networks_of_a_run_name_the_missing_files(tmp_path):
    run = RunFolder(tmp_path)
    for variant in ("baseline", "hah"):
        run.network(variant, 1).path.mkdir(parents=True)
        run.network(variant, 1).model.write_text("")
    assert run.networks(["baseline", "hah"], [1]) == {
        1: {v: run.network(v, 1).model for v in ("baseline", "hah")}
    }
    with pytest.raises(FileNotFoundError, match="seed_2/model.keras"):
        run.networks(["baseline", "hah"], [1, 2])


def test_model_files_are_named_by_stem_then_by_their_folders(tmp_path):
    assert list(model_files([tmp_path / "a.keras", tmp_path / "b.keras"])) == ["a", "b"]
    run = RunFolder(tmp_path)
    files = [run.network(v, 2022).model for v in ("baseline", "hah")]
    assert list(model_files(files)) == ["baseline_seed_2022", "hah_seed_2022"]
    same = [tmp_path / "x/seed/m.keras", tmp_path / "y/x/seed/m.keras"]
    assert list(model_files(same)) == [str(p.with_suffix("")) for p in same]


def test_the_lock_is_held_for_the_block_and_released(tmp_path):
    network = NetworkFolder(tmp_path / "net")
    with network.lock() as holder:
        recorded = json.loads((network.path / LOCK_NAME).read_text())
        assert recorded == holder and recorded["pid"] == os.getpid()
        locked = pytest.raises(FolderLockedError, match=f"process {os.getpid()}")
        with locked, network.lock():
            pass
    assert not (network.path / LOCK_NAME).exists()


def test_a_second_writer_is_refused_naming_the_holder(tmp_path, holder):
    with (
        pytest.raises(FolderLockedError) as refused,
        NetworkFolder(tmp_path / "net").lock(),
    ):
        pass
    message = str(refused.value)
    assert f"process {holder.pid} on host" in message and LOCK_NAME in message
    assert holder.poll() is None


def test_a_stale_lock_of_a_killed_process_is_taken_over(tmp_path, holder):
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    network = NetworkFolder(tmp_path / "net")
    stale = json.loads((network.path / LOCK_NAME).read_text())
    assert stale["pid"] == holder.pid
    with network.lock() as taken:
        assert taken["pid"] == os.getpid()
    assert not (network.path / LOCK_NAME).exists()


def test_train_network_stops_while_another_process_trains_it(tmp_path, holder):
    data = write_image_folder(tmp_path / "data", train_per_class=2, test_per_class=1)
    config = load_config("smoke", overrides=[f"data.source={data}"])
    with pytest.raises(FolderLockedError, match=f"process {holder.pid}"):
        train_network(config, "baseline", 2022, tmp_path / "net")
    assert not (tmp_path / "net" / "model.keras").exists()
    assert not (tmp_path / "net" / "backup").exists()


@pytest.mark.slow
def test_a_job_submitted_twice_trains_once(tmp_path):
    """Two `keras-hebb train` of one variant and seed into one folder: the
    second stops naming the first, which trains on; a killed first one
    leaves a lock that a third takes over."""
    data = write_image_folder(tmp_path / "data", train_per_class=4, test_per_class=2)
    out = tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "keras_hebb.run.cli",
        "train",
        "--preset",
        "smoke",
        "--variant",
        "baseline",
        "--seed",
        "2022",
        "--data",
        str(data),
        "--output",
        str(out),
        "training.epochs=1000",
    ]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lock = RunFolder(out).network("baseline", 2022).path / LOCK_NAME
    try:
        deadline = time.monotonic() + 240
        while not lock.exists() and first.poll() is None:
            assert time.monotonic() < deadline, "the first job never took the lock"
            time.sleep(0.5)
        second = subprocess.run(
            command, check=False, capture_output=True, text=True, timeout=240
        )
        assert second.returncode != 0
        assert f"process {first.pid} on host" in second.stderr
        assert first.poll() is None
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert json.loads(lock.read_text())["pid"] == first.pid
    with NetworkFolder(lock.parent).lock() as taken:
        assert taken["pid"] == os.getpid()
