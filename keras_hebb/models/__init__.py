"""The networks (VGG, ResNet-18, WideResNet, LeNet, each as a baseline and
a HaH version), the HaH block for a user's own model, the registry of
network builders and the model class that trains them (imported on first
use)."""

from keras_hebb._lazy import lazy_exports

__all__ = [
    "HaHModel",
    "HaHOptions",
    "baseline_lenet",
    "baseline_resnet",
    "baseline_vgg",
    "baseline_wide_resnet",
    "get_builder",
    "hah_block",
    "hah_lenet",
    "hah_resnet",
    "hah_vgg",
    "hah_wide_resnet",
    "register_network",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "HaHModel": "keras_hebb.models.hah_model",
        "HaHOptions": "keras_hebb.models.hah_options",
        "baseline_vgg": "keras_hebb.models.vgg",
        "hah_vgg": "keras_hebb.models.vgg",
        "baseline_resnet": "keras_hebb.models.resnet",
        "hah_resnet": "keras_hebb.models.resnet",
        "baseline_wide_resnet": "keras_hebb.models.resnet",
        "hah_wide_resnet": "keras_hebb.models.resnet",
        "baseline_lenet": "keras_hebb.models.lenet",
        "hah_lenet": "keras_hebb.models.lenet",
        "hah_block": "keras_hebb.models.blocks",
        "get_builder": "keras_hebb.models.registry",
        "register_network": "keras_hebb.models.registry",
    },
)
