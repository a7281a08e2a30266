import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The suite is TensorFlow's unless asked otherwise (test_backends.py runs the
# backend-neutral tests under KERAS_BACKEND=jax), whatever ~/.keras/keras.json
# says; subprocesses inherit it.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# XLA's constant folding, off for the suite. In the full suite (not in
# test_models.py alone, 13 s), compiling the XLA training step of the tiny HaH
# VGG spent 1479 s in HloConstantFolding, evaluating a reduce-window over a
# constant with XLA's interpreter (seen with gdb in two full runs); what makes
# that operand constant only after other modules have run is not known yet.
# The pass only moves work from run time to compile time, so the figures the
# tests check are the same without it.
os.environ.setdefault("XLA_FLAGS", "--xla_disable_hlo_passes=constant_folding")

import keras
import numpy as np
import pytest


@pytest.fixture(scope="module", autouse=True)
def fresh_keras_session():
    """Each module starts from an empty Keras session.

    In one long process, what earlier modules built (models, traced and
    XLA-compiled functions, dataset iterators) otherwise stays alive into the
    next; a module's timing and memory should be its own.
    """
    keras.backend.clear_session(free_memory=True)
    yield
    keras.backend.clear_session(free_memory=True)


@pytest.fixture(autouse=True)
def seeded():
    keras.utils.set_random_seed(2022)


@pytest.fixture
def rng():
    return np.random.default_rng(2022)
