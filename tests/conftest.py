import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The suite is TensorFlow's unless asked otherwise (test_backends.py runs the
# backend-neutral tests under KERAS_BACKEND=jax), whatever ~/.keras/keras.json
# says; subprocesses inherit it.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def cores_per_worker(cores):
    """`cores` shared out among the suite's parallel workers (`-n` in
    setup.cfg; xdist tells each worker their number)."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    return max(1, cores // workers)


# Each worker, and every process it starts, keeps to its share of the cores:
# two workers of TensorFlow's default thread pools (as many threads as
# cores, each) on two cores spin-wait for each other (docs/performance.md,
# "The test suite", has the figures). Set before TensorFlow, JAX or torch
# start; a thread count set by the caller's environment wins.
CORES = len(os.sched_getaffinity(0))
SHARE = cores_per_worker(CORES)
if SHARE < CORES:
    for variable in (
        "TF_NUM_INTRAOP_THREADS",
        "TF_NUM_INTEROP_THREADS",
        "OMP_NUM_THREADS",
    ):
        os.environ.setdefault(variable, str(SHARE))
    if SHARE == 1:
        os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")

import keras
import numpy as np
import pytest

# The longest modules (by `--durations`) start first, so that the parallel
# workers (`-n` in setup.cfg) finish together rather than one waiting on a
# long module that started last; every module keeps its own order.
LONGEST_FIRST = (
    "test_benchmark.py",
    "test_backends.py",
    "test_experiment.py",
    "test_models.py",
    "test_architectures.py",
    "test_resume.py",
    "test_precision.py",
    "test_training_length.py",
    "test_cli.py",
    "test_readme.py",
    "test_autoattack.py",
    "test_distribute.py",
    "test_examples.py",
)


def pytest_collection_modifyitems(items):
    def rank(item):
        name = item.path.name
        return (
            LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)
        )

    items.sort(key=rank)


@pytest.fixture(autouse=True)
def seeded():
    keras.utils.set_random_seed(2022)


@pytest.fixture
def rng():
    return np.random.default_rng(2022)
