"""The small-batch paths give exactly what the general ones give.

A few lines (an API manifest) are scored with remembered per-value results, brute-force lookups
of the batch's own events, a per-description analysis and Python's `re` on short ASCII text.
Each must equal, bit for bit, the vectorised path every batch used before, which still scores
large batches.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from feature_data import history_lines, random_outcomes

from features import batch as batch_module
from features import compute, history, keys, memo, norms, text
from features import index as index_module
from features.batch import Batch
from features.catalogue import CATALOGUE
from features.index import EventIndex, EventList, FirstSeen, Query
from features.lexicons import SAME_AS_CONSIGNEE, TO_ORDER_PATTERN, to_order_pattern
from features.pipeline import FeaturePipeline
from risk_engine.validation import key_hashes


@contextmanager
def general_paths() -> Iterator[None]:
    """Every small-batch shortcut off: what any batch got before the shortcuts existed."""
    saved = (memo.SMALL_BATCH, memo.MAX_ENTRIES, text.SMALL_BATCH, history.SMALL_BATCH)
    few, values, direct = keys._FEW, batch_module._column_values, norms._DIRECT_CELLS
    plain_runs = index_module.PLAIN_RUNS
    norms._DIRECT_CELLS = -1
    index_module.PLAIN_RUNS = False
    memo.SMALL_BATCH, memo.MAX_ENTRIES, text.SMALL_BATCH, history.SMALL_BATCH = -1, -1, -1, -1
    keys._FEW = -1
    batch_module._column_values = lambda frame: {n: c.array for n, c in frame.items()}
    forget()
    try:
        yield
    finally:
        memo.SMALL_BATCH, memo.MAX_ENTRIES, text.SMALL_BATCH, history.SMALL_BATCH = saved
        keys._FEW, batch_module._column_values, norms._DIRECT_CELLS = few, values, direct
        index_module.PLAIN_RUNS = plain_runs


def forget() -> None:
    memo._TABLES.clear()
    norms._REMEMBERED.clear()


def assert_identical(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Same columns, dtypes, index and values, bit for bit (NaN where NaN)."""
    pd.testing.assert_frame_equal(left, right, check_exact=True)
    for name in left.columns:
        a, b = left[name].to_numpy(), right[name].to_numpy()
        if a.dtype == np.float64:
            assert np.array_equal(a.view(np.int64), b.view(np.int64)), name


def small_frames(lines: pd.DataFrame, seed: int) -> list[pd.DataFrame]:
    """Manifests of 1-60 lines: consecutive, scattered, shuffled, sharing a second, thin."""
    rng = np.random.default_rng(seed)
    frames = []
    for size in (1, 2, 5, 17, 50, 60):
        start = int(rng.integers(0, len(lines) - size))
        frames.append(lines.iloc[start : start + size])
        frames.append(lines.iloc[np.sort(rng.choice(len(lines), size, replace=False))])
    shuffled = lines.iloc[rng.permutation(len(lines))[:30]]
    shuffled.index = [f"line-{i}" for i in range(len(shuffled))]
    frames.append(shuffled)
    same = lines.iloc[:20].copy()
    same["filed_at"] = same["filed_at"].iloc[-1]
    frames.append(same)
    thin = lines.iloc[:25].copy()
    for name in ("shipper_address", "declared_value", "notify_party_name", "dq_flags", "etd"):
        if name in thin.columns:
            thin.loc[thin.index[::3], name] = None
    frames.append(thin)
    frames.append(lines.iloc[:12].drop(columns=["transshipment_ports", "country_of_origin"]))
    return frames


@pytest.fixture(scope="module")
def fitted() -> tuple[FeaturePipeline, pd.DataFrame]:
    lines = history_lines(400, seed=31, parties=6)
    outcomes = random_outcomes(lines, seed=32)
    cut = lines["filed_at"].iloc[250]
    pipeline = FeaturePipeline().fit(lines, outcomes, until=cut)
    return pipeline, lines[lines["filed_at"] >= cut]


def test_small_manifests_score_exactly_as_the_general_path_does(
    fitted: tuple[FeaturePipeline, pd.DataFrame],
) -> None:
    pipeline, later = fitted
    frames = small_frames(later, seed=33)
    with general_paths():
        expected = [pipeline.transform(frame) for frame in frames]
    forget()
    for _ in range(2):  # once with empty tables, once with what the first round remembered
        for frame, want in zip(frames, expected, strict=True):
            assert_identical(pipeline.transform(frame), want)


def test_remembered_results_do_not_depend_on_what_was_scored_before(
    fitted: tuple[FeaturePipeline, pd.DataFrame],
) -> None:
    pipeline, later = fitted
    frames = small_frames(later, seed=34)
    forget()
    cold = [pipeline.transform(frame) for frame in frames]
    for frame, first in zip(reversed(frames), reversed(cold), strict=True):
        assert_identical(pipeline.transform(frame), first)


