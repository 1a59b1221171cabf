"""ASGI middleware: the audit trail (outermost) and the request body limit.

The audit row of a request is committed before its response starts, so a client never holds an
answer whose audit row could still be lost; when the row cannot be written the client gets 503
instead of the answer. Refused requests (401, 403, 413, 422, 404) are audited like the others.
The liveness probe (/healthz) is the one request without a row: it names no key and no line,
and it answers without touching the database. The readiness probe's row waits a few seconds at
most for a locked database, then the probe answers "not ready".
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import anyio.to_thread
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serve.auth import Authenticator, presented_key
from serve.errors import error_body, error_response, internal_error
from serve.metrics import ServiceMetrics
from serve.store import AuditEntry, Store

__all__ = ["AuditContext", "AuditMiddleware", "BodyLimitMiddleware", "REQUEST_ID_HEADER"]

log = logging.getLogger(__name__)
REQUEST_ID_HEADER = "X-Request-ID"


@dataclass
class AuditContext:
    """What handlers learn about a request, for its audit row (``request.state.audit``)."""

    request_id: str
    key_id: str | None = None
    role: str | None = None
    lines: int | None = None
    model_version: str | None = None
    detail: str | None = None
    # (B/L, container) of each line the request named: who looked at which container.
    named: tuple[tuple[str | None, str | None], ...] = ()


# Answers given before a route checks the key: a path or method no route has, a body over the
# limit.
_REFUSED_UNCHECKED = frozenset({404, 405, 413})
# The liveness probe: answered without an audit row, since it tells only that the process is
# up, names no key and no container (the trail is who looked at what), and must not wait on
# the database: it waited for its row, up to the 30 s busy timeout while another process held
# the SQLite file locked, and a probe with a few seconds' timeout would restart every replica
# (as would one failing with the database during an outage).
_LIVENESS = "/healthz"
# The readiness probe keeps its row, which tells whether the database can be written (no keyed
# answer leaves without its row), but waits at most this long for it before answering "not
# ready" (503): a load balancer's check answered within seconds, not after 30.
_READINESS = "/readyz"


def _is_probe(scope: Scope, status: int) -> bool:
    """The liveness probe answered as one (a GET or HEAD that got its 200): a POST with a key
    (405) or an oversized body (413) to /healthz is a request like any other, with its row."""
    return (
        scope.get("path") == _LIVENESS
        and scope.get("method") in ("GET", "HEAD")
        and status == 200
    )

_READINESS_WAIT_S = 2.0
_READINESS_DEADLINE_S = 4.0  # the whole write, a connection from the pool included


class AuditMiddleware:
    """Writes one audit row per HTTP request, whatever its outcome."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        store: Store,
        metrics: ServiceMetrics | None = None,
        routes: Sequence[BaseRoute] = (),
    ) -> None:
        self.app = app
        self.store = store
        self.metrics = metrics
        self.keys = Authenticator(store)
        # the app's routes, to count a request no route answered under the one it was for
        self.routes = [route for route in routes if getattr(route, "path", None)]
        # threads of their own for the readiness rows, so that a probe does not queue behind
        # the requests' writes waiting on a locked database
        self._probes = anyio.CapacityLimiter(2)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        context = AuditContext(request_id=uuid.uuid4().hex)
        scope.setdefault("state", {})["audit"] = context
        started_at, started = datetime.now(UTC), time.perf_counter()
        recorded = False
        replaced = False

        async def send_audited(message: Message) -> None:
            nonlocal recorded, replaced
            if replaced:
                return
            if message["type"] == "http.response.start" and not recorded:
                recorded = True
                if _is_probe(scope, message["status"]):
                    self._count(scope, str(scope.get("method", "")), message["status"], started)
                else:
                    written = await self._record(
                        scope, context, message["status"], started_at, started
                    )
                    if not written:
                        replaced = True
                        await self._refuse(scope, send)
                        return
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, context.request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_audited)
        except Exception as error:
            if recorded:  # the response had started: nothing left to answer
                raise
            # Answered here rather than by Starlette's outermost handler, so that the 500 is
            # audited like every other response and carries its request id.
            await internal_error(scope, error)(scope, receive, send_audited)

    async def _record(
        self,
        scope: Scope,
        context: AuditContext,
        status: int,
        started_at: datetime,
        started: float,
    ) -> bool:
        route = scope.get("route")
        client = scope.get("client")
        if context.key_id is None and status in _REFUSED_UNCHECKED:
            await self._name_the_key(scope, context)
        entry = AuditEntry(
            request_id=context.request_id,
            at=started_at,
            method=str(scope.get("method", "")),
            route=str(getattr(route, "path", None) or scope.get("path", "")),
            status=status,
            duration_ms=(time.perf_counter() - started) * 1000.0,
            key_id=context.key_id,
            role=context.role,
            lines=context.lines,
            model_version=context.model_version,
            detail=context.detail,
            client=str(client[0]) if client else None,
            named=context.named,
        )
        writing = time.perf_counter()
        if scope.get("path") == _READINESS:
            written = await self._write_probe(entry)
        else:
            written = await self._write(entry)
        answered = time.perf_counter()
        if self.metrics is not None:
            if not written:
                self.metrics.audit_failed()
            # the answer starts once its row is written: a locked or slow database delayed
            # every answer by seconds while the histogram, timed before the write, stayed flat
            self.metrics.request(
                route=_route_label(scope, self.routes),
                method=entry.method,
                status=status if written else 503,
                seconds=answered - started,
                audit_seconds=answered - writing,
            )
        return written

    async def _write(self, entry: AuditEntry) -> bool:
        try:
            await anyio.to_thread.run_sync(self.store.record_audit, entry)
        except Exception:
            log.exception("could not write the audit row of request %s", entry.request_id)
            return False
        return True

    async def _write_probe(self, entry: AuditEntry) -> bool:
        """The readiness probe's row, given up on after a few seconds (then "not ready"). A
        write still running at the deadline (a connection the pool could not give) is left to
        finish in its thread: its row may then say 200 where the probe was answered 503."""
        write = functools.partial(self.store.record_audit, entry, wait_s=_READINESS_WAIT_S)
        with anyio.move_on_after(_READINESS_DEADLINE_S):
            try:
                await anyio.to_thread.run_sync(write, limiter=self._probes, abandon_on_cancel=True)
            except Exception as error:
                log.warning(
                    "readiness: the audit row of request %s could not be written (%s): not ready",
                    entry.request_id,
                    error.__class__.__name__,
                )
                return False
            return True
        log.warning(
            "readiness: the database did not take an audit row within %.0f s: not ready",
            _READINESS_DEADLINE_S,
        )
        return False

    def _count(self, scope: Scope, method: str, status: int, started: float) -> None:
        """The liveness probe, counted in the metrics (it has no audit row)."""
        if self.metrics is not None:
            self.metrics.request(
                route=_route_label(scope, self.routes),
                method=method,
                status=status,
                seconds=time.perf_counter() - started,
            )

    async def _name_the_key(self, scope: Scope, context: AuditContext) -> None:
        """A request refused before its route checked the key (no such route or method, a body
        over the limit): its row names the key that made it, when the key is genuine. A store
        that cannot be read leaves the key unnamed; writing the row then says what is wrong."""
        presented = presented_key(Headers(scope=scope))
        if not presented:
            return
        try:
            found = await anyio.to_thread.run_sync(self.keys.identify, presented)
        except Exception:  # the row is still written (or its failure answered 503)
            log.warning("could not look up the key of request %s", context.request_id)
            return
        if found is not None:
            context.key_id, context.role = found

    @staticmethod
    async def _refuse(scope: Scope, send: Send) -> None:
        request_id = scope["state"]["audit"].request_id
        if scope.get("path") == _READINESS:  # not ready, in the readiness answer's own shape
            body: dict[str, object] = {
                "ready": False,
                "model_version": None,
                "detail": "the engine's database cannot be written (audit rows, outcomes, keys)",
            }
        else:
            body = error_body(
                "audit_unavailable",
                "the audit trail cannot be written to the engine's database, so the answer is "
                "withheld; retry later (sending outcomes again is safe: recording them is "
                "idempotent)",
                request_id=request_id,
            )
        headers = {"Retry-After": "5", REQUEST_ID_HEADER: request_id}
        response = JSONResponse(body, status_code=503, headers=headers)
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": response.raw_headers,
            }
        )
        await send({"type": "http.response.body", "body": response.body})


