"""NumPy implementations of method.md, written loop by loop, for the tests."""

import math

import numpy as np


def implicit_norm_conv(x, kernel, stride=1, padding="valid", epsilon=1e-6):
    """conv(x, W)[..., c] / (||W[..., c]|| + epsilon), NHWC, HWIO kernel."""
    kh, kw, _, filters = kernel.shape
    if padding == "same":
        x = np.pad(x, ((0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)))
    n, h, w, _ = x.shape
    out_h, out_w = (h - kh) // stride + 1, (w - kw) // stride + 1
    y = np.zeros((n, out_h, out_w, filters))
    for i in range(out_h):
        for j in range(out_w):
            patch = x[:, i * stride : i * stride + kh, j * stride : j * stride + kw, :]
            y[:, i, j, :] = np.einsum("nhwc,hwcf->nf", patch, kernel)
    norms = np.sqrt((kernel**2).sum(axis=(0, 1, 2)))
    return y / (norms + epsilon)


def windows(x, size):
    """Every size x size window of each map, zero padded: (N, H, W, C, size*size)."""
    pad = size // 2
    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    n, h, w, c = x.shape
    out = np.zeros((n, h, w, c, size * size))
    for i in range(h):
        for j in range(w):
            out[:, i, j, :, :] = (
                padded[:, i : i + size, j : j + size, :]
                .reshape(n, size * size, c)
                .transpose(0, 2, 1)
            )
    return out


def divisive_normalization(x, sigma=0.1, size=3, field="linf"):
    if field == "linf":
        s = np.abs(windows(x, size)).max(axis=-1)
    elif field == "l1":
        s = np.abs(windows(x, size)).sum(axis=-1)
    else:
        s = np.sqrt((windows(x, size) ** 2).sum(axis=-1))
    s = s.mean(axis=-1, keepdims=True)
    peak = s.max(axis=(1, 2), keepdims=True)
    return x / (sigma * peak + (1 - sigma) * s + 1e-7)


def fractional_threshold(x, keep=0.2):
    n, h, w, c = x.shape
    k = math.floor(round((1 - keep) * h * w, 9))
    y = x.copy()
    if k == 0:
        return y
    for b in range(n):
        for ch in range(c):
            kth = np.sort(x[b, :, :, ch].ravel())[k - 1]
            y[b, :, :, ch] = x[b, :, :, ch] * (x[b, :, :, ch] > kth)
    return y


def adaptive_threshold(x, scale=1.0):
    mean = x.mean(axis=(1, 2), keepdims=True)
    return x * (x > scale * mean)


def hah_score(z, ratio=0.1, demote=1.0):
    a = np.maximum(z, 0).reshape(-1, z.shape[-1])
    c = a.shape[-1]
    k = math.ceil(round(ratio * c, 9))
    ordered = -np.sort(-a, axis=-1)
    top = ordered[:, :k].mean(axis=-1)
    bottom = ordered[:, k:].mean(axis=-1)
    return float((top - demote * bottom).mean())
