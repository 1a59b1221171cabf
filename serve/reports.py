"""The analysts' reports the engine writes (training and phase reports, self-contained HTML
under ``RISK_ENGINE_HOME/reports``), listed and handed out by name for the API.

Only an ``.html`` file lying directly in the reports folder, named with letters, digits, dots,
dashes and underscores, can be asked for: a name is looked up in the listing, never joined to a
path, so no request reaches any other file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

__all__ = ["ReportFile", "find_report", "list_reports"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}\.html")
ReportKind = Literal["training", "phase", "other"]
_KINDS: tuple[tuple[str, ReportKind], ...] = (("training-", "training"), ("phase-", "phase"))


@dataclass(frozen=True)
class ReportFile:
    name: str
    kind: ReportKind  # training (one per model version), phase (champion/challenger), other
    size_bytes: int
    modified_at: datetime
    path: Path


def list_reports(folder: Path) -> list[ReportFile]:
    """The reports in ``folder``, newest first (none when it does not exist yet)."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        if not _NAME.fullmatch(path.name) or not path.is_file():
            continue
        stat = path.stat()
        kind: ReportKind = next(
            (k for prefix, k in _KINDS if path.name.startswith(prefix)), "other"
        )
        modified = datetime.fromtimestamp(stat.st_mtime, UTC)
        found.append(ReportFile(path.name, kind, stat.st_size, modified, path))
    return sorted(found, key=lambda r: (r.modified_at, r.name), reverse=True)


def find_report(folder: Path, name: str) -> ReportFile | None:
    """The report called ``name`` in ``folder``'s listing, or None."""
    if not _NAME.fullmatch(name):
        return None
    return next((r for r in list_reports(folder) if r.name == name), None)
