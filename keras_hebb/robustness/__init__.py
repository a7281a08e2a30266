"""Robustness evaluation: input noise, adversarial attacks, gradient-masking checks.

Works on any Keras classifier of [0, 1] images to logits; names are imported
on first use.
"""

from keras_hebb._extras import require_extra
from keras_hebb._lazy import lazy_exports

require_extra("robustness", "keras_hebb.robustness")

__all__ = [
    "BPDA",
    "FGSM",
    "PGD",
    "SPSA",
    "Attack",
    "AutoAttack",
    "AutoAttackRun",
    "CarliniWagnerL2",
    "MomentumIterative",
    "TorchClassifier",
    "Transfer",
    "attack_accuracy",
    "conv_input_snr",
    "noise_sweep",
    "noisy_accuracy",
    "pgd_accuracy",
    "straight_through_model",
    "worst_case_accuracy",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "Attack": "keras_hebb.robustness.attacks",
        "AutoAttack": "keras_hebb.robustness.autoattack",
        "AutoAttackRun": "keras_hebb.robustness.autoattack",
        "BPDA": "keras_hebb.robustness.attacks",
        "CarliniWagnerL2": "keras_hebb.robustness.carlini_wagner",
        "FGSM": "keras_hebb.robustness.attacks",
        "MomentumIterative": "keras_hebb.robustness.attacks",
        "PGD": "keras_hebb.robustness.attacks",
        "SPSA": "keras_hebb.robustness.spsa",
        "TorchClassifier": "keras_hebb.robustness.torch_bridge",
        "Transfer": "keras_hebb.robustness.attacks",
        "attack_accuracy": "keras_hebb.robustness.attacks",
        "conv_input_snr": "keras_hebb.robustness.noise",
        "noise_sweep": "keras_hebb.robustness.noise",
        "noisy_accuracy": "keras_hebb.robustness.noise",
        "pgd_accuracy": "keras_hebb.robustness.attacks",
        "straight_through_model": "keras_hebb.robustness.bpda",
        "worst_case_accuracy": "keras_hebb.robustness.attacks",
    },
)
