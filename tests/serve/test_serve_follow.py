"""The service reloads its model when the model's source changes (`serve.follow`): a new
pickle here, as a new champion or a screening's feature history does in the registry."""

from __future__ import annotations

import os
import pickle
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families
from serve_fakes import FakeScorer, serving, wait_ready

from risk_engine.errors import ModelUnavailable
from risk_engine.settings import Settings
from serve.app import create_app
from serve.config import ServeLimits
from serve.follow import RELOAD_ROUTE, SourceFollower
from serve.metrics import ServiceMetrics
from serve.model import ModelHolder, what_changed
from serve.store import Store


def _write(path: Path, content: bytes, bump: int) -> None:
    """Replace the file at once, its time moved on so that a coarse clock cannot hide the
    change (written beside it and renamed, as the engine writes its files: a check never sees
    it half-written or with its old time)."""
    beside = path.with_name(path.name + ".new")
    beside.write_bytes(content)
    stamp = 1_700_000_000 + bump
    os.utime(beside, (stamp, stamp))
    beside.replace(path)


def _until(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("not in time")
        time.sleep(0.05)


def _reloads(client: httpx.Client, key: str) -> dict[tuple[str, str], float]:
    text = client.get("/metrics", headers={"X-API-Key": key}).text
    return {
        (s.labels["trigger"], s.labels["result"]): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "risk_engine_model_reloads_total"
    }


def test_a_new_model_file_is_served_without_a_restart_and_a_broken_one_is_not(
    settings: Settings, store: Store, keys: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "scorer.pkl"
    _write(path, pickle.dumps(FakeScorer(version="fake-1")), 0)
    limits = ServeLimits(model=str(path), reload_check_seconds=0.1)
    app = create_app(settings=settings, store=store, limits=limits)  # the pickle, followed
    with serving(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        wait_ready(client)
        _follow_the_file(client, store, keys, path)


def _follow_the_file(client: httpx.Client, store: Store, keys: dict[str, str], path: Path) -> None:
    analyst = {"X-API-Key": keys["analyst"]}

    def serving() -> str:
        return str(client.get("/v1/model", headers=analyst).json()["version"])

    assert serving() == "fake-1"
    _write(path, pickle.dumps(FakeScorer(version="fake-2")), 10)
    _until(lambda: serving() == "fake-2")
    rows = [e for e in store.audit_entries() if e.method == "AUTO"]
    assert [(e.route, e.status, e.model_version) for e in rows] == [(RELOAD_ROUTE, 200, "fake-2")]
    assert "was fake-1" in (rows[0].detail or "") and "@" in (rows[0].client or "")
    assert (rows[0].detail or "").startswith("changed: the model file; model fake-2")

    _write(path, b"not a pickle", 20)  # a bad file: the previous model keeps serving
    _until(lambda: len([e for e in store.audit_entries() if e.method == "AUTO"]) == 2)
    time.sleep(0.5)  # five more checks: the same broken file is not tried again
    failed = [e for e in store.audit_entries() if e.method == "AUTO"][1]
    assert failed.status == 503 and "could not reload, the previous one serves: " in (
        failed.detail or ""
    )
    assert serving() == "fake-2" and client.get("/readyz").status_code == 200
    assert _reloads(client, keys["analyst"]) == {
        ("automatic", "loaded"): 1,
        ("automatic", "failed"): 1,
    }

    _write(path, pickle.dumps(FakeScorer(version="fake-3")), 30)  # fixed: served again
    _until(lambda: serving() == "fake-3")
    assert client.post("/v1/admin/reload", headers={"X-API-Key": keys["admin"]}).status_code == 200
    assert _reloads(client, keys["analyst"]) == {
        ("automatic", "loaded"): 2,
        ("automatic", "failed"): 1,
        ("admin", "loaded"): 1,
    }


def test_a_holder_reloads_only_when_its_source_changes() -> None:
    source = {"stamp": 1, "version": "a", "broken": False}

    def load() -> FakeScorer:
        if source["broken"]:
            raise RuntimeError("half-written file")
        return FakeScorer(version=str(source["version"]))

    holder = ModelHolder(load, stamp=lambda: source["stamp"])
    holder.load()
    assert holder.reload_if_changed() is None  # nothing changed
    source.update(stamp=2, version="b")
    reloaded = holder.reload_if_changed()
    assert reloaded is not None and reloaded.version == "b"
    source.update(stamp=3, broken=True)
    with pytest.raises(ModelUnavailable, match="half-written file"):
        holder.reload_if_changed()
    assert holder.reload_if_changed() is None  # not tried again until the source changes
    assert holder.require().version == "b"
    source.update(stamp=4, broken=False, version="c")
    assert (holder.reload_if_changed() or holder.require()).version == "c"

    def unreachable() -> object:
        raise OSError("registry down")

    quiet = ModelHolder(load, stamp=unreachable)
    quiet.load()  # a source that cannot be read is not a reason to stop serving
    assert quiet.reload_if_changed() is None and quiet.require().version == "c"


def test_a_reload_of_the_same_version_keeps_its_served_counts() -> None:
    """Each screening writes the feature history, which reloads the service: the served-drift
    counts started again every day, and seldom reached the lines a warning waits for."""
    source = {"stamp": 1, "version": "7"}
    holder = ModelHolder(
        lambda: FakeScorer(version=source["version"]), stamp=lambda: source["stamp"]
    )
    first = holder.load()
    first.served.add(np.array([0.9, 0.1]), ["red", "green"], keys=[("B", "1"), ("B", "2")])
    source.update(stamp=2)  # a new feature history, the same version
    again = holder.reload_if_changed()
    assert again is not None and again is not first and again.served is first.served
    assert again.served.summary().lines == 2 and again.served.since == first.served.since
    source.update(stamp=3, version="8")  # a new version: counted afresh
    promoted = holder.reload_if_changed()
    assert promoted is not None and promoted.served.summary().lines == 0


def test_no_follower_runs_when_checks_are_off_or_the_source_cannot_tell(store: Store) -> None:
    with_stamp = ModelHolder(FakeScorer, stamp=lambda: 1)
    without = ModelHolder(FakeScorer)
    for holder, every_s in ((with_stamp, 0.0), (without, 0.1)):
        follower = SourceFollower(
            holder, store=store, metrics=ServiceMetrics(holder), every_s=every_s
        )
        follower.start()
        assert follower._thread is None
        follower.stop()


def test_the_check_interval_is_a_setting_that_refuses_a_negative_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RISK_ENGINE_SERVE_RELOAD_CHECK_SECONDS", "5")
    assert ServeLimits().reload_check_seconds == 5
    for refused in (-1, float("inf"), 1e300, 86_401):  # inf: a traceback in the thread
        with pytest.raises(ValueError, match="reload_check_seconds"):
            ServeLimits(reload_check_seconds=refused)
    assert ServeLimits(reload_check_seconds=86_400).reload_check_seconds == 86_400


def test_an_edited_watch_list_is_served_without_a_reload_request(
    start_server: Callable[..., httpx.Client], keys: dict[str, str], tmp_path: Path
) -> None:
    watch = tmp_path / "watch.csv"
    _write(watch, b"party_name,note\nACME TRADING,case 1\n", 0)
    client = start_server(limits=ServeLimits(watchlist=watch, reload_check_seconds=0.1))
    analyst = {"X-API-Key": keys["analyst"]}

    def entries() -> dict[str, int]:
        return dict(client.get("/v1/model", headers=analyst).json()["watchlist"])

    assert entries() == {"parties": 1, "containers": 0, "bills": 0}
    _write(watch, b"party_name,container_number,note\nACME TRADING,,case 1\n,CSQU3054383,x\n", 10)
    _until(lambda: entries() == {"parties": 1, "containers": 1, "bills": 0})
    _write(watch, b"who,why\nsomeone,something\n", 20)  # broken: the last good one stays
    time.sleep(0.5)
    assert entries() == {"parties": 1, "containers": 1, "bills": 0}
    assert _reloads(client, keys["analyst"]) == {
        ("automatic", "loaded"): 1,
        ("automatic", "failed"): 1,
    }


def test_a_service_started_before_any_model_serves_the_first_one_by_itself(
    settings: Settings, store: Store, keys: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "later.pkl"  # not there yet: the service starts and is not ready
    limits = ServeLimits(model=str(path), reload_check_seconds=0.1)
    app = create_app(settings=settings, store=store, limits=limits)
    with serving(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        time.sleep(0.5)
        assert client.get("/readyz").status_code == 503
        assert not [e for e in store.audit_entries() if e.method == "AUTO"]  # nothing tried
        _write(path, pickle.dumps(FakeScorer(version="first")), 0)
        _until(lambda: client.get("/readyz").status_code == 200)
        assert client.get("/readyz").json()["model_version"] == "first"
        rows = [e for e in store.audit_entries() if e.method == "AUTO"]
        assert [(e.status, e.model_version) for e in rows] == [(200, "first")]
        assert "was none" in (rows[0].detail or "")
        assert (rows[0].detail or "").startswith("changed: a new model; model first")


def test_an_automatic_reload_says_what_changed() -> None:
    """Its audit row said "a new champion or feature history" when the watch list had."""
    history = (123, 4096)
    before = (("3", history), ("the watch list", (1, 10)), ("the risk profiles", (1, 20)))
    watch = (("3", history), ("the watch list", (2, 11)), ("the risk profiles", (1, 20)))
    assert what_changed(before, watch) == "the watch list"
    fed = (("3", (124, 5000)), ("the watch list", (1, 10)), ("the risk profiles", (1, 20)))
    assert what_changed(before, fed) == "its feature history"
    promoted = (("4", None), ("the watch list", (1, 10)), ("the risk profiles", (2, 21)))
    assert what_changed(before, promoted) == "a new model (version 4) and the risk profiles"
    assert what_changed((("3", history),), (("3", history),)) == "its source"
    assert what_changed(None, (("3", history),)) == "a new model"


class _Cyclic(FakeScorer):
    """A scorer in a reference cycle, as much of a real model is: reference counting alone
    never frees it."""

    def __init__(self, **fields: Any) -> None:
        super().__init__(**fields)
        self.itself = self


def test_a_settled_holder_freezes_the_loaded_model_and_frees_the_one_it_replaces() -> None:
    import gc
    import weakref

    assert _Cyclic().itself is not None  # the cycle the test is about
    versions = iter(["1", "2", "3"])
    holder = ModelHolder(lambda: _Cyclic(version=next(versions)), settle=True)
    try:
        first = weakref.ref(holder.load().scorer)
        assert gc.get_freeze_count() > 0
        assert first() is not None
        holder.load()  # version 2: the first, a cycle, is left to the collector
        assert first() is None
        assert holder.current is not None and holder.current.version == "2"
        # a request still scoring with version 2 when 3 is loaded: 2 is frozen with the rest,
        # and freed once the request lets go of it, not at the next load
        in_flight = holder.require()
        second = weakref.ref(in_flight.scorer)
        holder.load()
        assert second() is not None
        del in_flight
        deadline = time.monotonic() + 10
        while second() is not None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert second() is None
    finally:
        gc.unfreeze()  # the rest of the test session collects as usual
    unsettled = ModelHolder(lambda: _Cyclic(version="4"))
    unsettled.load()
    assert gc.get_freeze_count() == 0
