"""The 15 common corruptions of CIFAR-10-C at 5 severities, made from any images.

CIFAR-10-C (Hendrycks and Dietterich, ICLR 2019) is CIFAR-10's test set
under 15 corruptions in four families (noise, blur, weather, digital), each
at 5 severities. `SEVERITIES` holds the published CIFAR-10-C parameters,
which are set for 32x32 images and differ from ImageNet-C's; the operations
are ours, on NumPy, SciPy, scikit-image and Pillow. Where CIFAR-10-C used
ImageMagick's motion blur (motion blur, snow), `motion_blur_kernel` builds
the same one-sided Gaussian line kernel; frost overlays the frost photographs
that the `imagecorruptions` package ships.

`corrupt(images, name, severity, seed)` takes float images `(n, height,
width, channels)` in [0, 1] and returns the corrupted images with the same
shape and dtype, in [0, 1] and quantised to 8 bits as the published arrays
are (`uint8` of the 0-255 values, which truncates). The same seed gives the
same images. Images smaller than 32x32 or grayscale work for every
corruption except frost (which needs 3 channels).
"""

import functools
import importlib.util
import io
import math
import pathlib

import numpy as np
import skimage.color
import skimage.transform
import skimage.util
from PIL import Image
from scipy import ndimage

from keras_hebb.robustness.corruption_names import CORRUPTIONS, SEVERITY_LEVELS
from keras_hebb.robustness.noise import add_noise

