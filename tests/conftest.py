import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The suite is TensorFlow's unless asked otherwise (test_backends.py runs the
# backend-neutral tests under KERAS_BACKEND=jax), whatever ~/.keras/keras.json
# says; subprocesses inherit it.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np
import pytest

# The longest modules (by `--durations`) start first, so that the parallel
# workers (`-n` in setup.cfg) finish together rather than one waiting on a
# long module that started last; every module keeps its own order.
LONGEST_FIRST = (
    "test_experiment.py",
    "test_backends.py",
    "test_benchmark.py",
    "test_distribute.py",
    "test_resume.py",
    "test_models.py",
    "test_readme.py",
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
