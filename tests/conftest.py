import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The suite is TensorFlow's unless asked otherwise (test_backends.py runs the
# backend-neutral tests under KERAS_BACKEND=jax), whatever ~/.keras/keras.json
# says; subprocesses inherit it.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np
import pytest


@pytest.fixture(autouse=True)
def seeded():
    keras.utils.set_random_seed(2022)


@pytest.fixture
def rng():
    return np.random.default_rng(2022)
