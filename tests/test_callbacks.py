import pytest
from test_models import compiled, toy_problem

from keras_hebb.callbacks import AttackEvaluation, NoiseEvaluation, SparsityEvaluation
from keras_hebb.models import hah_vgg
from keras_hebb.robustness import PGD


@pytest.mark.slow
def test_callbacks_write_their_keys_into_history(rng):
    x, y = toy_problem(rng, 32)
    model = compiled(hah_vgg(depth=11, width=0.125, num_classes=2), False)
    callbacks = [
        AttackEvaluation(PGD(2 / 255, steps=2), x[:8], y[:8], every=2, name="pgd_acc"),
        NoiseEvaluation(x[:8], y[:8], stds=(0.05, 0.1)),
        SparsityEvaluation(x[:4], every=1),
    ]
    history = model.fit(
        x, y, batch_size=16, epochs=3, verbose=0, callbacks=callbacks
    ).history
    assert {
        "noise_gaussian_0.05",
        "noise_gaussian_0.1",
        "pgd_acc",
        "sparsity_conv1_nonzero",
        "sparsity_conv8_top_to_rest",
    } <= set(history)
    assert len(history["noise_gaussian_0.1"]) == 3
    # every=2 runs after epochs 2 and 3 (the last): History keeps those values.
    assert len(callbacks[0].seconds) == 2
    assert all(0 <= v <= 1 for v in history["pgd_acc"])
    assert all(0 < v <= 0.25 for v in history["sparsity_conv1_nonzero"])


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda x, y: NoiseEvaluation(x, y, every=0), "every"),
        (lambda x, y: NoiseEvaluation(x, y[:2]), "one label each"),
        (lambda x, y: AttackEvaluation(PGD(0.1), x[0], y), "rank 4"),
    ],
)
def test_bad_arguments_raise(rng, make, message):
    x, y = toy_problem(rng, 4)
    with pytest.raises(ValueError, match=message):
        make(x, y)
