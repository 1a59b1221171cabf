"""The model being served, swapped atomically on reload.

A request takes the current `LoadedModel` once, at its start, and uses that object to the end, so a
reload never changes the model under a request in flight: reload builds and warms the new scorer
first, then replaces one reference (an atomic assignment in Python).
"""

from __future__ import annotations

import gc
import logging
import pickle
import threading
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

import pandas as pd

from models.history import ModelHistory
from models.profiles import ProfileSet
from models.watchlist import Watchlist
from risk_engine.errors import ConfigError, ModelUnavailable
from risk_engine.settings import Settings
from serve.monitor import ServedScores

__all__ = [
    "Scorer",
    "ScorerLoader",
    "SourceStamp",
    "ProfilesLoader",
    "WatchlistLoader",
    "LoadedModel",
    "ModelHolder",
    "settle_heap",
    "registry_loader",
    "pickle_loader",
    "loader_for",
    "stamp_for",
    "with_files",
]

log = logging.getLogger(__name__)
T = TypeVar("T")
_NOT_YET = "no model loaded yet"


@runtime_checkable
class Scorer(Protocol):
    """What the service needs of a model: `models.scorer.RiskScorer` fits."""

    version: str

    def score(
        self, records: pd.DataFrame, *, profiles: ProfileSet | None = None
    ) -> pd.DataFrame: ...

    def describe(self) -> dict[str, Any]: ...


ScorerLoader = Callable[[], Scorer]
# What the loader would load now, as a value that changes when it does (the champion's version
# and its feature history's file, a pickle's file): the service reloads when it changes.
SourceStamp = Callable[[], object]
WatchlistLoader = Callable[[], Watchlist | None]
ProfilesLoader = Callable[[], ProfileSet | None]


@dataclass(frozen=True)
class LoadedModel:
    """The model and the watch list served together: a request uses one pair to its end."""

    scorer: Scorer
    version: str
    loaded_at: datetime
    watchlist: Watchlist | None = None
    profiles: ProfileSet | None = None  # risk profiles (`models.profiles`)
    # What this model scored since its version was first loaded, against its training reference.
    served: ServedScores = field(default_factory=lambda: ServedScores(None))
    # The cut-off of its feature history (fixed while it is served: the service reads it).
    history_as_of: datetime | None = None


def _history_as_of(scorer: Scorer) -> datetime | None:
    told = scorer.describe().get("history_as_of")
    return None if told is None else datetime.fromisoformat(str(told))


