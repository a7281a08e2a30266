"""The paper's networks, the registry of network builders and the model class
that trains them (imported on first use)."""

from keras_hebb._lazy import lazy_exports

__all__ = ["HaHModel", "baseline_vgg", "get_builder", "hah_vgg"]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "HaHModel": "keras_hebb.models.hah_model",
        "baseline_vgg": "keras_hebb.models.vgg",
        "hah_vgg": "keras_hebb.models.vgg",
        "get_builder": "keras_hebb.models.registry",
    },
)
