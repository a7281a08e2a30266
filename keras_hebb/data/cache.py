"""Where keras-hebb keeps what it computes once and reuses across runs."""

import os
import pathlib


def cache_folder(kind, configured=None):
    """The cache folder of `kind` ("corruptions", "statistics", ...):
    `configured` when given, else `$XDG_CACHE_HOME/keras-hebb/<kind>`
    (default `~/.cache/keras-hebb/<kind>`)."""
    if configured:
        return pathlib.Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
    return pathlib.Path(base) / "keras-hebb" / kind
