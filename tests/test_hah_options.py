"""One set of HaH options for every HaH builder and `hah_block`."""

import dataclasses

import pytest

from keras_hebb.models import HaHOptions
from keras_hebb.models.registry import NETWORKS, builder_parameters, get_builder


def test_options_by_name_go_over_an_options_object():
    base = HaHOptions(keep=0.3, threshold="adaptive")
    options = HaHOptions.of(base, hah_gradient="end_to_end", sigma=0.5)
    assert options == dataclasses.replace(base, gradient="end_to_end", sigma=0.5)
    assert HaHOptions.of() == HaHOptions()


def test_an_unknown_option_or_threshold_is_refused_by_name():
    with pytest.raises(TypeError, match=r"Unknown HaH option\(s\) \['kepp'\]"):
        HaHOptions.of(kepp=0.3)
    with pytest.raises(TypeError, match="must be a HaHOptions"):
        HaHOptions.of({"keep": 0.3})
    with pytest.raises(ValueError, match="`threshold` must be one of"):
        HaHOptions(threshold="hard")


@pytest.mark.parametrize("name", sorted(n for n in NETWORKS if n.startswith("hah_")))
def test_every_hah_builder_takes_every_option_by_name(name):
    parameters = builder_parameters(name)
    assert set(HaHOptions.builder_names()) <= set(parameters)
    assert "hah_gradient" in parameters and "gradient" not in parameters
    assert "options" not in parameters and "hah_options" in parameters


def layer_configs(model):
    return [
        {k: v for k, v in layer.get_config().items() if k != "name"}
        for layer in model.layers
    ]


def test_an_options_object_builds_what_the_same_options_by_name_build():
    build = get_builder("hah_vgg")
    by_name = build(depth=11, width=0.0625, keep=0.3, divisive_norm=False)
    by_object = build(
        depth=11, width=0.0625, hah_options=HaHOptions(keep=0.3, divisive_norm=False)
    )
    assert layer_configs(by_name) == layer_configs(by_object)
    assert by_name.get_layer("threshold1").keep == 0.3
    assert "divnorm1" not in [layer.name for layer in by_name.layers]
