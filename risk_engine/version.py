"""The engine's release: the installed distribution's version, read once.

Releases are numbered 0.N.0 after the development stop N that made them (CHANGELOG.md): the
figures in docs/benchmarks.md and the upgrade notes in the docs name them so. A model's
training run (`engine.version` tag), a feature history's record and the service's OpenAPI
document carry it, so an operator can tell which release made what.
"""

from __future__ import annotations

from importlib import metadata

__all__ = ["DISTRIBUTION", "UNKNOWN", "engine_version"]

DISTRIBUTION = "maritime-risk-engine"
UNKNOWN = "unknown"  # the engine runs from a folder that was never installed


def engine_version() -> str:
    """The installed engine's version ("unknown" when it is not installed)."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return UNKNOWN
