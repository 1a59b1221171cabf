"""Point-in-time sums over keyed, timed events: the one primitive behind every history feature.

An `EventIndex` holds weighted events (key, second) sorted by key then time, with running sums per
key. "How many lines did this consignee file in the 30 days before t" is then two binary searches:
the sum of events with that key and a time strictly before t, minus the sum strictly before t-30d.
Strict "before" is built in (``searchsorted(side="left")``): records with the same timestamp never
count each other. Events with the same (key, second) are merged when the index is built, so an
as-of lookup never depends on which of several equal rows came first.

Times are whole seconds since 1970 packed with a dense key code into one int64
(``code << 33 | second``); seconds outside [1970, 2242) are clipped.

`FirstSeen` keeps the first second at which each key was seen, for "days since first seen" and
"goods new for this party".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from features.keys import F64, I64, MISSING, U64

__all__ = [
    "EventIndex",
    "EventList",
    "FirstOf",
    "FirstSeen",
    "NEVER",
    "PLAIN_RUNS",
    "Query",
    "SEC_BITS",
    "Sums",
    "new_run",
    "sort_order",
]

SEC_BITS = 33
_SEC_MAX = (1 << SEC_BITS) - 1
_SEC_MASK = np.int64(_SEC_MAX)
NEVER = np.iinfo(np.int64).max  # "first seen" of a key never seen
_ONE = np.uint64(1)


def _clip(secs: I64) -> I64:
    # np.minimum/np.maximum: the same as np.clip (of int64 seconds), at a fraction of its cost
    clipped = np.maximum(secs, 0)
    return np.minimum(clipped, _SEC_MAX, out=clipped)


def new_run(values: np.ndarray, *more: np.ndarray) -> np.ndarray:
    """True where a sorted sequence (of one or more aligned arrays) starts a new value."""
    out = np.empty(len(values), dtype=bool)
    if len(values):
        out[0] = True
        np.not_equal(values[1:], values[:-1], out=out[1:])
        for other in more:
            out[1:] |= other[1:] != other[:-1]
    return out


_RADIX_FROM = 4096  # rows from which `sort_order` ranks values instead of comparing them
_U16 = 1 << 16


def sort_order(keys: np.ndarray, secs: I64) -> I64:
    """The order that sorts rows by key, then second, equal rows kept in their order: exactly
    ``np.lexsort((secs, keys))``.

    A stable sort by second, then a stable sort by key, gives that order (and lines usually
    come in filing order, so the first is often not needed). Each runs as a hash
    factorisation, a sort of the distinct values only and one or two linear radix passes over
    their ranks: several times quicker than comparing 64-bit values, as keys repeat a lot.
    """
    n = len(keys)
    if n < _RADIX_FROM:
        return np.lexsort((secs, keys)).astype(np.int64)
    by_time = None
    if not bool((secs[1:] >= secs[:-1]).all()):
        by_time = _stable_order(secs)
        if by_time is None:
            return np.lexsort((secs, keys)).astype(np.int64)
    order = _stable_order(keys if by_time is None else keys[by_time])
    if order is None:
        return np.lexsort((secs, keys)).astype(np.int64)
    return order if by_time is None else by_time[order]


def _stable_order(values: np.ndarray) -> I64 | None:
    """``np.argsort(values, kind="stable")`` by ranks and radix passes; None when the values
    are too many distinct ones for two 16-bit passes."""
    codes, distinct = pd.factorize(values)
    if len(distinct) > _U16 * _U16:
        return None
    ranks = np.empty(len(distinct), dtype=np.int64)
    ranks[np.argsort(distinct)] = np.arange(len(distinct), dtype=np.int64)
    rank = ranks[codes]
    if len(distinct) <= _U16:
        return np.argsort(rank.astype(np.uint16), kind="stable").astype(np.int64)
    # least significant half first: a stable pass on each half sorts by the whole rank
    low = np.argsort((rank & (_U16 - 1)).astype(np.uint16), kind="stable")
    high = np.argsort((rank[low] >> 16).astype(np.uint16), kind="stable")
    return low[high].astype(np.int64)


# Whether a query whose (key, second) pairs are all distinct (every line of a manifest filed at
# its own second, and always a single line) takes its runs as they are instead of counting them:
# the same arrays, fewer NumPy calls. Off, every query counts its runs (the tests compare both).
PLAIN_RUNS = True


@dataclass(frozen=True)
class Query:
    """Keys and times of many lookups, sorted once (sorted lookups are several times faster).

    Lookups run once per distinct (key, second) and answer in this sorted order; `unsort` puts
    a result back in the order the keys were given.
    """

    order: I64
    keys: U64
    secs: I64

    @classmethod
    def of(cls, keys: U64, secs: I64) -> Query:
        order = sort_order(keys, secs)
        return cls(order, keys[order], secs[order])

    def __len__(self) -> int:
        return len(self.order)

    @cached_property
    def _new(self) -> np.ndarray:
        return new_run(self.keys, self.secs)

    @cached_property
    def _plain(self) -> bool:
        """Whether every (key, second) comes once, so each is its own run (`PLAIN_RUNS`)."""
        return PLAIN_RUNS and (len(self.keys) <= 1 or bool(self._new.all()))

    @cached_property
    def run(self) -> I64:
        """Index of each sorted query's distinct (key, second)."""
        if self._plain:
            return np.arange(len(self.keys), dtype=np.int64)
        run = np.cumsum(self._new, dtype=np.int64)
        run -= 1
        return run

    @cached_property
    def repeats(self) -> bool:
        """Whether some (key, second) comes more than once."""
        if self._plain:
            return False
        return bool(len(self.keys)) and not bool(self._new.all())

    @cached_property
    def distinct(self) -> tuple[U64, I64]:
        """The distinct (key, second) pairs, sorted."""
        if len(self.keys) == 0 or self._plain:
            return self.keys, self.secs
        return self.keys[self._new], self.secs[self._new]

    def unsort(self, values: np.ndarray) -> np.ndarray:
        """Values in sorted order, put back in the order the keys were given."""
        out = np.empty_like(values)
        out[self.order] = values
        return out

    @cached_property
    def rows(self) -> I64:
        """Index of each given row's distinct (key, second), in the order the keys were given."""
        if self._plain and len(self.order) <= 1:
            return np.zeros(len(self.order), dtype=np.int64)
        out = np.empty(len(self.order), dtype=np.int64)
        out[self.order] = self.run
        return out

    def spread(self, values: np.ndarray) -> np.ndarray:
        """Values per distinct (key, second) as values per row, in the order the keys were
        given: ``unsort(values[run])`` in one gather."""
        return np.take(values, self.rows, axis=0)

    @cached_property
    def distinct_keys(self) -> tuple[U64, I64]:
        """The distinct keys, sorted, and the position of each distinct (key, second)'s key
        among them: a key is looked up once however many seconds it comes at."""
        keys, _ = self.distinct
        if self._plain and len(keys) <= 1:
            return keys, np.zeros(len(keys), dtype=np.int64)
        new = new_run(keys)
        at = np.cumsum(new, dtype=np.int64)
        at -= 1
        return keys[new], at

    def spread_keys(self, values: np.ndarray) -> np.ndarray:
        """Values per distinct key (`distinct_keys`) as values per row, in the given order."""
        return np.take(values, self.distinct_keys[1][self.rows], axis=0)


