"""Test doubles and helpers for the service tests.

`FakeScorer` stands in for `models.scorer.RiskScorer` until `training.fixtures` ships a small
trained one: same output columns, deterministic, cheap. It lives in a plain module (not only in
conftest) so a server started in a subprocess can unpickle it.
"""

from __future__ import annotations

import socket
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import OperationalError

from risk_engine.factories import shipment_frame
from serve.run import make_server
from serve.store import AuditEntry, Store

# A test that takes ``settings`` (or ``store``, or a server) runs once on SQLite and once on
# PostgreSQL (see conftest.py).
on_each_database = pytest.mark.parametrize("settings", ["sqlite", "postgresql"], indirect=True)

SCORE_COLUMNS = ["risk_score", "raw_logit", "band", "reasons", "rule_hits", "dq_flags"]
_SOURCES = {"NG", "CD", "CG", "MZ", "KE", "TZ", "TG"}


@dataclass
class FakeScorer:
    """Scores normalised records like RiskScorer does, from two red flags and a jitter."""

    version: str = "fake-1"
    delay_s: float = 0.0
    fail: bool = False
    thresholds: dict[str, float] = field(default_factory=lambda: {"red": 0.5, "amber": 0.2})
    metrics: dict[str, float] = field(
        default_factory=lambda: {"precision_at_1pct": 0.12, "recall_at_1pct": 0.4}
    )

    def score(self, records: pd.DataFrame, *, profiles: Any = None) -> pd.DataFrame:
        if self.delay_s:
            time.sleep(self.delay_s)
        if self.fail:
            raise RuntimeError("secret internal detail: booster exploded")
        to_order = records["consignee_name"].fillna("").str.upper().str.contains("TO ORDER")
        source = records["shipper_country"].isin(_SOURCES)
        jitter = np.array(
            [zlib.crc32(str(c).encode()) % 1000 / 20_000 for c in records["container_number"]]
        )
        risk = 0.05 + 0.4 * to_order.to_numpy(bool) + 0.3 * source.to_numpy(bool) + jitter
        risk = np.clip(risk, 0.0, 1.0)
        band = np.where(
            risk >= self.thresholds["red"],
            "red",
            np.where(risk >= self.thresholds["amber"], "amber", "green"),
        )
        reasons = [
            [r for r, hit in (("consignee is TO ORDER", t), ("known source country", s)) if hit]
            for t, s in zip(to_order, source, strict=True)
        ]
        flags = records["dq_flags"] if "dq_flags" in records else pd.Series(pd.NA, records.index)
        out = pd.DataFrame(
            {
                "risk_score": risk,
                "raw_logit": np.log(risk / (1 - risk + 1e-12)),
                "band": band,
                "reasons": reasons,
                "rule_hits": [
                    ["source + to order"] if t and s else []
                    for t, s in zip(to_order, source, strict=True)
                ],
                "dq_flags": [[] if pd.isna(f) else str(f).split(";") for f in flags],
            },
            index=records.index,
        )
        return out[SCORE_COLUMNS]

    def describe(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "trained_at": "2025-03-20T12:00:00+00:00",
            "metrics": self.metrics,
            "feature_names": ["consignee_to_order", "origin_source_country"],
            "thresholds": self.thresholds,
        }


def audit_entry(request_id: str, *named: tuple[str, str], duration_ms: float = 1.0) -> AuditEntry:
    """A scoring request's audit row naming ``named`` (B/L, container) pairs, made now."""
    return AuditEntry(
        request_id=request_id,
        at=datetime.now(UTC),
        method="POST",
        route="/v1/score",
        status=200,
        duration_ms=duration_ms,
        named=named,
    )


def manifest(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` valid shipment lines as JSON objects (blank fields left out)."""
    frame = shipment_frame(n, seed=seed)
    return [{str(k): v for k, v in row.items() if v != ""} for row in frame.to_dict("records")]


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on once this returns."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(app: FastAPI, *, trusted_proxies: str = "") -> Iterator[str]:
    """Run the real uvicorn server for ``app`` on 127.0.0.1 (a free port) in a thread; yields
    the base URL and stops the server (gracefully) on exit."""
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and
    # without it every response waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = make_server(app, host="127.0.0.1", port=port, trusted_proxies=trusted_proxies)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def wait_ready(client: Any, timeout: float = 20.0) -> None:
    """Poll /readyz until a model is loaded."""
    deadline = time.monotonic() + timeout
    while client.get("/readyz").status_code != 200:
        if time.monotonic() > deadline:
            raise TimeoutError("no model loaded in time")
        time.sleep(0.02)


class AuditDown(Store):
    """A store whose audit table cannot be written (a full disk, say)."""

    def record_audit(self, entry: AuditEntry, *, wait_s: float | None = None) -> None:
        raise OperationalError("INSERT INTO audit", {}, Exception("disk I/O error"))
