"""Point-in-time counters of shipment history: parties, consignment shape, description words.

Every feature of a line counts only lines filed strictly before it (the state's history plus
earlier lines of the same batch), so lines filed at the same second never count each other. The
consignment-shape features are the exception by design: containers of one B/L are filed as one
document, so they count lines filed at or before the line.

`contributions` turns a batch into the events it adds to history; `features` answers each line
from the state and those events together. `FeaturePipeline.update` adds the same events to the
state, which is why scoring one line after `update` equals scoring it inside a batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from features.batch import PARTIES, Batch, per_row
from features.index import NEVER, EventIndex, EventList, FirstOf, FirstSeen, Query, Sums, new_run
from features.keys import F64, I64, MISSING, U64, combine
from features.state import Contribution, FeatureState

__all__ = [
    "GOODS_PARTIES",
    "MIN_TOKEN_LINES",
    "NO_EVENTS",
    "SHAPE_DAYS",
    "SMALL_BATCH",
    "WINDOWS_DAYS",
    "BatchEvents",
    "HistoryEvents",
    "contributions",
    "features",
    "lookup_events",
]

WINDOWS_DAYS: tuple[int, ...] = (30, 90, 365)
SHAPE_DAYS = 60
GOODS_PARTIES: tuple[str, ...] = ("shipper", "consignee", "pair")
MIN_TOKEN_LINES = 5  # earlier lines a word needs before its usual HS chapter counts
_DAY = 86_400


def _with_chapter(batch: Batch, party: str) -> U64:
    return combine(batch.parties[party], batch.chapter, salt=101)


def _with_heading(batch: Batch, party: str) -> U64:
    return batch.derived(
        f"heading:{party}", lambda: combine(batch.parties[party], batch.hs4, salt=103)
    )


def _shape_pair_voyage(batch: Batch) -> U64:
    return batch.derived(
        "shape_pair_voyage", lambda: combine(batch.shape_pair, batch.voyage, salt=105)
    )


def _token_chapter(batch: Batch) -> tuple[I64, U64, U64]:
    d = batch.descriptions
    return (
        d.pair_row,
        d.pair_token,
        batch.derived(
            "token_chapter",
            lambda: combine(d.pair_token, batch.chapter[d.pair_row], salt=107),
        ),
    )


def _distinct(group: U64, item: Query, known: FirstSeen) -> tuple[FirstSeen, EventIndex]:
    """First sightings of items in a batch, as +1 events on their group.

    The number of distinct items of a group seen before t is then a plain sum over state and
    batch. When the batch saw an item earlier than the state did, a -1 at the state's sighting
    cancels the state's +1, so no item is counted twice.
    """
    return FirstSeen.from_query(item), EventIndex.build(*_sightings(group, item, known))


def _sightings(group: U64, item: Query, known: FirstSeen) -> tuple[U64, I64, F64]:
    """The events of `_distinct`: group keys, seconds and weights (+1 and -1)."""
    items = item.keys
    lead = np.flatnonzero(new_run(items))
    lead = lead[items[lead] != MISSING]
    batch_first = item.secs[lead]
    state_first = known.first_of(items[lead])
    owner = group[item.order[lead]]
    add = batch_first < state_first
    cancel = add & (state_first != NEVER)
    keys = np.concatenate([owner[add], owner[cancel]])
    times = np.concatenate([batch_first[add], state_first[cancel]])
    weights = np.where(np.arange(len(keys)) < int(add.sum()), 1.0, -1.0)
    return keys, times, weights


def contributions(batch: Batch, state: FeatureState) -> Contribution:
    """The events a batch adds to the shipment history (checked against the state's firsts)."""
    secs = batch.secs
    out = Contribution()
    for party in PARTIES:
        keys = batch.parties[party]
        query = batch.query(f"party:{party}", keys)
        out.counts[f"lines:party:{party}"] = EventIndex.from_query(query)
        out.firsts[f"first:party:{party}"] = FirstSeen.from_query(query)
        name = f"first:party:{party}:chapter"
        items = batch.query(name, _with_chapter(batch, party))
        first, events = _distinct(keys, items, state.first(name))
        out.firsts[name] = first
        out.counts[f"chapters:party:{party}"] = events
        if party in GOODS_PARTIES:
            name = f"first:party:{party}:hs4"
            goods = batch.query(name, _with_heading(batch, party))
            out.firsts[name] = FirstSeen.from_query(goods)
    out.counts["lines:shape:bl"] = EventIndex.from_query(batch.query("shape:bl", batch.bl))
    pair_voyage = _shape_pair_voyage(batch)
    voyage_query = batch.query("shape:pair_voyage", pair_voyage)
    out.counts["lines:shape:pair_voyage"] = EventIndex.from_query(voyage_query)
    name = "first:shape:pair_voyage_bl"
    items = batch.query(name, combine(pair_voyage, batch.bl, salt=109, remember=False))
    first, events = _distinct(pair_voyage, items, state.first(name))
    out.firsts[name] = first
    out.counts["bls:shape:pair_voyage"] = events
    rows, token, token_chapter = _token_chapter(batch)
    out.counts["lines:token"] = EventIndex.from_query(batch.query("token", token, secs[rows]))
    out.counts["lines:token_chapter"] = EventIndex.from_query(
        batch.query("token_chapter", token_chapter, secs[rows])
    )
    return out


@dataclass(frozen=True)
class BatchEvents:
    """The counter events of a batch as `features` looks them up (see `lookup_events`)."""

    counts: Mapping[str, Sums]
    firsts: Mapping[str, FirstOf]


# No events of a batch's own: the lines the state holds already are scored from it alone.
NO_EVENTS = BatchEvents({}, {})


class HistoryEvents(Protocol):
    """What `features` reads of a batch's own events: a `Contribution` or `BatchEvents`."""

    @property
    def counts(self) -> Mapping[str, Sums]: ...

    @property
    def firsts(self) -> Mapping[str, FirstOf]: ...


SMALL_BATCH = 64  # lines up to which a batch's own events are looked up one by one


def lookup_events(batch: Batch, state: FeatureState) -> HistoryEvents:
    """The batch's own counter events, for `features` only (scoring, not `update`).

    A few lines (an API manifest) get `EventList`s, which answer exactly as the indexes of
    `contributions` would at a fraction of the cost of building them; a larger batch gets
    `contributions`.
    """
    if batch.n > SMALL_BATCH:
        return contributions(batch, state)
    secs = batch.secs
    counts: dict[str, Sums] = {}
    firsts: dict[str, FirstOf] = {}
    for party in PARTIES:
        keys = batch.parties[party]
        counts[f"lines:party:{party}"] = firsts[f"first:party:{party}"] = EventList(keys, secs)
        name = f"first:party:{party}:chapter"
        items = batch.query(name, _with_chapter(batch, party))
        counts[f"chapters:party:{party}"] = EventList(*_sightings(keys, items, state.first(name)))
        if party in GOODS_PARTIES:
            firsts[f"first:party:{party}:hs4"] = EventList(_with_heading(batch, party), secs)
    counts["lines:shape:bl"] = EventList(batch.bl, secs)
    pair_voyage = _shape_pair_voyage(batch)
    counts["lines:shape:pair_voyage"] = EventList(pair_voyage, secs)
    name = "first:shape:pair_voyage_bl"
    items = batch.query(name, combine(pair_voyage, batch.bl, salt=109, remember=False))
    counts["bls:shape:pair_voyage"] = EventList(*_sightings(pair_voyage, items, state.first(name)))
    rows, token, token_chapter = _token_chapter(batch)
    counts["lines:token"] = EventList(token, secs[rows])
    counts["lines:token_chapter"] = EventList(token_chapter, secs[rows])
    return BatchEvents(counts, firsts)


def _sums(
    name: str,
    state: FeatureState,
    batch_events: HistoryEvents,
    query: Query,
    shifts: tuple[int, ...],
) -> list[F64]:
    """Sums over state and batch, once per distinct (key, second) of the query (see
    `Query.spread`)."""
    totals = [s[:, 0] for s in state.count(name).distinct_sums(query, shifts)]
    extra = batch_events.counts.get(name)
    if extra is not None:
        more = extra.distinct_sums(query, shifts)
        totals = [t + e[:, 0] for t, e in zip(totals, more, strict=True)]
    return totals


def _first(name: str, state: FeatureState, batch_events: HistoryEvents, query: Query) -> I64:
    """First second each row's key was seen, in state or batch (looked up once per key)."""
    keys, _ = query.distinct_keys
    first = state.first(name).first_of(keys)
    extra = batch_events.firsts.get(name)
    if extra is not None:
        first = np.minimum(first, extra.first_of(keys))
    return np.asarray(query.spread_keys(first), dtype=np.int64)


def features(batch: Batch, state: FeatureState, batch_events: HistoryEvents) -> dict[str, F64]:
    """History counters of each line as of its filed_at."""
    secs, n = batch.secs, batch.n
    out: dict[str, F64] = {}
    shifts = (0, *(-days * _DAY for days in WINDOWS_DAYS))
    for party in PARTIES:
        keys = batch.parties[party]
        missing = keys == MISSING
        query = batch.query(f"party:{party}", keys)
        now, *before = _sums(f"lines:party:{party}", state, batch_events, query, shifts)
        for days, then in zip(WINDOWS_DAYS, before, strict=True):
            out[f"{party}_lines_{days}d"] = np.where(missing, np.nan, query.spread(now - then))
        first = _first(f"first:party:{party}", state, batch_events, query)
        known = first < secs
        out[f"{party}_days_known"] = np.where(known, (secs - first) / _DAY, np.nan)
        (chapters,) = _sums(f"chapters:party:{party}", state, batch_events, query, (0,))
        out[f"{party}_hs_chapters"] = np.where(missing, np.nan, query.spread(chapters))
        if party in GOODS_PARTIES:
            name = f"first:party:{party}:hs4"
            goods = batch.query(name, _with_heading(batch, party))
            goods_first = _first(name, state, batch_events, goods)
            out[f"{party}_new_goods"] = np.where(known, (goods_first >= secs).astype(float), np.nan)

    window = -SHAPE_DAYS * _DAY
    query = batch.query("shape:bl", batch.bl)
    upto, then = _sums("lines:shape:bl", state, batch_events, query, (1, window))
    out["bl_containers"] = query.spread(upto - then)
    pair_voyage = _shape_pair_voyage(batch)
    missing = pair_voyage == MISSING
    query = batch.query("shape:pair_voyage", pair_voyage)
    upto, then = _sums("lines:shape:pair_voyage", state, batch_events, query, (1, window))
    out["pair_voyage_containers"] = np.where(missing, np.nan, query.spread(upto - then))
    upto, then = _sums("bls:shape:pair_voyage", state, batch_events, query, (1, window))
    out["pair_voyage_bls"] = np.where(missing, np.nan, query.spread(upto - then))

    rows, token, token_chapter = _token_chapter(batch)
    at = secs[rows]
    query = batch.query("token", token, at)
    (lines,) = _sums("lines:token", state, batch_events, query, (0,))
    lines = query.spread(lines)
    query = batch.query("token_chapter", token_chapter, at)
    (same,) = _sums("lines:token_chapter", state, batch_events, query, (0,))
    same = query.spread(same)
    with np.errstate(invalid="ignore", divide="ignore"):
        agreement = np.where(lines >= MIN_TOKEN_LINES, same / lines, np.nan)
    out["desc_hs_agreement"] = per_row(agreement, rows, n, "max")
    return out
