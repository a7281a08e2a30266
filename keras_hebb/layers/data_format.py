import keras


def channels_last_only(data_format, layer_name):
    """Resolves `data_format` and raises unless it is "channels_last".

    Args:
        data_format: None (use `keras.config.image_data_format()`) or a string.
        layer_name: the class name to put in the error message.

    Returns:
        "channels_last".
    """
    resolved = data_format or keras.config.image_data_format()
    if resolved != "channels_last":
        raise ValueError(
            f"{layer_name} supports only data_format='channels_last' "
            "(batch, height, width, channels). Received: "
            f"data_format={resolved!r}. Transpose channels-first inputs with "
            "keras.layers.Permute((2, 3, 1)) first."
        )
    return resolved
