"""Loading `.keras` model files safely, with errors that name the file.

`load_model` is how keras_hebb loads every model: always in Keras' safe
mode (a file cannot run code through `Lambda` layers), after checking that
the file exists and is a complete `.keras` archive, so a truncated copy or a
file of another kind fails at once with a `ModelFileError` naming it.
"""

import pathlib
import zipfile

import keras

# Importing them registers keras_hebb's layers and model class with Keras'
# serialization, so that files load without `custom_objects`.
import keras_hebb.layers
import keras_hebb.models.hah_model  # noqa: F401
from keras_hebb._compat import load_unsynchronized, saves_synchronized

# The members Keras writes into every `.keras` archive (keras/src/saving/saving_lib.py).
KERAS_MEMBERS = ("config.json", "metadata.json", "model.weights.h5")


class ModelFileError(ValueError):
    """Raised when a `.keras` file is missing, truncated, corrupted or unloadable."""


def check_keras_archive(path):
    """Raises ModelFileError unless `path` is a complete, uncorrupted `.keras` zip."""
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file.")
    if path.suffix != ".keras":
        raise ModelFileError(f"{path}: a model file's name must end in .keras.")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(
            f"{path} is not a .keras model file (not a zip archive; truncated, or "
            "a file of another kind?)."
        )
    try:
        with zipfile.ZipFile(path) as archive:
            missing = [m for m in KERAS_MEMBERS if m not in archive.namelist()]
            damaged = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise ModelFileError(f"{path} is a corrupted .keras file: {error}") from error
    if missing:
        raise ModelFileError(f"{path} is not a .keras model file: it lacks {missing}.")
    if damaged is not None:
        raise ModelFileError(
            f"{path} is a corrupted .keras file: member {damaged} fails its checksum."
        )


def load_model(path, compile=True):
    """Loads a `.keras` model in safe mode; errors name the file.

    Args:
        path: str or path of a `.keras` file written by `model.save`.
        compile: whether to compile the model as it was saved.

    Returns:
        The `keras.Model` (this module registers keras_hebb's layers and
        `HaHModel`, so no `custom_objects` are needed), on any backend: a file
        saved on TensorFlow loads on JAX and torch too
        (`keras_hebb._compat.load_unsynchronized`).

    Raises:
        ModelFileError: the file is missing, not a `.keras` archive,
            truncated or corrupted, or Keras cannot rebuild the model from it
            (including a model that needs `safe_mode=False`).

    Example:

    >>> model.save("hah.keras")
    >>> reloaded = keras_hebb.saving.load_model("hah.keras")
    """
    path = pathlib.Path(path)
    check_keras_archive(path)
    try:
        if keras.backend.backend() != "tensorflow" and saves_synchronized(path):
            return load_unsynchronized(path)
        return keras.saving.load_model(path, compile=compile, safe_mode=True)
    except Exception as error:
        raise ModelFileError(
            f"{path} could not be loaded as a Keras model (safe mode): "
            f"{type(error).__name__}: {error}"
        ) from error
