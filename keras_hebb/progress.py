"""Progress of long phases (training, evaluation, attacks) as a person reads it.

On a terminal Keras draws its progress bars; in a log file (output is not a
terminal) a bar redrawn once per batch would fill it with escape codes, so
`fit` prints one line per epoch instead. The project's own phases print one
line each with `say`.
"""

import sys

# Keras' `verbose` of `fit`: 1 draws a bar per batch, 2 prints a line per epoch.
PROGRESS_BAR, LINE_PER_EPOCH = 1, 2


def say(message):
    """Prints `[keras-hebb] message`, flushed so that logs show progress."""
    print(f"[keras-hebb] {message}", flush=True)


def fit_verbosity(stream=None):
    """Keras' `verbose` for `fit`: a progress bar on a terminal, else a line
    per epoch. `stream` defaults to `sys.stdout`."""
    stream = sys.stdout if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return PROGRESS_BAR if isatty is not None and isatty() else LINE_PER_EPOCH
