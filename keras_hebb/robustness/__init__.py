"""Robustness evaluation: input noise and adversarial attacks."""

from keras_hebb.robustness.attacks import pgd_accuracy
from keras_hebb.robustness.noise import conv_input_snr, noisy_accuracy

__all__ = ["conv_input_snr", "noisy_accuracy", "pgd_accuracy"]
