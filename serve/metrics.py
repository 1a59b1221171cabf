"""The service's figures for a monitoring system, in the Prometheus text format (``GET /metrics``).

Counted since the process started:
- requests by route, method and status, and how long they took until their answer started;
- manifest lines scored (by band) and rejected;
- outcomes, by what became of them (recorded, duplicate, conflict, rejected);
- model reloads, asked for or automatic, and whether they served;
- audit rows that could not be written.

Read at each scrape: the model served (version, when it was loaded, its feature history), what it
served since its version was first loaded against its training reference (`serve.monitor`), and the process's
CPU, memory and open files, and the garbage collector's passes by generation. Each app has its own registry, so two apps in one process (the
tests) count apart. No label holds a key, a party, a B/L or a container: the figures are safe to
keep in a monitoring system that officers' data may not enter.
"""

from __future__ import annotations

import collections
import gc
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from serve.monitor import BANDS

if TYPE_CHECKING:
    from serve.model import ModelHolder

__all__ = ["CONTENT_TYPE", "UNMATCHED_ROUTE", "ServiceMetrics"]

CONTENT_TYPE = CONTENT_TYPE_LATEST
# The route label of requests that matched no route: their paths (scanners, typos) would make a
# label value each.
UNMATCHED_ROUTE = "unmatched"
# Seconds; the scoring target is 30 ms for 50 lines, a reload takes seconds.
_BUCKETS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ServiceMetrics:
    """Counters of one app, and the collector of its served model."""

    def __init__(self, models: ModelHolder) -> None:
        self.registry = CollectorRegistry()
        self._requests = Counter(
            "risk_engine_requests",
            "HTTP requests answered, by route, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self._duration = Histogram(
            "risk_engine_request_duration_seconds",
            "Time from a request's arrival to the start of its answer, by route (its audit "
            "row's write included: the answer waits for it).",
            ["route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self._scored = Counter(
            "risk_engine_scored_lines",
            "Manifest lines scored, by risk band.",
            ["band"],
            registry=self.registry,
        )
        self._rejected = Counter(
            "risk_engine_rejected_lines",
            "Manifest lines rejected by the data contract (answered with field errors).",
            registry=self.registry,
        )
        self._approximate = Counter(
            "risk_engine_approximate_history_lines",
            "Manifest lines scored with approximate history features: filed longer before the "
            "feature history's cut-off than it keeps exact (rescore_days).",
            registry=self.registry,
        )
        self._outcomes = Counter(
            "risk_engine_outcomes",
            "Inspection outcomes received, by what became of them.",
            ["status"],
            registry=self.registry,
        )
        self._reloads = Counter(
            "risk_engine_model_reloads",
            "Model reloads, by what asked for them (admin: POST /v1/admin/reload; automatic: "
            "the model's source changed) and whether the new model serves.",
            ["trigger", "result"],
            registry=self.registry,
        )
        self._audit_writes = Histogram(
            "risk_engine_audit_write_seconds",
            "Time to write a request's audit row (a slow or locked database shows here first).",
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self._audit_failures = Counter(
            "risk_engine_audit_failures",
            "Requests whose audit row could not be written (answered 503 instead).",
            registry=self.registry,
        )
        for band in BANDS:  # present from the start, so that a rate over them is defined
            self._scored.labels(band=band)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.registry.register(_FrozenCollector())
        self.registry.register(_ModelCollector(models))

    def request(
        self,
        *,
        route: str | None,
        method: str,
        status: int,
        seconds: float,
        audit_seconds: float | None = None,
    ) -> None:
        label = route or UNMATCHED_ROUTE
        self._requests.labels(route=label, method=method, status=str(status)).inc()
        self._duration.labels(route=label).observe(seconds)
        if audit_seconds is not None:
            self._audit_writes.observe(audit_seconds)

    def lines(self, bands: Iterable[str], *, rejected: int, approximate: int = 0) -> None:
        for band, count in collections.Counter(bands).items():
            self._scored.labels(band=band).inc(count)
        if rejected:
            self._rejected.inc(rejected)
        if approximate:
            self._approximate.inc(approximate)

    def outcomes(self, counts: Mapping[str, int]) -> None:
        for status, count in counts.items():
            if count:
                self._outcomes.labels(status=status).inc(count)

    def reloaded(self, trigger: str, *, ok: bool) -> None:
        self._reloads.labels(trigger=trigger, result="loaded" if ok else "failed").inc()

    def audit_failed(self) -> None:
        self._audit_failures.inc()

    def exposition(self) -> bytes:
        """The text a Prometheus server scrapes."""
        text: bytes = generate_latest(self.registry)
        return text


class _FrozenCollector(Collector):
    """How many objects are kept out of the garbage collector's passes (`serve.model.settle_heap`:
    the model loaded, for a server process)."""

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "risk_engine_gc_frozen_objects",
            "Objects kept out of the cyclic garbage collector's passes since the last model "
            "load: the model's, which a full pass would otherwise walk (0 in a process that "
            "does not only serve).",
            value=float(gc.get_freeze_count()),
        )


class _ModelCollector(Collector):
    """The served model and what it served since its version was first loaded, read at each
    scrape."""

    def __init__(self, models: ModelHolder) -> None:
        self._models = models

    def collect(self) -> Iterator[Metric]:
        current = self._models.current
        loaded = GaugeMetricFamily(
            "risk_engine_model_loaded", "1 while a model is loaded and serving, else 0."
        )
        loaded.add_metric([], 0.0 if current is None else 1.0)
        yield loaded
        if current is None:
            return
        info = GaugeMetricFamily(
            "risk_engine_model_info", "The model version served (always 1).", labels=["version"]
        )
        info.add_metric([current.version], 1.0)
        yield info
        yield GaugeMetricFamily(
            "risk_engine_model_loaded_timestamp_seconds",
            "When the served model was loaded (Unix time).",
            value=current.loaded_at.timestamp(),
        )
        described = current.scorer.describe()
        history = described.get("history_lines")
        if history is not None:
            yield GaugeMetricFamily(
                "risk_engine_history_lines",
                "Lines in the served model's feature history.",
                value=float(history),
            )
        if current.history_as_of is not None:
            yield GaugeMetricFamily(
                "risk_engine_history_as_of_timestamp_seconds",
                "The cut-off of the served feature history (Unix time): lines filed before it "
                "are in it. It moves as nightly screening adds each day; a cut-off days old means "
                "the manifests are scored without the parties' latest lines.",
                value=current.history_as_of.timestamp(),
            )
        summary = current.served.summary()
        yield GaugeMetricFamily(
            "risk_engine_served_lines",
            "Lines the served model scored since its version was first loaded (a line sent again "
            "counted once).",
            value=float(summary.lines),
        )
        if summary.score_psi is not None:
            yield GaugeMetricFamily(
                "risk_engine_served_score_psi",
                "PSI of the scores served since the model version was first loaded against its training "
                "reference (above 0.1: the bands no longer hold what they were set for).",
                value=summary.score_psi,
            )
        served = GaugeMetricFamily(
            "risk_engine_served_band_share",
            "Share of the lines served since the model version was first loaded, by band.",
            labels=["band"],
        )
        reference = GaugeMetricFamily(
            "risk_engine_reference_band_share",
            "Share of the model's training reference lines, by band.",
            labels=["band"],
        )
        for band, (before, after) in summary.bands.items():
            if after is not None:
                served.add_metric([band], after)
            if before is not None:
                reference.add_metric([band], before)
        yield served
        yield reference
        yield GaugeMetricFamily(
            "risk_engine_served_drift_warnings",
            "Warnings of the served scores against the training reference (GET /v1/model/drift).",
            value=float(len(summary.warnings)),
        )
