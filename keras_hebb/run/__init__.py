"""The runs: configuration, data, training, evaluation, reports, the command line.

- `config`: the checked `RunConfig` of presets, files and overrides;
- `folder`: a run's folder (`RunFolder`, `NetworkFolder`, the writer lock)
  and `records`: what it holds (`ResultsRecord`, `RobustnessRecord`,
  `CorruptionsRecord`, `MetricKey`);
- `recipe`, `networks`, `inputs`, `setting`, `checkpoint`, `train`: one
  network trained, resumably; `evaluate`: its figures;
- `comparison` and `statistics`: spreads over seeds and paired comparisons;
- `experiment`: a whole run; `robust_accuracy` and `corruption_report`
  (with `corruption_data`): the robustness and corruption reports;
- `report/`: each record rendered; `cli`: the `keras-hebb` command.

Built on the method (`keras_hebb.layers`, `keras_hebb.models`) and the
evaluation (`keras_hebb.robustness`, `keras_hebb.metrics`), which import
nothing from here.
"""

from keras_hebb._extras import require_extra

require_extra("experiments", "keras_hebb.run (the runs and the keras-hebb command)")
