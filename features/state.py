"""The fitted feature state: everything scoring needs from history, and nothing else.

The state holds hashed entity keys with timed counts (`EventIndex`), first-seen times
(`FirstSeen`), time-decayed outcome sums, the categorical vocabularies, and a short buffer of
recent lines so that outcomes recorded later can still be attributed to their line's parties,
route and goods. It pickles with the model: scoring needs no access to the raw history.

Size stays bounded: windowed counters keep only the events their longest window can reach,
all-time counters are compacted to one event per key, and the buffer keeps
``label_lookback_days`` of lines. Features are exact for records filed at or after
``as_of - rescore_days``; that is what scoring new arrivals (and re-scoring the last week) needs.

The state also keeps the key of every line it added as far back as a windowed counter reaches
(`key_horizon`, 16 bytes a line), so that a line offered again is recognised and not counted
twice: a past quarter screened again after new intelligence leaves the history as it was.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from features.index import EventIndex, FirstSeen
from features.keys import seconds

__all__ = [
    "BUFFER_COLUMNS",
    "LINE_KEY",
    "Contribution",
    "FeatureState",
    "StateParams",
    "WINDOWED",
]

log = logging.getLogger(__name__)
_DAY = 86_400
# Value norms are looked up at the start of a line's week (`features.norms`), up to a week
# before the line: all-time counters stay exact that much further back.
_LOOKBACK_DAYS = 7

# Tables whose lookups never reach further back than a window: table name prefix -> days.
WINDOWED: dict[str, int] = {
    "lines:party:": 365,
    "lines:shape:": 60,
    "bls:shape:": 60,
    "first:shape:": 60,
}
# The columns of recent lines kept to attribute outcomes recorded later (with the line's key).
LINE_KEY = "_line_key"
BUFFER_COLUMNS: tuple[str, ...] = (
    "filed_at",
    "shipper_name",
    "shipper_country",
    "consignee_name",
    "consignee_country",
    "notify_party_name",
    "notify_party_country",
    "freight_forwarder_name",
    "port_of_loading",
    "transshipment_ports",
    "port_of_discharge",
    "country_of_origin",
    "hs_code",
    "goods_description",
)


@dataclass(frozen=True)
class StateParams:
    """How history is summarised; fixed when the state is created."""

    half_life_days: float = 180.0
    prior_strength: float = 20.0
    token_buckets: int = 1 << 20
    min_norm_count: int = 20
    label_lookback_days: float = 120.0
    rescore_days: float = 7.0
    # How names and descriptions become keys (`features.keys.NAME_RULES`): a state fitted now
    # has the current rules; one fitted before stop 23, unpickled without the field, reads this
    # default and keeps the rules its keys were made with.
    name_rules: int = 1


@dataclass
class Contribution:
    """What one batch of lines (or outcomes) adds to the history."""

    counts: dict[str, EventIndex] = field(default_factory=dict)
    firsts: dict[str, FirstSeen] = field(default_factory=dict)
    outcomes: dict[str, EventIndex] = field(default_factory=dict)


def _window_of(name: str) -> int | None:
    for prefix, days in WINDOWED.items():
        if name.startswith(prefix):
            return days
    return None


@dataclass
class FeatureState:
    """History summarised up to ``as_of`` (seconds since 1970, UTC)."""

    params: StateParams
    vocab: dict[str, tuple[str, ...]]
    as_of: int = 0
    counts: dict[str, EventIndex] = field(default_factory=dict)
    firsts: dict[str, FirstSeen] = field(default_factory=dict)
    outcomes: dict[str, EventIndex] = field(default_factory=dict)
    recent: pd.DataFrame = field(default_factory=pd.DataFrame)
    lines_seen: int = 0
    # Lines offered again that the state already held (not added twice).
    lines_repeated: int = 0
    # Lines added that were filed before `key_horizon`: had one been added before, the state
    # could not tell, and it is now in the all-time counters twice.
    lines_beyond_memory: int = 0
    outcomes_seen: int = 0
    outcomes_unmatched: int = 0
    # Keys of the lines added that are older than the buffer but within `key_horizon`, sorted,
    # with each line's filed_at in seconds: `holds` recognises them too.
    past_keys: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint64))
    past_secs: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    # The buffer `holds` last sorted the keys of, and those keys (not pickled).
    _sorted_keys: tuple[pd.DataFrame | None, np.ndarray | None] = field(
        default=(None, None), init=False, repr=False, compare=False
    )

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state.pop("_sorted_keys", None)
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        # A state pickled before the past keys were kept recognises only its buffer's lines.
        self.__dict__.update(state)
        self.__dict__.setdefault("past_keys", np.empty(0, np.uint64))
        self.__dict__.setdefault("past_secs", np.empty(0, np.int64))
        self._sorted_keys = (None, None)

    @property
    def half_life_s(self) -> float:
        return self.params.half_life_days * _DAY

    def count(self, name: str) -> EventIndex:
        found = self.counts.get(name)
        return found if found is not None else EventIndex.empty()

    def first(self, name: str) -> FirstSeen:
        found = self.firsts.get(name)
        return found if found is not None else FirstSeen.empty()

    def outcome(self, name: str) -> EventIndex:
        found = self.outcomes.get(name)
        return found if found is not None else EventIndex.empty(2, half_life_s=self.half_life_s)

    def add(self, contribution: Contribution) -> None:
        """Merge a batch's events into the history."""
        for name, index in contribution.counts.items():
            self.counts[name] = self.count(name).merged(index)
        for name, first in contribution.firsts.items():
            self.firsts[name] = self.first(name).merged(first)
        for name, index in contribution.outcomes.items():
            self.outcomes[name] = self.outcome(name).merged(index)

    @property
    def key_memory_days(self) -> float:
        """How many days before ``as_of`` the keys of the lines added are kept: as far back as a
        windowed counter's lookups reach from the oldest line scored exactly, or as the buffer
        of recent lines reaches when it reaches further."""
        reach = self.params.rescore_days + _LOOKBACK_DAYS + max(WINDOWED.values())
        return max(reach, self.params.label_lookback_days)

    @property
    def key_horizon(self) -> int:
        """Lines filed from this second on are recognised when offered again (`holds`). An
        older line offered again is added again, which only all-time counters would see."""
        return int(self.as_of - self.key_memory_days * _DAY)

    def knows_lines(self) -> bool:
        """Whether the state holds the key of any line (`holds` can find one)."""
        return bool(len(self.recent) or len(self.past_keys))

    def holds(self, line_keys: np.ndarray) -> np.ndarray:
        """Whether each line key is among the lines the state holds: the recent lines of the
        buffer (``label_lookback_days``) and the older keys it keeps (`key_horizon`). The
        buffer's keys are sorted once per buffer, so a manifest is looked up in microseconds."""
        sorted_for, ordered = self._sorted_keys
        if sorted_for is not self.recent or ordered is None:
            keys = self.recent[LINE_KEY].to_numpy() if len(self.recent) else np.empty(0, np.uint64)
            ordered = np.sort(keys)
            self._sorted_keys = (self.recent, ordered)
        keys = np.asarray(line_keys)
        found = _among(ordered, keys)
        if len(self.past_keys):
            found |= _among(self.past_keys, keys)
        return found

    def remember(self, frame: pd.DataFrame, line_keys: np.ndarray) -> None:
        """Keep recent lines for outcomes recorded later: each line's key and the columns its
        outcome is attributed by (text as categories, so repeated names cost little); and the
        keys of older lines back to `key_horizon`, to recognise them.

        Only lines within ``label_lookback_days`` of ``as_of`` are taken, and each text column
        is categorised once and joined to the buffer's by its categories (no text is decoded
        again), so adding a chunk costs about its own size, not the buffer's."""
        horizon = pd.Timestamp(
            self.as_of - self.params.label_lookback_days * _DAY, unit="s", tz="UTC"
        )
        within = np.asarray(frame["filed_at"] >= horizon, dtype=bool)
        keep = np.flatnonzero(within)
        columns = [c for c in BUFFER_COLUMNS if c in frame.columns]
        new = frame[columns].iloc[keep].reset_index(drop=True)
        new.insert(0, LINE_KEY, np.asarray(line_keys)[keep])
        for name in columns[1:]:
            new[name] = new[name].astype("category")
        old = self.recent
        leaving = [(np.asarray(line_keys)[~within], frame["filed_at"][~within])]
        if len(old):
            stays = np.asarray(old["filed_at"] >= horizon, dtype=bool)
            leaving.append((old[LINE_KEY].to_numpy()[~stays], old["filed_at"][~stays]))
            old = old[stays]
        self._keep_past(leaving)
        if not len(old) or not len(new):
            self.recent = (new if not len(old) else old).reset_index(drop=True)
            return
        self.recent = pd.DataFrame(
            {
                name: _joined(_column(old, name), _column(new, name))
                for name in dict.fromkeys([*old.columns, *new.columns])
            }
        )

    def _keep_past(self, leaving: list[tuple[np.ndarray, pd.Series]]) -> None:
        """Add the keys of lines older than the buffer to the past keys, and drop the keys
        filed before `key_horizon`; a key kept once, with its first filing.

        The past keys stay sorted: the few new ones are sorted and inserted, so a chunk costs
        about its own size, not the year of keys."""
        horizon = self.key_horizon
        keys = np.concatenate([np.asarray(k, dtype=np.uint64) for k, _ in leaving])
        secs = np.concatenate([seconds(filed) for _, filed in leaving])
        within = secs >= horizon
        keys, secs = keys[within], secs[within]
        past_keys, past_secs = self.past_keys, self.past_secs
        if len(past_secs) and past_secs.min() < horizon:
            kept = past_secs >= horizon
            past_keys, past_secs = past_keys[kept], past_secs[kept]
        if len(keys):
            order = np.lexsort((secs, keys))
            keys, secs = keys[order], secs[order]
            first = np.ones(len(keys), dtype=bool)
            first[1:] = keys[1:] != keys[:-1]
            first &= ~_among(past_keys, keys)
            keys, secs = keys[first], secs[first]
            at = np.searchsorted(past_keys, keys)
            past_keys, past_secs = np.insert(past_keys, at, keys), np.insert(past_secs, at, secs)
        self.past_keys, self.past_secs = past_keys, past_secs

    def compact(self) -> None:
        """Drop or merge events no lookup from ``as_of - rescore_days`` on can tell apart."""
        horizon = int(self.as_of - self.params.rescore_days * _DAY)
        for name, index in list(self.counts.items()):
            window = _window_of(name)
            if window is None:
                self.counts[name] = index.compacted(horizon - _LOOKBACK_DAYS * _DAY)
            else:
                self.counts[name] = index.since(horizon - window * _DAY)
        for name, first in list(self.firsts.items()):
            window = _window_of(name)
            if window is not None:
                keep = first.first >= horizon - window * _DAY
                self.firsts[name] = FirstSeen(first.vocab[keep], first.first[keep])

    @property
    def nbytes(self) -> int:
        """Approximate memory held (the buffer counted by its pandas footprint)."""
        total = sum(ix.nbytes for ix in self.counts.values())
        total += sum(ix.nbytes for ix in self.outcomes.values())
        total += sum(f.nbytes for f in self.firsts.values())
        total += int(self.recent.memory_usage(deep=True).sum()) if len(self.recent) else 0
        return total + int(self.past_keys.nbytes + self.past_secs.nbytes)


