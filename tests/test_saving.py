import zipfile

import keras
import numpy as np
import pytest

from keras_hebb.saving import ModelFileError, load_model


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    path = tmp_path_factory.mktemp("models") / "dense.keras"
    model.save(path)
    return model, path


def test_good_file_loads(saved):
    model, path = saved
    x = np.ones((2, 4), "float32")
    np.testing.assert_array_equal(load_model(path).predict(x, verbose=0), model(x))


def test_truncated_file_names_the_file(saved, tmp_path):
    _, path = saved
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ModelFileError, match=f"{truncated} is not a .keras model"):
        load_model(truncated)


def test_garbage_bytes_name_the_file(tmp_path):
    garbage = tmp_path / "garbage.keras"
    garbage.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(ModelFileError, match=f"{garbage} is not a .keras model"):
        load_model(garbage)


def test_damaged_member_fails_its_checksum(saved, tmp_path):
    _, path = saved
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("model.weights.h5")
    # Flip bytes inside the stored weights, leaving the zip's structure intact.
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 200
    data[start : start + 8] = bytes(255 - b for b in data[start : start + 8])
    damaged = tmp_path / "damaged.keras"
    damaged.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=f"{damaged} is a corrupted .keras file"):
        load_model(damaged)


def test_missing_file_and_wrong_archive_are_named(tmp_path):
    with pytest.raises(ModelFileError, match="none.keras: no such model file"):
        load_model(tmp_path / "none.keras")
    other = tmp_path / "other.keras"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("readme.txt", "not a model")
    with pytest.raises(ModelFileError, match=r"other.keras is not .* lacks \['config"):
        load_model(other)


def test_lambda_layers_are_refused_in_safe_mode(tmp_path):
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs))
    path = tmp_path / "lambda.keras"
    model.save(path)
    with pytest.raises(ModelFileError, match=f"{path} could not be loaded.*safe"):
        load_model(path)