class ModelHolder:
    """Holds the served model; `load` replaces it only once the new one is loaded and warm."""

    def __init__(
        self,
        loader: ScorerLoader,
        *,
        warmup: Callable[[Scorer], object] | None = None,
        watchlist: WatchlistLoader | None = None,
        profiles: ProfilesLoader | None = None,
        stamp: SourceStamp | None = None,
        settle: bool = False,
    ) -> None:
        self._loader = loader
        self._settle = settle  # `settle_heap` after each load (the server's own process)
        self._warmup = warmup
        self._watchlist = watchlist
        self._profiles = profiles
        self._stamp_of = stamp
        self._current: LoadedModel | None = None
        self._lock = threading.Lock()
        self.last_error: str | None = _NOT_YET
        self._loaded_stamp: object = None  # the source's stamp when the model served was read
        self._failed_stamp: object = None  # a source that failed to load: not tried again
        # What changed in the source at the last `reload_if_changed` that found a change.
        self.last_change = "its source"

    @property
    def follows_source(self) -> bool:
        """Whether `reload_if_changed` can tell that the source changed."""
        return self._stamp_of is not None

    @property
    def current(self) -> LoadedModel | None:
        return self._current

    @property
    def public_status(self) -> str:
        """Why there is no model, for unauthenticated probes: no paths, URIs or messages."""
        if self._current is not None:
            return "ready"
        if self.last_error == _NOT_YET:
            return "no model loaded yet"
        return "the model could not be loaded; the server log says why"

    def require(self) -> LoadedModel:
        """The current model, or ModelUnavailable (503) while there is none."""
        current = self._current
        if current is None:
            raise ModelUnavailable(f"no model is loaded: {self.last_error}")
        return current

    def load(self) -> LoadedModel:
        """Load (or reload) the model, the watch list and the risk profiles; on failure the
        previous ones keep serving."""
        with self._lock:
            return self._load(self._source_stamp())

    def _load(self, stamp: object) -> LoadedModel:
        """`load` under the lock, the source's stamp taken before reading it: a source that
        fails is remembered by its stamp, so that `reload_if_changed` does not try it again."""
        try:
            loaded = self._read_all()
        except ModelUnavailable:
            self._failed_stamp = stamp
            raise
        previous = self._current
        if previous is not None and previous.version == loaded.version:
            # the same version reloaded for a new feature history (each screening writes one)
            # or watch list: its served counts go on (they started again every day)
            loaded = replace(loaded, served=previous.served)
        self._current = loaded
        self.last_error = None
        self._loaded_stamp, self._failed_stamp = stamp, None
        was = previous.version if previous else "none"
        log.info("serving model %s (was %s)", loaded.version, was)
        if self._settle:
            held = None if previous is None else weakref.ref(previous)
            previous = None  # the model replaced is garbage now, unless a request still holds it
            settle_heap()
            _settle_when_let_go(held)
        return loaded

    def _read_all(self) -> LoadedModel:
        """The watch list, the risk profiles and the warmed model, or ModelUnavailable."""
        watchlist = self._read("the watch list", self._watchlist)
        profiles = self._read("the risk profiles", self._profiles)
        try:
            scorer = self._loader()
            version = str(getattr(scorer, "version", "") or "unknown")
            if self._warmup is not None:
                self._warmup(scorer)
        except ModelUnavailable as error:
            self.last_error = str(error)
            raise
        except Exception as error:
            self.last_error = f"{type(error).__name__}: {error}"
            log.exception("model failed to load or warm up")
            raise ModelUnavailable(f"the model failed to load: {self.last_error}") from error
        return LoadedModel(
            scorer=scorer,
            version=version,
            loaded_at=datetime.now(UTC),
            watchlist=watchlist,
            profiles=profiles,
            served=ServedScores(getattr(scorer, "reference", None)),
            history_as_of=_history_as_of(scorer),
        )

    def _source_stamp(self) -> object:
        if self._stamp_of is None:
            return None
        try:
            return self._stamp_of()
        except ModelUnavailable as error:  # a store that cannot be opened, named
            log.warning("cannot tell whether the model's source changed: %s", error)
            return None
        except Exception:  # the registry unreachable, say: not a reason to stop serving
            log.warning("cannot tell whether the model's source changed", exc_info=True)
            return None

    def reload_if_changed(self) -> LoadedModel | None:
        """Load the model again when its source changed since it was loaded (a new champion, a
        screening that added to its feature history); the new model when it did, else None.
        A source that failed to load is not tried again until it changes again; meanwhile the
        previous model keeps serving. Raises ModelUnavailable when the changed one fails."""
        if self._stamp_of is None:
            return None
        with self._lock:  # compared under the lock: a load in progress finishes first
            now = self._source_stamp()
            if now is None or now == self._loaded_stamp or now == self._failed_stamp:
                return None
            self.last_change = what_changed(self._loaded_stamp, now)
            return self._load(now)

    def _read(self, what: str, loader: Callable[[], T] | None) -> T | None:
        """A file served with the model (watch list, risk profiles), or ModelUnavailable (503)
        naming it when it cannot be read."""
        try:
            return loader() if loader is not None else None
        except ConfigError as error:
            self.last_error = str(error)
            raise ModelUnavailable(f"{what} could not be loaded: {error}") from error

    def load_quietly(self) -> None:
        """Start-up load: a missing model is logged, readiness stays 503, admin can reload."""
        try:
            self.load()
        except ModelUnavailable as error:
            log.warning("no model loaded at start: %s", error)


