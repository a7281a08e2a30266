"""Every example in the package's docstrings runs."""

import doctest
import importlib
import pathlib
import re

import keras
import numpy as np
import pytest
from folders import write_image_folder

import keras_hebb

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "keras_hebb"


def module_names():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def docstring_examples():
    finder = doctest.DocTestFinder(exclude_empty=True)
    for name in module_names():
        for test in finder.find(importlib.import_module(name)):
            if test.examples:
                yield pytest.param(test, id=test.name)


def small_hah_network():
    """A compiled HaH LeNet at width 1/8 for CIFAR-shaped images: two HaH
    blocks, which is all the examples need of a HaH network."""
    model = keras_hebb.models.hah_lenet(
        width=0.125,
        input_shape=(32, 32, 3),
        input_mean=(0.5,) * 3,
        input_std=(0.25,) * 3,
    )
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def fixtures(tmp_path, source):
    """The names the examples use without defining them: 16 CIFAR-shaped
    images `x` in [0, 1] and their labels `y`, a small compiled HaH network
    `model` (built only for the examples that name one), a `seed`, an output
    folder `out` and a CIFAR-10-like image folder `folder`."""
    rng = np.random.default_rng(0)
    names = {
        "np": np,
        "keras": keras,
        "keras_hebb": keras_hebb,
        "x": rng.uniform(size=(16, 32, 32, 3)).astype("float32"),
        "y": rng.integers(0, 10, size=16),
        "seed": 2022,
        "out": tmp_path,
        "folder": write_image_folder(tmp_path / "data", 2, 1),
    }
    # `keras_hebb.models` is not the name `model`.
    if re.search(r"\bmodel\b", source):
        names["model"] = small_hah_network()
    return names


@pytest.fixture(autouse=True)
def quiet(tmp_path, monkeypatch):
    """Examples run in a scratch folder, without Keras' progress bars."""
    monkeypatch.chdir(tmp_path)
    keras.config.disable_interactive_logging()
    yield
    keras.config.enable_interactive_logging()


@pytest.mark.parametrize("test", list(docstring_examples()))
@pytest.mark.slow
def test_docstring_example_runs(test, tmp_path):
    test.globs.update(fixtures(tmp_path, "".join(e.source for e in test.examples)))
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    report = []
    runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
