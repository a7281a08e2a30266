"""Adapters to the libraries' versions: each works around one named bug or
change, and was checked on the versions in `CHECKED`.

- `KerasLearningRateSPSAAdam`: CleverHans 4's `SPSAAdam` calls
  `Adam.__init__(lr=...)`, which Keras 3's Adam refuses (it takes
  `learning_rate=`), and later reads `self.lr`.
- `op_determinism_enabled`: TensorFlow exports the switch of op determinism
  (`tf.config.experimental.enable_op_determinism`) but not its reading,
  which lives in `tensorflow.python.framework.config`.
- `ResettableAdam`: CleverHans 4's Carlini-Wagner resets its optimizer at
  each binary-search step by zeroing `optimizer.variables()`, a method in
  Keras 2 and a property in Keras 3 (where zeroing would also zero the
  learning rate).

`check_versions()` raises `UnsupportedVersionError` naming every installed
library outside the checked range; importing this module warns instead, so
that a newer release still runs, with the reason named if it fails.
"""

import importlib.metadata
import warnings

import keras
from cleverhans.tf2.attacks import spsa as cleverhans_spsa
from packaging.specifiers import SpecifierSet
from packaging.version import Version

# The versions these adapters were checked on (the test suite runs on them).
CHECKED = {
    "cleverhans": SpecifierSet("==4.0.0"),
    "keras": SpecifierSet(">=3.15,<3.16"),
    "tensorflow": SpecifierSet(">=2.21,<2.22"),
}


class UnsupportedVersionError(RuntimeError):
    """An installed library outside the versions the adapters were checked on."""


def installed_versions():
    """{distribution: installed version} of the libraries in `CHECKED`."""
    return {name: importlib.metadata.version(name) for name in CHECKED}


def unchecked(versions):
    """The "name version (checked: range)" of each version outside `CHECKED`."""
    return [
        f"{name} {version} (checked: {CHECKED[name]})"
        for name, version in versions.items()
        if Version(version) not in CHECKED[name]
    ]


def check_versions(versions=None):
    """Raises `UnsupportedVersionError` if a library of `versions` (default:
    the installed ones) is outside the versions the adapters were checked on."""
    outside = unchecked(installed_versions() if versions is None else versions)
    if outside:
        raise UnsupportedVersionError(
            "keras_hebb's adapters to CleverHans and Keras (keras_hebb/_compat.py) "
            f"were not checked on {', '.join(outside)}; run the test suite on "
            "these versions before trusting SPSA or Carlini-Wagner results."
        )


if unchecked(installed_versions()):
    warnings.warn(
        f"keras_hebb._compat: unchecked versions {unchecked(installed_versions())}",
        stacklevel=2,
    )


class KerasLearningRateSPSAAdam(cleverhans_spsa.SPSAAdam):
    """CleverHans' SPSA optimizer built with Keras 3's Adam constructor.

    CleverHans 4's constructor calls `Adam(lr=...)`; this one calls Adam's
    with `learning_rate=` and sets what CleverHans' methods read (`lr`, and
    its `_delta`, `_num_samples`, `_num_iters`, `_compare_to_analytic_grad`,
    as its constructor would). The rest of the optimizer is CleverHans' own.
    """

    def __init__(
        self,
        lr=0.01,
        delta=0.01,
        num_samples=128,
        num_iters=1,
        compare_to_analytic_grad=False,
    ):
        keras.optimizers.Adam.__init__(self, learning_rate=float(lr))
        if num_samples % 2:
            raise ValueError(f"`num_samples` must be even. Received: {num_samples}")
        self.lr = float(lr)
        self._delta = delta
        self._num_samples = num_samples // 2
        self._num_iters = num_iters
        self._compare_to_analytic_grad = compare_to_analytic_grad


class ResettableAdam:
    """Stands in for CleverHans CW's optimizer under Keras 3: its reset,
    reading `variables()`, builds a new Adam instead of zeroing the old one's
    variables."""

    def __init__(self, learning_rate):
        self.learning_rate = learning_rate
        self.adam = keras.optimizers.Adam(learning_rate)

    def variables(self):
        self.adam = keras.optimizers.Adam(self.learning_rate)
        return []

    def apply_gradients(self, grads_and_vars):
        self.adam.apply_gradients(grads_and_vars)


def op_determinism_enabled():
    """Whether TensorFlow's op determinism is on."""
    from tensorflow.python.framework import config

    return config.is_op_determinism_enabled()
