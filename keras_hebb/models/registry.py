"""Network builders by name: what a run's configuration can ask for.

A builder is a function of keyword arguments (a `name` among them, which
a run sets to the variant's name) returning an uncompiled `keras.Model`
of [0, 1] images to logits. The registry maps
names to "module:function" paths, so that configurations can be checked
(names, argument names) without importing TensorFlow; `register_network`
adds a user's own builder.

Example:

>>> get_builder("hah_vgg")(depth=11, width=0.25).output_shape
(None, 10)
"""

import importlib
import inspect

from keras_hebb.models.hah_options import HaHOptions

NETWORKS = {
    "baseline_vgg": "keras_hebb.models.vgg:baseline_vgg",
    "hah_vgg": "keras_hebb.models.vgg:hah_vgg",
    "baseline_resnet": "keras_hebb.models.resnet:baseline_resnet",
    "hah_resnet": "keras_hebb.models.resnet:hah_resnet",
    "baseline_wide_resnet": "keras_hebb.models.resnet:baseline_wide_resnet",
    "hah_wide_resnet": "keras_hebb.models.resnet:hah_wide_resnet",
    "baseline_lenet": "keras_hebb.models.lenet:baseline_lenet",
    "hah_lenet": "keras_hebb.models.lenet:hah_lenet",
}


def register_network(name, builder):
    """Makes `builder` (a function, or a "module:function" path) available to
    configurations as `name`."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"A network name must be an identifier. Received: {name!r}")
    NETWORKS[name] = builder


def check_network_name(name):
    """Raises a `ValueError` naming an unknown network and listing the known."""
    if name not in NETWORKS:
        raise ValueError(
            f"Unknown network {name!r}; registered networks: {sorted(NETWORKS)}."
        )


def get_builder(name):
    """The builder function registered as `name`."""
    check_network_name(name)
    builder = NETWORKS[name]
    if callable(builder):
        return builder
    module, function = builder.split(":")
    return getattr(importlib.import_module(module), function)


def builder_parameters(name):
    """The keyword arguments the builder `name` accepts, in order; a HaH
    builder's (one taking `hah_options`) include every `HaHOptions` field,
    which it takes by name too."""
    parameters = inspect.signature(get_builder(name)).parameters
    names = [n for n, p in parameters.items() if p.kind is not p.VAR_KEYWORD]
    if "hah_options" in parameters:
        names += HaHOptions.builder_names()
    return names
