"""The paper's networks and the model class that trains them."""

from keras_hebb.models.hah_model import HaHModel
from keras_hebb.models.vgg import baseline_vgg, hah_vgg

__all__ = ["HaHModel", "baseline_vgg", "hah_vgg"]
