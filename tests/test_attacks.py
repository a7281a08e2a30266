import keras
import numpy as np
import pytest
from toy import linear_classifier

from keras_hebb.models import hah_vgg
from keras_hebb.robustness import (
    BPDA,
    FGSM,
    PGD,
    SPSA,
    CarliniWagnerL2,
    MomentumIterative,
    Transfer,
    attack_accuracy,
    straight_through_model,
    worst_case_accuracy,
)
from keras_hebb.robustness.attacks import compiled_pgd
from keras_hebb.robustness.predict import predicted_classes


@pytest.fixture(scope="module")
def binary():
    model, x, y = linear_classifier(2)
    return model, x[:40], y[:40]


def assert_within_budget(adversarial, images, norm, eps):
    assert adversarial.dtype == np.float32 and adversarial.shape == images.shape
    assert adversarial.min() >= 0.0 and adversarial.max() <= 1.0
    delta = (adversarial - images).reshape(len(images), -1)
    if norm == "linf":
        assert np.abs(delta).max() <= eps + 1e-6
    else:
        assert np.linalg.norm(delta, axis=1).max() <= eps * (1 + 1e-5)


ATTACKS = [
    FGSM(0.1, "linf"),
    FGSM(6.0, "l2"),
    PGD(0.1, "linf", steps=10, restarts=2),
    PGD(6.0, "l2", steps=10),
    MomentumIterative(0.1, "linf", steps=10),
    MomentumIterative(6.0, "l2", steps=10),
]


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.name)
def test_attack_respects_budget_and_lowers_accuracy(binary, attack):
    model, x, y = binary
    clean = float(np.mean(predicted_classes(model, x) == y))
    accuracy, correct, adversarial = attack_accuracy(model, attack, x, y)
    assert_within_budget(adversarial, x, attack.norm, attack.eps)
    assert accuracy < 0.5 * clean
    assert correct.mean() == accuracy


@pytest.mark.slow
def test_carlini_wagner_respects_budget_and_lowers_accuracy(binary):
    model, x, y = binary
    attack = CarliniWagnerL2(6.0, steps=30, binary_search_steps=3, learning_rate=0.05)
    accuracy, _, adversarial = attack_accuracy(model, attack, x[:8], y[:8])
    assert_within_budget(adversarial, x[:8], "l2", 6.0)
    assert accuracy <= 0.5


@pytest.mark.slow
def test_spsa_needs_no_gradient_and_respects_budget():
    # Few input dimensions, so that few random directions estimate the gradient.
    model, x, y = linear_classifier(2, n=128, epochs=30, size=4)
    x, y = x[:8], y[:8]
    attack = SPSA(0.1, iterations=20, samples=64, learning_rate=0.02)
    accuracy, _, adversarial = attack_accuracy(model, attack, x, y)
    assert_within_budget(adversarial, x, "linf", 0.1)
    assert np.mean(predicted_classes(model, x) == y) == 1.0
    assert accuracy <= 0.25


def test_transfer_scores_source_examples_on_target(binary):
    source, x, y = binary
    target, _, _ = linear_classifier(2, epochs=3)
    attack = PGD(0.05, steps=5)
    transferred = Transfer(source, attack).generate(target, x, y)
    assert_within_budget(transferred, x, "linf", 0.05)
    assert Transfer(source, attack).name.startswith("transfer from linear2")


@pytest.mark.slow
def test_bpda_copy_has_identical_forward_and_attack_stays_in_budget():
    import tensorflow as tf

    model = hah_vgg(depth=11, width=0.125)
    images = np.random.default_rng(0).uniform(size=(8, 32, 32, 3)).astype("float32")
    copy = straight_through_model(model, divisive_normalization=True)
    np.testing.assert_array_equal(copy(images).numpy(), model(images).numpy())
    x = tf.constant(images)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        plain = tf.reduce_sum(model(x)[:, 0])
        through = tf.reduce_sum(copy(x)[:, 0])
    assert not np.allclose(tape.gradient(plain, x), tape.gradient(through, x))
    labels = np.argmax(model.predict(images, verbose=0), axis=1)
    adversarial = BPDA(PGD(2 / 255, steps=3)).generate(model, images, labels)
    assert_within_budget(adversarial, images, "linf", 2 / 255)


def test_pgd_traces_once_for_every_step_count_of_a_budget(binary):
    """The step count is a tensor: PGD-3 and PGD-9 of one budget and step size
    share one trace of one loop."""
    model, x, y = binary
    traced = compiled_pgd(model, "linf").experimental_get_tracing_count()
    attacks = [PGD(0.1, steps=steps, step_size=0.02) for steps in (3, 9)]
    accuracies = [attack_accuracy(model, attack, x, y)[0] for attack in attacks]
    assert compiled_pgd(model, "linf").experimental_get_tracing_count() == traced + 1
    assert accuracies[1] <= accuracies[0] < 1.0


def test_pgd_loop_makes_cleverhans_unrolled_examples_bit_for_bit(binary):
    """The step count as a tensor changes the graph, not the examples: from the
    same seed, CleverHans' own call with a Python-int step count gives the
    same images."""
    import tensorflow as tf
    from cleverhans.tf2.attacks.projected_gradient_descent import (
        projected_gradient_descent,
    )

    from keras_hebb.robustness.attacks import logits_function

    model, x, y = binary
    x, y = tf.constant(x), tf.constant(y, tf.int64)

    @tf.function
    def unrolled(x, y):
        return projected_gradient_descent(
            logits_function(model),
            x,
            0.1,
            0.03,
            7,
            np.inf,
            clip_min=0.0,
            clip_max=1.0,
            y=y,
            rand_init=True,
            sanity_checks=False,
        )

    keras.utils.set_random_seed(5)
    expected = unrolled(x, y).numpy()
    keras.utils.set_random_seed(5)
    got = compiled_pgd(model, "linf")(x, y, tf.constant(7), 0.1, 0.03).numpy()
    assert np.abs(expected - x.numpy()).max() > 0.05
    np.testing.assert_array_equal(got, expected)


def test_worst_case_is_per_example_over_all_attacks(binary):
    model, x, y = binary
    attacks = [FGSM(0.02), PGD(0.02, steps=5)]
    result = worst_case_accuracy(model, attacks, x, y, verbose=False)
    assert set(result["per_attack"]) == {a.name for a in attacks}
    assert result["worst_case"] <= min(result["per_attack"].values())
    assert result["clean"] >= max(result["per_attack"].values())


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: PGD(0.0), "eps=0.0"),
        (lambda: PGD(0.1, "l1"), "'l1'"),
        (lambda: PGD(0.1, steps=0), "steps"),
        (lambda: SPSA(0.1, samples=3), "samples"),
        (lambda: CarliniWagnerL2(-0.5), "eps=-0.5"),
    ],
)
def test_bad_arguments_raise(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_norm_an_attack_does_not_support_raises():
    from keras_hebb.robustness.attacks import Attack

    class LinfOnly(Attack):
        norms = ("linf",)

    with pytest.raises(ValueError, match="supports norms"):
        LinfOnly(0.5, "l2")


def test_mismatched_images_and_labels_raise(binary):
    model, x, y = binary
    with pytest.raises(ValueError, match="one label each"):
        PGD(0.1).generate(model, x, y[:3])