def test_a_small_batch_looks_its_own_events_up_as_the_indexes_would(
    fitted: tuple[FeaturePipeline, pd.DataFrame],
) -> None:
    pipeline, later = fitted
    state = pipeline.state_
    for frame in small_frames(later, seed=35):
        batch = Batch(frame, token_buckets=state.params.token_buckets)
        quick = history.features(batch, state, history.lookup_events(batch, state))
        full = history.features(batch, state, history.contributions(batch, state))
        assert quick.keys() == full.keys()
        for name, values in quick.items():
            assert np.array_equal(values.view(np.int64), full[name].view(np.int64)), name


def test_an_event_list_answers_like_an_index_and_a_first_seen() -> None:
    rng = np.random.default_rng(36)
    for _ in range(300):
        n = int(rng.integers(0, 40))
        event_keys = rng.integers(0, 6, n).astype(np.uint64)  # 0 is MISSING: not an event
        event_secs = rng.integers(-5, 60, n).astype(np.int64)
        weights = None
        if rng.random() < 0.5:  # first sightings: +1, and -1 later for some (never below 0)
            cancelled = rng.random(n) < 0.4
            event_keys = np.concatenate([event_keys, event_keys[cancelled]])
            later = event_secs[cancelled] + rng.integers(1, 20, int(cancelled.sum()))
            event_secs = np.concatenate([event_secs, later])
            weights = np.where(np.arange(len(event_keys)) < n, 1.0, -1.0)
        listed = EventList(event_keys, event_secs, weights)
        m = int(rng.integers(0, 30))
        query = Query.of(rng.integers(0, 7, m).astype(np.uint64), rng.integers(-5, 70, m))
        shifts = tuple(int(s) for s in rng.integers(-20, 5, int(rng.integers(1, 4))))
        index = EventIndex.build(event_keys, event_secs, weights)
        for quick, full in zip(listed.sums(query, shifts), index.sums(query, shifts), strict=True):
            assert quick.shape == full.shape
            assert np.array_equal(quick.view(np.int64), full.view(np.int64))
        asked = rng.integers(0, 7, m).astype(np.uint64)
        first = FirstSeen.build(event_keys, event_secs).first_of(asked)
        assert np.array_equal(listed.first_of(asked), first)


def _descriptions(rng: np.random.Generator) -> list[str | None]:
    words = [
        "LOGS", "LOG", "GLASS", "SAWN TIMBER", "cashew", "nuts", "FROZEN FISH", "said to contain",
        "GENERAL CARGO", "of", "and", "12", "3.5", "X1", "PARTS", "PART", "Ivory", "über", "S",
        "SS", "", ",", ";", " - ", "/", "HS", "1x40'HC",
    ]  # fmt: skip
    pool = [
        " ".join(rng.choice(words) for _ in range(int(rng.integers(0, 8))))
        for _ in range(int(rng.integers(1, 8)))
    ]
    size = int(rng.integers(1, 40))
    values = [pool[i] if rng.random() > 0.1 else None for i in rng.integers(0, len(pool), size)]
    return values if any(v is not None for v in values) else [pool[0]]


def test_describing_a_few_lines_equals_the_vectorised_path() -> None:
    rng = np.random.default_rng(37)
    for _ in range(400):
        values = pa.array(_descriptions(rng), pa.large_string())
        buckets = int(rng.choice([1, 3, 1 << 20]))
        rules = int(rng.choice([1, 2]))  # a history's name rules, before stop 23 and since
        few = text._describe_few(values, buckets, rules)
        many = text._describe_many(values, buckets, rules)
        for field in dataclasses.fields(few):
            left, right = getattr(few, field.name), getattr(many, field.name)
            assert left.dtype == right.dtype and np.array_equal(left, right), field.name


