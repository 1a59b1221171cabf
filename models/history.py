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

Inspection outcomes recorded since training can be added too (`add_outcomes`): a seizure then
raises the rates of its parties, route and goods for the next screening, rather than at the next
retraining. Each outcome is added once (its key, bl_number, container_number and inspected_at,
is kept), outcomes recorded before the model's cut-off are in its training already, and an
outcome finds its line among the recent lines the history keeps (120 days).

Files, per model version: ``model-V.pkl`` the feature pipeline with the keys of the outcomes
added and the record (pickled: only this engine writes it, as it writes the models); beside it,
written after it as mirrors, ``model-V.json`` the record (what it holds and which batches were
added, read without unpickling) and ``model-V.outcomes.npy`` the keys; ``model-V.lock`` held
while a screening or an outcome file advances it. Writes go to a file beside the target, renamed
into place, so a reader never sees half a history; the history and what it needs to go on are
one file, so a process killed while saving leaves the old history or the new one whole (a
history saved before stop 22 reads its outcome keys from the ``.npy`` file).
"""

from __future__ import annotations

import contextlib
import copy
import errno
import fcntl
import io
import json
import os
import pickle
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from risk_engine.contract import RECEIPT_SLACK
from risk_engine.errors import ConfigError, OutputUnwritable
from risk_engine.settings import operator
from risk_engine.version import engine_version

__all__ = ["HistoryInfo", "ModelHistory"]

_FORMAT = 1
_BATCHES_KEPT = 200  # the batches listed in the .json (the counts cover all of them)


# The files of a version's history (its lock file aside).
_FILES = (".pkl", ".json", ".outcomes.npy")


@dataclass
class HistoryInfo:
    """What a model version's current history holds, and where it came from."""

    model_version: str
    as_of: str  # history filed before this instant (UTC) is in it
    lines: int  # lines it has seen: the training's and those added since
    lines_added: int = 0  # lines added by screenings since training
    lines_repeated: int = 0  # lines offered again and not added twice
    # Lines added though filed before the history keeps line keys, and from when it keeps them
    # (a line filed since then and offered again is recognised).
    lines_beyond_memory: int = 0
    recognises_from: str = ""
    outcomes_added: int = 0  # outcomes recorded since training, added
    updated_at: str = ""
    batches: list[dict[str, Any]] = field(default_factory=list)  # newest last
    # How many screenings and outcome files were added (the batches kept are the last 200, and
    # hold both kinds: `history` told outcome files as screenings); -1: a record from before
    # they were counted, told from its batches.
    screenings: int = -1
    outcome_files: int = -1
    # How its party names and descriptions are keyed (`StateParams.name_rules`); 0 in a record
    # written before it was kept.
    name_rules: int = 0

    def __post_init__(self) -> None:
        if self.screenings < 0 or self.outcome_files < 0:
            files = sum(1 for batch in self.batches if batch.get("kind") == "outcomes")
            files += sum(1 for b in self.batches if "kind" not in b and "outcomes_added" in b)
            self.outcome_files = files
            self.screenings = len(self.batches) - files


