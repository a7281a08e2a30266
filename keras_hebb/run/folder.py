"""A run's output folder: its layout, every read and write of its artefacts,
and the one writer of each network.

```
<run>/results.json, results.md, robustness.json, robustness.md,
      corruptions.json, corruptions.md, *.png
<run>/<variant>/seed_<seed>/          a `NetworkFolder`
    model.keras, history.csv, training.json, variant.json,
    evaluation.json, per_image.npz, backup/epoch_<n>/, tensorboard/,
    writer.lock (while a process trains it)
```

`RunFolder(path).network(variant, seed)` is one network's folder;
`RunFolder.networks` finds a run's trained networks and `model_files` names
model files given on the command line. Every file is written atomically
(`keras_hebb.files`).

A network is trained by one process at a time: `NetworkFolder.lock()` holds
`writer.lock` (the holder's process id and host) while it trains, and a
second writer stops with `FolderLockedError` naming the holder. A lock left
by a process that no longer runs on this host (killed with `kill -9`) is
taken over, so that a killed run still resumes. Different networks of one
run folder can be trained at once.
"""

import contextlib
import csv
import json
import os
import pathlib
import socket
import time

import numpy as np

from keras_hebb.files import write_atomically, write_json, write_text
from keras_hebb.run.records import CorruptionsRecord, ResultsRecord, RobustnessRecord

LOCK_NAME = "writer.lock"
# The records a run folder holds, each in `<kind>.json`.
RECORD_TYPES = {
    "results": ResultsRecord,
    "robustness": RobustnessRecord,
    "corruptions": CorruptionsRecord,
}


class FolderLockedError(RuntimeError):
    """Another live process is training the network of this folder."""


class NetworkFolder:
    """The folder of one trained network (`<run>/<variant>/seed_<seed>/`).

    Args:
        path: the folder (created when something is written).
    """

    def __init__(self, path):
        self.path = pathlib.Path(path)

    def __repr__(self):
        return f"NetworkFolder({str(self.path)!r})"

    def __eq__(self, other):
        return isinstance(other, NetworkFolder) and other.path == self.path

    model = property(lambda self: self.path / "model.keras")
    history = property(lambda self: self.path / "history.csv")
    training = property(lambda self: self.path / "training.json")
    setting = property(lambda self: self.path / "variant.json")
    evaluation = property(lambda self: self.path / "evaluation.json")
    per_image = property(lambda self: self.path / "per_image.npz")
    backup = property(lambda self: self.path / "backup")
    tensorboard = property(lambda self: self.path / "tensorboard")

    def read_history(self):
        """The per-epoch history ({column: [float per epoch]}); {} before the
        first epoch."""
        if not self.history.exists():
            return {}
        with self.history.open(newline="") as file:
            reader = csv.DictReader(file)
            rows = list(reader)
        return {
            column: [float(row[column]) for row in rows]
            for column in reader.fieldnames or []
        }

    def read_setting(self):
        """The recorded training setting (`variant.json`), or None."""
        if not self.setting.exists():
            return None
        return json.loads(self.setting.read_text())

    def write_setting(self, setting):
        write_json(self.setting, setting)

    def write_training_record(self, record):
        write_json(self.training, record)

    def read_training_record(self):
        return json.loads(self.training.read_text())

    def has_evaluation(self):
        return self.evaluation.exists() and self.per_image.exists()

    def write_evaluation(self, figures, per_image):
        """The figures (`evaluation.json`) and per-image scores
        (`per_image.npz`, {metric key: (images,) float32})."""
        self.path.mkdir(parents=True, exist_ok=True)
        write_atomically(
            self.per_image,
            lambda temporary: np.savez_compressed(temporary, **per_image),
        )
        write_json(self.evaluation, figures)

    def read_evaluation(self):
        """(figures, per-image scores) written by `write_evaluation`."""
        with np.load(self.per_image) as arrays:
            per_image = {key: arrays[key] for key in arrays.files}
        return json.loads(self.evaluation.read_text()), per_image

    def lock(self):
        """A context manager holding this folder's writer lock."""
        return writer_lock(self.path / LOCK_NAME)


