"""The runs: configuration, data, training, evaluation, reports, the command line.

Built on the method (`keras_hebb.layers`, `keras_hebb.models`) and the
evaluation (`keras_hebb.robustness`, `keras_hebb.metrics`), which import
nothing from here.
"""

from keras_hebb._extras import require_extra

require_extra("experiments", "keras_hebb.run (the runs and the keras-hebb command)")