class HistoryBusy(ConfigError):
    """Another run holds the version's history (`ModelHistory.advancing`)."""


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
        try:
            text = path.read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError):
            return None
        except PermissionError as error:
            raise self._denied(error) from None
        try:
            return HistoryInfo(**json.loads(text))
        except (OSError, ValueError, TypeError) as error:
            raise ConfigError(f"cannot read the feature history record {path}: {error}") from error

    def _denied(self, error: OSError) -> ConfigError:
        """The `ConfigError` for a history folder (or a file in it) this user may not use: a home
        owned by another user gave a traceback (PermissionError) in `history` and `screen`."""
        where = Path(error.filename) if error.filename else self.folder
        what = "feature histories" if where == self.folder else "feature history"
        return ConfigError(
            f"setting RISK_ENGINE_HOME={str(self.folder.parent)!r}: its {what} {where} cannot "
            f"be read ({error.strerror or error}): run as the user that owns the home, or give "
            "this one access"
        )

    def _names(self) -> list[str]:
        """The names of the files in the history folder (none without one); a folder this user
        may not list is a `ConfigError` naming it (glob said nothing, or raised a traceback
        from a stat, and `history` told no history yet or failed)."""
        try:
            with os.scandir(self.folder) as entries:
                return [entry.name for entry in entries]
        except (FileNotFoundError, NotADirectoryError):
            return []
        except OSError as error:
            raise self._denied(error) from None

    def stamp(self, version: str) -> tuple[int, int] | None:
        """When a version's history file last changed, and its size (None without one): the
        service reloads its model when this changes."""
        try:
            found = self._path(version, ".pkl").stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return (found.st_mtime_ns, found.st_size)

    def versions(self) -> list[str]:
        """Every version with a history, by its history file or its record (a first save cut
        off before its record left the history file alone: it was listed nowhere, and not
        pruned)."""
        found = {
            name.removeprefix("model-").removesuffix(suffix)
            for suffix in (".pkl", ".json")
            for name in self._names()
            if name.startswith("model-") and name.endswith(suffix)
        }
        return sorted(found, key=lambda v: (len(v), v))

    def all(self) -> list[HistoryInfo]:
        """Every version's record, by version."""
        found = []
        for name in sorted(self._names()):
            if not (name.startswith("model-") and name.endswith(".json")):
                continue
            info = self.info(name.removeprefix("model-").removesuffix(".json"))
            if info is not None:
                found.append(info)
        return sorted(found, key=lambda i: (len(i.model_version), i.model_version))

    def current(self, scorer: Any) -> Any:
        """``scorer`` with its version's current history (a copy; the scorer itself when the
        version has none yet)."""
        kept = self._payload(str(scorer.version))
        if kept is None:
            return scorer
        working = copy.copy(scorer)
        working.pipeline = kept["pipeline"]
        return working

    def _payload(self, version: str) -> dict[str, Any] | None:
        """The version's history file as saved: its pipeline and, since stop 22, the keys of
        the outcomes added and the record (one file renamed into place, so that a process
        killed while saving leaves the old history or the new one whole)."""
        path = self._path(version, ".pkl")
        try:
            with open(path, "rb") as handle:
                kept = pickle.load(handle)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except PermissionError as error:
            raise self._denied(error) from None
        except (OSError, pickle.UnpicklingError, EOFError) as error:
            raise ConfigError(
                f"cannot read the feature history {path}: {error}; "
                f"`risk-engine history --reset {version}` starts again from the model's"
            ) from error
        if not isinstance(kept, dict) or kept.get("model_version") != str(version):
            raise ConfigError(f"{path} is not the feature history of model {version}")
        return kept

    def repaired(self, version: str) -> bool:
        """Write the record again from the history file when a save was cut off between the
        two (the record told the history before, or was never written, while scoring used the
        new one); True when it did. Under the version's lock, read again there: a listing
        never writes an older record over a save that finished meanwhile; a history being
        advanced now is left to that run."""
        if self._stale_record(version) is None:  # read without the lock: a listing held it
            return False  # for the 0.4 s a history takes to read, and a screening was refused
        try:
            with self.advancing(version):
                record = self._stale_record(version)
                if record is None:
                    return False
                _replace(self._path(version, ".json"), json.dumps(record, indent=1).encode("utf-8"))
                return True
        except HistoryBusy:
            return False  # busy now: that run saves its own record

    def _stale_record(self, version: str) -> dict[str, Any] | None:
        """The record kept in the history file when the one beside it tells another history;
        None when they agree (files are replaced whole: read without the lock, each is the old
        or the new one)."""
        kept = self._payload(version)
        record = None if kept is None else kept.get("record")
        told = self.info(version)
        if record is None or (told is not None and asdict(told) == record):
            return None
        return dict(record)

    def _record(self, version: str, kept: dict[str, Any] | None) -> HistoryInfo | None:
        """The record of the history ``kept`` (its payload, read), else the one beside it."""
        record = None if kept is None else kept.get("record")
        return HistoryInfo(**record) if record is not None else self.info(version)

    @contextmanager
    def advancing(self, version: str) -> Iterator[None]:
        """Hold the version's history for one screening: a second one at the same time is
        refused (its lines would be lost when the first one saves)."""
        lock = self._path(version, ".lock")
        handle = self._open_lock(version, lock)
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                raise HistoryBusy(
                    f"another screening or outcome file is adding to the feature history of "
                    f"model {version} ({lock}): run this when it has finished (a screening can "
                    "also run with --no-history, which keeps nothing)"
                ) from error
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _open_lock(self, version: str, lock: Path) -> IO[str]:
        """The version's lock file, opened to be held. A history folder this user cannot write
        in is a `ConfigError` naming it, before any work: `open` gave a traceback, and a
        folder whose lock file was writable failed only when the screening saved."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle = open(lock, "a", encoding="utf-8")  # noqa: SIM115 (the caller closes it)
            if not os.access(self.folder, os.W_OK):
                handle.close()
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self.folder))
        except OSError as error:
            raise ConfigError(
                f"cannot add to the feature history of model {version} in {self.folder}: "
                f"{error.strerror or error}"
                + (f" ({error.filename})" if error.filename not in (None, str(self.folder)) else "")
                + "; run as the user that owns it (a screening can run with --no-history, "
                "which scores with the history of the model's training and keeps nothing)"
            ) from None
        return handle

    def save(
        self,
        version: str,
        pipeline: Any,
        *,
        source: str,
        lines_before: int,
        outcomes_added: int = 0,
        kind: str = "screening",
        outcome_keys: np.ndarray | None = None,
    ) -> HistoryInfo:
        """Keep ``pipeline`` as the version's current history, recording the batch ``source``
        (a ``kind`` "screening" or "outcomes" file) that advanced it from ``lines_before``
        lines seen (and by ``outcomes_added``). The keys of the outcomes added
        (``outcome_keys``; those of the history replaced when not given) and the record go
        into the history file itself."""
        return self._save(
            version,
            pipeline,
            self._payload(version),
            source=source,
            lines_before=lines_before,
            outcomes_added=outcomes_added,
            kind=kind,
            outcome_keys=outcome_keys,
        )

    def _save(
        self,
        version: str,
        pipeline: Any,
        before: dict[str, Any] | None,
        *,
        source: str,
        lines_before: int,
        outcomes_added: int = 0,
        kind: str = "screening",
        outcome_keys: np.ndarray | None = None,
    ) -> HistoryInfo:
        """`save`, the history it replaces read already (``before``, its payload)."""
        state = pipeline.state_
        if outcome_keys is None:
            outcome_keys = self._held_outcomes(version, before)
        old = self._record(version, before)
        added = int(state.lines_seen) - lines_before
        repeated = int(getattr(state, "lines_repeated", 0))
        batch: dict[str, Any] = {"file": source, "kind": kind, "lines_added": added}
        if outcomes_added:
            batch["outcomes_added"] = outcomes_added
        info = HistoryInfo(
            model_version=str(version),
            as_of=pipeline.as_of_.isoformat(),
            lines=int(state.lines_seen),
            lines_added=(old.lines_added if old else 0) + added,
            lines_repeated=repeated,
            lines_beyond_memory=int(getattr(state, "lines_beyond_memory", 0)),
            recognises_from=pd.Timestamp(state.key_horizon, unit="s", tz="UTC").isoformat(),
            outcomes_added=(old.outcomes_added if old else 0) + outcomes_added,
            updated_at=_now(),
            batches=[
                *(old.batches if old else []),
                {**batch, "at": _now(), "by": operator(), "release": engine_version()},
            ][-_BATCHES_KEPT:],
            screenings=(old.screenings if old else 0) + (kind == "screening"),
            outcome_files=(old.outcome_files if old else 0) + (kind == "outcomes"),
            name_rules=int(state.params.name_rules),
        )
        payload = {
            "format": _FORMAT,
            "model_version": str(version),
            "pipeline": pipeline,
            "outcome_keys": outcome_keys,
            "record": asdict(info),
        }
        self.folder.mkdir(parents=True, exist_ok=True)
        # The history file holds everything the next run needs, renamed into place at once:
        # the record and the keys written beside it are for reading without unpickling. (Three
        # files renamed one after another: killed between them, a rerun added the same
        # outcomes again, and the record told a history that was no longer the one scored.)
        _replace(self._path(version, ".pkl"), pickle.dumps(payload, protocol=5))
        _replace(
            self._path(version, ".json"),
            json.dumps(asdict(info), indent=1).encode("utf-8"),
        )
        buffer = io.BytesIO()
        np.save(buffer, outcome_keys)
        _replace(self._path(version, ".outcomes.npy"), buffer.getvalue())
        return info

    def add_outcomes(
        self, scorer: Any, outcomes: pd.DataFrame, *, source: str
    ) -> tuple[HistoryInfo, dict[str, int]]:
        """Add the inspection outcomes of ``outcomes`` (validated, contract columns) that the
        history of ``scorer`` (the model as registered: its own state tells which outcomes its
        training learned from) lacks; hold `advancing` around it. Returns the new record and the
        counts, which add up to the outcomes given: in the model's training already (recorded
        before its cut-off), added before, recorded in the future, added, and waiting for their
        line (not in the history yet); of those added, how many found their line's parties,
        route and goods (matched), were held too long ago to (unmatched) or give no label."""
        version = str(scorer.version)
        kept = self._payload(version)
        pipeline = kept["pipeline"] if kept is not None else copy.deepcopy(scorer.pipeline)
        recorded = pd.to_datetime(outcomes["recorded_at"], utc=True)
        trained = np.asarray(recorded < scorer.pipeline.as_of_, dtype=bool)
        # recorded after now (beyond the store's slack): a wrong date, left out as the outcome
        # store leaves it out (recorded_after_receipt)
        future = ~trained & np.asarray(
            recorded > pd.Timestamp.now(tz="UTC") + RECEIPT_SLACK, dtype=bool
        )
        keys = _outcome_keys(outcomes)
        held = self._held_outcomes(version, kept)
        said = None if len(held) else self.info(version)
        if said is not None and said.outcomes_added:
            # saved by the engine before stop 22 and cut off before its keys: the outcomes
            # added cannot be told from new ones (they were added a second time)
            raise ConfigError(
                f"the feature history of model {version} holds {said.outcomes_added:,} outcomes "
                f"added, but not their keys ({self._path(version, '.outcomes.npy')} is missing: "
                "a save was cut off): adding outcomes now could count them twice. Start again "
                f"with `risk-engine history --reset {version}`, screen the days since "
                "training, and add the outcomes again"
            )
        before = np.isin(keys, held) & ~trained & ~future
        new = ~trained & ~before & ~future
        result = outcomes["result"].astype("string[pyarrow]")
        labelled = np.asarray(result.isin(["SEIZURE", "NO_FINDING"]).fillna(False), dtype=bool)
        state = pipeline.state_
        lines_before, seen, lost = state.lines_seen, state.outcomes_seen, state.outcomes_unmatched
        # An outcome whose line the history does not hold yet is added for nothing: it is not
        # kept as added, so a later --add-outcomes, once a screening brought its line, adds it
        # (it was kept, and a seizure of a line screened by the champion before a promotion
        # never reached the new champion's history).
        # Nor is it counted: offered again by each run, it swelled the unmatched count and
        # was told as added.
        found = pipeline.lines_held(outcomes) | ~labelled
        adding = new & found
        # screened, but longer ago than the lines kept: never added, however often offered
        # (they were told as waiting for a screening that cannot bring them)
        too_old = new & ~found & pipeline.lines_known(outcomes)
        if adding.any():
            pipeline.update(None, outcomes[adding])
        told = self._record(version, kept)
        if not adding.any() and kept is not None and told is not None:
            # nothing to add: the history is left as it is (rewritten, it reloaded the service
            # for nothing at every nightly run)
            return told, _outcome_counts(
                outcomes, trained, before, future, adding, new & ~found, too_old, labelled, 0, 0
            )
        counts = _outcome_counts(
            outcomes,
            trained,
            before,
            future,
            adding,
            new & ~found,
            too_old,
            labelled,
            matched=int(state.outcomes_seen - seen),
            unmatched=int(state.outcomes_unmatched - lost),
        )
        info = self._save(
            version,
            pipeline,
            kept,  # read above: not unpickled a second time
            source=source,
            lines_before=lines_before,
            outcomes_added=int((new & found).sum()),  # those offered again count then
            kind="outcomes",
            outcome_keys=np.union1d(held, keys[new & found]),
        )
        return info, counts

    def _held_outcomes(self, version: str, kept: dict[str, Any] | None) -> np.ndarray:
        """The keys of the outcomes added to the history: from its file (``kept``, the payload
        read), or, for a history saved before they went into it, from the file beside it."""
        if kept is not None and kept.get("outcome_keys") is not None:
            keys: np.ndarray = np.asarray(kept["outcome_keys"], dtype=np.uint64)
            return keys
        path = self._path(version, ".outcomes.npy")
        if not path.exists():
            return np.zeros(0, dtype=np.uint64)
        try:
            held: np.ndarray = np.load(path)
        except (OSError, ValueError) as error:
            raise ConfigError(f"cannot read the outcome keys {path}: {error}") from error
        return held

    def size(self, version: str) -> int:
        """Bytes a version's history takes on disk."""
        return sum(
            path.stat().st_size
            for path in (self._path(version, suffix) for suffix in _FILES)
            if path.exists()
        )

    def unnamed(self, keep: Collection[str]) -> list[HistoryInfo]:
        """The histories of the versions not in ``keep``: those `prune` forgets."""
        kept = {str(version) for version in keep}
        return [
            self.info(version) or HistoryInfo(model_version=version, as_of="", lines=0)
            for version in self.versions()
            if version not in kept
        ]

    def prune(self, keep: Collection[str]) -> tuple[list[tuple[str, int]], list[str]]:
        """Forget the histories of the versions not in ``keep`` (those a registry alias still
        names): each model version keeps its own, so they pile up with every retraining.
        Returns the versions forgotten with the bytes freed, and those left because a
        screening is adding to them now."""
        forgotten: list[tuple[str, int]] = []
        busy: list[str] = []
        for info in self.unnamed(keep):
            version = info.model_version
            freed = self.size(version)
            try:
                self.forget(version)
            except HistoryBusy:  # a folder that cannot be written is told, not "busy"
                busy.append(version)
                continue
            forgotten.append((version, freed))
        return forgotten, busy

    def forget(self, version: str) -> bool:
        """`reset` under the version's lock: a screening adding to the history now is not
        undone behind its back, nor does it bring back what was forgotten when it saves
        (`ConfigError` while one runs)."""
        try:
            with self.advancing(version):
                found = self.reset(version)
        except HistoryBusy:
            raise HistoryBusy(
                f"a screening is adding to the feature history of model {version} now: "
                "reset it when that screening has finished"
            ) from None
        # the lock file stays: removed once released, a screening that had opened it and
        # waited locked a file no longer there while a second made a new one and ran too
        return found

    def reset(self, version: str) -> bool:
        """Forget a version's history (scoring goes back to the model's own); False when it had
        none."""
        found = False
        for suffix in _FILES:
            path = self._path(version, suffix)
            if path.exists():
                path.unlink()
                found = True
            # what a save stopped by a kill left (`_replace`), 8 MB that outlived the reset
            path.with_name(path.name + ".partial").unlink(missing_ok=True)
        return found


