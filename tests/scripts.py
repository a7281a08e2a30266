"""The scripts of `experiments/` as modules, for tests that call their functions."""

import importlib.util
import pathlib
import sys

EXPERIMENTS = pathlib.Path(__file__).parents[1] / "experiments"
# LeNet-sized variants for tests whose subject is the run's machinery, not the
# paper's network (with `network_args.width=0.125`: a fraction of VGG11's
# tracing time).
LENET_CONFIG = EXPERIMENTS / "configs" / "lenet.yaml"
LENET_WIDTH = "network_args.width=0.125"


def lenet_smoke_config(data_folder, *overrides):
    """The smoke preset on those LeNet-sized variants, reading `data_folder`,
    with dotted `overrides` after."""
    from keras_hebb.run.config import load_config

    return load_config(
        "smoke",
        files=[LENET_CONFIG],
        overrides=[f"data.source={data_folder}", LENET_WIDTH, *overrides],
    )


def load_script(name):
    """`experiments/<name>.py` as a module, registered in `sys.modules`
    (AutoGraph finds the source of a script's functions through it)."""
    spec = importlib.util.spec_from_file_location(name, EXPERIMENTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
