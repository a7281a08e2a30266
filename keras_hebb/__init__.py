"""keras-hebb: Keras networks with sparse, strong activations (HaH learning)."""

from keras_hebb import layers, models, saving, validation
from keras_hebb.hah import hah_score

__version__ = "0.1.0"

__all__ = ["hah_score", "layers", "models", "saving", "validation"]
