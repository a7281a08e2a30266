import keras
import numpy as np
import pytest
from keras import ops
from toy import halves_problem, linear_classifier

from keras_hebb.robustness.masking import (
    FAIL,
    NOT_APPLICABLE,
    PASS,
    gradient_masking_checks,
)


class Quantize(keras.layers.Layer):
    """Rounds inputs to 1/8 steps: its gradient is zero almost everywhere."""

    def call(self, inputs):
        return ops.round(inputs * 8.0) / 8.0


SMALL = {
    "spsa_images": 8,
    "spsa_iterations": 20,
    "spsa_samples": 64,
    "steps": (5, 10, 20),
    "restarts": (1, 3),
    "eps_multiples": (1, 4, 16, 64),
}


@pytest.fixture(scope="module")
def linear():
    model, x, y = linear_classifier(2, n=128, epochs=30, size=4)
    return model, x[:24], y[:24]


@pytest.mark.slow
def test_honest_linear_model_passes(linear):
    model, x, y = linear
    source, _, _ = linear_classifier(2, n=128, epochs=5, size=4)
    result = gradient_masking_checks(
        model, x, y, 0.05, "linf", source_model=source, verbose=False, **SMALL
    )
    assert result["eps_sweep"]["verdict"] == PASS
    assert result["convergence"]["verdict"] == PASS
    assert result["white_box_strongest"]["verdict"] == PASS
    assert result["bpda"]["verdict"] == NOT_APPLICABLE
    assert result["flagged"] is False
    sweep = result["eps_sweep"]["numbers"]["pgd20_accuracy_by_eps"]
    assert list(sweep.values())[-1] == 0.0


@pytest.mark.slow
def test_rounding_layer_is_flagged(linear, capsys):
    x, y = halves_problem(128, 2, size=4)
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((4, 4, 3)),
            Quantize(),
            keras.layers.Flatten(),
            keras.layers.Dense(2),
        ],
        name="quantized",
    )
    model.compile(
        keras.optimizers.Adam(0.01),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    assert np.mean(np.argmax(model.predict(x[:24], verbose=0), 1) == y[:24]) > 0.8
    result = gradient_masking_checks(
        model, x[:24], y[:24], 0.05, "linf", source_model=linear[0], **SMALL
    )
    assert result["flagged"] is True
    assert result["eps_sweep"]["verdict"] == FAIL
    assert "FAIL" in capsys.readouterr().out
