"""The layers and networks on JAX and torch as on TensorFlow.

Keras picks its backend once per process (this suite's is TensorFlow), so
JAX and torch run in subprocesses: the fast backend-neutral tests
(marked `backends`, not `slow`) run again under `KERAS_BACKEND=jax` and
`KERAS_BACKEND=torch`, and the tiny networks' forward pass and training step
(`backend_step.py`) run on all three backends from the same weights: that
equality stands for the slow `backends` tests (training several epochs),
which run under TensorFlow only.
"""

import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest
from backend import environment_on

# Trained fixtures, subprocesses or other sessions: the slow tier.
pytestmark = pytest.mark.slow


THIS = pathlib.Path(__file__)
TESTS = THIS.parent


def run_on(backend, *args):
    """Runs `python *args` with `KERAS_BACKEND=backend`; its output."""
    process = subprocess.run(
        [sys.executable, *args],
        env=environment_on(backend),
        cwd=TESTS.parent,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = process.stdout + process.stderr
    assert process.returncode == 0, output[-4000:]
    return output


OTHER_BACKENDS = ("jax", "torch")


def backend_neutral_modules():
    """The test modules that mark tests `backends`: the other sessions collect
    only these (importing every module took 7 of their seconds)."""
    return sorted(
        str(path.relative_to(TESTS.parent))
        for path in TESTS.glob("test_*.py")
        if path.name != THIS.name and "pytest.mark.backends" in path.read_text()
    )


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_backend_neutral_tests_pass_on(backend):
    modules = backend_neutral_modules()
    assert "tests/test_hah.py" in modules and "tests/test_backends.py" not in modules
    output = run_on(
        backend,
        "-m",
        "pytest",
        "-q",
        "-m",
        "backends and not slow",
        # In its own process only: this session's workers share the cores.
        "-n",
        "0",
        "-p",
        "no:cacheprovider",
        *modules,
    )
    passed = int(re.search(r"(\d+) passed", output).group(1))
    assert passed >= 60, output[-2000:]


@pytest.fixture(scope="module")
def steps(tmp_path_factory):
    """backend_step.py's figures on TensorFlow, JAX and torch, from one set of
    weights."""
    import backend_step
    import keras

    root = tmp_path_factory.mktemp("backends")
    keras.utils.set_random_seed(5)
    for name, build in backend_step.networks().items():
        build(**backend_step.TINY).save_weights(root / f"{name}.weights.h5")
    backend_step.main(root, root / "tensorflow")  # this process's backend
    for backend in OTHER_BACKENDS:
        run_on(backend, str(TESTS / "backend_step.py"), str(root), str(root / backend))
    return {
        backend: dict(np.load(root / f"{backend}.npz"))
        for backend in ("tensorflow", *OTHER_BACKENDS)
    }


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
@pytest.mark.parametrize("network", ["hah_vgg", "baseline_vgg"])
def test_networks_compute_the_same_numbers_on_every_backend(steps, network, backend):
    tensorflow, other = steps["tensorflow"], steps[backend]
    keys = sorted(k for k in tensorflow if k.startswith(f"{network}/"))
    assert keys == sorted(k for k in other if k.startswith(f"{network}/"))
    assert len(tensorflow[f"{network}/losses"]) == (6 if network == "hah_vgg" else 0)
    for key in keys:
        np.testing.assert_allclose(
            other[key], tensorflow[key], rtol=2e-4, atol=2e-5, err_msg=key
        )
    logs = {k.rsplit("/", 1)[1] for k in keys if "/log/" in k}
    if network == "hah_vgg":
        assert {"hah_loss", "hah1_score", "threshold6_nonzero"} <= logs