class RunFolder:
    """A run's output folder: its networks, its records and reports.

    Args:
        path: the folder (created when something is written).

    Example:

    >>> run = RunFolder("runs/cpu")
    >>> run.network("hah", 2022).model
    PosixPath('runs/cpu/hah/seed_2022/model.keras')
    """

    def __init__(self, path):
        self.path = pathlib.Path(path)

    def __repr__(self):
        return f"RunFolder({str(self.path)!r})"

    def network(self, variant, seed):
        return NetworkFolder(self.path / variant / f"seed_{seed}")

    def networks(self, variants, seeds):
        """{seed: {variant: model file}} of the trained networks of
        `variants` x `seeds`; a `FileNotFoundError` lists the missing ones."""
        files = {
            seed: {variant: self.network(variant, seed).model for variant in variants}
            for seed in seeds
        }
        missing = [
            str(path)
            for by_variant in files.values()
            for path in by_variant.values()
            if not path.is_file()
        ]
        if missing:
            raise FileNotFoundError(
                f"{self.path} lacks {missing}; run `keras-hebb run` with this "
                "configuration and --output first"
            )
        return files

    def file(self, name):
        """The path of a report file or plot of the run."""
        return self.path / name

    def record_path(self, kind):
        self._check_kind(kind)
        return self.path / f"{kind}.json"

    def has_record(self, kind):
        return self.record_path(kind).is_file()

    def read_record(self, kind):
        """The record of `kind` ("results", "robustness", "corruptions")."""
        return RECORD_TYPES[kind].from_json(self.record_path(kind).read_text())

    def write_record(self, kind, record):
        if not isinstance(record, RECORD_TYPES[kind]):
            raise TypeError(
                f"A {kind} record is a {RECORD_TYPES[kind].__name__}. "
                f"Received: {type(record).__name__}"
            )
        write_json(self.record_path(kind), record.to_dict())

    def write_text(self, name, text):
        write_text(self.file(name), text)

    def _check_kind(self, kind):
        if kind not in RECORD_TYPES:
            raise ValueError(
                f"`kind` must be one of {tuple(RECORD_TYPES)}. Received: kind={kind!r}"
            )


def model_files(paths):
    """{name: file} of model files given on the command line, named by
    their stem, or where stems repeat by their two parent folders (a run's
    `<variant>/seed_<s>/model.keras` is "<variant>_seed_<s>"), or else by
    their whole path."""
    paths = [pathlib.Path(p) for p in paths]
    for name_of in (
        lambda p: p.stem,
        lambda p: "_".join(p.parts[-3:-1]),
        lambda p: str(p.with_suffix("")),
    ):
        names = [name_of(p) for p in paths]
        if len(set(names)) == len(names):
            break
    return dict(zip(names, paths))


def this_holder():
    return {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}


def holder_is_alive(holder):
    """Whether the process that wrote a lock still runs. A holder on another
    host cannot be checked and counts as alive."""
    if holder.get("host") != socket.gethostname():
        return True
    try:
        os.kill(int(holder["pid"]), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_holder(path):
    """The holder recorded in a lock file; {} for one being written."""
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def describe_holder(holder, path):
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(holder.get("since", 0)))
    return (
        f"process {holder.get('pid')} on host {holder.get('host')} has been "
        f"training into {path.parent} since {since} ({path} holds the lock). Wait "
        "for it, train into another --output, or, if no such process runs, delete "
        f"{path}"
    )


def acquire(path):
    """Creates the lock file `path` for this process, taking over a stale
    one; raises `FolderLockedError` while a live process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    holder = this_holder()
    text = json.dumps(holder)
    for _ in range(3):
        try:
            with open(path, "x") as file:
                file.write(text)
            return holder
        except FileExistsError:
            recorded = read_holder(path)
            if not recorded or holder_is_alive(recorded):
                raise FolderLockedError(
                    describe_holder(recorded, path)
                    if recorded
                    else f"{path} is being taken by another process"
                ) from None
            # Stale: its process is gone. Replace it, then check that this
            # process is the one that won a race with another taker.
            temporary = path.with_name(f"{path.name}.{os.getpid()}")
            temporary.write_text(text)
            os.replace(temporary, path)
            if read_holder(path) == json.loads(text):
                return holder
    raise FolderLockedError(f"{path} changed hands while being taken; try again")


@contextlib.contextmanager
def writer_lock(path):
    """Holds the writer lock `path` (see `acquire`) until the block ends."""
    path = pathlib.Path(path)
    holder = acquire(path)
    try:
        yield holder
    finally:
        if read_holder(path).get("pid") == holder["pid"]:
            path.unlink(missing_ok=True)
