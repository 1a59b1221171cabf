"""The one place where errors become HTTP responses: a JSON `ErrorBody`, never a stack trace.

| error                                   | status | code                                 |
|-----------------------------------------|--------|--------------------------------------|
| no key, unknown, revoked or expired key | 401    | missing_key, invalid_key, revoked_key, expired_key |
| key with a role too low                 | 403    | forbidden                            |
| body not JSON / not the route's shape   | 422    | not_a_manifest, not_outcomes, invalid_request |
| body compressed (Content-Encoding)      | 415    | unsupported_encoding                 |
| body over the byte limit, too many lines| 413    | body_too_large, too_many_lines       |
| no model loaded                         | 503    | model_unavailable                    |
| the database down, refusing, or busy    | 503    | store_unavailable                    |
| the audit row cannot be written         | 503    | audit_unavailable (`serve.middleware`) |
| unknown route, wrong method             | 404/405| not_found, method_not_allowed        |
| anything else                           | 500    | internal_error (details in the log)  |
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response
from starlette.types import Scope

from risk_engine.errors import (
    ContractViolation,
    ModelUnavailable,
    RiskEngineError,
    StoreUnavailable,
)
from serve.store import unreachable

__all__ = [
    "ApiError",
    "error_body",
    "error_response",
    "internal_error",
    "install_error_handlers",
]

log = logging.getLogger(__name__)

_VALIDATION_CODES = {"/v1/score": "not_a_manifest", "/v1/outcomes": "not_outcomes"}
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}


class ApiError(Exception):
    """An error the API answers on purpose, with its status and stable code."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.details = details or []


def _request_id(scope: Scope) -> str | None:
    audit = scope.get("state", {}).get("audit")
    return getattr(audit, "request_id", None)


def _note(scope: Scope, code: str) -> None:
    audit = scope.get("state", {}).get("audit")
    if audit is not None:
        audit.detail = code


def error_body(
    code: str, message: str, *, request_id: str | None, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "request_id": request_id,
            "details": details or [],
        }
    }


def error_response(
    scope: Scope,
    status: int,
    code: str,
    message: str,
    *,
    headers: dict[str, str] | None = None,
    details: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    _note(scope, code)
    body = error_body(code, message, request_id=_request_id(scope), details=details)
    return JSONResponse(body, status_code=status, headers=headers)


def _validation_details(error: RequestValidationError) -> list[dict[str, Any]]:
    details = []
    for item in error.errors()[:50]:
        loc = [part if isinstance(part, int | str) else str(part) for part in item.get("loc", ())]
        details.append({"loc": loc, "message": str(item.get("msg", "")), "type": item.get("type")})
    return details


async def _on_api_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ApiError)
    return error_response(
        request.scope,
        error.status,
        error.code,
        error.message,
        headers=error.headers,
        details=error.details,
    )


def _shape_error(request: Request) -> tuple[str, str]:
    route = request.scope.get("route")
    code = _VALIDATION_CODES.get(getattr(route, "path", request.url.path), "invalid_request")
    what = {
        "not_a_manifest": 'the body is not a manifest: send {"lines": [<shipment line>, ...]}',
        "not_outcomes": 'the body is not a list of outcomes: send {"outcomes": [<outcome>, ...]}',
    }.get(code, "the request does not have the documented shape")
    return code, what


async def _on_validation(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    return _not_the_shape(request, _validation_details(error))


async def _on_http(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 400:
        # FastAPI's answer to a body it cannot decode (not UTF-8, say): for the API that is a
        # body without the documented shape, like any other, so 422 with the route's code.
        details = [{"loc": ["body"], "message": str(error.detail), "type": "body_unreadable"}]
        return _not_the_shape(request, details)
    code = _HTTP_CODES.get(error.status_code, "http_error")
    message = error.detail if isinstance(error.detail, str) else json.dumps(error.detail)
    headers = dict(error.headers or {})
    allowed = [m.strip() for m in headers.get("Allow", "").split(",") if m.strip()]
    if "GET" in allowed and "HEAD" not in allowed:
        # every GET route answers HEAD too (a route of its own, which Starlette's Allow missed)
        headers["Allow"] = ", ".join([*allowed, "HEAD"])
    return error_response(request.scope, error.status_code, code, message, headers=headers)


def _not_the_shape(request: Request, details: list[dict[str, Any]]) -> Response:
    """422 naming the shape the route takes; said more plainly when the body was compressed
    (415: it read "There was an error parsing the body") or not sent as JSON."""
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding not in ("", "identity"):
        return error_response(
            request.scope,
            415,
            "unsupported_encoding",
            f"the body is sent with Content-Encoding: {encoding}; send the JSON uncompressed",
        )
    code, what = _shape_error(request)
    kind = request.headers.get("content-type", "")
    media = kind.split(";")[0].strip().lower()
    if request.method == "POST" and media != "application/json" and not media.endswith("+json"):
        what += f", as JSON with Content-Type: application/json (it was {kind or 'not given'})"
    return error_response(request.scope, 422, code, what, details=details)


async def _on_model_unavailable(request: Request, error: Exception) -> Response:
    return error_response(
        request.scope, 503, "model_unavailable", str(error), headers={"Retry-After": "30"}
    )


async def _on_store_unavailable(request: Request, error: Exception) -> Response:
    """The database cannot be used now: 503 with a retry, the database named only in the log
    (its host is not the caller's business)."""
    log.error("the store cannot be used on %s: %s", request.url.path, error)
    return error_response(
        request.scope,
        503,
        "store_unavailable",
        "the engine's database (keys, outcomes, audit rows) cannot be used just now; retry "
        "later (sending outcomes again is safe: recording them is idempotent)",
        headers={"Retry-After": "5"},
    )


async def _on_database_error(request: Request, error: Exception) -> Response:
    if unreachable(error):
        return await _on_store_unavailable(request, error)
    return internal_error(request.scope, error)


async def _on_contract(request: Request, error: Exception) -> Response:
    assert isinstance(error, ContractViolation)
    details = [{"field": error.field, "value": str(error.value), "rule": error.rule}]
    return error_response(request.scope, 422, "contract_violation", str(error), details=details)


async def _on_engine_error(request: Request, error: Exception) -> Response:
    log.error("engine error on %s: %s", request.url.path, error)
    return _internal(request)


async def _on_unexpected(request: Request, error: Exception) -> Response:
    return internal_error(request.scope, error)


def _internal(request: Request) -> Response:
    return internal_error(request.scope, None)


def internal_error(scope: Scope, error: BaseException | None) -> JSONResponse:
    """The 500 answer: the details go to the log under the request id, never to the client."""
    request_id = _request_id(scope)
    if error is not None:
        log.error(
            "unexpected error in request %s on %s", request_id, scope.get("path"), exc_info=error
        )
    return error_response(
        scope,
        500,
        "internal_error",
        f"internal error; the server log has the details under request id {request_id}",
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register every handler on the app (the only place errors become responses)."""
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(ModelUnavailable, _on_model_unavailable)
    app.add_exception_handler(ContractViolation, _on_contract)
    app.add_exception_handler(StoreUnavailable, _on_store_unavailable)
    app.add_exception_handler(DBAPIError, _on_database_error)
    app.add_exception_handler(RiskEngineError, _on_engine_error)
    app.add_exception_handler(Exception, _on_unexpected)