def _among(ordered: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Whether each of ``keys`` is in the sorted array ``ordered``."""
    if not len(ordered):
        return np.zeros(len(keys), dtype=bool)
    at = np.minimum(np.searchsorted(ordered, keys), len(ordered) - 1)
    found: np.ndarray = ordered[at] == keys
    return found


def _joined(old: pd.Series, new: pd.Series) -> pd.Series:
    """Two buffer columns one after the other; categories are joined, not decoded."""
    if isinstance(old.dtype, pd.CategoricalDtype) and isinstance(new.dtype, pd.CategoricalDtype):
        try:
            return pd.Series(_used(union_categoricals([old, new], ignore_order=True)))
        except TypeError:  # categories of different dtypes: decode, as a plain concat does
            return pd.concat([old, new], ignore_index=True).astype("category")
    return pd.concat([old, new], ignore_index=True)


def _used(values: pd.Categorical) -> pd.Categorical:
    """The categories some value still uses (names of lines that left the buffer go), as
    `Categorical.remove_unused_categories` keeps them, without its sort of every code."""
    codes = np.asarray(values.codes, dtype=np.int64)
    used = np.zeros(len(values.categories), dtype=bool)
    used[codes[codes >= 0]] = True
    if used.all():
        return values
    renumber = np.cumsum(used) - 1
    codes = np.where(codes >= 0, renumber[np.maximum(codes, 0)], -1)
    dtype = pd.CategoricalDtype(values.categories[used], ordered=values.ordered)
    return pd.Categorical.from_codes(codes, dtype=dtype, validate=False)


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    """A buffer column with a clean index; all missing (as categories) when the frame lacks it."""
    if name in frame.columns:
        return frame[name].reset_index(drop=True)
    return pd.Series([None] * len(frame), dtype="str").astype("category")
