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
(`key_horizon`, 20 bytes a line), so that a line offered again is recognised and not counted
twice: a past quarter screened again after new intelligence leaves the history as it was. With
each key it keeps the consignee the line was first filed with (a 32-bit mark of its party key,
`consignee_mark`) and when, so that a line sent again, amended, with another consignee is told
(`first_filings`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from features.index import EventIndex, FirstSeen
from features.keys import MISSING, U64, party_key, seconds, text_array

__all__ = [
    "BUFFER_COLUMNS",
    "CONSIGNEE_MARK",
    "LINE_KEY",
    "LINE_VERSION",
    "Contribution",
    "FeatureState",
    "StateParams",
    "WINDOWED",
    "consignee_mark",
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
# The columns of recent lines kept to attribute outcomes recorded later (with the line's key,
# and the mark of its consignee and the second of its filing, `Batch.versions`, last).
LINE_KEY = "_line_key"
CONSIGNEE_MARK = "_consignee"
LINE_VERSION = "_version"
_UNKNOWN = np.uint32(0)  # the mark of a consignee the state cannot tell (or none written)
_NO_FILING = np.iinfo(np.int64).max  # the version of a line the state does not hold
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


def consignee_mark(keys: U64) -> np.ndarray:
    """The 32-bit mark of consignee party keys (`Batch.consignee_written`) the state keeps per
    line: the key's two halves folded, 4 bytes a line where the key took 8. Two consignees
    share a mark once in some four billion pairs (a change then goes untold); 0 is a consignee
    not written (a real key folding to 0 is marked 1)."""
    keys = np.asarray(keys, dtype=np.uint64)
    folded = ((keys >> np.uint64(32)) ^ (keys & np.uint64(0xFFFFFFFF))).astype(np.uint32)
    folded[(folded == _UNKNOWN) & (keys != MISSING)] = 1
    return folded


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
    # with the second of each line's first filing (`Batch.versions`: filed_at, or its last
    # amendment when the line came amended) and the mark of the consignee it was filed with
    # (`consignee_mark`; 0 in a state saved before they were kept): `holds` recognises them too.
    past_keys: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint64))
    past_secs: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    past_consignees: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint32))
    # The buffer `holds` last sorted the keys of, and its first filing of each key: keys,
    # consignee marks, versions (not pickled).
    _sorted_keys: tuple[pd.DataFrame | None, tuple[np.ndarray, ...] | None] = field(
        default=(None, None), init=False, repr=False, compare=False
    )

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state.pop("_sorted_keys", None)
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        # A state pickled before the past keys were kept recognises only its buffer's lines;
        # one pickled before the consignees were kept reads its buffer's from the names it
        # holds, and cannot tell those of its past keys.
        self.__dict__.update(state)
        self.__dict__.setdefault("past_keys", np.empty(0, np.uint64))
        self.__dict__.setdefault("past_secs", np.empty(0, np.int64))
        if "past_consignees" not in self.__dict__:
            self.past_consignees = np.zeros(len(self.past_keys), dtype=np.uint32)
        recent = self.recent
        if len(recent) and CONSIGNEE_MARK not in recent.columns:
            self.recent = recent.assign(
                **{
                    CONSIGNEE_MARK: _marks_of(recent, self.params.name_rules),
                    LINE_VERSION: seconds(recent["filed_at"]),
                }
            )
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

    def _buffer_firsts(self) -> tuple[np.ndarray, ...]:
        """The buffer's first filing of each line key, sorted by key: keys, consignee marks,
        versions. Worked out once per buffer, so a manifest is looked up in microseconds."""
        sorted_for, firsts = self._sorted_keys
        if sorted_for is not self.recent or firsts is None:
            firsts = _first_filings(*_buffer_lines(self.recent))
            self._sorted_keys = (self.recent, firsts)
        return firsts

    def holds(self, line_keys: np.ndarray) -> np.ndarray:
        """Whether each line key is among the lines the state holds: the recent lines of the
        buffer (``label_lookback_days``) and the older keys it keeps (`key_horizon`)."""
        keys = np.asarray(line_keys)
        found = _among(self._buffer_firsts()[0], keys)
        if len(self.past_keys):
            found |= _among(self.past_keys, keys)
        return found

    def first_filings(self, line_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each line key, the first filing of the line the state holds: the mark of its
        consignee (`consignee_mark`; 0 where the state cannot tell) and its version second
        (`Batch.versions`; the largest int64 where the state does not hold the line)."""
        keys = np.asarray(line_keys, dtype=np.uint64)
        marks = np.zeros(len(keys), dtype=np.uint32)
        versions = np.full(len(keys), _NO_FILING, dtype=np.int64)
        for held_keys, held_marks, held_versions in (
            self._buffer_firsts(),
            (self.past_keys, self.past_consignees, self.past_secs),
        ):
            if not len(held_keys) or not len(keys):
                continue
            at = np.minimum(np.searchsorted(held_keys, keys), len(held_keys) - 1)
            earlier = (held_keys[at] == keys) & (held_versions[at] < versions)
            marks[earlier] = held_marks[at[earlier]]
            versions[earlier] = held_versions[at[earlier]]
        return marks, versions

    def remember(
        self,
        frame: pd.DataFrame,
        line_keys: np.ndarray,
        *,
        consignees: np.ndarray | None = None,
        versions: np.ndarray | None = None,
    ) -> None:
        """Keep recent lines for outcomes recorded later: each line's key and the columns its
        outcome is attributed by (text as categories, so repeated names cost little); and the
        keys of older lines back to `key_horizon`, to recognise them. With each, the mark of
        its consignee (``consignees``, `consignee_mark`; unknown when not given) and the second
        of its filing (``versions``, `Batch.versions`; filed_at when not given).

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
        line_keys = np.asarray(line_keys)
        marks = (
            np.zeros(len(line_keys), dtype=np.uint32)
            if consignees is None
            else np.asarray(consignees, dtype=np.uint32)
        )
        filings = seconds(frame["filed_at"]) if versions is None else np.asarray(versions)
        new.insert(0, LINE_KEY, line_keys[keep])
        for name in columns[1:]:
            new[name] = new[name].astype("category")
        new[CONSIGNEE_MARK] = marks[keep]
        new[LINE_VERSION] = filings[keep]
        old = self.recent
        leaving = [(line_keys[~within], filings[~within], marks[~within])]
        if len(old):
            stays = np.asarray(old["filed_at"] >= horizon, dtype=bool)
            leaving.append(tuple(part[~stays] for part in _buffer_lines(old)))
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

    def _keep_past(self, leaving: Sequence[tuple[np.ndarray, ...]]) -> None:
        """Add the keys of lines older than the buffer to the past keys (each given as keys,
        versions, consignee marks), and drop the keys filed before `key_horizon`; a key kept
        once, with its first filing (its earliest version) and that filing's consignee.

        The past keys stay sorted: the few new ones are sorted and inserted, so a chunk costs
        about its own size, not the year of keys."""
        horizon = self.key_horizon
        keys = np.concatenate([np.asarray(k, dtype=np.uint64) for k, _, _ in leaving])
        secs = np.concatenate([np.asarray(s, dtype=np.int64) for _, s, _ in leaving])
        marks = np.concatenate([np.asarray(m, dtype=np.uint32) for _, _, m in leaving])
        within = secs >= horizon
        keys, secs, marks = keys[within], secs[within], marks[within]
        past: tuple[np.ndarray, ...] = (self.past_keys, self.past_secs, self.past_consignees)
        if len(past[1]) and past[1].min() < horizon:
            kept = past[1] >= horizon
            past = tuple(part[kept] for part in past)
        if len(keys):
            keys, marks, secs = _first_filings(keys, secs, marks)
            new = ~_among(past[0], keys)
            keys, secs, marks = keys[new], secs[new], marks[new]
            at = np.searchsorted(past[0], keys)
            past = tuple(
                np.insert(part, at, values)
                for part, values in zip(past, (keys, secs, marks), strict=True)
            )
        self.past_keys, self.past_secs, self.past_consignees = past[0], past[1], past[2]

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
        past = self.past_keys.nbytes + self.past_secs.nbytes + self.past_consignees.nbytes
        return total + int(past)


def _among(ordered: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Whether each of ``keys`` is in the sorted array ``ordered``."""
    if not len(ordered):
        return np.zeros(len(keys), dtype=bool)
    at = np.minimum(np.searchsorted(ordered, keys), len(ordered) - 1)
    found: np.ndarray = ordered[at] == keys
    return found


def _buffer_lines(recent: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The buffer's line keys, versions and consignee marks."""
    if not len(recent):
        return np.empty(0, np.uint64), np.empty(0, np.int64), np.empty(0, np.uint32)
    return (
        recent[LINE_KEY].to_numpy(),
        recent[LINE_VERSION].to_numpy(dtype=np.int64),
        recent[CONSIGNEE_MARK].to_numpy(dtype=np.uint32),
    )


def _first_filings(
    keys: np.ndarray, versions: np.ndarray, marks: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first filing of each line key: sorted keys, each once, with the consignee mark and
    version of its earliest version (of two at the same second, the smaller mark: the same
    whatever the order the lines came in)."""
    order = np.lexsort((marks, versions, keys))
    keys, versions, marks = keys[order], versions[order], marks[order]
    first = np.ones(len(keys), dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    return keys[first], marks[first], versions[first]


def _marks_of(recent: pd.DataFrame, rules: int) -> np.ndarray:
    """Consignee marks of buffer lines from the names they hold (a buffer saved before the
    marks were kept)."""
    if "consignee_name" not in recent.columns:
        return np.zeros(len(recent), dtype=np.uint32)
    names = text_array(recent["consignee_name"])
    countries = (
        text_array(recent["consignee_country"])
        if "consignee_country" in recent.columns
        else None
    )
    return consignee_mark(party_key(names, countries, 21, rules=rules))


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
