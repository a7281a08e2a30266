"""Writing output files so that a crash never leaves half of one.

Every file of an output folder is written to a temporary name in the same
folder and then renamed over the final name (`os.replace`, atomic on POSIX),
so a reader or a resumed run sees either the previous complete file or the
new complete file.
"""

import json
import os
import pathlib
import shutil


def temporary_path(path):
    """A sibling of `path` for writing it: same folder, same suffix (Keras and
    Matplotlib pick formats by suffix), a name no final file has."""
    path = pathlib.Path(path)
    return path.with_name(f".{path.stem}.partial{path.suffix}")


def write_atomically(path, write):
    """Calls `write(temporary)` and renames the temporary file or folder to `path`.

    Args:
        path: final path of a file or folder (a folder replaces a previous
            one only once the new one is complete).
        write: callable that writes the whole file or folder at the path it
            is given.

    Returns:
        `path` as a `pathlib.Path`.

    Example:

    >>> path = write_atomically(out / "model.keras", model.save)
    """
    path = pathlib.Path(path)
    temporary = temporary_path(path)
    remove(temporary)
    try:
        write(temporary)
        if temporary.is_dir():
            remove(path)
        os.replace(temporary, path)
    finally:
        remove(temporary)
    return path


def remove(path):
    """Deletes a file or a folder tree if it exists."""
    path = pathlib.Path(path)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def write_text(path, text):
    """Writes `text` to `path` atomically."""
    return write_atomically(path, lambda temporary: temporary.write_text(text))


def write_json(path, record):
    """Writes `record` as indented JSON to `path` atomically."""
    return write_text(path, json.dumps(record, indent=2))