def settle_heap() -> None:
    """Keep what is alive now, the model just loaded above all, out of the cyclic garbage
    collector's passes, and free what the model it replaced left.

    A loaded model is some 340,000 objects (its feature history's tables, the booster, the
    memos). Python's collector walks every one of them in each full pass, which the request
    path's allocations set off now and then: 221 ms in one 50-line request of 1,500 measured,
    3.6 ms once they are frozen (stop 24). Frozen objects are still freed by their reference
    counts; the cycles among them are freed by the next load's pass, which unfreezes first."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def _settle_when_let_go(held: weakref.ref[LoadedModel] | None) -> None:
    """A request still scoring with the replaced model kept it alive through `settle_heap`, so
    it was frozen with the rest, and its cycles (most of a model) would wait for the next load
    to be freed: two models held between reloads. Settle again once the last request lets go of
    it (a thread of its own: the request's answer does not wait for the pass)."""
    replaced = None if held is None else held()
    if replaced is not None:
        weakref.finalize(replaced, _settle_in_background)


def _settle_in_background() -> None:
    # A second on: the finalizer runs before the dying model lets go of what it holds, and a
    # pass meanwhile would find the scorer still held, and freeze it again.
    timer = threading.Timer(_SETTLE_DELAY_S, settle_heap)
    timer.daemon = True
    timer.start()


_SETTLE_DELAY_S = 1.0


def registry_loader(settings: Settings, which: str = "champion") -> ScorerLoader:
    """Loads a registry alias (``champion``) or version number from the MLflow store."""

    def load() -> Scorer:
        from models.registry import CHAMPION, champion_version, configure_mlflow, load_scorer

        configure_mlflow(settings)
        version = which
        if which == CHAMPION:
            found = champion_version()
            if found is None:
                raise ModelUnavailable(
                    "no champion model is registered: train one and promote it first"
                )
            version = found
        scorer = load_scorer(version)
        if version.isdigit():
            scorer.version = version  # the registry's number is the name officers see
        # With the feature history screenings keep current, if there is one (`models.history`).
        return ModelHistory(settings.home).current(scorer)  # type: ignore[no-any-return]

    return load


def registry_stamp(settings: Settings, which: str = "champion") -> SourceStamp:
    """The version an alias names now, with the stamp of its feature history's file."""

    def stamp() -> object:
        from models.registry import CHAMPION, champion_version, configure_mlflow

        configure_mlflow(settings)
        version = champion_version() if which == CHAMPION else which
        if version is None:
            return None
        return (version, ModelHistory(settings.home).stamp(version))

    return stamp


def pickle_loader(path: Path) -> ScorerLoader:
    """Loads a pickled scorer file (benchmarks, tests, air-gapped set-ups). Only load files you
    made: unpickling runs code."""

    def load() -> Scorer:
        try:
            with open(path, "rb") as handle:
                scorer = pickle.load(handle)
        except OSError as error:
            raise ModelUnavailable(f"cannot read scorer file {path}: {error}") from error
        if not isinstance(scorer, Scorer):
            raise ModelUnavailable(f"{path} does not hold a scorer (score, describe, version)")
        return scorer

    return load


def _is_pickle(model: str) -> bool:
    return model.endswith((".pkl", ".pickle")) or Path(model).expanduser().is_file()


def loader_for(settings: Settings, model: str) -> ScorerLoader:
    """A file path (``*.pkl`` or an existing file) loads a pickle; anything else the registry."""
    if _is_pickle(model):
        return pickle_loader(Path(model).expanduser())
    return registry_loader(settings, model)


def _file_stamp(path: Path) -> tuple[int, int] | None:
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    return (found.st_mtime_ns, found.st_size)


def stamp_for(settings: Settings, model: str) -> SourceStamp:
    """What `loader_for` would load now, as a value that changes when it does: a pickle's file,
    or the version an alias names and its feature history's file."""
    if _is_pickle(model):
        path = Path(model).expanduser()
        return lambda: _file_stamp(path)
    return registry_stamp(settings, model)


def with_files(stamp: SourceStamp | None, paths: Mapping[str, Path | None]) -> SourceStamp | None:
    """``stamp`` and the stamps of the files served with the model, by what they are (``watch
    list``, ``risk profiles``): a change of any of them reloads. None when there is nothing to
    follow; the stamp is None while the model's source has nothing to load."""
    files = [(name, path) for name, path in paths.items() if path is not None]
    if stamp is None and not files:
        return None

    def combined() -> object:
        model = stamp() if stamp is not None else None
        if stamp is not None and model is None:
            return None  # nothing to load yet (no champion, no file): nothing to try
        return (model, *((name, _file_stamp(path)) for name, path in files))

    return combined


def what_changed(before: object, now: object) -> str:
    """What differs between two stamps of `with_files`, in words: a new model, its feature
    history, the watch list, the risk profiles (an automatic reload's audit row said "a new
    champion or feature history" when the watch list had changed)."""
    if not (isinstance(before, tuple) and isinstance(now, tuple)) or len(before) != len(now):
        return "a new model" if before is None else "its source"
    changed = []
    model_before, model_now = before[0], now[0]
    if model_before != model_now:
        registry = all(
            isinstance(m, tuple) and len(m) == 2 and isinstance(m[0], str)
            for m in (model_before, model_now)
        )
        if registry and model_before[0] == model_now[0]:
            changed.append("its feature history")
        elif registry:
            changed.append(f"a new model (version {model_now[0]})")
        else:
            changed.append("the model file")
    for part_before, part_now in zip(before[1:], now[1:], strict=True):
        if part_before != part_now:
            changed.append(str(part_now[0]))
    return " and ".join(changed) or "its source"
