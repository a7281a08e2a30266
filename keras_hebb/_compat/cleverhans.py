"""Adapters to CleverHans 4 under Keras 3, each named for the bug it works
around (checked on the versions of `keras_hebb._compat.CHECKED`).

- `KerasLearningRateSPSAAdam`: CleverHans 4's `SPSAAdam` calls
  `Adam.__init__(lr=...)`, which Keras 3's Adam refuses (it takes
  `learning_rate=`), and later reads `self.lr`.
- `ResettableAdam`: CleverHans 4's Carlini-Wagner resets its optimizer at
  each binary-search step by zeroing `optimizer.variables()`, a method in
  Keras 2 and a property in Keras 3 (where zeroing would also zero the
  learning rate).
"""

import keras
from cleverhans.tf2.attacks import spsa as cleverhans_spsa


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
