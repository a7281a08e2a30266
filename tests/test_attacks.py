import numpy as np
import pytest
from toy import linear_classifier

from keras_hebb.models import hah_vgg
from keras_hebb.robustness import (
    APGD,
    BPDA,
    FGSM,
    PGD,
    SPSA,
    CarliniWagnerL2,
    MomentumIterative,
    Square,
    Transfer,
    attack_accuracy,
    straight_through_model,
    worst_case_accuracy,
)
from keras_hebb.robustness.attacks import predictions


@pytest.fixture(scope="module")
def binary():
    model, x, y = linear_classifier(2)
    return model, x[:40], y[:40]


@pytest.fixture(scope="module")
def three_classes():
    model, x, y = linear_classifier(3, n=384, epochs=15)
    return model, x[:24], y[:24]


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
    APGD(0.1, "linf", loss="ce", steps=20),
    APGD(6.0, "l2", loss="ce", steps=20),
]


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.name)
def test_attack_respects_budget_and_lowers_accuracy(binary, attack):
    model, x, y = binary
    clean = float(np.mean(predictions(model, x) == y))
    accuracy, correct, adversarial = attack_accuracy(model, attack, x, y)
    assert_within_budget(adversarial, x, attack.norm, attack.eps)
    assert accuracy < 0.5 * clean
    assert correct.mean() == accuracy


def test_carlini_wagner_respects_budget_and_lowers_accuracy(binary):
    model, x, y = binary
    attack = CarliniWagnerL2(6.0, steps=30, binary_search_steps=3, learning_rate=0.05)
    accuracy, _, adversarial = attack_accuracy(model, attack, x[:8], y[:8])
    assert_within_budget(adversarial, x[:8], "l2", 6.0)
    assert accuracy <= 0.5


def test_spsa_needs_no_gradient_and_respects_budget():
    # Few input dimensions, so that few random directions estimate the gradient.
    model, x, y = linear_classifier(2, n=128, epochs=30, size=4)
    x, y = x[:8], y[:8]
    attack = SPSA(0.1, iterations=20, samples=64, learning_rate=0.02)
    accuracy, _, adversarial = attack_accuracy(model, attack, x, y)
    assert_within_budget(adversarial, x, "linf", 0.1)
    assert np.mean(predictions(model, x) == y) == 1.0
    assert accuracy <= 0.25


def test_square_needs_only_outputs_and_respects_budget():
    # Small images, so that few random squares find the classifier's direction.
    model, x, y = linear_classifier(2, n=128, epochs=30, size=8)
    x, y = x[:16], y[:16]
    accuracy, _, adversarial = attack_accuracy(model, Square(0.1, queries=300), x, y)
    assert_within_budget(adversarial, x, "linf", 0.1)
    assert np.mean(predictions(model, x) == y) == 1.0
    assert accuracy <= 0.5


def analytic_robust_accuracy(model, x, y, norm, eps=None):
    """Exact robust accuracy of a linear classifier, and the median budget.

    The smallest perturbation that moves x from class y to class c has norm
    margin / ||w_y - w_c||_dual (dual of L_inf is L1, of L2 is L2); inputs in
    [0.4, 0.6] keep the [0, 1] box from binding at these budgets.
    """
    kernel, bias = (w.astype("float64") for w in model.layers[-1].get_weights())
    logits = x.reshape(len(x), -1) @ kernel + bias
    dual = 1 if norm == "linf" else 2
    distances = np.array(
        [
            min(
                (row[label] - row[c])
                / np.linalg.norm(kernel[:, label] - kernel[:, c], dual)
                for c in range(kernel.shape[1])
                if c != label
            )
            for row, label in zip(logits, y)
        ]
    )
    eps = float(np.median(distances)) if eps is None else eps
    return float(np.mean(distances > eps)), eps


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_apgd_ce_finds_the_minimal_perturbations_of_a_linear_classifier(binary, norm):
    model, x, y = binary
    analytic, eps = analytic_robust_accuracy(model, x, y, norm)
    accuracy, _, adversarial = attack_accuracy(model, APGD(eps, norm, steps=50), x, y)
    assert_within_budget(adversarial, x, norm, eps)
    assert accuracy == pytest.approx(analytic, abs=1.5 / len(x))


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_apgd_t_finds_the_nearest_class_of_a_linear_classifier(three_classes, norm):
    model, x, y = three_classes
    analytic, eps = analytic_robust_accuracy(model, x, y, norm)
    attack = APGD(eps, norm, loss="dlr", targeted=True, steps=100, restarts=3)
    accuracy, _, adversarial = attack_accuracy(model, attack, x, y)
    assert_within_budget(adversarial, x, norm, eps)
    assert accuracy == pytest.approx(analytic, abs=1.5 / len(x))


def test_apgd_targeted_is_at_least_as_strong_as_untargeted_pgd(three_classes):
    model, x, y = three_classes
    targeted = attack_accuracy(
        model, APGD(0.004, loss="dlr", targeted=True, steps=30), x, y
    )[0]
    pgd = attack_accuracy(model, PGD(0.004, steps=30), x, y)[0]
    assert targeted <= pgd + 1 / len(x)


def test_apgd_is_at_least_as_strong_as_pgd_on_a_trained_network(binary):
    import keras
    from toy import halves_problem

    x, y = halves_problem(96, 2, seed=3)
    model = hah_vgg(
        depth=11, width=0.125, num_classes=2, hah_layers=2, alphas=(0.0045, 0.0025)
    )
    model.compile(
        keras.optimizers.Adam(1e-3),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(x, y, batch_size=16, epochs=3, verbose=0)
    eps = 1 / 255
    apgd = attack_accuracy(model, APGD(eps, steps=20), x[:32], y[:32])[0]
    pgd = attack_accuracy(model, PGD(eps, steps=20), x[:32], y[:32])[0]
    assert apgd <= pgd + 1 / 32


def test_transfer_scores_source_examples_on_target(binary):
    source, x, y = binary
    target, _, _ = linear_classifier(2, epochs=3)
    attack = PGD(0.05, steps=5)
    transferred = Transfer(source, attack).generate(target, x, y)
    assert_within_budget(transferred, x, "linf", 0.05)
    assert Transfer(source, attack).name.startswith("transfer from linear2")


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
        (lambda: APGD(0.1, loss="hinge"), "'hinge'"),
        (lambda: Square(0.1, queries=0), "`queries` must be a positive int"),
        (lambda: Square(0.1, p_init=1.5), "`p_init` must be in"),
        (lambda: Square(0.5, "l2"), "Square supports norms \\('linf',\\)"),
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


def test_dlr_loss_on_two_classes_is_refused_by_name(binary):
    model, x, y = binary
    with pytest.raises(ValueError, match="at least 3 classes; this one has 2"):
        APGD(0.01, loss="dlr").generate(model, x[:2], y[:2])
