"""What a network's trained weights depend on, recorded in its folder's
`variant.json`: resuming or reusing a folder trained with another setting
is refused.

Options added after the first runs are recorded only when they differ from
what came before them, so that earlier run folders still resume.
"""

import dataclasses
import json


class ConfigMismatchError(RuntimeError):
    """An output folder holds a network trained with another configuration."""


def training_setting(config, variant, seed):
    """Everything the trained weights of (`variant`, `seed`) depend on (the
    training mode only when it is not "standard" and the precision only when
    it is not "float32", as before they existed)."""
    mode = dataclasses.asdict(config.variants[variant].training_mode)
    training = config.to_dict()["training"]
    return {
        "variant": variant,
        "network": config.variants[variant].network,
        "arguments": config.builder_arguments(variant),
        **({"training_mode": mode} if mode["kind"] != "standard" else {}),
        "training": {
            key: value
            for key, value in training.items()
            if key != "seeds" and not (key == "precision" and value == "float32")
        },
        "data": data_setting(config.data),
        "seed": seed,
    }


def data_setting(data):
    """What of `data` the trained weights depend on. The options that did not
    exist before are recorded only when set: the held-out validation images
    (not the test split's) leave training, the others change what training
    sees."""
    setting = {
        "source": data.source,
        "train_limit": data.train_limit,
        "test_limit": data.test_limit,
    }
    if data.validation_source == "train":
        setting["holdout"] = data.validation_limit
    if data.image_size is not None:
        setting["image_size"] = list(data.image_size)
    if data.augment != "crop_flip":
        setting["augment"] = data.augment
    return setting


def check_same_setting(network, setting):
    """Records `setting` in the `NetworkFolder` `network`, or refuses one
    that was trained with another, naming the keys that differ."""
    setting = json.loads(json.dumps(setting))
    recorded = network.read_setting()
    if recorded is None:
        network.write_setting(setting)
        return
    if recorded != setting:
        differing = sorted(
            key
            for key in set(recorded) | set(setting)
            if recorded.get(key) != setting.get(key)
        )
        raise ConfigMismatchError(
            f"{network.path} was trained with another configuration ({differing} "
            f"differ: {[recorded.get(k) for k in differing]} there, "
            f"{[setting.get(k) for k in differing]} now). Use another --output, "
            f"or delete {network.path} to train it again."
        )
