"""The point-in-time sum primitive: strict "before", merged duplicates, exact compaction."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from features.index import NEVER, EventIndex, FirstSeen, Query

U = np.uint64


def _keys(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.uint64)


def _secs(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def test_an_event_at_the_query_second_is_not_before_it() -> None:
    index = EventIndex.build(_keys(5, 5, 5), _secs(10, 20, 20))
    sums = index.sum_before(Query.of(_keys(5, 5, 5), _secs(10, 20, 21)))[:, 0]
    assert sums.tolist() == [0, 1, 3]


def test_repeated_key_and_time_rows_are_merged_before_lookups() -> None:
    index = EventIndex.build(_keys(5, 5, 5, 7), _secs(20, 20, 20, 20))
    assert index.n_events == 2
    sums = index.sum_before(Query.of(_keys(5, 7, 9, 0), _secs(21, 21, 21, 21)))[:, 0]
    assert sums.tolist() == [3, 1, 0, 0]  # unknown and missing keys sum to nothing


def test_windows_are_differences_of_two_lookups() -> None:
    index = EventIndex.build(_keys(1, 1, 1, 1), _secs(0, 50, 90, 100))
    now, then = index.sums(Query.of(_keys(1), _secs(100)), (0, -60))
    assert (now - then)[0, 0] == 2  # events at 50 and 90 lie in [40, 100)


def test_decayed_sums_halve_every_half_life() -> None:
    index = EventIndex.build(_keys(3, 3), _secs(0, 100), half_life_s=100.0)
    sums = index.sum_before(Query.of(_keys(3, 3), _secs(100, 200)))
    assert sums[:, 0].tolist() == [1, 2]  # plain count
    assert np.allclose(sums[:, 1], [0.5, 0.25 + 0.5])  # decayed


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    events=st.lists(st.tuples(st.integers(1, 4), st.integers(0, 50)), min_size=1, max_size=40),
    horizon=st.integers(0, 50),
    queries=st.lists(st.tuples(st.integers(1, 5), st.integers(0, 80)), min_size=1, max_size=20),
)
def test_compaction_keeps_every_sum_from_the_horizon_on(
    events: list[tuple[int, int]], horizon: int, queries: list[tuple[int, int]]
) -> None:
    keys = np.array([k for k, _ in events], dtype=np.uint64)
    secs = np.array([t for _, t in events], dtype=np.int64)
    index = EventIndex.build(keys, secs)
    compact = index.compacted(horizon)
    q_keys = np.array([k for k, _ in queries], dtype=np.uint64)
    q_secs = np.maximum(np.array([t for _, t in queries], dtype=np.int64), horizon)
    query = Query.of(q_keys, q_secs)
    expected = [int(((keys == k) & (secs < t)).sum()) for k, t in zip(q_keys, q_secs, strict=True)]
    assert index.sum_before(query)[:, 0].tolist() == expected
    assert compact.sum_before(query)[:, 0].tolist() == expected
    assert compact.n_events <= index.n_events


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    events=st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 50), st.integers(1, 3)), max_size=40
    ),
    horizon=st.integers(-1, 52),
    decayed=st.booleans(),
)
def test_an_index_cut_at_a_horizon_is_the_index_of_the_events_kept(
    events: list[tuple[int, int, int]], horizon: int, decayed: bool
) -> None:
    keys = np.array([k for k, _, _ in events], dtype=np.uint64)  # 0: a missing key
    secs = np.array([t for _, t, _ in events], dtype=np.int64)
    weights = np.array([[w, 2 * w] for _, _, w in events], dtype=np.float64).reshape(-1, 2)
    half_life = 30.0 if decayed else None
    cut = EventIndex.build(keys, secs, weights, half_life_s=half_life).since(horizon)
    kept = secs >= horizon
    built = EventIndex.build(keys[kept], secs[kept], weights[kept], half_life_s=half_life)
    assert cut.vocab.tolist() == built.vocab.tolist()
    assert cut.comp.tolist() == built.comp.tolist()
    assert cut.weights.tolist() == built.weights.tolist()
    query = Query.of(np.array([1, 2, 3, 4, 5], dtype=np.uint64), np.full(5, 60, dtype=np.int64))
    assert np.array_equal(cut.sum_before(query), built.sum_before(query))


def test_merging_two_indexes_sums_their_events() -> None:
    a = EventIndex.build(_keys(1, 2), _secs(10, 10))
    b = EventIndex.build(_keys(1, 3), _secs(5, 10))
    merged = a.merged(b)
    sums = merged.sum_before(Query.of(_keys(1, 2, 3), _secs(11, 11, 11)))[:, 0]
    assert sums.tolist() == [2, 1, 1]


def test_an_index_pickles_to_the_same_answers() -> None:
    index = EventIndex.build(_keys(1, 1, 2), _secs(1, 5, 3), half_life_s=10.0)
    copy = pickle.loads(pickle.dumps(index))
    query = Query.of(_keys(1, 2), _secs(6, 6))
    assert np.array_equal(index.sum_before(query), copy.sum_before(query))


def test_first_seen_is_the_earliest_second_and_never_for_unknown_keys() -> None:
    first = FirstSeen.build(_keys(4, 4, 6, 0), _secs(30, 10, 7, 1))
    assert first.first_of(_keys(4, 6, 8, 0)).tolist() == [10, 7, NEVER, NEVER]
    later = first.merged(FirstSeen.build(_keys(4), _secs(2)))
    assert later.first_of(_keys(4)).tolist() == [2]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 900), max_size=12), min_size=1, max_size=8),
    st.integers(1, 200),
    st.randoms(use_true_random=False),
)
def test_the_state_recognises_each_line_it_added_back_to_its_key_horizon(
    chunks: list[list[int]], lookback: int, rng: Any
) -> None:
    """Whatever the order lines come in (each line once, as the contract and `_held` see to),
    a line is recognised while it is in the buffer or was filed at or after `key_horizon`, and
    the past keys stay sorted, each once."""
    import pandas as pd

    from features.state import FeatureState, StateParams

    day = 86_400
    state = FeatureState(params=StateParams(label_lookback_days=lookback), vocab={})
    names = rng.sample(range(1, 1 << 40), sum(len(c) for c in chunks))  # unordered line keys
    first: dict[int, int] = {}
    for chunk in chunks:
        keys = np.array(names[len(first) : len(first) + len(chunk)], dtype=np.uint64)
        secs = np.array([d * day for d in chunk], dtype=np.int64)
        frame = pd.DataFrame({"filed_at": pd.to_datetime(secs, unit="s", utc=True)})
        first.update(zip(keys.tolist(), secs.tolist(), strict=True))
        state.as_of = max(state.as_of, int(secs.max()) + 1 if len(secs) else 0)
        state.remember(frame, keys)
        past = state.past_keys
        assert (past[1:] > past[:-1]).all() and len(past) == len(state.past_secs)
        assert (state.past_secs >= state.key_horizon).all()
        buffered = set(state.recent["_line_key"].tolist()) if len(state.recent) else set()
        asked = np.array(sorted(first), dtype=np.uint64)
        want = [k in buffered or first[k] >= state.key_horizon for k in asked.tolist()]
        assert state.holds(asked).tolist() == want
