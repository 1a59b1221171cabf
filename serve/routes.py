"""The routes: scoring, outcome capture, model information, health, readiness, reload.

Handlers are plain functions, so the server runs them on its worker threads, except scoring: a
manifest is checked and scored on a worker thread too, but one manifest at a time
(``ServeLimits.scoring_threads``), as CPU work under one interpreter lock gains nothing from
running side by side. The scorer works on NumPy arrays with one LightGBM thread. Each
route names the role it needs (``x-required-role`` in the OpenAPI document); the key is checked
before the body is read, so a caller without a valid key gets 401 even for a malformed body, and
the server holds none of it (`BodyLimitMiddleware` only counts the bytes as the route reads them).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import anyio.to_thread
import numpy as np
import orjson
import pandas as pd
from fastapi import APIRouter, Depends, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader
from starlette.responses import HTMLResponse, PlainTextResponse, Response

from models.watchlist import Watchlist
from risk_engine.columns import Rule
from risk_engine.contract import Issue
from risk_engine.parsing import parse_scalar, printable, shown_value
from risk_engine.validation import specs_by_name
from risk_engine.version import engine_version
from serve.auth import API_KEY_HEADER, Authenticator, AuthError, Principal, Role, presented_key
from serve.config import ServeLimits
from serve.errors import ApiError
from serve.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from serve.metrics import ServiceMetrics
from serve.middleware import AuditContext
from serve.model import LoadedModel, ModelHolder
from serve.records import CheckedRecords, RecordChecker
from serve.reports import find_report, list_reports
from serve.schemas import (
    BandShare,
    ErrorBody,
    FieldError,
    Health,
    ModelInfo,
    OutcomeCounts,
    OutcomeResult,
    OutcomesRequest,
    OutcomesResponse,
    Readiness,
    ReloadResponse,
    ReportInfo,
    ReportList,
    ScoreRequest,
    ScoreResponse,
    ServedDrift,
)
from serve.store import CONFLICT_RULE, Store

__all__ = ["API_KEY_HEADER", "Services", "build_router"]

_ROLE_KEY = "x-required-role"
_api_key = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    description="An API key made with `risk-engine keys create`.",
)


@dataclass
class Services:
    """Everything the handlers use, built once per app by the factory."""

    store: Store
    models: ModelHolder
    authenticator: Authenticator
    limits: ServeLimits
    lines: RecordChecker
    outcomes: RecordChecker
    scoring: anyio.CapacityLimiter  # manifests scored at once (``limits.scoring_threads``)
    metrics: ServiceMetrics  # the figures of GET /metrics
    reports: Path | None = None  # the analysts' reports folder (``Settings.reports_dir``)


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _audit(request: Request) -> AuditContext:
    context = request.scope.setdefault("state", {}).get("audit")
    if context is None:  # an app used without its audit middleware (unit tests)
        context = AuditContext(request_id="")
        request.scope["state"]["audit"] = context
    assert isinstance(context, AuditContext)
    return context


def _served(request: Request) -> LoadedModel:
    """The model this request uses to its end, named in its audit row (503 while none)."""
    model = _services(request).models.require()
    _audit(request).model_version = model.version
    return model


def _check_key(request: Request, needed: Role) -> Principal:
    services, context = _services(request), _audit(request)
    try:
        principal = services.authenticator.authenticate(presented_key(request.headers))
    except AuthError as error:
        context.key_id = error.key_id
        raise
    context.key_id, context.role = principal.key_id, principal.role.label
    services.authenticator.authorise(principal, needed)
    return principal


class _GuardedRoute(APIRoute):
    """Checks the API key and role before FastAPI reads and validates the body."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        label = (self.openapi_extra or {}).get(_ROLE_KEY)
        if label is None:
            return handler
        needed = Role.parse(label)

        async def guarded(request: Request) -> Response:
            request.state.principal = await run_in_threadpool(_check_key, request, needed)
            return await handler(request)

        return guarded


async def _principal(request: Request, _key: str | None = Security(_api_key)) -> Principal:
    # async: a plain function would cost every request a trip to a worker thread to read this
    principal: Principal = request.state.principal
    return principal


Caller = Annotated[Principal, Depends(_principal)]


def _needs(role: Role) -> dict[str, Any]:
    return {_ROLE_KEY: role.label}


_ERROR_TEXTS = {
    401: "No API key, or an unknown, revoked or expired one.",
    403: "The key's role may not use this route.",
    413: "Body over the byte limit, or more lines than allowed.",
    422: "The body does not have the documented shape.",
    503: "No model is loaded yet.",
}


