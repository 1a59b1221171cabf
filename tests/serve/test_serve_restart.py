"""Restarting the server loses no recorded outcome and no audit row, even after a hard kill, on
SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from serve_fakes import FakeScorer, free_port, manifest

from risk_engine.contract import InspectionOutcome
from risk_engine.factories import valid_outcome_row
from risk_engine.settings import Settings
from serve.keys import create_key
from serve.schemas import contract_example
from serve.store import Store

ROOT = Path(__file__).resolve().parents[2]


def _start(
    home: Path, model: Path, database_url: str
) -> tuple[subprocess.Popen[bytes], httpx.Client]:
    """`python -m serve.run` in its own process, as `risk-engine serve` runs it."""
    port = free_port()
    env = {
        **os.environ,
        "RISK_ENGINE_HOME": str(home),
        "RISK_ENGINE_DATABASE_URL": database_url,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(Path(__file__).parent)]),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "serve.run", "--port", str(port), "--model", str(model)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, "the server exited"
        assert time.monotonic() < deadline, "the server did not become ready"
        try:
            if client.get("/readyz").status_code == 200:
                return process, client
        except httpx.TransportError:
            pass
        time.sleep(0.05)


@pytest.mark.slow
def test_a_restart_even_after_a_hard_kill_loses_no_outcome_and_no_audit_row(
    tmp_path: Path, database_url: str
) -> None:
    home = tmp_path / "home"
    settings = Settings(home=home, database_url=database_url)
    model = tmp_path / "scorer.pkl"
    model.write_bytes(pickle.dumps(FakeScorer(version="9")))
    key = create_key(settings, role="officer", name="Officer Dang").key
    headers = {"X-API-Key": key}
    request_ids: list[str] = []

    process, client = _start(home, model, database_url)
    try:
        for seed in range(5):
            response = client.post(
                "/v1/outcomes", json={"outcomes": [valid_outcome_row(seed)]}, headers=headers
            )
            assert response.json()["counts"]["recorded"] == 1
            request_ids.append(response.headers["X-Request-ID"])
        for response in (
            client.post("/v1/score", json={"lines": manifest(3)}, headers=headers),
            client.post("/v1/score", json={"lines": manifest(3)}),  # refused: no key
            client.get("/v1/model", headers=headers),  # refused: role
        ):
            request_ids.append(response.headers["X-Request-ID"])
    finally:
        process.send_signal(signal.SIGKILL)  # no shutdown, no flush: a crash
        process.wait(30)
        client.close()

    process, client = _start(home, model, database_url)
    try:
        again = client.post(
            "/v1/outcomes",
            json={"outcomes": [valid_outcome_row(0), contract_example(InspectionOutcome)]},
            headers=headers,
        )
        assert [o["status"] for o in again.json()["outcomes"]] == ["duplicate", "recorded"]
        request_ids.append(again.headers["X-Request-ID"])
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
        client.close()

    store = Store.from_settings(settings)
    try:
        assert store.outcome_count() == 6
        audited = [entry.request_id for entry in store.audit_entries()]
        missing = [rid for rid in request_ids if rid not in audited]
        assert not missing
        statuses = {e.request_id: e.status for e in store.audit_entries()}
        assert [statuses[rid] for rid in request_ids[5:8]] == [200, 401, 403]
    finally:
        store.dispose()


def test_the_server_process_keeps_its_model_out_of_the_collectors_passes(tmp_path: Path) -> None:
    """`serve.run` settles the heap after loading the model (`serve.model.settle_heap`): a full
    garbage-collector pass no longer walks the model. /metrics tells how many objects it keeps
    out and how many passes ran."""
    home = tmp_path / "home"
    database_url = f"sqlite:///{tmp_path / 'engine.db'}"
    settings = Settings(home=home, database_url=database_url)
    model = tmp_path / "scorer.pkl"
    model.write_bytes(pickle.dumps(FakeScorer(version="9")))
    key = create_key(settings, role="analyst", name="Analyst Ong").key
    process, client = _start(home, model, database_url)
    try:
        text = client.get("/metrics", headers={"X-API-Key": key}).text
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
        client.close()
    figures = {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }
    assert figures["risk_engine_gc_frozen_objects"] > 10_000
    assert 'python_gc_collections_total{generation="2"}' in figures
