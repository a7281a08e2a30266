"""Where a result comes from: the code's git commit and every library's version."""

import pathlib
import platform
import subprocess

from keras_hebb._compat import installed_version

# The distributions whose versions every output records: everything a run
# imports, the attack libraries included.
DISTRIBUTIONS = (
    "keras-hebb",
    "tensorflow",
    "keras",
    "numpy",
    "scipy",
    "statsmodels",
    "omegaconf",
    "tensorflow-datasets",
    "cleverhans",
    "pyautoattack",
    "torch",
    "matplotlib",
    "Pillow",
    "scikit-image",
    "imagecorruptions",
)


def library_versions():
    """{distribution: version} of `DISTRIBUTIONS` (None where not installed),
    with Python and the platform."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        **{name: installed_version(name) for name in DISTRIBUTIONS},
    }


def git_state(folder=None):
    """The commit checked out where the package lives and whether its tracked
    files differ from it; None values outside a git checkout."""
    folder = folder or pathlib.Path(__file__).resolve().parent

    def git(*args):
        result = subprocess.run(
            ["git", *args],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        return result.stdout.strip() if result.returncode == 0 else None

    try:
        commit = git("rev-parse", "HEAD")
        changes = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        commit, changes = None, None
    return {
        "git_commit": commit,
        "git_dirty": None if changes is None else bool(changes),
    }


def provenance():
    """The git state and library versions, as every output records them."""
    return {**git_state(), "versions": library_versions()}
