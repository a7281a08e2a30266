"""Small trained models for attack tests."""

import keras
import numpy as np


def halves_problem(n, classes=2, seed=0, size=32):
    """Images in [0.4, 0.6] whose class adds brightness to one vertical band."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.4, 0.5, size=(n, size, size, 3)).astype("float32")
    y = rng.integers(0, classes, size=n)
    band = size // classes
    for label in range(classes):
        x[y == label, :, label * band : (label + 1) * band] += 0.1
    return x, y


def linear_classifier(classes=2, n=256, epochs=10, size=32):
    """A trained Flatten -> Dense(classes) model and its training data."""
    x, y = halves_problem(n, classes, size=size)
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((size, size, 3)),
            keras.layers.Flatten(),
            keras.layers.Dense(classes),
        ],
        name=f"linear{classes}",
    )
    model.compile(
        keras.optimizers.Adam(0.01),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(x, y, epochs=epochs, batch_size=32, verbose=0)
    return model, x, y


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
