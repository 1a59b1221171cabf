"""The service copies the SQLite store's write-ahead log into the database file on a thread of
its own: SQLite otherwise does it in the commit that takes the log past 1,000 pages, and one
scoring request in about 260 waited 17 ms for it (its audit row)."""

from __future__ import annotations

import logging
import threading
import time
import uuid

import httpx
import pytest
from serve_fakes import FakeScorer, audit_entry, serving, wait_ready

from risk_engine.settings import Settings
from serve.app import create_app
from serve.checkpoint import LogCheckpointer
from serve.store import Store


def _rows(store: Store, count: int) -> None:
    named = tuple((f"BL{i:08d}", f"MSKU{i:07d}") for i in range(50))
    for _ in range(count):
        store.record_audit(audit_entry(uuid.uuid4().hex, *named, duration_ms=20.0))


def _log(store: Store) -> tuple[int, int]:
    """Frames in the log and frames of it already in the database file."""
    with store.engine.connect() as conn:
        row = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").first()
    assert row is not None
    return int(row[1]), int(row[2])


def test_the_log_is_copied_off_the_requests_path(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    copy = store.checkpoint_log

    def recorded() -> bool:
        threads.append(threading.current_thread().name)
        return copy()

    monkeypatch.setattr(store, "checkpoint_log", recorded)
    checkpointer = LogCheckpointer(store, every_s=0.05)
    checkpointer.start()
    try:
        _rows(store, 40)
        deadline = time.monotonic() + 10
        while checkpointer.runs < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        checkpointer.stop()
    assert checkpointer.runs >= 2 and set(threads) == {"log-checkpoint"}
    assert checkpointer._thread is not None and not checkpointer._thread.is_alive()
    frames, copied = _log(store)
    assert frames == copied


def test_the_service_checkpoints_while_it_runs_and_stops_with_it(
    settings: Settings, store: Store, fake_scorer: FakeScorer
) -> None:
    app = create_app(settings=settings, store=store, scorer_loader=lambda: fake_scorer)

    def running() -> bool:
        return any(t.name == "log-checkpoint" for t in threading.enumerate())

    with serving(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        wait_ready(client)
        assert running()
    deadline = time.monotonic() + 10
    while running() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not running()


def test_a_checkpoint_that_fails_is_told_once_and_the_thread_goes_on(
    store: Store, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def locked() -> bool:
        calls.append(1)
        raise RuntimeError("database is locked")

    monkeypatch.setattr(store, "checkpoint_log", locked)
    caplog.set_level(logging.WARNING, logger="serve.checkpoint")
    checkpointer = LogCheckpointer(store, every_s=0.02)
    checkpointer.start()
    deadline = time.monotonic() + 10
    while len(calls) < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    checkpointer.stop()
    assert len(calls) >= 4  # still trying after the first failure
    told = [r for r in caplog.records if "write-ahead log" in r.getMessage()]
    assert len(told) == 1 and "database is locked" in told[0].getMessage()


@pytest.mark.parametrize("settings", ["postgresql"], indirect=True)
def test_a_postgresql_store_has_no_log_to_copy(store: Store) -> None:
    assert not store.is_sqlite and store.checkpoint_log() is False
    checkpointer = LogCheckpointer(store, every_s=0.01)
    checkpointer.start()
    assert checkpointer._thread is None
    checkpointer.stop()