def _find(vocab: U64, keys: U64) -> tuple[I64, npt.NDArray[np.bool_]]:
    """Position of each key in a sorted vocabulary, and whether it is there at all."""
    if len(vocab) == 0:
        return np.zeros(len(keys), dtype=np.int64), np.zeros(len(keys), dtype=bool)
    pos = vocab.searchsorted(keys)
    np.minimum(pos, len(vocab) - 1, out=pos)
    return pos, vocab[pos] == keys


def _union(a: U64, b: U64) -> tuple[U64, tuple[I64, I64]]:
    """The sorted union of two sorted arrays of distinct keys, and each key's position in it."""
    both = np.concatenate([a, b])
    order = np.argsort(both, kind="stable")  # two sorted runs: a linear merge
    ordered = both[order]
    new = new_run(ordered)
    position = np.empty(len(both), dtype=np.int64)
    position[order] = np.cumsum(new) - 1
    return ordered[new], (position[: len(a)], position[len(a) :])


def _expanded(values: F64, found: npt.NDArray[np.bool_] | None) -> F64:
    """Rows of the keys found, with zero rows for the others."""
    if found is None:
        return values
    full = np.zeros((len(found), values.shape[1]), dtype=np.float64)
    full[found] = values
    return full


class EventIndex:
    """Weighted events answered as "sum of weights with this key strictly before this time".

    ``weights`` has one column per quantity (lines, inspections, seizures). With a half-life the
    index also answers exponentially time-decayed sums, each event weighted by
    ``0.5 ** (age / half_life)`` at the query time.
    """

    def __init__(
        self,
        vocab: U64,
        comp: I64,
        weights: F64,
        *,
        half_life_s: float | None = None,
    ) -> None:
        self.vocab = vocab
        self.comp = comp
        self.weights = weights
        self.half_life_s = half_life_s
        self._derive()

    # --- construction -------------------------------------------------------------------------

    @classmethod
    def empty(cls, columns: int = 1, *, half_life_s: float | None = None) -> EventIndex:
        return cls(
            np.zeros(0, dtype=np.uint64),
            np.zeros(0, dtype=np.int64),
            np.zeros((0, columns), dtype=np.float64),
            half_life_s=half_life_s,
        )

    @classmethod
    def build(
        cls,
        keys: U64,
        secs: I64,
        weights: F64 | None = None,
        *,
        half_life_s: float | None = None,
    ) -> EventIndex:
        """Index events; MISSING keys are ignored, equal (key, second) events are merged."""
        return cls.from_query(Query.of(keys, secs), weights, half_life_s=half_life_s)

    @classmethod
    def from_query(
        cls, query: Query, weights: F64 | None = None, *, half_life_s: float | None = None
    ) -> EventIndex:
        """Index the events of a sorted `Query` (sharing its sort with the lookups)."""
        keys, secs = query.keys, query.secs
        if weights is not None:
            weights = (weights[:, None] if weights.ndim == 1 else weights)[query.order]
        skip = int(keys.searchsorted(_ONE))  # MISSING keys sort first
        keys, secs = keys[skip:], secs[skip:]
        new_key = new_run(keys)
        vocab = keys[new_key]
        codes = np.cumsum(new_key, dtype=np.int64) - 1
        comp = (codes << SEC_BITS) | _clip(secs)
        first = np.flatnonzero(new_run(comp))
        if weights is None:
            ends = np.empty_like(first)
            ends[:-1] = first[1:]
            ends[-1:] = len(comp)
            merged = (ends - first).astype(np.float64).reshape(-1, 1)
        else:
            merged = np.add.reduceat(weights[skip:], first, axis=0) if len(comp) else weights[:0]
        return cls(vocab.astype(np.uint64), comp[first], merged, half_life_s=half_life_s)

    def events(self) -> tuple[U64, I64, F64]:
        """The (merged) events as keys, seconds and weights."""
        codes = self.comp >> SEC_BITS
        return self.vocab[codes], self.comp & _SEC_MASK, self.weights

    def merged(self, other: EventIndex) -> EventIndex:
        """Both indexes' events in one index."""
        if other.n_events == 0:
            return self
        if self.n_events == 0:
            return other
        # Both are sorted by key and second: renumber both on the union of their keys, and a
        # stable sort of the two sorted runs (a merge) puts their events in the order `build`
        # of the concatenated events gives, this index's first among equal (key, second).
        vocab, (c1, c2) = _union(self.vocab, other.vocab)
        comp = np.concatenate(
            [
                (c1[self.comp >> SEC_BITS] << SEC_BITS) | (self.comp & _SEC_MASK),
                (c2[other.comp >> SEC_BITS] << SEC_BITS) | (other.comp & _SEC_MASK),
            ]
        )
        order = np.argsort(comp, kind="stable")
        comp = comp[order]
        weights = np.concatenate([self.weights, other.weights])[order]
        first = np.flatnonzero(new_run(comp))
        if len(first) < len(comp):
            weights = np.add.reduceat(weights, first, axis=0)
            comp = comp[first]
        return EventIndex(vocab, comp, weights, half_life_s=self.half_life_s)

    def since(self, horizon: int) -> EventIndex:
        """Only the events at or after ``horizon`` (what a windowed counter can still reach).

        Dropping events keeps the order by key then time, so the index is cut, not rebuilt:
        the same index `build` gives from the kept events, without sorting them again."""
        keep = (self.comp & _SEC_MASK) >= horizon
        if keep.all():
            return self
        comp = self.comp[keep]
        codes = comp >> SEC_BITS
        new_key = new_run(codes)
        renumbered = np.cumsum(new_key, dtype=np.int64) - 1
        return EventIndex(
            self.vocab[codes[new_key]],
            (renumbered << SEC_BITS) | (comp & _SEC_MASK),
            self.weights[keep],
            half_life_s=self.half_life_s,
        )

    def compacted(self, horizon: int) -> EventIndex:
        """Events before ``horizon`` merged into one per key at its latest such second.

        Sums stay exact for every lookup whose window starts at or after ``horizon``. Decayed
        indexes are left whole (merging would change each event's age).
        """
        if self.half_life_s is not None or self.n_events == 0:
            return self
        secs = self.comp & _SEC_MASK
        old = secs < horizon
        codes = self.comp >> SEC_BITS
        # Events are sorted by key then time, so each key's old events lead its segment.
        runs = np.flatnonzero(old & new_run(codes))
        if len(runs) == int(old.sum()):
            return self  # at most one old event per key: nothing to merge
        old_positions = np.flatnonzero(old)
        run_of = np.searchsorted(runs, old_positions, side="right") - 1
        last = np.zeros(len(runs), dtype=np.int64)
        np.maximum.at(last, run_of, old_positions)
        merged = np.add.reduceat(self.weights[old], np.searchsorted(old_positions, runs), axis=0)
        keep = np.flatnonzero(~old)
        order = np.argsort(np.concatenate([last, keep]), kind="stable")
        comp = np.concatenate([self.comp[last], self.comp[keep]])[order]
        weights = np.concatenate([merged, self.weights[keep]])[order]
        return EventIndex(self.vocab, comp, weights, half_life_s=self.half_life_s)

    # --- derived arrays (not pickled) ---------------------------------------------------------

    def _derive(self) -> None:
        codes = self.comp >> SEC_BITS
        self._starts = np.searchsorted(codes, np.arange(len(self.vocab) + 1)).astype(np.int64)
        self._ref = int(self.comp.max() & _SEC_MASK) if len(self.comp) else 0
        if len(self.comp) == 0:
            self._cums = np.zeros((0, self.n_columns), dtype=np.float64)
            return
        # Running sums restart at each key. Weights are whole numbers, so the global running
        # sum minus its value before the key's first event is exact.
        raw = np.cumsum(self.weights, axis=0)
        before = np.concatenate([np.zeros((1, raw.shape[1])), raw])  # the sum before event i
        raw = raw - before[self._starts[codes]]
        if self.half_life_s is None:
            self._cums = raw
            return
        # Decayed weights are not whole: sum them per key so no large total swamps them.
        secs = (self.comp & _SEC_MASK).astype(np.float64)
        factor = np.exp2((secs - self._ref) / self.half_life_s)
        decayed = pd.DataFrame(self.weights * factor[:, None]).groupby(codes, sort=False)
        self._cums = np.hstack([raw, decayed.cumsum().to_numpy(dtype=np.float64)])

    def __getstate__(self) -> dict[str, Any]:
        return {
            "vocab": self.vocab,
            "comp": self.comp,
            "weights": self.weights,
            "half_life_s": self.half_life_s,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._derive()

    # --- lookups ------------------------------------------------------------------------------

    @cached_property
    def first_second(self) -> int:
        """The earliest second of any event (NEVER when there is none)."""
        return int((self.comp & _SEC_MASK).min()) if len(self.comp) else int(NEVER)

    @property
    def n_events(self) -> int:
        return len(self.comp)

    @property
    def n_columns(self) -> int:
        """Columns a lookup returns: the weights, then their decayed sums when decaying."""
        m = int(self.weights.shape[1])
        return 2 * m if self.half_life_s is not None else m

    @property
    def nbytes(self) -> int:
        return int(self.vocab.nbytes + self.comp.nbytes + self.weights.nbytes)

    def sums(self, query: Query, shifts: Sequence[int] = (0,)) -> list[F64]:
        """Per query and shift: sums of events with the key and a second < query second + shift.

        Returns one (n, n_columns) array per shift, in the query's sorted order.
        """
        values = self.distinct_sums(query, shifts)
        if not query.repeats:
            return values
        return [v[query.run] for v in values]

    def distinct_sums(self, query: Query, shifts: Sequence[int] = (0,)) -> list[F64]:
        """`sums` once per distinct (key, second) of the query (`Query.distinct`): one
        (distinct, n_columns) array per shift; `Query.spread` gives each row its own."""
        keys, secs = query.distinct
        width = self.n_columns
        unique, at = query.distinct_keys
        c, found = _find(self.vocab, unique)
        c, found = c[at], found[at]
        hits = int(np.count_nonzero(found))
        if hits == 0:
            return [np.zeros((len(keys), width), dtype=np.float64) for _ in shifts]
        everything = hits == len(keys)
        if not everything:
            c, secs = c[found], secs[found]
        earliest = min(max(int(secs.min()) + min(shifts), 0), _SEC_MAX)
        if earliest > self.last_second:
            # every event is before every query (scoring lines filed after the state's cut):
            # each key's whole sum, as the search below would find it
            return self._whole(shifts, c, secs, found if not everything else None)
        # All shifts in one pass, as (shift, key) arrays: each shift's row is sorted, so the
        # binary searches stay cheap.
        at = np.add.outer(np.asarray(shifts, dtype=np.int64), secs)
        wanted = _clip(at)
        wanted |= c << SEC_BITS
        pos = self.comp.searchsorted(wanted.ravel(), side="left").reshape(at.shape)
        # the sum before the key's first event is 0: the (masked) value read is the one before
        values = np.take(self._cums, pos - 1, axis=0, mode="clip")
        values *= (pos > self._starts[c])[:, :, None]
        if self.half_life_s is not None:
            half = width // 2
            decay = np.exp2((self._ref - at.astype(np.float64)) / self.half_life_s)
            values[:, :, half:] *= decay[:, :, None]
        if not everything:
            full = np.zeros((len(shifts), len(keys), width), dtype=np.float64)
            full[:, found] = values
            values = full
        return list(values)

    @cached_property
    def last_second(self) -> int:
        """The latest (clipped) second of any event; -1 when there is none."""
        return int((self.comp & _SEC_MASK).max()) if len(self.comp) else -1

    @cached_property
    def _totals(self) -> F64:
        """Each key's sum over all its events: what a lookup after the last event reads."""
        ends = self._starts[1:]
        totals = np.take(self._cums, ends - 1, axis=0, mode="clip")
        totals *= (ends > self._starts[:-1])[:, None]
        return totals

    def _whole(
        self,
        shifts: Sequence[int],
        codes: I64,
        secs: I64,
        found: npt.NDArray[np.bool_] | None,
    ) -> list[F64]:
        """`distinct_sums` when every event is before every query (``codes`` and ``secs`` of
        the keys ``found``): the keys' whole sums, decayed to each query's time when the index
        decays. Without decay every shift reads the same sums and gets the same array
        (callers never modify what a lookup returns)."""
        width = self.n_columns
        base = self._totals[codes]
        if self.half_life_s is None:
            return [_expanded(base, found)] * len(shifts)
        half = width // 2
        out = []
        for shift in shifts:
            decay = np.exp2((self._ref - (secs + shift).astype(np.float64)) / self.half_life_s)
            values = base.copy()
            values[:, half:] *= decay[:, None]
            out.append(_expanded(values, found))
        return out

    def sum_before(self, query: Query, shift: int = 0) -> F64:
        """`sums` for one shift, in the order the keys were given."""
        return np.asarray(query.spread(self.distinct_sums(query, (shift,))[0]), dtype=np.float64)


class FirstSeen:
    """The first second at which each key was seen."""

    def __init__(self, vocab: U64, first: I64) -> None:
        self.vocab = vocab
        self.first = first

    @classmethod
    def empty(cls) -> FirstSeen:
        return cls(np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64))

    @classmethod
    def build(cls, keys: U64, secs: I64) -> FirstSeen:
        return cls.from_query(Query.of(keys, secs))

    @classmethod
    def from_query(cls, query: Query) -> FirstSeen:
        """First second of each key of a sorted `Query`."""
        keys, secs = query.keys, query.secs
        skip = int(keys.searchsorted(_ONE))
        keys, secs = keys[skip:], secs[skip:]
        first = new_run(keys)
        return cls(keys[first].astype(np.uint64), secs[first].astype(np.int64))

    def merged(self, other: FirstSeen) -> FirstSeen:
        if len(other.vocab) == 0:
            return self
        if len(self.vocab) == 0:
            return other
        vocab, (c1, c2) = _union(self.vocab, other.vocab)
        first = np.full(len(vocab), NEVER, dtype=np.int64)
        first[c1] = self.first
        first[c2] = np.minimum(first[c2], other.first)  # keys are distinct: no repeats in c2
        return FirstSeen(vocab, first)

    def first_of(self, keys: U64) -> I64:
        """First second of each key; NEVER for keys never seen (and for MISSING)."""
        pos, found = _find(self.vocab, keys)
        if len(self.first) == 0:
            return np.full(len(keys), NEVER, dtype=np.int64)
        return np.where(found, self.first[pos], NEVER)

    @property
    def nbytes(self) -> int:
        return int(self.vocab.nbytes + self.first.nbytes)