def _error_texts(*codes: int) -> dict[int, str]:
    return {code: _ERROR_TEXTS[code] for code in codes}


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorBody, "description": _ERROR_TEXTS[code]} for code in codes}


def _json_errors(texts: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """Error answers documented as JSON `ErrorBody` whatever the route's own media type."""
    schema = {"$ref": "#/components/schemas/ErrorBody"}
    return {
        code: {"description": text, "content": {"application/json": {"schema": schema}}}
        for code, text in texts.items()
    }


def build_router() -> APIRouter:
    """A fresh router for one app (no module-level state)."""
    router = APIRouter(route_class=_GuardedRoute)

    @router.post(
        "/v1/score",
        response_model=ScoreResponse,
        summary="Score a manifest",
        description=(
            "Scores each shipment line of a manifest: calibrated risk score, rank in the manifest, "
            "band, top reasons, data-quality flags and rule hits. Lines that break the contract "
            "come back with field-level errors; the others are scored. Role: officer."
        ),
        tags=["scoring"],
        openapi_extra=_needs(Role.OFFICER),
        responses=_errors(401, 403, 413, 422, 503),
    )
    async def score(body: ScoreRequest, request: Request, principal: Caller) -> Response:
        services, context = _services(request), _audit(request)
        context.lines = len(body.lines)
        context.named = _named(body.lines)
        _check_count(len(body.lines), services.limits.max_lines, "lines")
        model = services.models.require()  # this request finishes on this model

        def check_and_score() -> tuple[
            CheckedRecords, pd.DataFrame | None, dict[int, list[str]], int
        ]:
            checked = services.lines.check(body.lines)
            scored = None
            bands: list[str] = []
            if len(checked.accepted):
                scored = model.scorer.score(checked.accepted, profiles=model.profiles)
                if {"band", "risk_score"} <= set(scored.columns):
                    bands = [str(band) for band in scored["band"].tolist()]
                    model.served.add(
                        scored["risk_score"].to_numpy(dtype="float64"),
                        bands,
                        keys=_line_keys(checked.accepted),
                        approximate=_approximate_lines(scored),
                    )
            approximate = _approximate(scored)
            services.metrics.lines(bands, rejected=len(checked.rejects), approximate=approximate)
            return checked, scored, _watched(model.watchlist, body.lines), approximate

        context.model_version = model.version
        # On a worker thread, one manifest at a time (the others queue in arrival order).
        checked, scored, watched, approximate = await anyio.to_thread.run_sync(
            check_and_score, limiter=services.scoring
        )
        # Plain dicts in the shape of ScoreResponse, encoded once by orjson: building a
        # pydantic object per line cost more than the encoding (a test validates the shape).
        response = {
            "model_version": model.version,
            "scored_at": datetime.now(UTC),
            "history_as_of": model.history_as_of,
            "counts": {
                "received": len(body.lines),
                "scored": len(checked.accepted),
                "flagged": len(checked.flags),
                "rejected": len(checked.rejects),
                "approximate_history": approximate,
            },
            "lines": _line_results(body.lines, checked, scored, watched),
        }
        return _orjson(response)

    @router.post(
        "/v1/outcomes",
        response_model=OutcomesResponse,
        summary="Record inspection outcomes",
        description=(
            "Records what inspections found (the labels of the next training), idempotent by "
            "(bl_number, container_number, inspected_at): sending the same outcome twice stores "
            "it once. An outcome whose recorded_at is more than a day after the service received "
            "it is rejected (rule recorded_after_receipt). Role: officer."
        ),
        tags=["outcomes"],
        openapi_extra=_needs(Role.OFFICER),
        responses=_errors(401, 403, 413, 422),
    )
    def record_outcomes(body: OutcomesRequest, request: Request, principal: Caller) -> Response:
        services, context = _services(request), _audit(request)
        context.lines = len(body.outcomes)
        context.named = _named(body.outcomes)
        _check_count(len(body.outcomes), services.limits.max_lines, "outcomes")
        checked = services.outcomes.check(body.outcomes)
        positions = sorted(checked.models)
        values = [checked.values(position) for position in positions]
        writes = services.store.record_outcomes(values, received_by=principal.key_id)
        status = dict(zip(positions, (w.status for w in writes), strict=True))
        differs = dict(zip(positions, (w.differs for w in writes), strict=True))
        results = []
        for position, raw in enumerate(body.outcomes, start=1):
            if position in checked.rejects:
                results.append(
                    OutcomeResult(
                        line=position,
                        status="rejected",
                        bl_number=_text(raw.get("bl_number")),
                        container_number=_text(raw.get("container_number")),
                        inspected_at=_moment(raw.get("inspected_at")),
                        errors=_field_errors(checked.rejects[position]),
                        dq_flags=_flag_tags(checked.rejected_flags.get(position, [])),
                    )
                )
                continue
            record = checked.models[position]
            late = status[position] == "rejected"  # the store's: recorded after it received it
            errors = [_after_receipt_error(raw.get("recorded_at"))] if late else []
            # a conflict names each field told otherwise than in the stored outcome, as sent
            errors += [_conflict_error(name, raw.get(name)) for name in differs[position]]
            results.append(
                OutcomeResult(
                    line=position,
                    status=status[position],  # type: ignore[arg-type]
                    bl_number=record.bl_number,
                    container_number=record.container_number,
                    inspected_at=record.inspected_at,
                    dq_flags=_flag_tags(checked.flags.get(position, [])),
                    errors=errors,
                )
            )
        counts = {name: 0 for name in ("recorded", "duplicate", "conflict", "rejected")}
        for result in results:
            counts[result.status] += 1
        services.metrics.outcomes(counts)
        # what came of them, as `outcomes --record` tells its file's (the row said nothing)
        context.detail = ", ".join(f"{name} {count}" for name, count in counts.items())
        return _json(
            OutcomesResponse(
                counts=OutcomeCounts(received=len(body.outcomes), **counts), outcomes=results
            )
        )

    @router.head("/v1/model", include_in_schema=False, openapi_extra=_needs(Role.ANALYST))
    @router.get(
        "/v1/model",
        response_model=ModelInfo,
        summary="The model being served",
        description="Version, training time, held-out metrics at capacity, feature set. "
        "Role: analyst.",
        tags=["model"],
        openapi_extra=_needs(Role.ANALYST),
        responses=_errors(401, 403, 503),
    )
    def model_info(request: Request, principal: Caller) -> ModelInfo:
        model = _served(request)
        described = model.scorer.describe()
        trained_at = described.get("trained_at")
        history_as_of, history_lines, name_rules = (
            described.get("history_as_of"),
            described.get("history_lines"),
            described.get("name_rules"),
        )
        return ModelInfo(
            version=model.version,
            trained_at=_utc_text(trained_at),
            trained_by_release=described.get("trained_by_release") or None,
            engine_release=engine_version(),
            loaded_at=model.loaded_at,
            metrics=_finite(described.get("metrics") or {}),
            feature_names=[str(name) for name in described.get("feature_names") or []],
            thresholds=_finite(described.get("thresholds") or {}),
            watchlist=None if model.watchlist is None else model.watchlist.entries,
            profiles=None if model.profiles is None else model.profiles.entries,
            history_as_of=_utc_text(history_as_of),
            history_lines=None if history_lines is None else int(history_lines),
            name_rules=None if name_rules is None else int(name_rules),
        )

    @router.head("/v1/model/drift", include_in_schema=False, openapi_extra=_needs(Role.ANALYST))
    @router.get(
        "/v1/model/drift",
        response_model=ServedDrift,
        summary="What the served model scored since its version was first loaded, against its training data",
        description="The share of lines in each band and the PSI of the scores served since the "
        "model was loaded, against the reference of the lines its thresholds were set on: when "
        "the red band takes twice its share, the inspection capacity no longer holds what it "
        "was set for. Screening compares each batch feature by feature. Role: analyst.",
        tags=["model"],
        openapi_extra=_needs(Role.ANALYST),
        responses=_errors(401, 403, 503),
    )
    def served_drift(request: Request, principal: Caller) -> ServedDrift:
        model = _served(request)
        summary = model.served.summary()
        return ServedDrift(
            model_version=model.version,
            loaded_at=model.loaded_at,
            counting_since=model.served.since,
            lines=summary.lines,
            repeated_lines=summary.repeated,
            reference_lines=summary.reference_lines,
            score_psi=_finite_or_none(summary.score_psi),
            bands=[
                BandShare(band=band, reference_share=before, served_share=after)  # type: ignore[arg-type]
                for band, (before, after) in summary.bands.items()
            ],
            warnings=summary.warnings,
            notes=summary.notes,
        )

    @router.head("/metrics", include_in_schema=False, openapi_extra=_needs(Role.ANALYST))
    @router.get(
        "/metrics",
        response_class=PlainTextResponse,
        summary="The service's figures for a monitoring system (Prometheus text format)",
        description="Requests by route and status and their duration, lines scored by band and "
        "rejected, outcomes received, audit failures, the model served and what it served "
        "against its training reference, the process's CPU and memory. No label names a key, "
        "party or container. The key may also come as `Authorization: Bearer KEY`, as "
        "Prometheus sends it. Role: analyst.",
        tags=["monitoring"],
        openapi_extra=_needs(Role.ANALYST),
        responses={
            200: {
                "content": {
                    "text/plain": {
                        "example": "# HELP risk_engine_requests_total HTTP requests answered, "
                        "by route, method and status.\n# TYPE risk_engine_requests_total "
                        'counter\nrisk_engine_requests_total{method="POST",route="/v1/score",'
                        'status="200"} 1520.0\n'
                    }
                },
                "description": "The figures, in the Prometheus text exposition format.",
            },
            **_json_errors(_error_texts(401, 403)),
        },
    )
    def metrics(request: Request, principal: Caller) -> Response:
        return Response(
            content=_services(request).metrics.exposition(),
            media_type=METRICS_CONTENT_TYPE,
        )

    @router.head("/v1/reports", include_in_schema=False, openapi_extra=_needs(Role.ANALYST))
    @router.get(
        "/v1/reports",
        response_model=ReportList,
        summary="The analysts' reports",
        description="Training reports (one per version `train` registered) and phase reports "
        "(one per challenger `retrain` registered, with its decision), newest first. "
        "Role: analyst.",
        tags=["reports"],
        openapi_extra=_needs(Role.ANALYST),
        responses=_errors(401, 403),
    )
    def reports(request: Request, principal: Caller) -> ReportList:
        folder = _services(request).reports
        found = list_reports(folder) if folder is not None else []
        return ReportList(
            reports=[
                ReportInfo(
                    name=r.name, kind=r.kind, size_bytes=r.size_bytes, modified_at=r.modified_at
                )
                for r in found
            ]
        )

    @router.head("/v1/reports/{name}", include_in_schema=False, openapi_extra=_needs(Role.ANALYST))
    @router.get(
        "/v1/reports/{name}",
        response_class=HTMLResponse,
        summary="One report, as the self-contained HTML page it was written as",
        description="A name from GET /v1/reports; any other name is 404. The page is sent with "
        "a content security policy that lets it show its embedded plots and run nothing. "
        "Role: analyst.",
        tags=["reports"],
        openapi_extra=_needs(Role.ANALYST),
        responses={
            200: {
                "content": {
                    "text/html": {
                        "example": "<!doctype html><html><head><title>Training report, "
                        "version 3</title></head><body>...</body></html>"
                    }
                },
                "description": "The report page.",
            },
            # The errors are JSON: said explicitly, as this route's own answer is a page.
            **_json_errors({404: "No report has this name.", **_error_texts(401, 403)}),
        },
    )
    def report(name: str, request: Request, principal: Caller) -> Response:
        folder = _services(request).reports
        found = find_report(folder, name) if folder is not None else None
        if found is None:
            raise ApiError(
                404, "report_not_found", f"no report is called {name!r}: see /v1/reports"
            )
        try:
            page = found.path.read_bytes()
        except OSError as error:  # removed between the listing and the read
            raise ApiError(404, "report_not_found", f"report {name!r} is gone") from error
        return Response(
            content=page,
            media_type="text/html; charset=utf-8",
            headers={
                "Content-Security-Policy": (
                    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
                    "frame-ancestors 'none'"
                ),
                "X-Content-Type-Options": "nosniff",
            },
        )

    @router.post(
        "/v1/admin/reload",
        response_model=ReloadResponse,
        summary="Load the current champion without a restart",
        description=(
            "Loads and warms the current champion, then swaps it in; requests in flight finish "
            "on the previous model. When loading fails the previous model keeps serving (503). "
            "Role: admin."
        ),
        tags=["admin"],
        openapi_extra=_needs(Role.ADMIN),
        responses=_errors(401, 403, 503),
    )
    def reload(request: Request, principal: Caller) -> ReloadResponse:
        services, context = _services(request), _audit(request)
        previous = services.models.current
        try:
            loaded = services.models.load()
        except Exception:
            services.metrics.reloaded("admin", ok=False)
            raise
        services.metrics.reloaded("admin", ok=True)
        context.model_version = loaded.version
        return ReloadResponse(
            previous_version=previous.version if previous else None,
            model_version=loaded.version,
            loaded_at=loaded.loaded_at,
        )

    # HEAD too, out of the API document (one operation id per route): load balancers and uptime
    # checks often probe with HEAD, which was 405
    @router.head("/healthz", include_in_schema=False)
    @router.get(
        "/healthz",
        response_model=Health,
        summary="The process is up",
        tags=["health"],
    )
    async def healthz() -> Health:
        return Health()

    @router.head("/readyz", include_in_schema=False)
    @router.get(
        "/readyz",
        response_model=Readiness,
        summary="A model is loaded (503 until then)",
        tags=["health"],
        responses={503: {"model": Readiness, "description": "No model loaded yet."}},
    )
    async def readyz(request: Request) -> Response:
        models = _services(request).models
        current = models.current
        if current is None:
            body = Readiness(ready=False, detail=models.public_status)
            return _json(body, status=503)
        _audit(request).model_version = current.version
        return _json(Readiness(ready=True, model_version=current.version))

    return router


def _named(lines: list[dict[str, Any]]) -> tuple[tuple[str | None, str | None], ...]:
    """The (B/L, container) of each line as sent, for the audit trail, which normalises them
    (a value that is not text or a number, an object say, names nothing)."""

    def plain(value: Any) -> str | None:
        if isinstance(value, str | int) and not isinstance(value, bool):
            return printable(str(value))
        return None

    return tuple(
        (plain(line.get("bl_number")), plain(line.get("container_number"))) for line in lines
    )


def _json(model: Any, *, status: int = 200) -> Response:
    """Serialise a response model once (FastAPI would validate it again)."""
    return Response(
        content=model.model_dump_json(), status_code=status, media_type="application/json"
    )


def _orjson(content: Any, *, status: int = 200) -> Response:
    """Encode plain data (dicts, lists, text, numbers, aware datetimes as ISO 8601 with ``Z``,
    as pydantic writes them; NaN as null)."""
    return Response(
        content=orjson.dumps(content, option=orjson.OPT_UTC_Z),
        status_code=status,
        media_type="application/json",
    )


def _moment(raw: Any) -> datetime | None:
    """A rejected outcome's ``inspected_at`` as the contract reads it, when it reads: with the
    B/L and container, it names the inspection refused (it came back null)."""
    value, _ = parse_scalar(specs_by_name("outcomes")["inspected_at"], raw)
    return value if isinstance(value, datetime) else None


def _utc_text(value: Any) -> str | None:
    """A UTC moment as every other time of the API writes it (``...Z``): the model's cut-off
    read ``+00:00`` here and ``Z`` on each scored manifest."""
    if value is None:
        return None
    text = str(value)
    return text[: -len("+00:00")] + "Z" if text.endswith("+00:00") else text


def _check_count(count: int, limit: int, what: str) -> None:
    if count > limit:
        raise ApiError(
            413, f"too_many_{what}", f"the request has {count} {what}; the limit is {limit}"
        )


def _watched(watchlist: Watchlist | None, lines: list[dict[str, Any]]) -> dict[int, list[str]]:
    """Watch-list sentences by 1-based line position, for the lines that name an entry; the
    lines are matched as sent, so a watched party is told even on a line the contract rejects."""
    if watchlist is None:
        return {}
    told = watchlist.matches_records(lines)
    return {position: sentences for position, sentences in enumerate(told, 1) if sentences}


def _line_results(
    lines: list[dict[str, Any]],
    checked: CheckedRecords,
    scored: pd.DataFrame | None,
    watched: dict[int, list[str]] | None = None,
) -> list[dict[str, Any]]:
    """One dict per line, in the order and shape of `LineResult`."""
    watched = watched or {}
    results: list[dict[str, Any]] = []
    by_position: dict[int, int] = {}
    columns: dict[str, list[Any]] = {}
    ranks: list[int] = []
    if scored is not None and len(scored):
        ranks = _ranks(scored["risk_score"].to_numpy(dtype="float64"))
        columns = {
            name: scored[name].tolist()
            for name in (
                "risk_score",
                "band",
                "reasons",
                "rule_hits",
                "dq_flags",
                "mandatory_rule",
                "approximate_history",
            )
            if name in scored.columns
        }
        by_position = {int(position): i for i, position in enumerate(scored.index.tolist())}
    scores, bands = columns.get("risk_score", []), columns.get("band", [])
    missing: list[Any] = [None] * len(ranks)
    reasons = columns.get("reasons", missing)
    rule_hits = columns.get("rule_hits", missing)
    mandatory_rule = columns.get("mandatory_rule", [False] * len(ranks))
    dq_flags = columns.get("dq_flags", missing)
    approximate = columns.get("approximate_history", [False] * len(ranks))
    for position, raw in enumerate(lines, start=1):
        if position in checked.rejects:
            results.append(
                {
                    "line": position,
                    "status": "rejected",
                    "bl_number": _text(raw.get("bl_number")),
                    "container_number": _text(raw.get("container_number")),
                    "risk_score": None,
                    "rank": None,
                    "band": None,
                    "reasons": [],
                    "rule_hits": [],
                    "watchlist_hits": watched.get(position, []),
                    "mandatory": position in watched,
                    "dq_flags": _flag_tags(checked.rejected_flags.get(position, [])),
                    "approximate_history": False,
                    "errors": [
                        {"field": i.field, "value": i.value, "rule": i.rule.value}
                        for i in checked.rejects[position]
                    ],
                }
            )
            continue
        record = checked.models[position]
        i = by_position[position]
        results.append(
            {
                "line": position,
                "status": "scored",
                "bl_number": record.bl_number,
                "container_number": record.container_number,
                "risk_score": float(scores[i]),
                "rank": ranks[i],
                "band": str(bands[i]),
                "reasons": _strings(reasons[i]),
                "rule_hits": _strings(rule_hits[i]),
                "watchlist_hits": watched.get(position, []),
                "mandatory": bool(mandatory_rule[i]) or position in watched,
                "dq_flags": _strings(dq_flags[i]),
                "approximate_history": bool(approximate[i]),
                "errors": [],
            }
        )
    return results


def _line_keys(accepted: pd.DataFrame) -> list[tuple[Any, Any]]:
    """Each accepted line's (bl_number, container_number), in the scored order."""
    return list(
        zip(accepted["bl_number"].tolist(), accepted["container_number"].tolist(), strict=True)
    )


def _approximate_lines(scored: pd.DataFrame | None) -> np.ndarray | None:
    """Which lines were scored with approximate history features (None when none says)."""
    if scored is None or "approximate_history" not in scored.columns:
        return None
    return scored["approximate_history"].to_numpy(dtype=bool)


def _approximate(scored: pd.DataFrame | None) -> int:
    """How many lines were scored with approximate history features."""
    approximate = _approximate_lines(scored)
    return 0 if approximate is None else int(approximate.sum())


def _ranks(scores: np.ndarray) -> list[int]:
    """1 = highest score; ties keep the manifest's order (a stable sort)."""
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores), dtype=np.int64)
    ranks[order] = np.arange(1, len(scores) + 1)
    return [int(r) for r in ranks]


