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


def load_script(name):
    """`experiments/<name>.py` as a module, registered in `sys.modules`
    (AutoGraph finds the source of a script's functions through it)."""
    spec = importlib.util.spec_from_file_location(name, EXPERIMENTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