# The published CIFAR-10-C parameters of each corruption at severities 1-5.
SEVERITIES = {
    "gaussian_noise": [0.04, 0.06, 0.08, 0.09, 0.10],
    "shot_noise": [500, 250, 100, 75, 50],
    "impulse_noise": [0.01, 0.02, 0.03, 0.05, 0.07],
    # (disk radius, anti-aliasing blur sigma)
    "defocus_blur": [(0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (1, 0.2), (1.5, 0.1)],
    # (blur sigma, largest pixel shift, shuffling passes)
    "glass_blur": [(0.05, 1, 1), (0.25, 1, 1), (0.4, 1, 1), (0.25, 1, 2), (0.4, 1, 2)],
    # (kernel radius, kernel sigma)
    "motion_blur": [(6, 1), (6, 1.5), (6, 2), (8, 2), (9, 2.5)],
    # the largest zoom factor; factors from 1 by 0.01 up to it
    "zoom_blur": [1.06, 1.11, 1.16, 1.21, 1.26],
    # (flake mean, flake std, flake zoom, threshold, blur radius, blur sigma,
    #  weight of the image before whitening)
    "snow": [
        (0.1, 0.2, 1, 0.6, 8, 3, 0.95),
        (0.1, 0.2, 1, 0.5, 10, 4, 0.9),
        (0.15, 0.3, 1.75, 0.55, 10, 4, 0.9),
        (0.25, 0.3, 2.25, 0.6, 12, 6, 0.85),
        (0.3, 0.3, 1.25, 0.65, 14, 12, 0.8),
    ],
    # (weight of the image, weight of the frost)
    "frost": [(1, 0.2), (1, 0.3), (0.9, 0.4), (0.85, 0.4), (0.75, 0.45)],
    # (fog strength, the fractal's roughness decay)
    "fog": [(0.2, 3), (0.5, 3), (0.75, 2.5), (1, 2), (1.5, 1.75)],
    "brightness": [0.05, 0.1, 0.15, 0.2, 0.3],
    "contrast": [0.75, 0.5, 0.4, 0.3, 0.15],
    # (displacement scale, displacement smoothness, affine jitter), as
    # fractions of the image size
    "elastic_transform": [
        (0, 0, 0.08),
        (0.05, 0.2, 0.07),
        (0.08, 0.06, 0.06),
        (0.1, 0.04, 0.05),
        (0.1, 0.03, 0.03),
    ],
    # the downsampled side as a fraction of the image's
    "pixelate": [0.95, 0.9, 0.85, 0.75, 0.65],
    # JPEG quality
    "jpeg_compression": [80, 65, 58, 50, 40],
}
# CIFAR-10-C draws frost from the first five of the six photographs.
FROST_FILES = ("frost1.png", "frost2.png", "frost3.png", "frost4.jpg", "frost5.jpg")
FROST_SCALE = 0.2


def check_corruption(name, severity):
    """Raises a `ValueError` naming an unknown corruption or severity."""
    if name not in SEVERITIES:
        raise ValueError(
            f"Unknown corruption {name!r}; choose one of {list(CORRUPTIONS)}."
        )
    if severity not in SEVERITY_LEVELS:
        raise ValueError(
            f"`severity` must be one of {SEVERITY_LEVELS}. Received: {severity!r}"
        )


def corrupt(images, name, severity, seed=0):
    """`images` under corruption `name` at `severity` (1-5).

    Args:
        images: float array `(n, height, width, channels)` in [0, 1].
        name: one of `CORRUPTIONS`.
        severity: int in 1-5.
        seed: int; the same seed gives the same images.

    Returns:
        The corrupted images: same shape and dtype, in [0, 1], on the 256
        levels of 8 bits.
    """
    check_corruption(name, severity)
    images = np.asarray(images)
    if images.ndim != 4 or not np.issubdtype(images.dtype, np.floating):
        raise ValueError(
            "`images` must be a float array (n, height, width, channels). "
            f"Received: {images.dtype} of shape {images.shape}"
        )
    # The same draws at every severity: severities differ by their parameters only.
    rng = np.random.default_rng([seed, CORRUPTIONS.index(name)])
    parameter = SEVERITIES[name][severity - 1]
    corrupted = OPERATIONS[name](images.astype("float64"), parameter, rng)
    return (to_uint8(corrupted) / 255.0).astype(images.dtype)


def to_uint8(images):
    """[0, 1] floats as 8-bit values, truncated as CIFAR-10-C's are."""
    return (np.clip(images, 0.0, 1.0) * 255).astype("uint8")


def per_image(operation, images, parameter, rng):
    """`operation(image, parameter, rng)` applied to each image in turn."""
    return np.stack([operation(image, parameter, rng) for image in images])


def spatial_gaussian(images, sigma):
    """Each image of `(n, height, width, channels)` blurred by a Gaussian of
    `sigma` pixels across height and width (edges repeated)."""
    return ndimage.gaussian_filter(images, (0, sigma, sigma, 0), mode="nearest")


def gaussian_noise(images, std, rng):
    return add_noise(images, std, "gaussian", rng)


def shot_noise(images, photons, rng):
    return np.clip(rng.poisson(images * photons) / photons, 0, 1)


def impulse_noise(images, amount, rng):
    return skimage.util.random_noise(images, mode="s&p", amount=amount, rng=rng)


def defocus_kernel(radius, alias_sigma):
    """A disk of `radius` pixels on a 17x17 grid (larger for a radius above 8),
    normalised and anti-aliased by a 3x3 Gaussian of `alias_sigma` (5x5 above 8)."""
    half = max(8, math.ceil(radius))
    grid = np.arange(-half, half + 1)
    disk = (grid[:, None] ** 2 + grid[None, :] ** 2 <= radius**2).astype("float64")
    disk /= disk.sum()
    blur_radius = 1 if radius <= 8 else 2
    return ndimage.gaussian_filter(disk, alias_sigma, mode="mirror", radius=blur_radius)


def defocus_blur(images, parameter, rng):
    kernel = defocus_kernel(*parameter)
    return ndimage.correlate(images, kernel[None, :, :, None], mode="mirror")


def glass_blur(images, parameter, rng):
    """Blur; then, pass after pass from the bottom-right to the top-left,
    give each pixel the value of a random neighbour; blur again.

    The published generator writes this as a swap, `x[h, w], x[h', w'] =
    x[h', w'], x[h, w]` on NumPy views, which copies one way only (the second
    assignment reads the already overwritten pixel): we copy one way too.
    """
    sigma, shift, passes = parameter
    shuffled = to_uint8(spatial_gaussian(images, sigma)).astype("float64") / 255
    count, height, width = images.shape[:3]
    every = np.arange(count)
    for _ in range(passes):
        for h in range(height - shift, shift, -1):
            for w in range(width - shift, shift, -1):
                dy, dx = rng.integers(-shift, shift, size=(2, count))
                shuffled[every, h, w] = shuffled[every, h + dy, w + dx]
    return np.clip(spatial_gaussian(shuffled, sigma), 0, 1)


def motion_blur_kernel(radius, sigma, angle):
    """Offsets `(k, 2)` and weights `(k,)` of a one-sided motion blur: the
    `2 * ceil(radius) + 1` pixels on a line at `angle` degrees, weighted by a
    Gaussian of `sigma` in the distance (as ImageMagick's motion blur)."""
    distance = np.arange(2 * math.ceil(radius) + 1)
    weights = np.exp(-(distance**2) / (2 * sigma**2))
    theta = math.radians(angle)
    offsets = np.stack(
        [np.round(distance * math.sin(theta)), np.round(distance * math.cos(theta))], 1
    ).astype(int)
    return offsets, weights / weights.sum()


def blur_along(image, offsets, weights):
    """`image` (height, width, ...) averaged over its copies shifted by
    `offsets` (rows, columns), edges repeated."""
    pad = int(np.abs(offsets).max())
    widths = [(pad, pad), (pad, pad)] + [(0, 0)] * (image.ndim - 2)
    padded = np.pad(image, widths, mode="edge")
    height, width = image.shape[:2]
    return sum(
        weight * padded[pad + dy : pad + dy + height, pad + dx : pad + dx + width]
        for (dy, dx), weight in zip(offsets, weights)
    )


def motion_blur(images, parameter, rng):
    def blur(image, parameter, rng):
        offsets, weights = motion_blur_kernel(*parameter, rng.uniform(-45, 45))
        return blur_along(image, offsets, weights)

    return per_image(blur, images, parameter, rng)


def clipped_zoom(images, factor):
    """The centre of each image (..., height, width, channels) zoomed by
    `factor` (bilinear), cropped back to its size."""
    size = images.shape[-3]
    crop = math.ceil(size / factor)
    top = (size - crop) // 2
    centre = images[..., top : top + crop, top : top + crop, :]
    zooms = (1,) * (images.ndim - 3) + (factor, factor, 1)
    zoomed = ndimage.zoom(centre, zooms, order=1)
    trim = (zoomed.shape[-3] - size) // 2
    return zoomed[..., trim : trim + size, trim : trim + size, :]


def zoom_blur(images, largest, rng):
    factors = np.arange(1, largest, 0.01)
    total = images + sum(clipped_zoom(images, factor) for factor in factors)
    return np.clip(total / (len(factors) + 1), 0, 1)


def grayscale(image):
    """ITU-R 601 luma of an RGB image (a copy of a one-channel image)."""
    if image.shape[-1] == 1:
        return image
    return image @ np.array([0.299, 0.587, 0.114])[:, None]


def snow(images, parameter, rng):
    mean, std, zoom, threshold, radius, sigma, keep = parameter

    def fall(image, parameter, rng):
        height, width = image.shape[:2]
        flakes = rng.normal(mean, std, size=(height, width, 1))
        flakes = clipped_zoom(flakes, zoom) if zoom != 1 else flakes
        flakes[flakes < threshold] = 0
        flakes = to_uint8(flakes) / 255
        offsets, weights = motion_blur_kernel(radius, sigma, rng.uniform(-135, -45))
        flakes = to_uint8(blur_along(flakes, offsets, weights)) / 255
        whitened = np.maximum(image, grayscale(image) * 1.5 + 0.5)
        image = keep * image + (1 - keep) * whitened
        return np.clip(image + flakes + np.rot90(flakes, 2), 0, 1)

    return per_image(fall, images, parameter, rng)


@functools.cache
def frost_textures():
    """The frost photographs, scaled by `FROST_SCALE`, as float RGB in [0, 1]."""
    spec = importlib.util.find_spec("imagecorruptions")
    if spec is None:
        raise ImportError(
            "The frost corruption overlays the frost photographs of the "
            "`imagecorruptions` package: pip install imagecorruptions"
        )
    folder = pathlib.Path(spec.submodule_search_locations[0]) / "frost"
    textures = []
    for name in FROST_FILES:
        with Image.open(folder / name) as photo:
            pixels = np.asarray(photo.convert("RGB")) / 255.0
        size = (
            round(pixels.shape[0] * FROST_SCALE),
            round(pixels.shape[1] * FROST_SCALE),
        )
        # Bilinear without anti-aliasing, as the published generator scales them.
        textures.append(
            skimage.transform.resize(pixels, size, order=1, anti_aliasing=False)
        )
    return tuple(textures)


def frost(images, parameter, rng):
    keep, strength = parameter
    if images.shape[-1] != 3:
        raise ValueError(
            f"frost needs RGB images. Received {images.shape[-1]} channel(s)"
        )

    def freeze(image, parameter, rng):
        texture = frost_textures()[rng.integers(len(FROST_FILES))]
        height, width = image.shape[:2]
        top = rng.integers(0, texture.shape[0] - height)
        left = rng.integers(0, texture.shape[1] - width)
        patch = texture[top : top + height, left : left + width]
        return np.clip(keep * image + strength * patch, 0, 1)

    return per_image(freeze, images, parameter, rng)


def plasma_fractal(size, decay, rng):
    """A `size` x `size` cloud in [0, 1] by the diamond-square algorithm on a
    torus (`size` a power of two): each level's midpoints are the mean of
    their four neighbours plus uniform noise whose range shrinks by `decay`
    squared per level, as the published generator's does."""
    cloud = np.zeros((size, size))
    step, roughness = size, 100.0
    while step >= 2:
        half = step // 2
        amplitude = roughness**2
        corners = cloud[::step, ::step]
        square = corners + np.roll(corners, -1, 0)
        square = square + np.roll(square, -1, 1)
        cloud[half::step, half::step] = square / 4 + rng.uniform(
            -amplitude, amplitude, square.shape
        )
        centres = cloud[half::step, half::step]
        across = corners + np.roll(corners, -1, 1) + centres + np.roll(centres, 1, 0)
        cloud[::step, half::step] = across / 4 + rng.uniform(
            -amplitude, amplitude, across.shape
        )
        down = corners + np.roll(corners, -1, 0) + centres + np.roll(centres, 1, 1)
        cloud[half::step, ::step] = down / 4 + rng.uniform(
            -amplitude, amplitude, down.shape
        )
        step, roughness = half, roughness / decay
    cloud -= cloud.min()
    return cloud / cloud.max()


def fog(images, parameter, rng):
    strength, decay = parameter

    def mist(image, parameter, rng):
        height, width = image.shape[:2]
        size = 2 ** math.ceil(math.log2(max(height, width, 2)))
        cloud = plasma_fractal(size, decay, rng)[:height, :width, None]
        brightest = image.max()
        return np.clip(
            (image + strength * cloud) * brightest / (brightest + strength), 0, 1
        )

    return per_image(mist, images, parameter, rng)


def brightness(images, shift, rng):
    if images.shape[-1] == 1:
        return np.clip(images + shift, 0, 1)
    hsv = skimage.color.rgb2hsv(images)
    hsv[..., 2] = np.clip(hsv[..., 2] + shift, 0, 1)
    return skimage.color.hsv2rgb(hsv)


def contrast(images, factor, rng):
    means = images.mean(axis=(1, 2), keepdims=True)
    return np.clip((images - means) * factor + means, 0, 1)


def elastic_transform(images, parameter, rng):
    """A random affine jitter of three points, then a smooth random
    displacement field (bilinear, edges reflected)."""

    def deform(image, parameter, rng):
        height, width = image.shape[:2]
        scale, smoothness, jitter = (value * height for value in parameter)
        centre, half = np.array([width // 2, height // 2]), min(height, width) // 3
        source = np.array(
            [centre + half, [centre[0] + half, centre[1] - half], centre - half],
            dtype="float64",
        )
        target = source + rng.uniform(-jitter, jitter, size=source.shape)
        affine = skimage.transform.AffineTransform.from_estimate(source, target)
        image = skimage.transform.warp(
            image, affine.inverse, order=1, mode="reflect", preserve_range=True
        )
        dy, dx = (
            ndimage.gaussian_filter(
                rng.uniform(-1, 1, size=(height, width)),
                smoothness,
                mode="reflect",
                truncate=3,
            )
            * scale
            for _ in range(2)
        )
        rows, columns = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
        coordinates = [rows + dy, columns + dx]
        return np.stack(
            [
                ndimage.map_coordinates(channel, coordinates, order=1, mode="reflect")
                for channel in np.moveaxis(image, -1, 0)
            ],
            -1,
        )

    return np.clip(per_image(deform, images, parameter, rng), 0, 1)


def as_pil(image):
    """A [0, 1] image (height, width, channels) as an 8-bit PIL image."""
    pixels = to_uint8(image)
    return Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)


def from_pil(image, channels):
    pixels = np.asarray(image, dtype="float64") / 255
    return pixels[..., None] if channels == 1 else pixels


def pixelate(images, fraction, rng):
    def blocks(image, fraction, rng):
        height, width = image.shape[:2]
        small = (int(width * fraction), int(height * fraction))
        picture = (
            as_pil(image).resize(small, Image.BOX).resize((width, height), Image.BOX)
        )
        return from_pil(picture, image.shape[-1])

    return per_image(blocks, images, fraction, rng)


def jpeg_compression(images, quality, rng):
    def compress(image, quality, rng):
        buffer = io.BytesIO()
        as_pil(image).save(buffer, "JPEG", quality=quality)
        with Image.open(buffer) as decoded:
            return from_pil(decoded, image.shape[-1])

    return per_image(compress, images, quality, rng)


# In `CORRUPTIONS`' order (the seed of each corruption's draws is its index).
OPERATIONS = {
    "gaussian_noise": gaussian_noise,
    "shot_noise": shot_noise,
    "impulse_noise": impulse_noise,
    "defocus_blur": defocus_blur,
    "glass_blur": glass_blur,
    "motion_blur": motion_blur,
    "zoom_blur": zoom_blur,
    "snow": snow,
    "frost": frost,
    "fog": fog,
    "brightness": brightness,
    "contrast": contrast,
    "elastic_transform": elastic_transform,
    "pixelate": pixelate,
    "jpeg_compression": jpeg_compression,
}
