"""keras-hebb: Keras networks with sparse, strong activations (HaH learning).

The method (`layers`, `models`, `hah_score`), the data (`data`), the
evaluation (`robustness`, `metrics`, `callbacks`) and the runs (`keras_hebb.run`: configuration,
training, reports, the `keras-hebb` command). Submodules are imported on
first use, so that the command line answers `--help` without TensorFlow.
"""

from keras_hebb._lazy import lazy_exports

__version__ = "0.2.0"

__all__ = ["data", "hah_score", "layers", "models", "saving", "validation"]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "data": "keras_hebb.data",
        "hah_score": "keras_hebb.hah",
        "layers": "keras_hebb.layers",
        "models": "keras_hebb.models",
        "saving": "keras_hebb.saving",
        "validation": "keras_hebb.validation",
        "robustness": "keras_hebb.robustness",
    },
)
