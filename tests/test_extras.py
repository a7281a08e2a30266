"""The extras: declared once in setup.cfg, named when missing."""

import importlib.metadata

import pytest

from keras_hebb import _extras


def names(requirements):
    return {requirement.name for requirement in requirements}


def test_extras_include_what_they_name():
    robustness = names(_extras.extra_requirements("robustness"))
    experiments = names(_extras.extra_requirements("experiments"))
    assert {"cleverhans", "pyautoattack", "torch"} <= robustness
    assert robustness <= experiments and "omegaconf" in experiments
    jax = names(_extras.extra_requirements("jax"))
    assert jax == {"jax"}
    everything = [r.name for r in _extras.extra_requirements("all")]
    assert set(everything) == experiments | jax
    assert len(everything) == len(experiments | jax)
    assert "pytest" in names(_extras.extra_requirements("test"))
    assert "tensorflow" not in experiments  # a core requirement


def test_a_missing_distribution_names_the_extra_and_the_command(monkeypatch):
    monkeypatch.setattr(
        _extras, "is_installed", lambda requirement: requirement.name != "cleverhans"
    )
    with pytest.raises(_extras.MissingExtraError) as error:
        _extras.require_extra("robustness", "keras_hebb.robustness")
    message = str(error.value)
    assert "missing: ['cleverhans']" in message
    assert "pip install 'keras-hebb[robustness]'" in message


def test_a_source_tree_without_metadata_checks_nothing(monkeypatch):
    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "requires", not_installed)
    assert _extras.extra_requirements("robustness") is None
    _extras.require_extra("robustness", "keras_hebb.robustness")
