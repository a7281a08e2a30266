"""The options of the method's sparse, strong block, in one place.

Every HaH builder (`hah_vgg`, `hah_resnet`, `hah_wide_resnet`, `hah_lenet`)
and `hah_block` take them the same way: a `HaHOptions` as `hah_options`,
and any option by name on top (`hah_vgg(keep=0.3)`), which is how a run's
configuration reaches them (`variants.hah.args.keep`). Importable without
TensorFlow, so that configurations are checked before it starts.
"""

import dataclasses

THRESHOLD_KINDS = ("fractional", "adaptive", "none")
# Builders and configurations name the HaH gradient `hah_gradient`, which
# says what it is among a network's arguments; the block calls it `gradient`.
BUILDER_NAMES = {"gradient": "hah_gradient"}


def check_threshold_kind(kind):
    if kind not in THRESHOLD_KINDS:
        raise ValueError(
            f"`threshold` must be one of {THRESHOLD_KINDS}. Received: threshold={kind!r}"
        )


@dataclasses.dataclass(frozen=True)
class HaHOptions:
    """How the sparse, strong blocks are built; the defaults are the paper's.

    Attributes:
        ratio: HaH winners' fraction of channels, in (0, 1).
        demote: weight of the losers' mean in the HaH score.
        sigma: divisive normalisation's weight of the global maximum, in
            [0, 1].
        keep: fraction of each channel map the fractional threshold keeps,
            in (0, 1].
        field: divisive normalisation's field, "linf", "l1" or "l2".
        gradient: "local" (the paper's: the HaH cost's gradient reaches only
            its conv's weights) or "end_to_end"; builders and configurations
            call it `hah_gradient`.
        implicit_norm: bool; False makes the convs plain bias-free `Conv2D`s
            (in a HaH builder, every conv, not only the HaH ones).
        divisive_norm: bool; False drops the divisive normalisation.
        threshold: "fractional" (the paper's), "adaptive"
            (`AdaptiveThreshold(threshold_scale)`) or "none".
        threshold_scale: the adaptive threshold's multiple of the map's mean.

    Example:

    >>> options = HaHOptions(keep=0.3)
    >>> HaHOptions.of(options, hah_gradient="end_to_end").gradient
    'end_to_end'
    """

    ratio: float = 0.1
    demote: float = 1.0
    sigma: float = 0.1
    keep: float = 0.2
    field: str = "linf"
    gradient: str = "local"
    implicit_norm: bool = True
    divisive_norm: bool = True
    threshold: str = "fractional"
    threshold_scale: float = 1.0

    def __post_init__(self):
        check_threshold_kind(self.threshold)

    @classmethod
    def builder_names(cls):
        """The options as builders and configurations name them."""
        return [BUILDER_NAMES.get(f.name, f.name) for f in dataclasses.fields(cls)]

    @classmethod
    def of(cls, hah_options=None, **options):
        """`hah_options` (None: the paper's) with `options` set by name, in
        the block's or the builders' names.

        Raises:
            TypeError: naming an option that does not exist.
        """
        if hah_options is not None and not isinstance(hah_options, cls):
            raise TypeError(
                f"`hah_options` must be a HaHOptions. Received: {hah_options!r}"
            )
        block_names = {builder: block for block, builder in BUILDER_NAMES.items()}
        options = {
            block_names.get(name, name): value for name, value in options.items()
        }
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise TypeError(
                f"Unknown HaH option(s) {unknown}; the options are "
                f"{cls.builder_names()}."
            )
        return dataclasses.replace(hah_options or cls(), **options)
