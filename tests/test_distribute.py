"""A training step on several replicas equals one device's on the global batch.

The strategies run in subprocesses (`distributed_step.py`): logical CPU
devices must be configured before TensorFlow starts, and multi-worker
training needs one process per worker.
"""

import json
import os
import pathlib
import socket
import subprocess
import sys

import numpy as np
import pytest

from keras_hebb.distribute import get_strategy

# Trained fixtures, subprocesses or other sessions: the slow tier.
pytestmark = pytest.mark.slow


SCRIPT = pathlib.Path(__file__).with_name("distributed_step.py")
NETWORKS = ("hah_lenet", "plain_hah_lenet", "baseline_lenet")


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def start(mode, path, **env):
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), mode, str(path)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(process):
    output, _ = process.communicate(timeout=240)
    assert process.returncode == 0, output[-3000:]


@pytest.fixture(scope="module")
def steps(tmp_path_factory):
    """One SGD step under each strategy, all processes started at once."""
    root = tmp_path_factory.mktemp("distributed")
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    processes = [start("mirrored", root / "mirrored.npz")]
    for index in range(2):
        tf_config = {
            "cluster": {"worker": workers},
            "task": {"type": "worker", "index": index},
        }
        processes.append(
            start(
                "multi_worker",
                root / f"worker{index}.npz",
                TF_CONFIG=json.dumps(tf_config),
            )
        )
    for process in processes:
        finish(process)
    return {path.stem: dict(np.load(path)) for path in root.glob("*.npz")}


def assert_same_step(one, many, network, strategy):
    """Same start, same logs and same weights after the step, to float tolerance."""
    reference = f"default/{network}"
    prefix = f"{strategy}/{network}"
    befores = sorted(k for k in one if k.startswith(f"{reference}/before/"))
    assert befores
    for key in befores:
        np.testing.assert_array_equal(one[key], many[key.replace(reference, prefix)])
    moved = [np.abs(one[k.replace("before", "after")] - one[k]).max() for k in befores]
    assert min(moved) > 1e-6, "the step must change every trainable weight"
    afters = [
        k for k in one if k.startswith((f"{reference}/after/", f"{reference}/state/"))
    ]
    for key in afters:
        np.testing.assert_allclose(
            many[key.replace(reference, prefix)],
            one[key],
            rtol=1e-4,
            atol=2e-5,
            err_msg=key,
        )
    logs = sorted(k.rsplit("/", 1)[1] for k in one if k.startswith(f"{reference}/log/"))
    assert logs == sorted(
        k.rsplit("/", 1)[1] for k in many if k.startswith(f"{prefix}/log/")
    )
    for name in logs:
        assert float(many[f"{prefix}/log/{name}"]) == pytest.approx(
            float(one[f"{reference}/log/{name}"]), rel=1e-4, abs=1e-6
        ), (network, name)
    return logs


@pytest.mark.parametrize("network", NETWORKS)
def test_mirrored_step_on_two_devices_equals_one_device(steps, network):
    result = steps["mirrored"]
    assert result["default/replicas"] == 1 and result["mirrored/replicas"] == 2
    logs = assert_same_step(result, result, network, "mirrored")
    if network != "baseline_lenet":
        assert {"hah1_score", "threshold1_nonzero"} <= set(logs)
    if network == "hah_lenet":
        assert "hah_loss" in logs


@pytest.mark.multi_worker
def test_multi_worker_step_on_two_processes_equals_one_device(steps):
    for worker in ("worker0", "worker1"):
        assert steps[worker]["multi_worker/replicas"] == 2
        assert_same_step(steps["mirrored"], steps[worker], "hah_lenet", "multi_worker")


def test_unknown_strategy_name_is_refused():
    with pytest.raises(ValueError, match="'tpu'"):
        get_strategy("tpu")
    assert get_strategy("default").num_replicas_in_sync == 1
