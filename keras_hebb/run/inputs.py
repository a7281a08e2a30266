"""The images a run reads: its training and validation batches and the
first test images every evaluation uses (`keras_hebb.data` configured by
`config.data`)."""

from keras_hebb import data as data_module


def data_options(config):
    """The `keras_hebb.data` arguments that say how to read the data."""
    return {
        "image_size": config.data.image_size,
        "tfds_data_dir": config.data.tfds_data_dir,
    }


def dataset_of(config):
    """The `DatasetInfo` of the run's data (classes, image shape, statistics)."""
    return data_module.dataset_info(config.data.source, **data_options(config))


def training_data(config, seed, first_epoch):
    """The training batches of epochs `first_epoch`.. and the validation
    batches: the held-out training images, or the first test images."""
    data, options = config.data, data_options(config)
    held_out = data.validation_source == "train"
    holdout = data.validation_limit if held_out else 0
    train = data_module.image_dataset(
        data.source,
        "train",
        config.training.batch_size,
        limit=data.train_limit,
        seed=seed,
        epochs=range(first_epoch, config.training.epochs),
        holdout=holdout,
        augmentation=data.augment,
        **options,
    )
    validation = data_module.image_dataset(
        data.source,
        "validation" if held_out else "test",
        100,
        limit=None if held_out else data.validation_limit,
        holdout=holdout,
        **options,
    )
    return train, validation


def test_arrays(config, limit=None):
    """The first `limit` test images and their labels (default:
    `data.test_limit`, the images every evaluation uses)."""
    limit = config.data.test_limit if limit is None else limit
    return data_module.as_arrays(
        data_module.image_dataset(
            config.data.source, "test", 500, limit=limit, **data_options(config)
        )
    )