def test_text_rules_on_a_few_ascii_values_match_arrow() -> None:
    rng = np.random.default_rng(38)
    pieces = list("abzABZ09 .,;:-_/&()'\"\t\n\r\x0b\x0c\x1c\x7f") + [
        " CO", " Co.,Ltd", " LTD", "TO ORDER", " order ", "same as cnee", "P.O. Box 1", "POB",
        "postfach", "SAID TO CONTAIN", "fak", " JSC", "\n",
    ]  # fmt: skip
    patterns = [
        TO_ORDER_PATTERN,
        f"({TO_ORDER_PATTERN})|({SAME_AS_CONSIGNEE})",
        to_order_pattern(1),  # a history's rules before stop 23
        r"(^| )(P ?O ?BOX|POB|POST BOX|POSTFACH)( |$|[0-9])",
        text._VAGUE,
    ]
    for _ in range(250):
        values = [
            "".join(rng.choice(pieces) for _ in range(int(rng.integers(0, 10))))
            if rng.random() > 0.1
            else None
            for _ in range(int(rng.integers(0, 20)))
        ]
        raw = pa.array(values, pa.large_string())
        spaced = pc.utf8_trim_whitespace(
            pc.replace_substring_regex(pc.utf8_upper(raw), r"[^A-Z0-9]+", " ")
        )
        # the same values with one that is not ASCII: Arrow's path for all of them
        arrow_path = pa.array([*values, "É"], pa.large_string())
        party = keys.normalise_party(arrow_path).slice(0, len(values))
        assert keys.normalise_text(raw).equals(spaced)
        assert keys.normalise_party(raw).equals(party)
        before = keys.normalise_party(arrow_path, 1).slice(0, len(values))  # a history's rules
        assert keys.normalise_party(raw, 1).equals(before)
        assert keys.normalise_text(raw, 1).equals(spaced)
        for array in (raw, spaced, party):
            for pattern in patterns:
                for missing in (False, True):
                    arrow = keys.to_mask(pc.match_substring_regex(array, pattern), missing)
                    assert np.array_equal(keys.text_matches(array, pattern, missing), arrow)


def test_remembered_combinations_equal_fresh_ones() -> None:
    rng = np.random.default_rng(39)
    forget()
    for _ in range(200):
        n = int(rng.integers(0, 30))
        parts = [rng.integers(0, 4, n).astype(np.uint64) for _ in range(int(rng.integers(1, 4)))]
        salt = int(rng.integers(0, 3))
        remembered = keys.combine(*parts, salt=salt)
        assert np.array_equal(remembered, keys.combine(*parts, salt=salt, remember=False))


def test_short_codes_hash_as_the_contract_key_hash_does() -> None:
    rng = np.random.default_rng(40)
    ascii_only, anything = list("ABCXYZ0189-/ "), list("ABCXYZ0189-/ é漢\t")
    answered = 0
    for _ in range(400):
        rows = int(rng.integers(0, 30))
        codes = {}
        for name in ("bl_number", "container_number")[: int(rng.integers(1, 3))]:
            pool = ascii_only if rng.random() < 0.7 else anything
            values = [
                "".join(rng.choice(pool) for _ in range(int(rng.integers(0, 60))))
                if rng.random() > 0.1
                else None
                for _ in range(rows)
            ]
            codes[name] = pd.Series(
                values, dtype="string[pyarrow]" if rng.random() < 0.5 else "str"
            )
        frame = pd.DataFrame(codes)
        quick = keys.code_hashes([frame[name] for name in codes])
        if quick is not None:
            answered += 1
            assert np.array_equal(quick, key_hashes(frame, list(codes)).astype(np.uint64))
    assert answered > 100


def test_lookups_after_every_event_read_each_keys_whole_sum() -> None:
    rng = np.random.default_rng(41)
    for _ in range(200):
        n = int(rng.integers(1, 40))
        event_keys = rng.integers(1, 8, n).astype(np.uint64)
        event_secs = rng.integers(0, 10_000, n).astype(np.int64)
        weights = rng.integers(0, 3, (n, 2)).astype(np.float64)
        half_life = float(rng.choice([500.0, 86_400.0])) if rng.random() < 0.5 else None
        index = EventIndex.build(event_keys, event_secs, weights, half_life_s=half_life)
        m = int(rng.integers(1, 30))
        query = Query.of(rng.integers(0, 10, m).astype(np.uint64), rng.integers(10_000, 20_000, m))
        (quick,) = index.sums(query, (0,))
        searched = index.sums(query, (0, -100_000))[0]  # the far shift forces the search
        assert np.array_equal(quick.view(np.int64), searched.view(np.int64))


def _query_parts(query: Query) -> list[np.ndarray]:
    keys, secs = query.distinct
    unique, at = query.distinct_keys
    return [query.run, query.rows, keys, secs, unique, at, np.array([query.repeats])]


def test_queries_without_repeats_take_their_runs_as_they_are() -> None:
    rng = np.random.default_rng(43)
    plain = 0
    for _ in range(300):
        n = int(rng.integers(0, 12))
        query_keys = rng.integers(0, int(rng.integers(1, 20)), n).astype(np.uint64)
        query_secs = rng.integers(0, int(rng.integers(1, 30)), n).astype(np.int64)
        quick = Query.of(query_keys, query_secs)
        saved = index_module.PLAIN_RUNS
        index_module.PLAIN_RUNS = False
        try:
            counted = Query.of(query_keys, query_secs)
            want = _query_parts(counted)
        finally:
            index_module.PLAIN_RUNS = saved
        got = _query_parts(quick)
        plain += quick._plain
        for left, right in zip(got, want, strict=True):
            assert left.dtype == right.dtype and np.array_equal(left, right)
        assert np.array_equal(
            quick.spread_keys(np.arange(len(got[4]))), counted.spread_keys(np.arange(len(want[4])))
        )
    assert 50 < plain < 280  # both kinds of query are tried


