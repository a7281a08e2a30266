"""Why the attack set of earlier versions was weaker than the reference AutoAttack.

Earlier versions ran APGD-CE and APGD-T from the adversarial-robustness-toolbox
(ART 1.20) at 50 steps and 3 target classes; the reference AutoAttack runs
its own APGD-CE at 100 steps and APGD-T at 100 steps over 9 target classes.
This study runs each attack alone on the same images and model, changing
one thing at a time (the implementation, the steps, the targets), and prints
each one's robust accuracy (clean-correct included) as a Markdown table.

It needs ART, which keras-hebb no longer depends on:

    pip install adversarial-robustness-toolbox==1.20.1
    python experiments/attack_gap.py --data ../shared/data/cifar10-jpeg \
        --model experiments/results/cpu/hah/seed_2022/model.keras --examples 200
"""

import argparse
import os
import time

import numpy as np


def art_apgd(model, x, y, eps, steps, targets=None):
    """ART's APGD as earlier versions ran it: APGD-CE, or with `targets`
    APGD-T (ART's targeted DLR, the `targets` classes ranked highest by the
    clean logits, each on the images still classified correctly)."""
    import keras
    from art.attacks.evasion import AutoProjectedGradientDescent
    from art.estimators.classification import TensorFlowV2Classifier

    classes = model.output_shape[-1]
    classifier = TensorFlowV2Classifier(
        model,
        nb_classes=classes,
        input_shape=tuple(model.input_shape[1:]),
        loss_object=keras.losses.CategoricalCrossentropy(from_logits=True),
        clip_values=(0.0, 1.0),
    )
    attack = AutoProjectedGradientDescent(
        classifier,
        norm=np.inf,
        eps=eps,
        eps_step=2 * eps,
        max_iter=steps,
        targeted=targets is not None,
        batch_size=100,
        loss_type="cross_entropy" if targets is None else "difference_logits_ratio",
        verbose=False,
    )
    if targets is None:
        return attack.generate(x, y=np.eye(classes)[y]).astype("float32")
    ranked = np.argsort(-model.predict(x, verbose=0), axis=1)
    others = np.array([[c for c in row if c != label] for row, label in zip(ranked, y)])
    adversarial = x.copy()
    for rank in range(targets):
        right = np.argmax(model.predict(adversarial, verbose=0), axis=1) == y
        if not right.any():
            break
        adversarial[right] = attack.generate(
            x[right], y=np.eye(classes)[others[right, rank]]
        )
    return adversarial


def reference_apgd(model, x, y, eps, steps, targets=None):
    """The reference AutoAttack's APGD-CE, or with `targets` its APGD-T."""
    import pyautoattack.autopgd_base as apgd
    import torch

    from keras_hebb.robustness.torch_bridge import TorchClassifier, nchw, nhwc

    torch_model = TorchClassifier(model)
    if targets is None:
        attack = apgd.APGDAttack(torch_model, n_iter=steps, eps=eps, loss="ce", seed=0)
    else:
        attack = apgd.APGDAttack_targeted(
            torch_model, n_iter=steps, eps=eps, n_target_classes=targets, seed=0
        )
    return nhwc(attack.perturb(nchw(x), torch.from_numpy(y.astype("int64"))))


# What earlier versions ran (ART, 50 steps, 3 targets), then one change at a
# time towards the reference's 100 steps and 9 targets. ART's APGD-T at 9
# targets is left out: on this CPU it costs about as much as every other row
# together, and the reference rows already separate its parts.
ROWS = (
    ("ART", "APGD-CE", 50, None),
    ("ART", "APGD-CE", 100, None),
    ("reference", "APGD-CE", 50, None),
    ("reference", "APGD-CE", 100, None),
    ("ART", "APGD-T", 50, 3),
    ("reference", "APGD-T", 50, 3),
    ("reference", "APGD-T", 100, 3),
    ("reference", "APGD-T", 100, 9),
)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="a .keras file")
    parser.add_argument("--data", required=True, help="a CIFAR-10 folder or tfds name")
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--eps", type=float, default=2 / 255, help="L_inf budget")
    parser.add_argument(
        "--rows",
        type=int,
        nargs="+",
        default=list(range(len(ROWS))),
        help="which rows of ROWS to run, by index (default: all)",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    from keras_hebb.robustness.predict import predicted_classes
    from keras_hebb.run.config import load_config
    from keras_hebb.run.inputs import test_arrays
    from keras_hebb.saving import load_model

    config = load_config("cpu", overrides=[f"data.source={args.data}"])
    x, y = test_arrays(config, args.examples)
    model = load_model(args.model)
    clean = predicted_classes(model, x) == y
    run = {"ART": art_apgd, "reference": reference_apgd}
    print(
        f"{args.model}, {len(y)} images, L_inf {args.eps:.6g}, clean {clean.mean():.3f}"
    )
    print("\n| implementation | attack | steps | targets | robust accuracy | seconds |")
    print("|---|---|---|---|---|---|")
    for implementation, attack, steps, targets in (ROWS[i] for i in args.rows):
        start = time.perf_counter()
        adversarial = run[implementation](model, x, y, args.eps, steps, targets)
        robust = clean & (predicted_classes(model, adversarial) == y)
        print(
            f"| {implementation} | {attack} | {steps} | {targets or '-'} | "
            f"{robust.mean():.3f} | {time.perf_counter() - start:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
