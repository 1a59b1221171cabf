"""The large-batch paths give exactly what the plain ones give.

Scoring a chunk of a year's file (about 200,000 lines) sorts keys by rank rather than by value,
merges a state's index with a batch's as two sorted runs, and joins the buffer of recent lines by
categories. Each must equal, bit for bit, what the plain path (``np.lexsort``, ``build`` of the
concatenated events, a concatenation of the text) gives.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
from feature_data import history_lines, random_outcomes
from test_fast_paths import assert_identical

from features import history, keys, memo, norms, text
from features import index as index_module
from features import pipeline as pipeline_module
from features.batch import Batch
from features.index import EventIndex, FirstSeen, sort_order
from features.pipeline import FeaturePipeline
from features.state import (
    BUFFER_COLUMNS,
    CONSIGNEE_MARK,
    LINE_KEY,
    LINE_VERSION,
    FeatureState,
    StateParams,
)

_NEVER = 1 << 62


@contextmanager
def large_batch_paths(on: bool) -> Iterator[None]:
    """The general paths for any batch (no small-batch shortcut), with the large-batch ones
    (distinct-value rules, ranked sorts) taken by every batch, or by none."""
    settings = {
        (memo, "SMALL_BATCH"): -1,
        (history, "SMALL_BATCH"): -1,
        (text, "SMALL_BATCH"): -1,
        (keys, "_FEW"): -1,
        (memo, "DISTINCT_FROM"): 0 if on else _NEVER,
        (index_module, "_RADIX_FROM"): 0 if on else _NEVER,
    }
    saved = {place: getattr(*place) for place in settings}
    for (module, name), value in settings.items():
        setattr(module, name, value)
    memo._TABLES.clear()
    norms._REMEMBERED.clear()
    try:
        yield
    finally:
        for (module, name), value in saved.items():
            setattr(module, name, value)


def _runs(lines: pd.DataFrame, outcomes: pd.DataFrame) -> list[pd.DataFrame]:
    """Training frame; scoring in time order, shuffled, and after an update."""
    cut = lines["filed_at"].iloc[len(lines) // 2]
    later = lines[lines["filed_at"] >= cut]
    first, second = later.iloc[: len(later) // 2], later.iloc[len(later) // 2 :]
    pipeline = FeaturePipeline().fit(lines, outcomes, until=cut)
    shuffled = later.sample(frac=1.0, random_state=3)
    frames = [FeaturePipeline().fit_transform(lines, outcomes), pipeline.transform(later)]
    frames.append(pipeline.transform(shuffled))
    pipeline.update(first, outcomes[outcomes["recorded_at"] < second["filed_at"].iloc[0]])
    frames.append(pipeline.transform(second))
    return frames


def test_large_batch_paths_score_exactly_as_the_plain_ones() -> None:
    lines = history_lines(300, seed=74)
    # every party, route and code three times over, so rules have values to share
    lines = pd.concat([lines] * 3).sort_values("filed_at", kind="stable")
    lines.index = pd.RangeIndex(len(lines))
    outcomes = random_outcomes(lines.drop_duplicates(["bl_number", "container_number"]), seed=75)
    with large_batch_paths(False):
        plain = _runs(lines, outcomes)
    with large_batch_paths(True):
        quick = _runs(lines, outcomes)
    for want, got in zip(plain, quick, strict=True):
        assert_identical(got, want)


def _keys(rng: np.random.Generator, n: int, distinct: int) -> np.ndarray:
    """Hash-like 64-bit keys (0 among them, as MISSING is) drawn from ``distinct`` values."""
    values = rng.integers(0, distinct, n).astype(np.uint64)
    return values * np.uint64(0x9E3779B97F4A7C15)


def test_ranked_sort_orders_rows_as_lexsort_does() -> None:
    rng = np.random.default_rng(71)
    cases = [(0, 1), (1, 1), (50, 7), (5_000, 3), (20_000, 900), (100_000, 90_000)]
    for n, distinct in cases:
        keys = _keys(rng, n, distinct)
        in_order = np.sort(rng.integers(0, 500, n)).astype(np.int64)
        shuffled = rng.integers(0, 500, n).astype(np.int64)
        for secs in (in_order, shuffled):
            got = sort_order(keys, secs)
            assert got.dtype == np.int64
            assert np.array_equal(got, np.lexsort((secs, keys))), (n, distinct)


def _events(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    keys = rng.integers(1, 12, n).astype(np.uint64)
    secs = rng.integers(0, 40, n).astype(np.int64)
    weights = rng.integers(-1, 3, (n, 2)).astype(np.float64)
    return keys, secs, weights


def test_merging_indexes_equals_building_one_from_all_their_events() -> None:
    rng = np.random.default_rng(72)
    for case in range(300):
        (k1, s1, w1), (k2, s2, w2) = (
            _events(rng, int(rng.integers(1, 60))),
            _events(rng, int(rng.integers(1, 60))),
        )
        half_life = 50.0 if case % 2 else None
        merged = EventIndex.build(k1, s1, w1, half_life_s=half_life).merged(
            EventIndex.build(k2, s2, w2, half_life_s=half_life)
        )
        built = EventIndex.build(
            np.concatenate([k1, k2]),
            np.concatenate([s1, s2]),
            np.concatenate([w1, w2]),
            half_life_s=half_life,
        )
        for name in ("vocab", "comp", "weights", "_cums"):
            a, b = getattr(merged, name), getattr(built, name)
            assert a.dtype == b.dtype and np.array_equal(a, b), (case, name)
        first = FirstSeen.build(k1, s1).merged(FirstSeen.build(k2, s2))
        whole = FirstSeen.build(np.concatenate([k1, k2]), np.concatenate([s1, s2]))
        assert np.array_equal(first.vocab, whole.vocab) and first.vocab.dtype == np.uint64
        assert np.array_equal(first.first, whole.first) and first.first.dtype == np.int64


def test_the_buffer_of_recent_lines_holds_what_a_concatenation_holds() -> None:
    lines = history_lines(300, seed=73).reset_index(drop=True)
    state = FeatureState(params=StateParams(label_lookback_days=3.0), vocab={})
    keys = np.arange(1, len(lines) + 1, dtype=np.uint64)
    secs = lines["filed_at"].astype("int64").to_numpy() // 10**6
    chunks = np.array_split(np.arange(len(lines)), 5)
    chunks.insert(2, np.arange(0))  # an empty chunk changes nothing
    for rows in chunks:
        if len(rows):
            state.as_of = max(state.as_of, int(secs[rows].max()) + 1)
        state.remember(lines.iloc[rows], keys[rows])
    horizon = state.as_of - 3 * 86_400
    kept = np.flatnonzero(secs >= horizon)
    recent = state.recent
    assert recent[LINE_KEY].tolist() == keys[kept].tolist()
    columns = [c for c in BUFFER_COLUMNS if c in lines.columns]
    # with each line, the mark of its consignee (none given: unknown) and its filing's second
    assert list(recent.columns) == [LINE_KEY, *columns, CONSIGNEE_MARK, LINE_VERSION]
    assert (recent[CONSIGNEE_MARK] == 0).all()
    assert recent[LINE_VERSION].tolist() == secs[kept].tolist()
    for name in columns:
        want = lines[name].iloc[kept].astype(object).where(lines[name].iloc[kept].notna(), None)
        got = recent[name].astype(object).where(recent[name].notna(), None)
        assert got.tolist() == want.tolist(), name
        if name != "filed_at":
            assert isinstance(recent[name].dtype, pd.CategoricalDtype)
            used = set(recent[name].dropna().astype(str))
            assert set(recent[name].cat.categories) == used  # names that left are dropped


def test_fitting_until_a_cut_reads_the_lines_a_filter_keeps() -> None:
    lines = history_lines(200, seed=76)
    cut = lines["filed_at"].iloc[120]
    for frame in (lines, lines.sample(frac=1.0, random_state=1), lines.iloc[:0]):
        kept = pipeline_module._before(frame, "filed_at", cut)
        pd.testing.assert_frame_equal(kept, frame[frame["filed_at"] < cut])


def test_feature_families_computed_two_at_a_time_equal_one_at_a_time(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from features import compute

    lines = history_lines(300, seed=76)
    lines = pd.concat([lines] * 3).sort_values("filed_at", kind="stable")
    lines.index = pd.RangeIndex(len(lines))
    outcomes = random_outcomes(lines.drop_duplicates(["bl_number", "container_number"]), seed=77)
    with large_batch_paths(True):
        monkeypatch.setattr(compute, "_PARALLEL_ROWS", _NEVER)
        alone = _runs(lines, outcomes)
        monkeypatch.setattr(compute, "_PARALLEL_ROWS", 0)
        together = _runs(lines, outcomes)
    for want, got in zip(alone, together, strict=True):
        assert_identical(got, want)


def test_transform_update_equals_transform_then_update() -> None:
    import copy

    lines = history_lines(300, seed=78)
    lines = pd.concat([lines] * 3).sort_values("filed_at", kind="stable")
    lines.index = pd.RangeIndex(len(lines))
    outcomes = random_outcomes(lines.drop_duplicates(["bl_number", "container_number"]), seed=79)
    cut = lines["filed_at"].iloc[len(lines) // 3]
    later = lines[lines["filed_at"] >= cut]
    fitted = FeaturePipeline().fit(lines, outcomes, until=cut)
    apart, together = copy.deepcopy(fitted), copy.deepcopy(fitted)
    # Chunks of several sizes: a few lines (the small-batch paths) and hundreds.
    bounds = [0, 5, 40, 300, len(later) - 50, len(later)]
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
        chunk = later.iloc[start:stop]
        want = apart.transform(chunk)
        apart.update(chunk)
        got = together.transform_update(chunk)
        assert_identical(got, want)
        assert together.as_of_ == apart.as_of_
        assert together.state_.lines_seen == apart.state_.lines_seen
    # The states answer alike afterwards, with and without new outcomes.
    probe = lines.tail(60)
    assert_identical(together.transform(probe), apart.transform(probe))
    recent = outcomes.tail(40)
    apart.update(None, recent)
    together.update(None, recent)
    assert_identical(together.transform(probe), apart.transform(probe))


def test_lines_the_state_already_holds_are_scored_but_not_added_again() -> None:
    import copy

    lines = history_lines(400, seed=81).sort_values("filed_at", kind="stable")
    lines.index = pd.RangeIndex(len(lines))
    cut = lines["filed_at"].iloc[250]
    day, later = lines[lines["filed_at"] >= cut].iloc[:100], lines.tail(20)
    once = FeaturePipeline().fit(lines, until=cut)
    once.transform_update(day)
    twice = copy.deepcopy(once)
    # The same batch again (a screening run twice, a manifest sent again): scored, not added.
    again = twice.transform_update(day)
    assert len(again) == len(day)
    assert twice.state_.lines_seen == once.state_.lines_seen
    assert twice.state_.lines_repeated == len(day) and once.state_.lines_repeated == 0
    assert_identical(twice.transform(later), once.transform(later))
    # update() skips them too, and adds the new lines of a batch that mixes both.
    mixed = pd.concat([day.head(30), lines[lines["filed_at"] >= cut].iloc[100:130]])
    stepwise = copy.deepcopy(once)
    stepwise.update(mixed)
    assert stepwise.state_.lines_seen == once.state_.lines_seen + 30
    assert stepwise.state_.lines_repeated == 30
    fresh_only = copy.deepcopy(once)
    fresh_only.update(mixed.tail(30))
    assert_identical(stepwise.transform(later), fresh_only.transform(later))
    # sent again with a later filing time (a time zone corrected), after the state's cut-off:
    # still the same lines, not added a second time
    refiled = day.head(10).copy()
    refiled["filed_at"] = refiled["filed_at"] + pd.Timedelta(days=400)
    assert (refiled["filed_at"] > once.as_of_).all()
    moved = copy.deepcopy(once)
    moved.transform_update(refiled)
    assert moved.state_.lines_seen == once.state_.lines_seen
    assert moved.state_.lines_repeated == 10


def test_lines_scored_again_get_the_features_they_had_when_first_scored() -> None:
    import copy

    lines = history_lines(400, seed=83).sort_values("filed_at", kind="stable")
    lines.index = pd.RangeIndex(len(lines))
    cut = lines["filed_at"].iloc[250]
    after = lines[lines["filed_at"] >= cut]
    day, new = after.iloc[:100], after.iloc[100:130]
    screened = FeaturePipeline().fit(lines, until=cut)
    first = screened.transform_update(day)  # a night's screening adds the day to the history
    # The day screened again, chunk by chunk: the same features, and nothing added.
    again = copy.deepcopy(screened)
    for start in range(0, len(day), 40):
        chunk = day.iloc[start : start + 40]
        assert_identical(again.transform_update(chunk), first.loc[chunk.index])
    assert again.state_.lines_seen == screened.state_.lines_seen
    # An officer's manifest of some of its lines, and the whole day through the service's path
    # (before, each line counted itself and its batch's earlier lines a second time).
    assert_identical(screened.transform(day.iloc[10:17]), first.iloc[10:17])
    assert_identical(screened.transform(day), first)
    # A batch mixing lines held and new ones: the held as they were, the new as on their own.
    mixed = pd.concat([day.iloc[40:60], new])
    got = screened.transform(mixed)
    assert_identical(got.iloc[:20], first.iloc[40:60])
    assert_identical(got.iloc[20:], screened.transform(new))
    stepwise = copy.deepcopy(screened)
    assert_identical(stepwise.transform_update(mixed), got)
    assert stepwise.state_.lines_seen == screened.state_.lines_seen + len(new)


def test_lines_older_than_the_buffer_are_recognised_when_offered_again() -> None:
    """A past period screened again (after new intelligence, say) whose lines have left the
    buffer of recent lines leaves the history as it was; a line never seen is still added."""
    import copy

    lines = history_lines(400, seed=83).sort_values("filed_at", kind="stable")
    lines.index = pd.RangeIndex(len(lines))
    cut = lines["filed_at"].iloc[150]
    after = lines[lines["filed_at"] >= cut]
    past, recent, later = after.iloc[:120], after.iloc[120:230], lines.tail(20)
    # A buffer of one day: the past period's lines leave it when the recent ones are added.
    pipeline = FeaturePipeline(label_lookback_days=1.0).fit(lines, until=cut)
    pipeline.transform_update(past)
    pipeline.transform_update(recent)
    state = pipeline.state_
    horizon = state.as_of - 86_400
    assert (past["filed_at"] < pd.Timestamp(horizon, unit="s", tz="UTC")).all()
    assert state.holds(Batch(past, token_buckets=1 << 20).shipment).all()
    assert len(state.past_keys) >= len(past)
    assert (state.past_keys[1:] > state.past_keys[:-1]).all()  # sorted, each key once
    again = copy.deepcopy(pipeline)
    scored = again.transform_update(past)
    assert len(scored) == len(past)
    assert again.state_.lines_seen == state.lines_seen
    assert again.state_.lines_repeated == state.lines_repeated + len(past)
    assert again.state_.lines_beyond_memory == 0  # within key_horizon: nothing unrecognised
    assert_identical(again.transform(later), pipeline.transform(later))
    # A line of that period never offered before (filed late) is new: it is added.
    unseen = past.head(3).assign(container_number=past["container_number"].head(3) + "X")
    grown = copy.deepcopy(pipeline)
    grown.update(unseen)
    assert grown.state_.lines_seen == state.lines_seen + 3
    assert grown.state_.holds(Batch(unseen, token_buckets=1 << 20).shipment).all()


def test_past_keys_go_at_the_key_horizon_and_old_pickles_still_load() -> None:
    import pickle

    lines = history_lines(200, seed=84).sort_values("filed_at", kind="stable")
    pipeline = FeaturePipeline(label_lookback_days=1.0).fit(lines)
    state = pipeline.state_
    assert len(state.past_keys) > 0 and len(state.past_keys) == len(state.past_secs)
    line_keys = Batch(lines, token_buckets=1 << 20).shipment
    # Two years on, no windowed counter reaches those lines: their keys are dropped.
    state.as_of += 730 * 86_400
    state.remember(lines.head(0), line_keys[:0])
    assert len(state.past_keys) == 0 and not state.holds(line_keys).any()
    # A buffer that reaches further than the counters recognises as far as it reaches.
    assert state.key_memory_days == 379
    longer = FeaturePipeline(label_lookback_days=500.0).fit(lines).state_
    assert longer.key_memory_days == 500 and longer.key_horizon == longer.as_of - 500 * 86_400
    # A state pickled before past keys were kept loads, recognising its buffer's lines only.
    fresh = FeaturePipeline(label_lookback_days=1.0).fit(lines).state_
    saved = fresh.__getstate__()
    del saved["past_keys"], saved["past_secs"]
    restored = FeatureState.__new__(FeatureState)
    restored.__setstate__(pickle.loads(pickle.dumps(saved)))
    assert len(restored.past_keys) == 0
    buffered = restored.recent[LINE_KEY].to_numpy()
    assert restored.holds(buffered).all() and not restored.holds(line_keys).all()
