"""The app factory: every dependency is passed in, nothing happens at import.

At start the app migrates its store and loads the model in the background, so ``/healthz``
answers at once and ``/readyz`` says 503 until the model is loaded and warm.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.utils import get_openapi

from models.profiles import load_profiles
from models.watchlist import load_watchlist
from risk_engine.contract import InspectionOutcome, ShipmentLine
from risk_engine.settings import Settings
from risk_engine.version import engine_version
from serve.auth import Authenticator
from serve.checkpoint import LogCheckpointer
from serve.config import ServeLimits
from serve.docs import build_docs_router
from serve.errors import install_error_handlers
from serve.follow import SourceFollower
from serve.metrics import ServiceMetrics
from serve.middleware import AuditMiddleware, BodyLimitMiddleware
from serve.model import (
    ModelHolder,
    ProfilesLoader,
    Scorer,
    ScorerLoader,
    SourceStamp,
    WatchlistLoader,
    loader_for,
    stamp_for,
    with_files,
)
from serve.page import build_page_router
from serve.records import RecordChecker
from serve.routes import Services, build_router
from serve.schemas import contract_example
from serve.store import Store

__all__ = ["create_app"]

log = logging.getLogger(__name__)

_DESCRIPTION = """\
Risk screening of shipment lines for customs targeting officers.

Every route but `/healthz`, `/readyz` and this document needs an API key in the `X-API-Key`
header (made with `risk-engine keys create`). Roles, each allowed what the ones before it may:
**officer** (score, outcomes), **analyst** (model information, reports), **admin** (reload). Each
operation names its role in `x-required-role`. Every request leaves an audit row.