def _route_label(scope: Scope, routes: Sequence[BaseRoute]) -> str | None:
    """The app's route a request is counted under: the one that answered it, else the one of
    ``routes`` its path and method match (/openapi.json, which set none, and a body refused as
    too large before routing were counted as unmatched); None when none matches. Only the app's
    own route paths are labels, never a path as sent."""
    path = getattr(scope.get("route"), "path", None)
    if path:
        return str(path)
    for route in routes:
        match, _ = route.matches(scope)
        if match is not Match.NONE:
            return str(getattr(route, "path", ""))
    return None


class BodyLimitMiddleware:
    """Answers 413 to a body over the limit: at once by its Content-Length, else when the
    route reads past the limit as it streams in. The body is not read here: a route reads it
    after checking the key (`serve.routes`), so a caller without a valid key is answered 401
    without the server holding any of its body (uvicorn stops reading a connection whose
    unread body passes 64 KiB, and drops the rest once the answer is sent)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._too_large(scope, receive, send, declared)
            return
        size = 0
        unread = bool(declared) or _chunked(scope)  # a body the route has not read to its end

        async def counted() -> Message:
            nonlocal size, unread
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > self.max_bytes:
                    # Raised into the route's body read; FastAPI passes an HTTPException on
                    # and the app's handler answers it (`serve.errors`).
                    raise StarletteHTTPException(413, detail=self._message(size))
                unread = unread and bool(message.get("more_body", False))
            return message

        async def closing(message: Message) -> None:
            # An answer given before the body was read (401 without a key) closes the
            # connection: a client that sent "Expect: 100-continue" never sends the body, and
            # on a kept-alive connection the server would wait for it.
            if message["type"] == "http.response.start" and unread:
                MutableHeaders(scope=message).append("Connection", "close")
            await send(message)

        await self.app(scope, counted, closing)

    def _message(self, size: int) -> str:
        return f"the request body has {size} bytes or more; the limit is {self.max_bytes}"

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, size: int) -> None:
        response = error_response(scope, 413, "body_too_large", self._message(size))
        await response(scope, receive, send)


def _chunked(scope: Scope) -> bool:
    return any(
        name == b"transfer-encoding" and b"chunked" in value.lower()
        for name, value in scope.get("headers", [])
    )


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