def _outcome_counts(
    outcomes: pd.DataFrame,
    trained: np.ndarray,
    before: np.ndarray,
    future: np.ndarray,
    adding: np.ndarray,
    not_held: np.ndarray,
    too_old: np.ndarray,
    labelled: np.ndarray,
    matched: int,
    unmatched: int,
) -> dict[str, int]:
    """What `ModelHistory.add_outcomes` made of the outcomes given; they add up."""
    return {
        "given": len(outcomes),
        "in_training": int(trained.sum()),
        "added_before": int(before.sum()),
        "future": int(future.sum()),
        "added": int(adding.sum()),
        "matched": matched,
        # held by key, but older than the lines the history keeps to attribute them
        "unmatched": unmatched,
        # their line is not in the history yet: offered again by the next run
        "waiting": int((not_held & ~too_old).sum()),
        # their line was screened longer ago than the lines kept: never added
        "too_old": int(too_old.sum()),
        # INCONCLUSIVE: kept as added, but no label for a rate
        "inconclusive": int((adding & ~labelled).sum()),
    }


def _outcome_keys(outcomes: pd.DataFrame) -> np.ndarray:
    """One number per outcome from its key (bl_number, container_number, inspected_at to the
    second, UTC): the same outcome read again gives the same number."""
    inspected = pd.to_datetime(outcomes["inspected_at"], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%S")
    key = pd.DataFrame(
        {
            "bl": outcomes["bl_number"].astype("string").to_numpy(),
            "container": outcomes["container_number"].astype("string").to_numpy(),
            "inspected": inspected.to_numpy(),
        }
    )
    return np.asarray(pd.util.hash_pandas_object(key, index=False).to_numpy(), dtype=np.uint64)


def _replace(path: Path, data: bytes) -> None:
    """Write beside ``path``, then rename over it: readers see the old file or the new one. A
    write that fails (a full disk) or is stopped leaves no partial file behind (one of 9.7 MB
    held the space), and is an `OutputUnwritable` naming the file (exit 2), not a traceback."""
    partial = path.with_name(path.name + ".partial")
    try:
        with open(partial, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise OutputUnwritable(
                str(path), f"{error.strerror or error} (the feature history was not saved)"
            ) from error
        raise