Errors have one body shape, `ErrorBody`: `{"error": {"code", "message", "request_id",
"details"}}`. The line shapes are the data contract's `ShipmentLine` and `InspectionOutcome`
schemas below.
"""


def create_app(
    *,
    settings: Settings,
    scorer_loader: ScorerLoader | None = None,
    store: Store | None = None,
    limits: ServeLimits | None = None,
    watchlist_loader: WatchlistLoader | None = None,
    profiles_loader: ProfilesLoader | None = None,
    load_model_in_background: bool = True,
    source_stamp: SourceStamp | None = None,
    settle_heap: bool = False,
) -> FastAPI:
    """Build the service.

    ``scorer_loader`` returns the model to serve (default: ``limits.model`` from the MLflow
    registry or a pickle path); it runs at start and on each reload, as does
    ``watchlist_loader`` and ``profiles_loader`` (default: read ``limits.watchlist`` and
    ``limits.profiles``). ``store`` defaults to the
    database of ``settings`` and is closed with the app only when the app made it.
    ``source_stamp`` tells when the model's source changed, so that the service reloads it
    every ``limits.reload_check_seconds`` (`serve.follow`); by default the stamp of
    ``limits.model`` when no ``scorer_loader`` is given, else none. A change of the watch list
    or the risk profiles file of ``limits`` reloads too. ``settle_heap``: freeze the process's
    objects out of the garbage collector's passes after each load (`serve.model.settle_heap`),
    for a process that serves only this app (`serve.run` sets it).
    """
    limits = limits if limits is not None else ServeLimits()
    owns_store = store is None
    the_store = store if store is not None else Store.from_settings(settings)
    lines = RecordChecker("shipments")
    sample = [contract_example(ShipmentLine)]

    def warm_up(scorer: Scorer) -> None:
        """Score the contract's example line before serving: builds the booster, catches a
        model that cannot score, keeps the first officer's request fast."""
        scorer.score(lines.check(sample).accepted)

    models = ModelHolder(
        scorer_loader or loader_for(settings, limits.model),
        stamp=with_files(
            source_stamp or (stamp_for(settings, limits.model) if scorer_loader is None else None),
            {"the watch list": limits.watchlist, "the risk profiles": limits.profiles},
        ),
        warmup=warm_up,
        settle=settle_heap,
        watchlist=watchlist_loader or (lambda: load_watchlist(limits.watchlist, name_values=False)),
        profiles=profiles_loader or (lambda: load_profiles(limits.profiles)),
    )
    metrics = ServiceMetrics(models)
    services = Services(
        store=the_store,
        models=models,
        authenticator=Authenticator(the_store),
        limits=limits,
        lines=lines,
        outcomes=RecordChecker("outcomes"),
        scoring=anyio.CapacityLimiter(limits.scoring_threads),
        reports=settings.reports_dir,
        metrics=metrics,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(the_store.migrate)
        if load_model_in_background:
            threading.Thread(
                target=services.models.load_quietly, name="model-load", daemon=True
            ).start()
        else:
            await run_in_threadpool(services.models.load_quietly)
        follower = SourceFollower(
            services.models, store=the_store, metrics=metrics, every_s=limits.reload_check_seconds
        )
        follower.start()
        checkpointer = LogCheckpointer(the_store)
        checkpointer.start()
        try:
            yield
        finally:
            await run_in_threadpool(follower.stop)
            await run_in_threadpool(checkpointer.stop)
            if owns_store:
                the_store.dispose()

    app = FastAPI(
        title="Maritime risk engine",
        version=engine_version(),
        description=_DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # FastAPI's page loads Swagger UI from a CDN: `serve.docs` serves it
        redoc_url=None,
        # A path with a slash too many is no route (404): the redirect Starlette gives instead
        # named the plain-http address behind a TLS proxy, before the key was checked, and a
        # client following it sent its key and manifest there.
        redirect_slashes=False,
    )
    app.state.services = services
    routers = [build_router(), build_page_router(), build_docs_router(title=app.title)]
    for router in routers:
        app.include_router(router)
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=limits.max_body_bytes)
    app.add_middleware(  # last: outermost
        AuditMiddleware,
        store=the_store,
        metrics=metrics,
        routes=[*app.routes, *(route for router in routers for route in router.routes)],
    )

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _openapi_with_contract(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _openapi_with_contract(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document plus the contract's record schemas, which requests refer to."""
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (ShipmentLine, InspectionOutcome):
        record = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in record.pop("$defs", {}).items():
            components.setdefault(name, definition)
        components[model.__name__] = record
    _every_answer_said(schema)
    return schema


# What any route may answer beside its own answers, in the one error shape (the document named
# none of these, and FastAPI's 422 for a path parameter was a second error shape).
_ANY_ROUTE = {
    "404": "No such route (`not_found`).",
    "405": "The route does not take this method (`method_not_allowed`; `Allow` names those "
    "it takes).",
}
_WITH_BODY = {
    "415": "The body is compressed (`unsupported_encoding`, `Content-Encoding: gzip`): send the "
    "JSON uncompressed."
}
_KEYED_503 = (
    "the outcome store, the key store or the audit trail cannot be reached "
    "(`store_unavailable`, `audit_unavailable`: no request is answered without its audit row)"
)


def _every_answer_said(schema: dict[str, Any]) -> None:
    """Each operation lists every status it can answer, in the error shape; a key may also come
    as ``Authorization: Bearer``."""
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    bearer = {
        "type": "http",
        "scheme": "bearer",
        "description": "The same API key, as a bearer token (as Prometheus sends it).",
    }
    schema["components"].setdefault("securitySchemes", {})["BearerKey"] = bearer
    for operations in schema["paths"].values():
        for method, operation in operations.items():
            answers = operation.setdefault("responses", {})
            extra = {**_ANY_ROUTE, **(_WITH_BODY if "requestBody" in operation else {})}
            keyed = bool(operation.get("security"))
            if keyed:
                operation["security"] = [*operation["security"], {"BearerKey": []}]
                said = answers.get("503", {}).get("description")
                extra["503"] = (
                    f"{said.rstrip('.')}; or {_KEYED_503}."
                    if said
                    else f"{_KEYED_503[0].upper()}{_KEYED_503[1:]}."
                )
                answers.pop("503", None)
            for code, text in extra.items():
                answers.setdefault(code, {"description": text, "content": error})
            unprocessable = answers.get("422", {}).get("content", {}).get("application/json", {})
            if "HTTPValidationError" in str(unprocessable.get("schema", "")):
                if method == "get":  # a path parameter FastAPI checks: never answered as 422
                    answers.pop("422")
                else:
                    unprocessable["schema"] = error["application/json"]["schema"]
    for unused in ("HTTPValidationError", "ValidationError"):
        if unused not in str(schema["paths"]):
            schema["components"]["schemas"].pop(unused, None)
