"""The adapters to library versions, and the check of those versions."""

import pytest

from keras_hebb import _compat
from keras_hebb._compat import cleverhans as cleverhans_compat


def test_the_installed_libraries_are_the_checked_versions():
    # Fails, naming the library, on versions the adapters were not checked on.
    _compat.check_versions()


@pytest.mark.parametrize(
    "versions, named",
    [
        (
            {"keras": "3.16.0", "tensorflow": "2.21.0", "cleverhans": "4.0.0"},
            "keras 3.16.0",
        ),
        (
            {"keras": "3.15.1", "tensorflow": "2.20.0", "cleverhans": "4.0.0"},
            "tensorflow 2.20.0",
        ),
        (
            {"keras": "3.15.1", "tensorflow": "2.21.0", "cleverhans": "4.1.0"},
            "cleverhans 4.1.0",
        ),
    ],
)
def test_an_unchecked_version_is_named_with_its_range(versions, named):
    with pytest.raises(_compat.UnsupportedVersionError, match=named) as error:
        _compat.check_versions(versions)
    assert "checked:" in str(error.value) and "keras_hebb/_compat" in str(error.value)


def test_the_spsa_optimizer_takes_keras_3_arguments():
    optimizer = cleverhans_compat.KerasLearningRateSPSAAdam(lr=0.05, num_samples=8)
    assert optimizer.lr == 0.05 and float(optimizer.learning_rate) == pytest.approx(
        0.05
    )
    with pytest.raises(ValueError, match="must be even"):
        cleverhans_compat.KerasLearningRateSPSAAdam(num_samples=3)


def test_no_library_module_patches_with_unittest_mock():
    import pathlib

    package = pathlib.Path(_compat.__file__).parents[1]
    users = [p for p in package.rglob("*.py") if "unittest" in p.read_text()]
    assert users == []
