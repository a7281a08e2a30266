import keras
import pytest

from keras_hebb.models.registry import (
    NETWORKS,
    builder_parameters,
    get_builder,
    register_network,
)
from keras_hebb.run.config import ConfigError, load_config
from keras_hebb.run.networks import build_network


def layer_types(model):
    return [type(layer).__name__ for layer in model.layers]


def test_names_resolve_to_builders_without_importing_them_first():
    assert NETWORKS["hah_vgg"] == "keras_hebb.models.vgg:hah_vgg"
    assert get_builder("hah_vgg").__name__ == "hah_vgg"
    assert "threshold" in builder_parameters("hah_vgg")
    with pytest.raises(
        ValueError, match=r"Unknown network 'resnet'; registered networks: \["
    ):
        get_builder("resnet")
    with pytest.raises(ValueError, match="identifier"):
        register_network("not a name", lambda: None)


def test_a_registered_builder_is_a_configurable_variant(monkeypatch):
    def tiny(width=1.0, name="tiny"):
        inputs = keras.Input((32, 32, 3))
        x = keras.layers.Conv2D(max(1, int(8 * width)), 3, name="conv1")(inputs)
        x = keras.layers.GlobalAveragePooling2D()(keras.layers.ReLU()(x))
        return keras.Model(inputs, keras.layers.Dense(10)(x), name=name)

    monkeypatch.setitem(NETWORKS, "tiny", NETWORKS.get("tiny"))
    register_network("tiny", tiny)
    config = load_config(
        "smoke", overrides=["variants.mine.network=tiny", "network_args.width=0.5"]
    )
    # The VGG variants get depth and width, the tiny network width alone.
    assert config.builder_arguments("mine") == {"width": 0.5}
    assert config.builder_arguments("hah") == {"depth": 11, "width": 0.5}
    model = build_network(config, "mine", 1)
    assert model.name == "mine" and model.get_layer("conv1").filters == 4
    with pytest.raises(
        ConfigError, match="variants.mine.args.depth: tiny takes no argument"
    ):
        load_config(
            "smoke",
            overrides=["variants.mine.network=tiny", "variants.mine.args.depth=3"],
        )


@pytest.mark.parametrize(
    "variant, present, absent",
    [
        ("baseline", ["BatchNormalization"], ["HaHCost", "FractionalThreshold"]),
        (
            "hah",
            [
                "HaHCost",
                "DivisiveNormalization",
                "FractionalThreshold",
                "ImplicitNormConv2D",
            ],
            [],
        ),
        ("no_divnorm", ["HaHCost", "FractionalThreshold"], ["DivisiveNormalization"]),
        (
            "no_threshold",
            ["HaHCost", "DivisiveNormalization"],
            ["FractionalThreshold", "AdaptiveThreshold"],
        ),
        ("adaptive", ["AdaptiveThreshold"], ["FractionalThreshold"]),
        ("no_implicit_norm", ["HaHCost", "Conv2D"], ["ImplicitNormConv2D"]),
        (
            "baseline_threshold",
            ["BatchNormalization", "FractionalThreshold"],
            ["HaHCost"],
        ),
    ],
)
def test_every_ablation_variant_builds_what_it_names(variant, present, absent):
    config = load_config("smoke", "ablation")
    model = build_network(config, variant, 0)
    types = layer_types(model)
    for name in present:
        assert name in types, (variant, name)
    for name in absent:
        assert name not in types, (variant, name)
    if variant == "no_implicit_norm":
        inner = {
            type(layer.layer).__name__
            for layer in model.layers
            if hasattr(layer, "layer")
        }
        assert inner == {"Conv2D"}


def test_ablation_variants_differ_only_where_named():
    config = load_config("smoke", "ablation")
    costs = {
        variant: [
            layer.alpha
            for layer in build_network(config, variant, 0).layers
            if hasattr(layer, "alpha")
        ]
        for variant in ("hah", "no_cost", "end_to_end")
    }
    assert costs["hah"] == costs["end_to_end"] and costs["hah"][0] == 0.0045
    assert costs["no_cost"] == [0.0] * 6
    gradients = {
        layer.gradient
        for layer in build_network(config, "end_to_end", 0).layers
        if hasattr(layer, "gradient")
    }
    assert gradients == {"end_to_end"}
