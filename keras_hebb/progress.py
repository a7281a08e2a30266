"""One-line progress messages of long phases (training, evaluation, attacks)."""


def say(message):
    """Prints `[keras-hebb] message`, flushed so that logs show progress."""
    print(f"[keras-hebb] {message}", flush=True)
