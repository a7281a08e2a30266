"""Training on perturbed inputs: Gaussian noise, PGD and FGSM-RS."""

import keras
import numpy as np
import pytest

from keras_hebb.layers import FractionalThreshold
from keras_hebb.models import HaHModel
from keras_hebb.training.adversarial_training import AdversarialTraining, fgsm_rs
from keras_hebb.training.noise_training import GaussianNoiseTraining
from keras_hebb.training.perturbation import InputPerturbation
from tests.toy import halves_problem

LOSS = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def small_model(learning_rate=0.01):
    """A linear classifier of 32x32 RGB, trained by Adam at `learning_rate`."""
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Flatten()(inputs)
    model = HaHModel(inputs, keras.layers.Dense(2)(x))
    model.compile(keras.optimizers.Adam(learning_rate), LOSS)
    return model


@pytest.fixture(scope="module")
def trained():
    x, y = halves_problem(128)
    keras.utils.set_random_seed(0)
    model = small_model()
    model.fit(x, y, epochs=10, batch_size=32, verbose=0)
    return model, x[:32], y[:32]


def step_loss(model, x, y):
    """The loss a train step reports on (x, y), with weights left as they are."""
    model.optimizer.learning_rate.assign(0.0)
    return float(model.train_on_batch(x, y, return_dict=True)["loss"])


def test_noise_training_perturbs_training_batches_only(rng):
    x, y = halves_problem(32)
    model = small_model(0.0)
    clean = float(model.evaluate(x, y, verbose=0, return_dict=True)["loss"])
    assert step_loss(model, x, y) == pytest.approx(clean, rel=1e-5)
    model.training_perturbation = GaussianNoiseTraining(std=0.3, seed=1)
    assert abs(step_loss(model, x, y) - clean) > 1e-4
    # Evaluation and prediction see the clean images.
    assert float(
        model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    ) == pytest.approx(clean, rel=1e-5)


def test_noise_has_the_std_and_stays_in_range():
    x = np.full((8, 32, 32, 3), 0.5, "float32")
    model = small_model()
    noisy = np.asarray(GaussianNoiseTraining(std=0.1, seed=3)(model, x, np.zeros(8)))
    assert noisy.shape == x.shape and noisy.dtype == x.dtype
    assert noisy.min() >= 0.0 and noisy.max() <= 1.0
    assert np.std(noisy - x) == pytest.approx(0.1, rel=0.05)


def test_draws_repeat_per_step_and_change_between_steps():
    x = np.full((4, 32, 32, 3), 0.5, "float32")
    model = small_model()
    noise = GaussianNoiseTraining(std=0.1, seed=3)
    first = np.asarray(noise(model, x, np.zeros(4)))
    np.testing.assert_array_equal(first, np.asarray(noise(model, x, np.zeros(4))))
    model.optimizer.iterations.assign(1)
    assert not np.allclose(first, np.asarray(noise(model, x, np.zeros(4))))


@pytest.mark.parametrize(
    "perturbation",
    [
        AdversarialTraining(8 / 255, "linf", steps=3, seed=1),
        AdversarialTraining(0.5, "l2", steps=3, seed=1),
        fgsm_rs(8 / 255, seed=1),
    ],
    ids=["pgd_linf", "pgd_l2", "fgsm_rs"],
)
def test_adversarial_batch_stays_in_the_ball_and_raises_the_loss(trained, perturbation):
    model, x, y = trained
    adversarial = np.asarray(perturbation(model, x, y))
    assert adversarial.shape == x.shape and adversarial.dtype == x.dtype
    assert adversarial.min() >= 0.0 and adversarial.max() <= 1.0
    delta = (adversarial - x).reshape(len(x), -1)
    if perturbation.norm == "linf":
        assert np.abs(delta).max() <= perturbation.eps + 1e-6
    else:
        assert np.linalg.norm(delta, axis=1).max() <= perturbation.eps + 1e-5
    clean_loss = float(LOSS(y, model.predict(x, verbose=0)))
    adversarial_loss = float(LOSS(y, model.predict(adversarial, verbose=0)))
    assert adversarial_loss > clean_loss * 1.05


def test_adversarial_training_trains_on_the_adversarial_batch(trained):
    model, x, y = trained
    clean = float(model.evaluate(x, y, verbose=0, return_dict=True)["loss"])
    model.training_perturbation = AdversarialTraining(8 / 255, steps=2, seed=1)
    try:
        assert step_loss(model, x, y) > clean * 1.05
    finally:
        model.training_perturbation = None


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: GaussianNoiseTraining(std=0.0), "`std` must be a positive"),
        (lambda: AdversarialTraining(-1.0), "`eps` must be a positive"),
        (lambda: AdversarialTraining(0.1, norm="l1"), "`norm` must be one of"),
        (lambda: AdversarialTraining(0.1, steps=0), "`steps` must be a positive int"),
        (lambda: AdversarialTraining(0.1, step_size=-1.0), "`step_size` must be"),
    ],
)
def test_bad_arguments_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_a_seed_must_be_an_int():
    with pytest.raises(TypeError, match="`seed` must be an int"):
        GaussianNoiseTraining(seed=1.5)


def test_only_perturbations_are_accepted():
    with pytest.raises(ValueError, match="InputPerturbation or None"):
        small_model().training_perturbation = "noise"


class ProbesOnBlackImages(InputPerturbation):
    """Runs the model on black images (all zeros), returns the batch as it is."""

    def perturb(self, model, x, y, seed):
        model(x * 0.0, training=False)
        return x


def test_a_perturbations_own_forward_passes_leave_the_statistics_alone():
    x, y = halves_problem(32)
    inputs = keras.Input((32, 32, 3))
    h = FractionalThreshold(0.5, name="threshold")(inputs)
    model = HaHModel(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(h)))
    model.compile(keras.optimizers.SGD(0.0), LOSS)
    plain = model.train_on_batch(x, y, return_dict=True)
    model.training_perturbation = ProbesOnBlackImages()
    perturbed = model.train_on_batch(x, y, return_dict=True)
    assert 0.4 < plain["threshold_nonzero"] <= 0.5
    assert perturbed == pytest.approx(plain, rel=1e-6)
