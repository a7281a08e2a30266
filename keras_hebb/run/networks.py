"""The networks of a run's variants: their builder arguments, built and
compiled with the run's recipe and precision."""

import keras

from keras_hebb.distribute import get_strategy
from keras_hebb.models.registry import builder_parameters, get_builder
from keras_hebb.precision import precision_policy
from keras_hebb.run.inputs import dataset_of
from keras_hebb.run.recipe import optimizer, training_perturbation


def network_arguments(config, variant):
    """The builder arguments of `variant`: the data's (input shape, number of
    classes, input statistics) where the builder takes them and the
    configuration does not set them, then the configuration's."""
    builder = config.variants[variant].network
    from_data = dataset_of(config).network_arguments()
    accepted = builder_parameters(builder)
    return {
        **{key: value for key, value in from_data.items() if key in accepted},
        **config.builder_arguments(variant),
        "name": variant,
    }


def build_network(config, variant, seed, strategy=None):
    """The network of `variant`, initialised from `seed`, built and compiled
    in `strategy.scope()`, with its training mode's perturbation."""
    keras.utils.set_random_seed(seed)
    builder = get_builder(config.variants[variant].network)
    with (strategy or get_strategy()).scope():
        with precision_policy(config.training.precision):
            model = builder(**network_arguments(config, variant))
        model.training_perturbation = training_perturbation(
            config.variants[variant].training_mode, seed
        )
        model.compile(
            optimizer(config.training),
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
    return model


def check_networks_build(config):
    """Builds every variant once, so that a bad argument value fails before
    anything trains, with the variant named."""
    for variant in config.variants:
        try:
            get_builder(config.variants[variant].network)(
                **network_arguments(config, variant)
            )
        except (TypeError, ValueError) as error:
            raise ValueError(f"variants.{variant}: {error}") from None
    keras.backend.clear_session()