def _after_receipt_error(sent: Any) -> FieldError:
    """The error of an outcome recorded after the store received it, with the date as sent."""
    return FieldError(
        field="recorded_at", value=_text(sent) or "", rule=Rule.RECORDED_AFTER_RECEIPT.value
    )


def _conflict_error(name: str, sent: Any) -> FieldError:
    return FieldError(field=name, value=_text(sent) or "", rule=CONFLICT_RULE)


def _field_errors(issues: list[Issue]) -> list[FieldError]:
    return [FieldError(field=i.field, value=i.value, rule=i.rule.value) for i in issues]


def _flag_tags(issues: list[Issue]) -> list[str]:
    return [f"{i.field}:{i.rule.value}" for i in issues]


def _strings(value: Any) -> list[str]:
    """A list cell of the scorer's output (list, array or missing) as a list of text."""
    if type(value) is list:  # what the scorer gives: checked first, being the common case
        return [item if type(item) is str else str(item) for item in value]
    if value is None or isinstance(value, float | str):
        return [value] if isinstance(value, str) and value else []
    return [str(item) for item in value]


def _text(value: Any) -> str | None:
    """A key of a line as sent, for its answer, as its errors show it (`shown_value`: ``true``,
    not Python's "True"; a lone surrogate written as its escape)."""
    if value is None:
        return None
    return printable(value) if isinstance(value, str) else shown_value(value)


def _finite(values: dict[str, Any]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for key, value in values.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        out[str(key)] = number if math.isfinite(number) else None
    return out


def _finite_or_none(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
