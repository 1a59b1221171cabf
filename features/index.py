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
from typing import Any

import numpy as np
import pandas as pd

from features.keys import F64, I64, U64

__all__ = ["EventIndex", "FirstSeen", "NEVER", "Query", "SEC_BITS"]

SEC_BITS = 33
_SEC_MAX = (1 << SEC_BITS) - 1
_SEC_MASK = np.int64(_SEC_MAX)
NEVER = np.iinfo(np.int64).max  # "first seen" of a key never seen


def _clip(secs: I64) -> I64:
    return np.clip(secs, 0, _SEC_MAX).astype(np.int64, copy=False)


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
        order = np.lexsort((secs, keys)).astype(np.int64)
        return cls(order, keys[order], secs[order])

    def __len__(self) -> int:
        return len(self.order)

    @cached_property
    def run(self) -> I64:
        """Index of each sorted query's distinct (key, second)."""
        if len(self.keys) == 0:
            return np.zeros(0, dtype=np.int64)
        new = np.r_[True, (self.keys[1:] != self.keys[:-1]) | (self.secs[1:] != self.secs[:-1])]
        return np.cumsum(new, dtype=np.int64) - 1

    @cached_property
    def distinct(self) -> tuple[U64, I64]:
        """The distinct (key, second) pairs, sorted."""
        if len(self.keys) == 0:
            return self.keys, self.secs
        first = np.flatnonzero(np.r_[True, np.diff(self.run) > 0])
        return self.keys[first], self.secs[first]

    def unsort(self, values: np.ndarray) -> np.ndarray:
        """Values in sorted order, put back in the order the keys were given."""
        out = np.empty_like(values)
        out[self.order] = values
        return out


def _lookup(vocab: U64, keys: U64) -> I64:
    """Dense code of each key in a sorted vocabulary, -1 when absent."""
    if len(vocab) == 0:
        return np.full(len(keys), -1, dtype=np.int64)
    pos = np.minimum(np.searchsorted(vocab, keys), len(vocab) - 1)
    return np.where(vocab[pos] == keys, pos, -1).astype(np.int64)


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
        skip = int(np.searchsorted(keys, np.uint64(1)))  # MISSING keys sort first
        keys, secs = keys[skip:], secs[skip:]
        new_key = np.r_[True, keys[1:] != keys[:-1]] if len(keys) else np.zeros(0, dtype=bool)
        vocab = keys[new_key]
        codes = np.cumsum(new_key, dtype=np.int64) - 1
        comp = (codes << SEC_BITS) | _clip(secs)
        first = np.flatnonzero(np.r_[True, comp[1:] != comp[:-1]]) if len(comp) else codes
        if weights is None:
            counts = np.diff(np.append(first, len(comp))).astype(np.float64)
            merged = counts.reshape(-1, 1)
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
        k1, s1, w1 = self.events()
        k2, s2, w2 = other.events()
        return EventIndex.build(
            np.concatenate([k1, k2]),
            np.concatenate([s1, s2]),
            np.concatenate([w1, w2]),
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
        runs = np.flatnonzero(old & np.r_[True, codes[1:] != codes[:-1]])
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
        start = self._starts[codes]
        raw = raw - np.where((start > 0)[:, None], raw[np.maximum(start - 1, 0)], 0.0)
        columns = [raw]
        if self.half_life_s is not None:
            # Decayed weights are not whole: sum them per key so no large total swamps them.
            secs = (self.comp & _SEC_MASK).astype(np.float64)
            factor = np.exp2((secs - self._ref) / self.half_life_s)
            decayed = pd.DataFrame(self.weights * factor[:, None]).groupby(codes, sort=False)
            columns.append(decayed.cumsum().to_numpy(dtype=np.float64))
        self._cums = np.hstack(columns)

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
        keys, secs = query.distinct
        width = self.n_columns
        codes = _lookup(self.vocab, keys)
        found = codes >= 0
        everything = bool(found.all())
        c = codes if everything else codes[found]
        at_all = secs if everything else secs[found]
        starts = self._starts[c]
        high = c << SEC_BITS
        results = []
        for shift in shifts:
            at = at_all + shift
            pos = np.searchsorted(self.comp, high | _clip(at), side="left")
            values = np.take(self._cums, np.maximum(pos - 1, 0), axis=0)
            values *= (pos > starts)[:, None]
            if self.half_life_s is not None:
                m = width // 2
                decay = np.exp2((self._ref - at.astype(np.float64)) / self.half_life_s)
                values[:, m:] *= decay[:, None]
            if not everything:
                full = np.zeros((len(keys), width), dtype=np.float64)
                full[found] = values
                values = full
            results.append(values[query.run])
        return results

    def sum_before(self, query: Query, shift: int = 0) -> F64:
        """`sums` for one shift, in the order the keys were given."""
        return np.asarray(query.unsort(self.sums(query, (shift,))[0]), dtype=np.float64)


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
        skip = int(np.searchsorted(keys, np.uint64(1)))
        keys, secs = keys[skip:], secs[skip:]
        first = np.r_[True, keys[1:] != keys[:-1]] if len(keys) else np.zeros(0, dtype=bool)
        return cls(keys[first].astype(np.uint64), secs[first].astype(np.int64))

    def merged(self, other: FirstSeen) -> FirstSeen:
        if len(other.vocab) == 0:
            return self
        if len(self.vocab) == 0:
            return other
        return FirstSeen.build(
            np.concatenate([self.vocab, other.vocab]), np.concatenate([self.first, other.first])
        )

    def first_of(self, keys: U64) -> I64:
        """First second of each key; NEVER for keys never seen (and for MISSING)."""
        codes = _lookup(self.vocab, keys)
        out = np.full(len(keys), NEVER, dtype=np.int64)
        found = codes >= 0
        out[found] = self.first[codes[found]]
        return out

    @property
    def nbytes(self) -> int:
        return int(self.vocab.nbytes + self.first.nbytes)
