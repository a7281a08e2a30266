"""Checks keras-hebb's declared dependencies in fresh virtual environments.

    python experiments/check_install.py core
    python experiments/check_install.py lowest

`core` installs the package without extras (`pip install -c constraints.txt
.`) and checks that the layers and models import and train a step, and that
`keras_hebb.robustness` and `keras_hebb.run` refuse to import with the extra
to install. `lowest` installs the lowest versions setup.cfg allows of the
core requirements (TensorFlow, Keras, NumPy, packaging), every other
package as constraints.txt pins it, and runs the test suite. Neither runs in
CI (each installs TensorFlow into a new environment: minutes, and a package
registry); experiments/results/install_checks.md records what they found.
"""

import argparse
import configparser
import pathlib
import subprocess
import sys
import tempfile

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = pathlib.Path(__file__).resolve().parents[1]
CONSTRAINTS = ROOT / "constraints.txt"
CORE_CHECK = """
import importlib
import numpy as np, keras, keras_hebb
from keras_hebb._extras import MissingExtraError
model = keras_hebb.models.hah_vgg(depth=11, width=0.0625)
model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
x = np.random.default_rng(0).uniform(size=(8, 32, 32, 3)).astype("float32")
history = model.fit(x, np.arange(8), epochs=1, verbose=0)
print("trained one epoch; logs:", sorted(history.history))
for name in ("keras_hebb.robustness", "keras_hebb.run"):
    try:
        importlib.import_module(name)
    except MissingExtraError as error:
        print("refused:", error)
    else:
        raise SystemExit(f"{name} imported without its extra")
"""


def run(*command, cwd=None):
    print("$", " ".join(str(c) for c in command), flush=True)
    subprocess.run([str(c) for c in command], check=True, cwd=cwd)


def new_environment(folder):
    """A fresh venv in `folder`; returns its Python."""
    run(sys.executable, "-m", "venv", folder)
    return pathlib.Path(folder) / "bin" / "python"


def core_requirements():
    """setup.cfg's install_requires, as `Requirement`s."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    lines = config["options"]["install_requires"].strip().splitlines()
    return [Requirement(line) for line in lines]


def lowest(requirement):
    """The requirement pinned to its lower bound (its `>=` version)."""
    bounds = [s.version for s in requirement.specifier if s.operator in (">=", "==")]
    if not bounds:
        raise ValueError(f"{requirement} has no lower bound")
    return f"{requirement.name}=={bounds[0]}"


def constraints_without(names, folder):
    """constraints.txt without the lines of `names`, written in `folder`."""
    kept = [
        line
        for line in CONSTRAINTS.read_text().splitlines()
        if not line.startswith("#")
        and canonicalize_name(line.split("==")[0]) not in names
    ]
    path = pathlib.Path(folder) / "constraints.txt"
    path.write_text("\n".join(kept) + "\n")
    return path


def check_core(folder):
    python = new_environment(folder / "venv")
    run(python, "-m", "pip", "install", "-q", "-c", CONSTRAINTS, ROOT)
    run(python, "-c", CORE_CHECK, cwd=folder)


def check_lowest(folder):
    pins = [lowest(r) for r in core_requirements()]
    names = {canonicalize_name(Requirement(pin).name) for pin in pins}
    python = new_environment(folder / "venv")
    constraints = constraints_without(names, folder)
    run(python, "-m", "pip", "install", "-q", "-c", constraints, *pins, f"{ROOT}[test]")
    run(python, "-m", "pip", "list", "--format=freeze")
    run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=ROOT)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("check", choices=("core", "lowest"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        {"core": check_core, "lowest": check_lowest}[args.check](pathlib.Path(folder))
    print(f"{args.check}: passed")


if __name__ == "__main__":
    main()
