"""A Keras classifier on TensorFlow as a PyTorch module, for attacks written in PyTorch.

`TorchClassifier(model)` is a `torch.nn.Module` whose forward pass returns
the Keras model's logits and whose backward pass is TensorFlow's
vector-Jacobian product of them, so that PyTorch code (the reference
AutoAttack) can attack a Keras model on TensorFlow unchanged. Images are NCHW
on the PyTorch side, as PyTorch attacks expect, and NHWC inside.
"""

import numpy as np
import tensorflow as tf
import torch

NCHW_TO_NHWC = (0, 2, 3, 1)


def nchw(images):
    """NHWC NumPy images as an NCHW float32 torch tensor."""
    return torch.from_numpy(
        np.ascontiguousarray(np.transpose(images, (0, 3, 1, 2)), "float32")
    )


def nhwc(images):
    """NCHW torch images as NHWC float32 NumPy."""
    return np.ascontiguousarray(
        np.transpose(images.detach().cpu().numpy(), NCHW_TO_NHWC), "float32"
    )


class KerasFunctions:
    """The model's logits and their vector-Jacobian product, compiled once for
    NCHW float32 batches of any size."""

    def __init__(self, model):
        channels, height, width = (
            model.input_shape[3],
            model.input_shape[1],
            model.input_shape[2],
        )
        images = tf.TensorSpec([None, channels, height, width], tf.float32)
        logits = tf.TensorSpec([None, model.output_shape[-1]], tf.float32)

        def forward(x):
            return model(tf.transpose(x, NCHW_TO_NHWC), training=False)

        def vjp(x, output_gradient):
            with tf.GradientTape() as tape:
                tape.watch(x)
                outputs = forward(x)
            gradient = tape.gradient(outputs, x, output_gradients=output_gradient)
            # A model with no gradient path to its input (a rounding layer, a
            # constant) has a zero gradient, not None.
            return tf.zeros_like(x) if gradient is None else gradient

        self.forward = tf.function(forward, input_signature=[images])
        self.vjp = tf.function(vjp, input_signature=[images, logits])


class KerasLogits(torch.autograd.Function):
    """Logits of a `KerasFunctions` as a differentiable PyTorch operation."""

    @staticmethod
    def forward(ctx, images, functions):
        ctx.functions = functions
        ctx.save_for_backward(images)
        return torch.from_numpy(functions.forward(images.detach().numpy()).numpy())

    @staticmethod
    def backward(ctx, output_gradient):
        (images,) = ctx.saved_tensors
        gradient = ctx.functions.vjp(
            images.detach().numpy(), output_gradient.contiguous().numpy()
        )
        return torch.from_numpy(gradient.numpy()), None


class TorchClassifier(torch.nn.Module):
    """A Keras (TensorFlow) classifier of NHWC images as a PyTorch module of
    NCHW images, differentiable in its input.

    The Keras model's weights stay in TensorFlow: the module has no
    parameters, runs on the CPU, and its forward pass is the model's in
    inference mode.

    Args:
        model: a `keras.Model` on the TensorFlow backend, NHWC images to logits.

    Input shape:
        `(batch, channels, height, width)` float32 torch tensor.

    Output shape:
        `(batch, classes)` float32 torch tensor of logits.

    Example:

    >>> import keras, torch
    >>> model = keras.Sequential([keras.Input((4, 4, 3)), keras.layers.Flatten(),
    ...                           keras.layers.Dense(2)])
    >>> torch_model = TorchClassifier(model)
    >>> x = torch.rand(5, 3, 4, 4, requires_grad=True)
    >>> torch_model(x).sum().backward()
    >>> tuple(x.grad.shape)
    (5, 3, 4, 4)
    """

    def __init__(self, model):
        super().__init__()
        if len(model.input_shape) != 4:
            raise ValueError(
                "TorchClassifier needs a model of NHWC images; this one's input "
                f"shape is {model.input_shape}"
            )
        self.functions = KerasFunctions(model)
        self.model_name = model.name

    def forward(self, images):
        if images.dtype != torch.float32:
            images = images.float()
        return KerasLogits.apply(images.cpu(), self.functions)
