"""Seizure rates learned from inspection outcomes: smoothed, time-decayed and point-in-time.

For each entity (party, pair, forwarder, lane, transshipment port, origin, HS4, HS4 x origin,
description word) the rate at a line's filed_at uses only outcomes recorded strictly before it:

    rate = (decayed seizures + m * prior) / (decayed inspections + m)

with every outcome weighted ``0.5 ** (age / half_life)``, ``m`` the prior strength and the prior
the (decayed) rate of all inspections so far. A rarely inspected entity therefore sits near the
overall rate, and routes that stopped being used fade. INCONCLUSIVE results count neither way.

Target leakage: a line's own outcome is recorded after it was filed, so it is never seen; in
training (`fit_transform`) an own outcome recorded before filed_at (bad data) is subtracted
explicitly. This time-ordered encoding is the out-of-fold scheme for these rates (ordered target
statistics): K-fold cross-fitting would let a line see outcomes recorded after it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from features.batch import PARTIES, RATE_KEYS, Batch, per_row
from features.index import EventIndex, Query
from features.keys import F64, I64, MISSING, seconds

__all__ = [
    "BASE_RATE",
    "Outcomes",
    "contributions",
    "features",
    "match",
    "overall_rate",
    "outcome_weights",
    "own_sums",
]

BASE_RATE = 0.01  # assumed share of inspections that seize, before any outcome is known
_GLOBAL = np.uint64(1)
# Batch query names: party rates share their sort with the party counters.
_QUERY = {name: f"party:{name}" for name in PARTIES} | {
    name: f"rate:{name}" for name in RATE_KEYS if name not in PARTIES
}

Outcomes = tuple[I64, I64, F64]  # line row, recorded second, weights (inspected, seized)


def outcome_weights(outcomes: pd.DataFrame) -> tuple[Batch, I64, F64, np.ndarray]:
    """Keys, recorded seconds and (inspected, seized) weights of usable outcomes.

    Returns the outcomes as a `Batch` (for their line keys), the recorded seconds, the weights
    and the positions of the usable rows (INCONCLUSIVE results are left out).
    """
    result = outcomes["result"].astype("string[pyarrow]")
    seized = np.asarray((result == "SEIZURE").fillna(False), dtype=bool)
    usable = seized | np.asarray((result == "NO_FINDING").fillna(False), dtype=bool)
    positions = np.flatnonzero(usable)
    frame = outcomes.iloc[positions]
    weights = np.column_stack([np.ones(len(positions)), seized[positions].astype(np.float64)])
    return Batch(frame, token_buckets=1), seconds(frame["recorded_at"]), weights, positions


def match(outcome_keys: np.ndarray, lines: np.ndarray) -> I64:
    """Position of each outcome's line among ``lines`` (line keys); -1 when not there."""
    order = np.argsort(lines, kind="stable")
    ordered = lines[order]
    if len(ordered) == 0:
        return np.full(len(outcome_keys), -1, dtype=np.int64)
    pos = np.minimum(np.searchsorted(ordered, outcome_keys), len(ordered) - 1)
    return np.where(ordered[pos] == outcome_keys, order[pos], -1).astype(np.int64)


def _expand(pair_rows: I64, rows: I64) -> tuple[I64, I64]:
    """Indexes of the pairs of each given row, and which given row each belongs to."""
    starts = np.searchsorted(pair_rows, rows, side="left")
    ends = np.searchsorted(pair_rows, rows, side="right")
    lens = ends - starts
    owner = np.repeat(np.arange(len(rows), dtype=np.int64), lens)
    first = np.repeat(starts - (np.cumsum(lens) - lens), lens)
    return (first + np.arange(int(lens.sum()), dtype=np.int64)).astype(np.int64), owner