def _statistics_one_quantile_at_a_time(
    norm: norms.Norm, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`norms._statistics` as first written: each quantile in a pass of its own."""

    def quantile(cdf: np.ndarray, total: np.ndarray, q: float) -> np.ndarray:
        target = q * total
        b = np.argmax(cdf >= target[:, None], axis=1)
        rows = np.arange(len(b))
        before = np.where(b > 0, cdf[rows, np.maximum(b - 1, 0)], 0.0)
        inside = np.maximum(counts[rows, b], 1.0)
        inner = np.clip((target - before) / inside, 0.0, 1.0)
        return np.asarray(norm.low + norm.width * (b + inner), dtype=np.float64)

    total = counts.sum(axis=1)
    cdf = np.cumsum(counts, axis=1)
    spread = quantile(cdf, total, 0.75) - quantile(cdf, total, 0.25)
    scale = np.maximum(spread / norms._IQR_TO_SIGMA, norm.width)
    return total, quantile(cdf, total, 0.5), scale


def test_norm_quantiles_in_one_pass_equal_one_at_a_time() -> None:
    rng = np.random.default_rng(44)
    for _ in range(200):
        rows = int(rng.integers(0, 30))
        counts = rng.integers(0, 5, (rows, norms.BINS)).astype(np.float64)
        counts *= rng.random((rows, norms.BINS)) < rng.random()  # empty and sparse rows too
        for norm in norms.NORMS:
            got = norms._statistics(norm, counts)
            want = _statistics_one_quantile_at_a_time(norm, counts)
            for left, right in zip(got, want, strict=True):
                assert left.shape == right.shape
                assert np.array_equal(left.view(np.int64), right.view(np.int64))


def test_the_feature_frame_is_built_as_the_public_constructor_builds_it() -> None:
    rng = np.random.default_rng(42)
    for rows in (0, 1, 3, 50):
        columns: dict[str, object] = {}
        for feature in CATALOGUE:
            if feature.kind == "category":
                codes = rng.integers(-1, 3, rows)
                dtype = pd.CategoricalDtype(pd.Index(["A", "B", "__other__"], dtype=object))
                columns[feature.name] = pd.Categorical.from_codes(codes, dtype=dtype)
            else:
                values = rng.normal(size=rows)
                values[rng.random(rows) < 0.3] = np.nan
                columns[feature.name] = values
        index = pd.Index(rng.integers(0, 3, rows), name="row")  # repeated labels too
        built = compute._frame(columns, index)
        labels = pd.Index(list(columns), dtype=object)  # Python strings, for quick lookups
        assert_identical(built, pd.DataFrame(columns, index=index, columns=labels))
        assert built.columns.dtype == object


def test_column_values_are_what_each_series_holds(
    fitted: tuple[FeaturePipeline, pd.DataFrame],
) -> None:
    _, later = fitted
    frame = later.iloc[:7]
    values = batch_module._column_values(frame)
    assert list(values) == list(frame.columns)
    for name, column in frame.items():
        expected = column.array
        got = values[name]
        if isinstance(got, np.ndarray):
            assert np.array_equal(got, expected.to_numpy(), equal_nan=got.dtype.kind == "f")
        else:
            assert got.equals(expected), name


def test_accented_party_names_keep_their_letters_however_the_accents_are_stored() -> None:
    """An accented letter was a space: MÜLLER and MÖLLER were one party ("M LLER HANDEL"), with
    one history and one seizure rate, and the same name with its accents stored apart (a Mac's
    export) a third."""
    import unicodedata

    from features.keys import normalise_party

    names = [
        "Müller Handel GmbH",
        "MÖLLER HANDEL",
        unicodedata.normalize("NFD", "MÜLLER HANDEL"),
        "Công ty TNHH Thương mại Hà Nội",
        None,
        "ACME CO., LTD",
    ]
    for repeat in (1, 20):  # a few values and many go by the same rules
        found = normalise_party(pa.array(names * repeat, pa.large_string())).to_pylist()
        assert found[:6] == [
            "MULLER HANDEL",
            "MOLLER HANDEL",
            "MULLER HANDEL",
            "THUONG MAI HA NOI",  # its legal form dropped too, by name rules 3
            None,
            "ACME",
        ]
