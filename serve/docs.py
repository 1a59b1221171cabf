"""The API's interactive documentation (Swagger UI at ``/docs``), served from this server.

FastAPI's own page loads Swagger UI from a CDN, so on a customs network without the internet it
stayed blank. Here its script and style come from the ``fastapi-offline`` package (MIT; Swagger
UI itself is Apache-2.0) through ``/docs-assets/``: a fixed list of files, nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib.resources import files

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.responses import HTMLResponse, Response

__all__ = ["ASSETS_PREFIX", "build_docs_router"]

ASSETS_PREFIX = "/docs-assets"
_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon.png": "image/png",
}


@cache
def _asset(name: str) -> bytes:
    """One of the bundled files, read on its first request (1.7 MB in all)."""
    return (files("fastapi_offline") / "static" / name).read_bytes()


def build_docs_router(*, title: str, openapi_url: str = "/openapi.json") -> APIRouter:
    """``/docs`` and the files it loads, none of them from elsewhere."""
    router = APIRouter(include_in_schema=False)

    @router.api_route("/docs", methods=["GET", "HEAD"])
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title}: API",
            swagger_js_url=f"{ASSETS_PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PREFIX}/favicon.png",
        )

    def sender(name: str, media_type: str) -> Callable[[], Response]:
        def send() -> Response:
            return Response(
                content=_asset(name),
                media_type=media_type,
                headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "max-age=86400"},
            )

        return send

    for name, media_type in _ASSETS.items():
        router.add_api_route(
            f"{ASSETS_PREFIX}/{name}", sender(name, media_type), methods=["GET", "HEAD"]
        )
    return router
