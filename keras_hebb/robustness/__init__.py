"""Robustness evaluation: input noise, adversarial attacks, gradient-masking checks."""

from keras_hebb.robustness.apgd import APGD
from keras_hebb.robustness.attacks import (
    BPDA,
    FGSM,
    PGD,
    Attack,
    MomentumIterative,
    Transfer,
    attack_accuracy,
    pgd_accuracy,
    worst_case_accuracy,
)
from keras_hebb.robustness.bpda import straight_through_model
from keras_hebb.robustness.carlini_wagner import CarliniWagnerL2
from keras_hebb.robustness.noise import conv_input_snr, noise_sweep, noisy_accuracy
from keras_hebb.robustness.spsa import SPSA

__all__ = [
    "APGD",
    "Attack",
    "BPDA",
    "CarliniWagnerL2",
    "FGSM",
    "MomentumIterative",
    "PGD",
    "SPSA",
    "Transfer",
    "attack_accuracy",
    "conv_input_snr",
    "noise_sweep",
    "noisy_accuracy",
    "pgd_accuracy",
    "straight_through_model",
    "worst_case_accuracy",
]