def contributions(batch: Batch, outcomes: Outcomes, half_life_s: float) -> dict[str, EventIndex]:
    """Outcome events per rate entity, keyed by the entities of each outcome's line."""
    rows, recorded, weights = outcomes
    out: dict[str, EventIndex] = {}
    for name, line_keys in batch.rate_keys.items():  # one key per line (or MISSING)
        keys = line_keys[rows]
        present = keys != MISSING  # as the entity's (row, key) pairs have it
        out[f"rate:{name}"] = EventIndex.build(
            keys[present], recorded[present], weights[present], half_life_s=half_life_s
        )
    d = batch.descriptions
    for name, (pair_rows, keys) in (("hub", batch.hubs), ("token", (d.pair_row, d.pair_token))):
        index, owner = _expand(pair_rows, rows)
        out[f"rate:{name}"] = EventIndex.build(
            keys[index], recorded[owner], weights[owner], half_life_s=half_life_s
        )
    out["rate:global"] = EventIndex.build(
        np.full(len(rows), _GLOBAL, dtype=np.uint64), recorded, weights, half_life_s=half_life_s
    )
    return out


def own_sums(batch: Batch, outcomes: Outcomes, half_life_s: float) -> F64:
    """Per line: its own outcomes recorded before its filed_at, as (n, s, n decayed, s decayed)
    at filed_at, to subtract from every rate of the line."""
    rows, recorded, weights = outcomes
    out = np.zeros((batch.n, 4), dtype=np.float64)
    early = recorded < batch.secs[rows]
    if not early.any():
        return out
    r, w = rows[early], weights[early]
    factor = np.exp2((recorded[early] - batch.secs[r]) / half_life_s)
    for j, column in enumerate((w[:, 0], w[:, 1], w[:, 0] * factor, w[:, 1] * factor)):
        out[:, j] = np.bincount(r, weights=column, minlength=batch.n)
    return out


def overall_rate(index: EventIndex, prior_strength: float) -> float:
    """The prior every rate is pulled towards, as of the latest outcome in ``index`` (the
    state's ``rate:global``): the overall rate of the inspections so far. `BASE_RATE` before
    any outcome."""
    last = index.last_second
    if last < 0:
        return BASE_RATE
    sums = index.sum_before(Query.of(np.array([_GLOBAL]), np.array([last + 1], dtype=np.int64)))
    return float((sums[0, 3] + prior_strength * BASE_RATE) / (sums[0, 2] + prior_strength))


def features(
    batch: Batch,
    index_of: Callable[[str], EventIndex],
    prior_strength: float,
    own: F64 | None = None,
) -> dict[str, F64]:
    """Seizure rates (and prior seizure counts of parties) as of each line's filed_at."""
    secs, n, m = batch.secs, batch.n, prior_strength
    overall = index_of("rate:global").sum_before(Query.of(np.full(n, _GLOBAL), secs))
    if own is not None:
        overall = np.maximum(overall - own, 0.0)
    prior = (overall[:, 3] + m * BASE_RATE) / (overall[:, 2] + m)
    out: dict[str, F64] = {}
    single = batch.rate_keys
    for name in RATE_KEYS:  # one key per line: look up every line (MISSING gives zeros)
        query = batch.query(_QUERY[name], single[name])
        sums = index_of(f"rate:{name}").sum_before(query)
        if own is not None:
            sums = np.maximum(sums - own, 0.0)
        present = single[name] != MISSING
        rate = (sums[:, 3] + m * prior) / (sums[:, 2] + m)
        out[f"{name}_seizure_rate"] = np.where(present, rate, np.nan)
        if name in PARTIES:
            out[f"{name}_prior_seizures"] = np.where(present, sums[:, 1], np.nan)
    d = batch.descriptions
    for name, query_name in (("hub", "hub"), ("token", "token")):
        rows, keys = batch.hubs if name == "hub" else (d.pair_row, d.pair_token)
        sums = index_of(f"rate:{name}").sum_before(batch.query(query_name, keys, secs[rows]))
        if own is not None:
            sums = np.maximum(sums - own[rows], 0.0)
        rate = (sums[:, 3] + m * prior[rows]) / (sums[:, 2] + m)
        if name == "hub":
            out["hub_seizure_rate"] = per_row(rate, rows, n, "max")
        else:
            out["desc_token_rate_max"] = per_row(rate, rows, n, "max")
            out["desc_token_rate_mean"] = per_row(rate, rows, n, "mean")
            out["desc_token_inspections"] = per_row(sums[:, 2], rows, n, "max")
    return out
