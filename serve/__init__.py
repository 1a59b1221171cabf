"""The scoring service: FastAPI app factory, routes, API keys and roles, the outcome and audit
store. `create_app` builds the app, `serve` runs it; importing this package loads neither."""

from __future__ import annotations

from typing import Any

__all__ = ["create_app", "serve", "read_outcomes"]


def __getattr__(name: str) -> Any:
    # Lazy, so `import serve` (and `risk-engine --help`) stays cheap.
    if name == "create_app":
        from serve.app import create_app

        return create_app
    if name == "serve":
        from serve.run import serve

        return serve
    if name == "read_outcomes":
        from serve.store import read_outcomes

        return read_outcomes
    raise AttributeError(f"module 'serve' has no attribute {name!r}")
