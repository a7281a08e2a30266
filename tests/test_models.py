import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import keras_hebb
from keras_hebb.models import HaHModel, baseline_vgg, hah_vgg
from keras_hebb.saving import load_model

TINY = {"depth": 11, "width": 0.125, "num_classes": 2}
HAH_METRICS = (
    {"hah_loss"}
    | {f"hah{i}_score" for i in range(1, 7)}
    | {f"threshold{i}_nonzero" for i in range(1, 7)}
)


def toy_problem(rng, n=64):
    """Class 1 images are brighter on the left half, class 0 on the right."""
    x = rng.uniform(0.2, 0.5, size=(n, 32, 32, 3)).astype("float32")
    y = rng.integers(0, 2, size=n)
    x[y == 1, :, :16] += 0.4
    x[y == 0, :, 16:] += 0.4
    return x, y


# On JAX a step without XLA runs op by op, far slower and never used.
JIT_MODES = (True,) if keras.backend.backend() == "jax" else (False, True)


def compiled(model, jit_compile):
    """`model` compiled with Adam; with XLA always on JAX."""
    jit_compile = jit_compile or keras.backend.backend() == "jax"
    model.compile(
        keras.optimizers.Adam(1e-3),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        jit_compile=jit_compile,
    )
    return model


@pytest.mark.backends
@pytest.mark.parametrize("jit_compile", JIT_MODES)
@pytest.mark.parametrize("build", [hah_vgg, baseline_vgg])
@pytest.mark.slow
def test_training_lowers_the_loss(rng, build, jit_compile):
    x, y = toy_problem(rng)
    model = compiled(build(**TINY), jit_compile)
    history = model.fit(x, y, batch_size=16, epochs=4, shuffle=False, verbose=0).history
    assert history["loss"][-1] < history["loss"][0]
    assert np.all(np.isfinite(history["loss"]))
    if build is hah_vgg:
        assert HAH_METRICS <= set(history)
        assert all(
            0 < history[f"threshold{i}_nonzero"][-1] <= 0.25 for i in range(1, 7)
        )
        assert history["hah_loss"][-1] < 0


@pytest.mark.backends
@pytest.mark.slow
def test_a_plain_keras_model_trains_with_the_layers(rng):
    """Keras' own steps train with the HaH costs; they log the layers' statistics
    on TensorFlow, and as 0 on JAX (HaHModel has steps that do)."""
    network = hah_vgg(**TINY)
    plain = compiled(keras.Model(network.inputs, network.outputs), True)
    x, y = toy_problem(rng, 16)
    history = plain.fit(x, y, batch_size=8, verbose=0).history
    if keras.backend.backend() == "jax":
        assert history["hah1_score"] == [0.0]
    else:
        assert (
            history["hah1_score"][0] > 0 and 0 < history["threshold1_nonzero"][0] < 0.3
        )
    assert np.isfinite(history["loss"][0])


@pytest.mark.backends
@pytest.mark.slow
def test_evaluate_reports_hah_metrics(rng):
    x, y = toy_problem(rng, 16)
    model = compiled(hah_vgg(**TINY), False)
    logs = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    assert HAH_METRICS <= set(logs)
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y, model(x))
    assert logs["loss"] == pytest.approx(float(ce) + logs["hah_loss"], rel=1e-4)


@pytest.mark.backends
def test_paper_defaults():
    model = hah_vgg()
    convs = [layer for layer in model.layers if "conv" in type(layer).__name__.lower()]
    hah_layers = [
        layer for layer in model.layers if isinstance(layer, keras_hebb.layers.HaHCost)
    ]
    assert [layer.alpha for layer in hah_layers] == [
        0.0045,
        0.0025,
        0.0013,
        0.001,
        0.0008,
        0.0005,
    ]
    assert [layer.layer.filters for layer in hah_layers] == [64, 64, 128, 128, 256, 256]
    assert len(convs) + len(hah_layers) == 13
    assert {layer.gradient for layer in hah_layers} == {"local"}
    assert model.output_shape == (None, 10)
    assert baseline_vgg().count_params() > 14_000_000


@pytest.mark.backends
def test_standardisation_is_inside_the_model():
    model = baseline_vgg(**TINY)
    standardize = model.get_layer("standardize")
    mean = np.array([0.4914, 0.4822, 0.4465], "float32").reshape(1, 1, 1, 3)
    np.testing.assert_allclose(
        standardize(np.broadcast_to(mean, (1, 2, 2, 3))), 0, atol=1e-6
    )


@pytest.mark.backends
@pytest.mark.slow
def test_keras_file_round_trip_predicts_identically(rng, tmp_path):
    x, y = toy_problem(rng, 16)
    model = compiled(hah_vgg(**TINY), False)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    model.save(tmp_path / "model.keras")
    loaded = load_model(tmp_path / "model.keras")
    assert isinstance(loaded, HaHModel)
    np.testing.assert_array_equal(
        loaded.predict(x, verbose=0), model.predict(x, verbose=0)
    )
    assert loaded.get_layer("hah3").alpha == model.get_layer("hah3").alpha


@pytest.mark.slow
def test_saved_model_serves_without_keras_hebb(rng, tmp_path):
    x, y = toy_problem(rng, 16)
    model = compiled(hah_vgg(**TINY), False)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    model.export(str(tmp_path / "export"), verbose=False)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "expected.npy", model.predict(x, verbose=0))
    script = textwrap.dedent(
        f"""
        import sys
        import numpy as np
        import tensorflow as tf
        served = tf.saved_model.load({str(tmp_path / "export")!r})
        x = np.load({str(tmp_path / "x.npy")!r})
        expected = np.load({str(tmp_path / "expected.npy")!r})
        np.testing.assert_allclose(served.serve(x).numpy(), expected, atol=1e-5)
        assert "keras_hebb" not in sys.modules
        print("served")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "served" in result.stdout


@pytest.mark.parametrize(
    "build, kwargs, message",
    [
        (hah_vgg, {"depth": 12}, "depth=12"),
        (baseline_vgg, {"width": 0}, "width=0"),
        (hah_vgg, {"input_shape": (16, 16, 3)}, r"input_shape=\(16, 16, 3\)"),
        (hah_vgg, {"hah_layers": 3}, "Received 6 values"),
        (hah_vgg, {"hah_layers": [1, 14], "alphas": 0.1}, r"\[1, 14\]"),
        (hah_vgg, {"keep": 0.0}, "keep=0.0"),
        (hah_vgg, {"sigma": -1.0}, "sigma=-1.0"),
        (hah_vgg, {"ratio": 0.99}, "K=64"),
        (baseline_vgg, {"input_mean": (0.5,)}, "one value per input channel"),
    ],
)
def test_bad_arguments_raise(build, kwargs, message):
    with pytest.raises(ValueError, match=message):
        build(**kwargs)
