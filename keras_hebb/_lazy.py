"""Public names of a package, imported on first use.

The package `__init__`s export their names through `lazy_exports`, so that
`import keras_hebb.run.cli` (the command line's `--help`) does not start
TensorFlow: a name's module is imported the first time the name is read.
"""

import importlib


def lazy_exports(package, exports):
    """`__getattr__` and `__dir__` for a package exporting `exports`, a dict
    public name -> module that defines it (a submodule itself when the name is
    that submodule's)."""

    def __getattr__(name):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(exports[name])
        return module if module.__name__.endswith("." + name) else getattr(module, name)

    def __dir__():
        return sorted(exports)

    return __getattr__, __dir__