class Sums(Protocol):
    """Answers "sum of weights with this key strictly before this time" (`EventIndex.sums`)."""

    def sums(self, query: Query, shifts: Sequence[int] = (0,)) -> list[F64]: ...

    def distinct_sums(self, query: Query, shifts: Sequence[int] = (0,)) -> list[F64]: ...


class FirstOf(Protocol):
    """Answers "first second this key was seen" (`FirstSeen.first_of`)."""

    def first_of(self, keys: U64) -> I64: ...


class EventList:
    """A few events, looked up by comparing every query with every event.

    Gives exactly what an `EventIndex` (``sums``) and a `FirstSeen` (``first_of``) of the same
    events give, without sorting, merging or running sums: for the lines of one API manifest
    that is a fraction of the cost of building the indexes. Weights are counts, or +1 and -1
    whose running sum per key never drops below zero (first sightings, as `history` makes
    them), with no half-life. Lookups only: the state keeps indexes.
    """

    def __init__(self, keys: U64, secs: I64, weights: F64 | None = None) -> None:
        real = keys != MISSING  # not events (as in `EventIndex.from_query`)
        self.keys = keys[real]
        self.secs = secs[real]
        self.weights = None if weights is None else weights[real]
        self._earliest = int(self.secs.min()) if len(self.secs) else None

    def sums(self, query: Query, shifts: Sequence[int] = (0,)) -> list[F64]:
        """`EventIndex.sums` of these events: one (n, 1) array per shift, in sorted order."""
        values = self.distinct_sums(query, shifts)
        if not query.repeats:
            return values
        return [v[query.run] for v in values]

    def distinct_sums(self, query: Query, shifts: Sequence[int] = (0,)) -> list[F64]:
        """`EventIndex.distinct_sums` of these events: one (distinct, 1) array per shift."""
        keys, secs = query.distinct
        n = len(keys)
        if self._earliest is None or n == 0 or self._earliest >= int(secs.max()) + max(shifts):
            # no event is before any query (one second's lines never count each other)
            return [np.zeros((n, 1), dtype=np.float64) for _ in shifts]
        row, event = np.nonzero(keys[:, None] == self.keys[None, :])
        event_secs = _clip(self.secs[event])
        # every shift in one pass, as (shift, pair) arrays counted into (shift, query) cells
        hit = event_secs < _clip(np.add.outer(np.asarray(shifts, dtype=np.int64), secs[row]))
        # whole numbers: the totals do not depend on the order of addition
        weights = hit if self.weights is None else np.where(hit, self.weights[event], 0.0)
        cells = np.add.outer(np.arange(len(shifts), dtype=np.int64) * n, row)
        counts = np.bincount(cells.ravel(), weights=weights.ravel(), minlength=len(shifts) * n)
        return list(counts.reshape(len(shifts), n, 1))

    def first_of(self, keys: U64) -> I64:
        """`FirstSeen.first_of` of these events: NEVER for keys not among them."""
        seen = np.where(keys[:, None] == self.keys[None, :], self.secs[None, :], NEVER)
        return np.asarray(seen.min(axis=1, initial=NEVER), dtype=np.int64)
