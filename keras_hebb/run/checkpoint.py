"""Per-epoch checkpoints that let a killed training run resume exactly.

After every epoch `EpochCheckpoint` writes a folder `epoch_<n>` (n = epochs
completed) holding the model's and the optimizer's variables
(`model.weights.h5`) and `state.json` (epochs completed, seed, the history
so far), then rewrites the history CSV from that history. Each folder is
written under a temporary name and renamed when complete, so the newest
`epoch_<n>` is always whole; the two newest are kept. `restore` loads the
newest one before training and returns the epoch to start from.
"""

import csv
import io
import json
import math
import pathlib
import re

import keras

from keras_hebb.files import remove, write_atomically, write_text

CHECKPOINT_NAME = re.compile(r"epoch_(\d+)")
KEPT = 2


class CheckpointError(RuntimeError):
    """Raised when a checkpoint exists but cannot be read."""


def history_csv(history):
    """The history `{column: [value per epoch]}` as CSV text, "epoch" first."""
    columns = ["epoch", *sorted(c for c in history if c != "epoch")]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(zip(*(history[c] for c in columns)))
    return text.getvalue()


class EpochCheckpoint(keras.callbacks.Callback):
    """Saves the training state after every epoch; restores the newest.

    Put it last in the callback list so that the figures other callbacks
    add to an epoch's logs reach the history.

    Args:
        folder: folder of the `epoch_<n>` checkpoints (created when needed).
        history_path: CSV file rewritten after every epoch with one row per
            completed epoch.
        seed: the run's seed, recorded in every checkpoint.
        writes: False for processes that must not write (the non-chief
            workers of a multi-worker run); they still restore.

    Example:

    >>> checkpoint = EpochCheckpoint(out / "backup", out / "history.csv", seed)
    >>> first = checkpoint.restore(model)  # 0 without a checkpoint
    >>> history = model.fit(x, y, epochs=2, initial_epoch=first, callbacks=[checkpoint])
    """

    def __init__(self, folder, history_path, seed, writes=True):
        super().__init__()
        self.folder = pathlib.Path(folder)
        self.history_path = pathlib.Path(history_path)
        self.seed = seed
        self.writes = writes
        self.history = {}

    def checkpoints(self):
        """The complete checkpoint folders, oldest first."""
        if not self.folder.is_dir():
            return []
        found = [
            (int(match.group(1)), path)
            for path in self.folder.iterdir()
            if (match := CHECKPOINT_NAME.fullmatch(path.name))
        ]
        return [path for _, path in sorted(found)]

    def restore(self, model):
        """Loads the newest checkpoint into `model` (built and compiled).

        Returns:
            The number of epochs it completed, 0 without a checkpoint.

        Raises:
            CheckpointError: naming the file, if the newest checkpoint is
                truncated or corrupt (never a silent fresh start).
        """
        checkpoints = self.checkpoints()
        if not checkpoints:
            return 0
        newest = checkpoints[-1]
        advice = (
            f"Delete {newest} to resume from the checkpoint before it, or "
            f"{self.folder} to train from scratch."
        )
        state_path = newest / "state.json"
        try:
            state = json.loads(state_path.read_text())
            epoch, history = int(state["epoch"]), state["history"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise CheckpointError(
                f"Cannot read the checkpoint {state_path} "
                f"({type(error).__name__}: {error}). {advice}"
            ) from error
        weights_path = newest / "model.weights.h5"
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        try:
            model.load_weights(weights_path)
        except Exception as error:
            raise CheckpointError(
                f"Cannot read the checkpoint {weights_path}: it is truncated or "
                f"corrupt ({type(error).__name__}: {error}). {advice}"
            ) from error
        self.history = history
        return epoch

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch, **(logs or {})}
        done = len(self.history.get("epoch", []))
        # A figure logged only on some epochs is NaN on the others.
        for column in set(self.history) | set(row):
            values = self.history.setdefault(column, [math.nan] * done)
            values.append(float(row.get(column, math.nan)))
        if self.writes:
            self.save(epoch + 1)

    def save(self, epochs_done):
        """Writes `epoch_<epochs_done>` and the history CSV, drops old ones."""
        state = {"epoch": epochs_done, "seed": self.seed, "history": self.history}

        def write(folder):
            folder.mkdir(parents=True)
            self.model.save_weights(folder / "model.weights.h5")
            (folder / "state.json").write_text(json.dumps(state, indent=2))

        self.folder.mkdir(parents=True, exist_ok=True)
        write_atomically(self.folder / f"epoch_{epochs_done:04d}", write)
        for old in self.checkpoints()[:-KEPT]:
            remove(old)
        write_text(self.history_path, history_csv(self.history))
