"""How a network sees its training images: as they are, with Gaussian noise,
or adversarially perturbed.

An input perturbation is given to `keras_hebb.models.HaHModel` as its
`training_perturbation`; the model's `train_step` applies it to each batch
before the forward pass, inside the compiled step. `TRAINING_MODES` names
the modes a run configuration can ask for. Names are imported on first use.
"""

from keras_hebb._lazy import lazy_exports

# The run configuration's names of the training modes ("standard": no
# perturbation).
TRAINING_MODES = ("standard", "gaussian_noise", "pgd", "fgsm_rs")

__all__ = [
    "TRAINING_MODES",
    "AdversarialTraining",
    "GaussianNoiseTraining",
    "InputPerturbation",
    "fgsm_rs",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "AdversarialTraining": "keras_hebb.training.adversarial_training",
        "GaussianNoiseTraining": "keras_hebb.training.noise_training",
        "InputPerturbation": "keras_hebb.training.perturbation",
        "fgsm_rs": "keras_hebb.training.adversarial_training",
    },
)
