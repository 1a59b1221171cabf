"""The duplicate-key registry: across chunks, exactly the rows whose key was met before."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from risk_engine.validation import KeyRegistry

chunks = st.lists(
    st.lists(st.integers(min_value=0, max_value=40), max_size=30), min_size=1, max_size=6
)


@settings(max_examples=200, deadline=None)
@given(chunks)
def test_a_key_is_a_duplicate_exactly_when_it_was_met_before(parts: list[list[int]]) -> None:
    registry = KeyRegistry()
    met: set[int] = set()
    for part in parts:
        hashes = np.asarray(part, dtype=np.uint64)
        expected = []
        for value in part:
            expected.append(value in met)
            met.add(value)
        assert registry.claim(hashes).tolist() == expected
    assert registry._seen.tolist() == sorted(met)


def test_large_hashes_and_an_empty_chunk() -> None:
    registry = KeyRegistry()
    top = np.uint64(2**64 - 1)
    assert registry.claim(np.asarray([top, 0, top], dtype=np.uint64)).tolist() == [
        False,
        False,
        True,
    ]
    assert registry.claim(np.asarray([], dtype=np.uint64)).tolist() == []
    assert registry.claim(np.asarray([5, top], dtype=np.uint64)).tolist() == [False, True]


def test_validation_threads_follow_the_cores_this_process_may_use(monkeypatch):
    """A container or `taskset` grants fewer cores than the machine has: validation uses those."""
    import os

    from risk_engine import validation

    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3}, raising=False)
    assert validation._workers() == 1
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    assert validation._workers() == 4
