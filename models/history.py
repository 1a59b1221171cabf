"""The feature history a model scores with, kept current between retrainings.

A model carries the feature state of its training: the parties, routes, goods and norms of the
history up to its cut-off. Retraining comes after an operation's phase, months later; in between,
each day's arrivals are history too. A shipper first seen last week, or a consignee with forty
lines since the model was trained, should read so. `risk-engine screen` therefore adds each batch
it screens to the history of the model version it screened with, kept under
``RISK_ENGINE_HOME/history``; the next screening and the service (at start and on reload) score
with it. A line the history already holds (a batch screened twice, a manifest sent again) is
scored, not added again (`features.pipeline`). A new model version starts from its own state:
its training saw the history up to its cut-off.

Files, per model version: ``model-V.pkl`` the feature pipeline (pickled: only this engine writes
it, as it writes the models), ``model-V.json`` what it holds and which batches were added (read
without unpickling), ``model-V.lock`` held while a screening advances it. Writes go to a file
beside the target, renamed into place, so a reader never sees half a history.
"""

from __future__ import annotations

import copy
import errno
import fcntl
import json
import os
import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from risk_engine.errors import ConfigError
from risk_engine.settings import operator

__all__ = ["HistoryInfo", "ModelHistory"]

_FORMAT = 1
_BATCHES_KEPT = 200  # the batches listed in the .json (the counts cover all of them)


@dataclass
class HistoryInfo:
    """What a model version's current history holds, and where it came from."""

    model_version: str
    as_of: str  # history filed before this instant (UTC) is in it
    lines: int  # lines it has seen: the training's and those added since
    lines_added: int = 0  # lines added by screenings since training
    lines_repeated: int = 0  # lines offered again and not added twice
    updated_at: str = ""
    batches: list[dict[str, Any]] = field(default_factory=list)  # newest last


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ModelHistory:
    """The current feature histories under ``home/history``, one per model version."""

    def __init__(self, home: Path) -> None:
        self.folder = Path(home) / "history"

    def _path(self, version: str, suffix: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(version))
        return self.folder / f"model-{safe}{suffix}"

    def info(self, version: str) -> HistoryInfo | None:
        """The record of a version's history; None when it has none."""
        path = self._path(version, ".json")
        if not path.exists():
            return None
        try:
            return HistoryInfo(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as error:
            raise ConfigError(f"cannot read the feature history record {path}: {error}") from error

    def all(self) -> list[HistoryInfo]:
        """Every version's record, by version."""
        found = []
        for path in sorted(self.folder.glob("model-*.json")):
            info = self.info(path.stem.removeprefix("model-"))
            if info is not None:
                found.append(info)
        return sorted(found, key=lambda i: (len(i.model_version), i.model_version))

    def current(self, scorer: Any) -> Any:
        """``scorer`` with its version's current history (a copy; the scorer itself when the
        version has none yet)."""
        path = self._path(scorer.version, ".pkl")
        if not path.exists():
            return scorer
        try:
            with open(path, "rb") as handle:
                kept = pickle.load(handle)
        except (OSError, pickle.UnpicklingError, EOFError) as error:
            raise ConfigError(
                f"cannot read the feature history {path}: {error}; "
                f"`risk-engine history --reset {scorer.version}` starts again from the model's"
            ) from error
        if not isinstance(kept, dict) or kept.get("model_version") != str(scorer.version):
            raise ConfigError(f"{path} is not the feature history of model {scorer.version}")
        working = copy.copy(scorer)
        working.pipeline = kept["pipeline"]
        return working

    @contextmanager
    def advancing(self, version: str) -> Iterator[None]:
        """Hold the version's history for one screening: a second one at the same time is
        refused (its lines would be lost when the first one saves)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        lock = self._path(version, ".lock")
        with open(lock, "a", encoding="utf-8") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                raise ConfigError(
                    f"another screening is adding to the feature history of model {version} "
                    f"({lock}); run this one when it has finished, or with --no-history"
                ) from error
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def save(self, version: str, pipeline: Any, *, source: str, lines_before: int) -> HistoryInfo:
        """Keep ``pipeline`` as the version's current history, recording the batch ``source``
        that advanced it from ``lines_before`` lines seen."""
        state = pipeline.state_
        old = self.info(version)
        added = int(state.lines_seen) - lines_before
        repeated = int(getattr(state, "lines_repeated", 0))
        info = HistoryInfo(
            model_version=str(version),
            as_of=pipeline.as_of_.isoformat(),
            lines=int(state.lines_seen),
            lines_added=(old.lines_added if old else 0) + added,
            lines_repeated=repeated,
            updated_at=_now(),
            batches=[
                *(old.batches if old else []),
                {"file": source, "lines_added": added, "at": _now(), "by": operator()},
            ][-_BATCHES_KEPT:],
        )
        payload = {"format": _FORMAT, "model_version": str(version), "pipeline": pipeline}
        self.folder.mkdir(parents=True, exist_ok=True)
        _replace(self._path(version, ".pkl"), pickle.dumps(payload, protocol=5))
        _replace(
            self._path(version, ".json"),
            json.dumps(asdict(info), indent=1).encode("utf-8"),
        )
        return info

    def reset(self, version: str) -> bool:
        """Forget a version's history (scoring goes back to the model's own); False when it had
        none."""
        found = False
        for suffix in (".pkl", ".json"):
            path = self._path(version, suffix)
            if path.exists():
                path.unlink()
                found = True
        return found


def _replace(path: Path, data: bytes) -> None:
    """Write beside ``path``, then rename over it: readers see the old file or the new one."""
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)
