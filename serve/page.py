"""The officers' web page: a manifest file in, the lines by risk out, in a browser.

The page is four static files (its icon included) (``serve/static``) and holds no data: it calls ``POST
/v1/score`` with the key the officer types, so the key check, the roles and the audit are the
API's. It is sent with a content security policy that lets it load only its own script and
style and talk only to this server.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter
from starlette.responses import Response

__all__ = ["PAGE_POLICY", "build_page_router"]

PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)
_FILES = {
    "officer.html": "text/html; charset=utf-8",
    "officer.js": "text/javascript; charset=utf-8",
    "officer.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}


def build_page_router() -> APIRouter:
    """Routes of the page: ``/`` and its script and style (read once, when the app is built)."""
    folder = files("serve") / "static"
    content = {name: (folder / name).read_bytes() for name in _FILES}
    router = APIRouter(include_in_schema=False)

    def send(name: str) -> Response:
        return Response(
            content=content[name],
            media_type=_FILES[name],
            headers={
                "Content-Security-Policy": PAGE_POLICY,
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
                "Cache-Control": "no-cache",
            },
        )

    @router.api_route("/", methods=["GET", "HEAD"])
    def page() -> Response:
        return send("officer.html")

    @router.api_route("/static/officer.js", methods=["GET", "HEAD"])
    def script() -> Response:
        return send("officer.js")

    @router.api_route("/static/officer.css", methods=["GET", "HEAD"])
    def style() -> Response:
        return send("officer.css")

    # Browsers ask for /favicon.ico whatever the page names; without it every visit logged a 404.
    @router.api_route("/favicon.ico", methods=["GET", "HEAD"])
    @router.api_route("/static/favicon.svg", methods=["GET", "HEAD"])
    def icon() -> Response:
        return send("favicon.svg")

    return router
