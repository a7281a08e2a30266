"""The two ways to run the reference AutoAttack (PyTorch) on a saved Keras model, side by side.

1. The bridge (`keras_hebb.robustness.TorchClassifier`): the model stays on
   TensorFlow; PyTorch sees its logits and TensorFlow's vector-Jacobian
   product.
2. Keras' torch backend: the `.keras` file loaded in a subprocess with
   `KERAS_BACKEND=torch`, where a `keras.Model` is a `torch.nn.Module`.

For each model file, on the first `--examples` test images: the largest
difference of the two paths' logits and input gradients, and the seconds
per forward-and-backward pass of a batch (what an APGD step costs), each
the median of `--rounds`, the two paths measured in turn.

    python experiments/autoattack_paths.py --data ../shared/data/cifar10-jpeg \
        experiments/results/cpu/hah/seed_2022/model.keras \
        experiments/results/cpu/baseline/seed_2022/model.keras
"""

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np


def forward_backward(model, images, weights, rounds):
    """Logits, the gradient of sum(logits * weights) in the NCHW images, and
    the median seconds of one forward-and-backward pass."""
    import torch

    times = []
    for _ in range(rounds + 1):  # the first compiles
        x = torch.from_numpy(images).requires_grad_()
        start = time.perf_counter()
        logits = model(x)
        (logits * torch.from_numpy(weights)).sum().backward()
        times.append(time.perf_counter() - start)
    return (
        logits.detach().cpu().numpy(),
        x.grad.cpu().numpy(),
        float(np.median(times[1:])),
    )


def torch_backend_main(model_file, arrays, output, rounds):
    """Runs under KERAS_BACKEND=torch: the loaded model is a torch.nn.Module."""
    import torch

    from keras_hebb.saving import load_model

    model = load_model(model_file, compile=False)
    data = np.load(arrays)

    class Nchw(torch.nn.Module):
        def forward(self, x):
            return model(x.permute(0, 2, 3, 1), training=False)

    logits, gradient, seconds = forward_backward(
        Nchw(), data["images"], data["weights"], rounds
    )
    np.savez(output, logits=logits, gradient=gradient, seconds=seconds)


def compare(model_file, images, rounds):
    from keras_hebb.robustness.torch_bridge import TorchClassifier, nchw
    from keras_hebb.saving import load_model

    model = load_model(model_file)
    x = nchw(images).numpy()
    weights = np.random.default_rng(0).normal(size=(len(x), model.output_shape[-1]))
    weights = weights.astype("float32")
    bridge = forward_backward(TorchClassifier(model), x, weights, rounds)
    with tempfile.TemporaryDirectory() as folder:
        arrays, output = pathlib.Path(folder, "in.npz"), pathlib.Path(folder, "out.npz")
        np.savez(arrays, images=x, weights=weights)
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--torch-backend",
                str(model_file),
                str(arrays),
                str(output),
                str(rounds),
            ],
            env={**os.environ, "KERAS_BACKEND": "torch"},
            check=True,
        )
        torch_backend = np.load(output)
        logits, gradient = torch_backend["logits"], torch_backend["gradient"]
        seconds = float(torch_backend["seconds"])
    scale = np.abs(bridge[1]).max()
    print(
        f"{model_file}: {len(x)} images; logits differ by at most "
        f"{np.abs(bridge[0] - logits).max():.2e} (largest logit "
        f"{np.abs(bridge[0]).max():.2f}); input gradients by at most "
        f"{np.abs(bridge[1] - gradient).max():.2e} (largest {scale:.2e}); "
        f"forward+backward per batch: bridge {bridge[2] * 1000:.0f} ms, torch "
        f"backend {seconds * 1000:.0f} ms (torch backend / bridge "
        f"{seconds / bridge[2]:.2f}x)",
        flush=True,
    )


def main(argv=None):
    if argv is None and sys.argv[1:2] == ["--torch-backend"]:
        model_file, arrays, output, rounds = sys.argv[2:6]
        return torch_backend_main(model_file, arrays, output, int(rounds))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", nargs="+", help=".keras files")
    parser.add_argument("--data", required=True, help="a CIFAR-10 folder or tfds name")
    parser.add_argument("--examples", type=int, default=250)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    from keras_hebb.run.config import load_config
    from keras_hebb.run.inputs import test_arrays

    config = load_config("cpu", overrides=[f"data.source={args.data}"])
    images, _ = test_arrays(config, args.examples)
    for model_file in args.models:
        compare(model_file, images, args.rounds)


if __name__ == "__main__":
    main()
