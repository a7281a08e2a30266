"""The reference AutoAttack on Keras models, through the TensorFlow-to-PyTorch bridge."""

import keras
import numpy as np
import pytest
import tensorflow as tf
import torch
from toy import analytic_robust_accuracy, linear_classifier

from keras_hebb.models import hah_vgg
from keras_hebb.robustness import AutoAttack, TorchClassifier
from keras_hebb.robustness.budgets import AttackBudgets
from keras_hebb.robustness.evaluation import robustness_evaluation
from keras_hebb.robustness.predict import predicted_classes
from keras_hebb.robustness.torch_bridge import nchw


@pytest.fixture(scope="module")
def four_classes():
    """A linear classifier of 8x8 images in [0.4, 0.6]: AutoAttack's attacks
    need 4 classes, and small images keep Square's 5,000 queries quick."""
    model, x, y = linear_classifier(4, n=384, epochs=30, size=8)
    return model, x[:24], y[:24]


@pytest.mark.slow
def test_bridge_returns_the_models_logits_and_input_gradients():
    model = hah_vgg(depth=11, width=0.125, num_classes=10)
    images = np.random.default_rng(0).uniform(size=(6, 32, 32, 3)).astype("float32")
    weights = np.random.default_rng(1).normal(size=(6, 10)).astype("float32")
    x = tf.constant(images)
    with tf.GradientTape() as tape:
        tape.watch(x)
        logits = model(x, training=False)
        objective = tf.reduce_sum(logits * weights)
    expected = np.transpose(tape.gradient(objective, x).numpy(), (0, 3, 1, 2))

    bridged = nchw(images).requires_grad_()
    torch_logits = TorchClassifier(model)(bridged)
    (torch_logits * torch.from_numpy(weights)).sum().backward()
    np.testing.assert_allclose(
        torch_logits.detach().numpy(), logits.numpy(), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(bridged.grad.numpy(), expected, rtol=1e-4, atol=1e-7)
    assert np.abs(expected).max() > 0


@pytest.mark.parametrize("norm", ["linf", "l2"])
@pytest.mark.slow
def test_standard_autoattack_finds_the_minimal_perturbations_of_a_linear_model(
    four_classes, norm
):
    model, x, y = four_classes
    analytic, eps = analytic_robust_accuracy(model, x, y, norm)
    run = AutoAttack(eps, norm).evaluate(model, x, y)
    assert run.robust.mean() == pytest.approx(analytic, abs=1.5 / len(x))
    delta = (run.adversarial - x).reshape(len(x), -1)
    size = np.abs(delta).max(1) if norm == "linf" else np.linalg.norm(delta, axis=1)
    assert size.max() <= eps * (1 + 1e-5)
    assert list(run.running) == ["clean", "apgd-ce", "apgd-t", "fab-t", "square"]
    running = list(run.running.values())
    assert running == sorted(running, reverse=True)
    assert running[-1] == run.robust.mean()


@pytest.mark.slow
def test_autoattack_keeps_the_clean_accuracy_of_a_model_that_ignores_its_input():
    x = np.random.default_rng(0).uniform(size=(12, 4, 4, 3)).astype("float32")
    y = np.array([2] * 5 + [0] * 7)
    model = keras.Sequential(
        [keras.Input((4, 4, 3)), keras.layers.Flatten(), keras.layers.Dense(5)]
    )
    model.layers[-1].set_weights([np.zeros((48, 5)), np.array([0, 0, 1, 0, 0.0])])
    # No attack of any strength moves a constant model; the standard
    # strength's 5,000 Square queries took half a minute here.
    run = AutoAttack(8 / 255, strength="reduced").evaluate(model, x, y)
    assert run.robust.tolist() == [True] * 5 + [False] * 7
    assert set(run.running.values()) == {5 / 12}
    # AutoAttack's own check sees the zero gradients.
    assert any("zero gradient" in flag for flag in run.flags)


def test_reduced_strength_is_named_so():
    assert AutoAttack(2 / 255).name == "AutoAttack standard L_inf 2/255"
    reduced = AutoAttack(0.25, "l2", strength="reduced")
    assert reduced.name == "AutoAttack REDUCED strength (tests only) L2 0.25"


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: AutoAttack(0.1, strength="weak"), "strength='weak'"),
        (lambda: AutoAttack(0.1, seed=-1), "seed=-1"),
        (lambda: AutoAttack(0.1, "l1"), "'l1'"),
    ],
)
def test_bad_arguments_raise(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_fewer_than_four_classes_are_refused_by_name():
    model, x, y = linear_classifier(3, n=64, epochs=1, size=4)
    with pytest.raises(ValueError, match="at least 4 classes; this one has 3"):
        AutoAttack(0.1).evaluate(model, x[:4], y[:4])


@pytest.mark.slow
def test_worst_case_is_never_above_any_attack_and_names_the_reduced_strength(
    four_classes,
):
    model, x, y = four_classes
    other, _, _ = linear_classifier(4, n=384, epochs=3, size=8)
    budgets = AttackBudgets(
        strength="reduced",
        pgd_steps=3,
        pgd_restarts=1,
        spsa_iterations=2,
        spsa_samples=8,
        sweep_steps=[2, 3],
        sweep_restarts=[1, 2],
        eps_multiples=[1, 8],
    )
    _, eps = analytic_robust_accuracy(model, x, y, "linf")
    record = robustness_evaluation(
        {"linear": model, "other": other}, x, y, [("linf", eps)], budgets
    )
    (result,) = record["models"]["linear"].values()
    reduced = [a for a in result["per_attack"] if a.startswith("AutoAttack REDUCED")]
    assert reduced == [f"AutoAttack REDUCED strength (tests only) L_inf {eps:g}"]
    assert result["autoattack"]["strength"] == "reduced"
    assert result["worst_case"] <= min(result["per_attack"].values())
    robust = np.asarray(result["robust_images"], bool)
    assert robust.mean() == result["worst_case"]
    assert not (robust & (predicted_classes(model, x) != y)).any()
    assert result["checks"]["autoattack"]["verdict"] in ("pass", "FAIL")
