"""Reloading the served model when its source changes, without waiting for an admin.

Each night's screening adds its batch to the champion's feature history, and a retraining may
promote a new champion. The service checks every ``reload_check_seconds`` whether what it would
load now differs from what it serves (`ModelHolder.reload_if_changed`), and reloads as
``POST /v1/admin/reload`` does: the new model is loaded and warmed first, requests in flight
finish on the old one, and a model that fails to load leaves the previous one serving (it is not
tried again until its source changes again). Each automatic reload leaves an audit row (method
``AUTO``) and is counted in ``GET /metrics``.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime

from risk_engine.errors import ModelUnavailable
from risk_engine.settings import operator
from serve.metrics import ServiceMetrics
from serve.model import ModelHolder
from serve.periodic import Periodic
from serve.store import AuditEntry, Store

__all__ = ["RELOAD_ROUTE", "SourceFollower"]

log = logging.getLogger(__name__)
RELOAD_ROUTE = "/v1/admin/reload"


class SourceFollower(Periodic):
    """A daemon thread that reloads ``models`` when their source changes."""

    def __init__(
        self, models: ModelHolder, *, store: Store, metrics: ServiceMetrics, every_s: float
    ) -> None:
        super().__init__(every_s=every_s, name="model-follow")
        self._models = models
        self._store = store
        self._metrics = metrics

    def wanted(self) -> bool:
        return self._models.follows_source

    def tick(self) -> None:
        self.check()  # with no model yet too: a first champion is served once promoted

    def check(self) -> bool:
        """One check: True when the model was reloaded."""
        started_at, started = datetime.now(UTC), time.perf_counter()
        previous = self._models.current
        try:
            loaded = self._models.reload_if_changed()
        except ModelUnavailable as error:
            # the model, its history, the watch list or the profiles: the error names which
            log.warning("what the service serves changed but could not be loaded: %s", error)
            self._metrics.reloaded("automatic", ok=False)
            self._audit(
                started_at,
                started,
                503,
                None,
                f"could not reload, the previous one serves: {error}",
            )
            return False
        if loaded is None:
            return False
        was = previous.version if previous is not None else "none"
        log.info("model source changed: now serving model %s (was %s)", loaded.version, was)
        self._metrics.reloaded("automatic", ok=True)
        self._audit(
            started_at,
            started,
            200,
            loaded.version,
            f"changed: {self._models.last_change}; model {loaded.version}, was {was}",
        )
        return True

    def _audit(
        self, at: datetime, started: float, status: int, version: str | None, detail: str
    ) -> None:
        entry = AuditEntry(
            request_id=uuid.uuid4().hex,
            at=at,
            method="AUTO",
            route=RELOAD_ROUTE,
            status=status,
            duration_ms=(time.perf_counter() - started) * 1000.0,
            model_version=version,
            detail=detail[:256],
            client=operator(),
        )
        try:
            self._store.record_audit(entry)
        except Exception:
            self._metrics.audit_failed()
            log.exception("could not write the audit row of an automatic reload")
