"""The optional extras of keras-hebb, and a clear error when one is missing.

`pip install keras-hebb` installs what the layers and models need
(TensorFlow, Keras, NumPy). The rest comes with extras, declared once, in
setup.cfg: `[robustness]` (attacks, noise, common corruptions), `[experiments]`
(the runs, reports and the `keras-hebb` command; includes `[robustness]`),
`[all]` and `[test]`. A package that needs an extra calls `require_extra` at
import, which reads the extra's requirements from the installed metadata
and names what is missing and the pip command that installs it.
"""

import importlib.metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

DISTRIBUTION = "keras-hebb"


class MissingExtraError(ImportError):
    """A part of keras-hebb was imported without the extra it needs."""


def extra_requirements(extra):
    """The requirements of `extra` (through extras it includes, each once),
    from the installed metadata; None when keras-hebb runs from a source
    tree without being installed."""
    try:
        declared = importlib.metadata.requires(DISTRIBUTION) or []
    except importlib.metadata.PackageNotFoundError:
        return None
    requirements = []
    for line in declared:
        requirement = Requirement(line)
        marker = requirement.marker
        if marker is None or not marker.evaluate({"extra": extra}):
            continue
        if canonicalize_name(requirement.name) == DISTRIBUTION:
            for included in sorted(requirement.extras):
                requirements += extra_requirements(included)
        else:
            requirements.append(requirement)
    unique = {}
    for requirement in requirements:
        unique.setdefault(canonicalize_name(requirement.name), requirement)
    return list(unique.values())


def is_installed(requirement):
    try:
        importlib.metadata.version(requirement.name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def require_extra(extra, what):
    """Raises `MissingExtraError` if a distribution of `extra` is missing.

    Args:
        extra: the extra's name in setup.cfg, e.g. "robustness".
        what: what needs it, for the message.
    """
    requirements = extra_requirements(extra) or []
    missing = sorted({r.name for r in requirements if not is_installed(r)})
    if missing:
        raise MissingExtraError(
            f"{what} needs keras-hebb's [{extra}] extra; missing: {missing}. "
            f"Install it with: pip install 'keras-hebb[{extra}]'"
        )
