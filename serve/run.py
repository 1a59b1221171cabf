"""Run the service with uvicorn: ``risk-engine serve`` calls `serve`.

One process, one event loop; handlers run on the server's worker threads and the scorer uses one
LightGBM thread per call, which is what keeps online latency low under load. Put a reverse proxy
with TLS in front when the service leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import uvicorn
from fastapi import FastAPI
from uvicorn.config import STARTUP_FAILURE

from models.profiles import load_profiles
from models.watchlist import load_watchlist
from risk_engine.errors import ConfigError, RiskEngineError, exit_code_for
from risk_engine.settings import Settings, keep_files_private, load_settings, read_environment
from serve.app import create_app
from serve.config import ServeLimits
from serve.store import Store

__all__ = ["make_server", "preloaded", "serve"]

log = logging.getLogger(__name__)
T = TypeVar("T")


def make_server(
    app: FastAPI, *, host: str = "127.0.0.1", port: int = 8000, trusted_proxies: str = ""
) -> uvicorn.Server:
    """The uvicorn server as the service runs it (tests and the benchmark start the same).

    X-Forwarded-For is read only from ``trusted_proxies`` (`ServeLimits.trusted_proxies`):
    uvicorn trusts 127.0.0.1 by default, and on a service bound there every caller is that
    address, so any caller chose the client address of its own audit rows."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        proxy_headers=bool(trusted_proxies.strip()),
        forwarded_allow_ips=trusted_proxies.strip() or None,
        workers=1,
        access_log=False,  # the audit table is the access log
        log_config=None,  # logging is configured by the entry point
        timeout_graceful_shutdown=30,
        server_header=False,
    )
    return _Server(config)


class _Server(uvicorn.Server):
    """uvicorn's server, stopped gracefully by SIGHUP too (a dropped terminal, a `kill -HUP`):
    uvicorn handles SIGINT and SIGTERM alone, and a hangup killed the service in the middle of
    its requests without a line in the log."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        hangup = getattr(signal, "SIGHUP", None)
        if hangup is None or threading.current_thread() is not threading.main_thread():
            with super().capture_signals():
                yield
            return
        with super().capture_signals():
            # given back before uvicorn raises the signals it caught again on leaving: the
            # hangup then ends the process as it ends any other command (129), not as exit 0
            before = signal.signal(hangup, self.handle_exit)
            try:
                yield
            finally:
                signal.signal(hangup, before)


def preloaded(first: T, read: Callable[[], T]) -> Callable[[], T]:
    """A loader whose first call gives ``first`` (what `serve` read to check the file) and
    every later call (a reload) calls ``read`` again: a watch list or the risk profiles."""
    unused = [first]

    def load() -> T:
        return unused.pop() if unused else read()

    return load


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    settings: Settings | None = None,
    *,
    model: str | None = None,
    watchlist: Path | None = None,
    profiles: Path | None = None,
    reload_check: float | None = None,
) -> None:
    """Serve until interrupted. ``model``: registry alias or version, or a scorer pickle path
    (default ``champion``, or RISK_ENGINE_SERVE_MODEL); ``watchlist``: a watch list file
    (default RISK_ENGINE_SERVE_WATCHLIST, or none); ``profiles``: a risk profiles file
    (default RISK_ENGINE_SERVE_PROFILES, or none); ``reload_check``: seconds between checks
    of whether the model's source changed, to reload it (default 60, or
    RISK_ENGINE_SERVE_RELOAD_CHECK_SECONDS; 0 never)."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if not 1 <= port <= 65_535:  # asyncio raises no OSError for it, and uvicorn then hangs
        raise ConfigError(f"--port={port} is not a TCP port (1 to 65535)")
    settings = settings if settings is not None else load_settings()
    given: dict[str, Any] = {
        "model": model,
        "watchlist": watchlist,
        "profiles": profiles,
        "reload_check_seconds": reload_check,
    }
    limits = read_environment(
        ServeLimits, **{name: value for name, value in given.items() if value is not None}
    )
    for name in ("watchlist", "profiles"):  # absolute once: a reload reads the same file
        path = getattr(limits, name)
        if path is not None:
            limits = limits.model_copy(update={name: path.resolve()})
    # A watch list or profiles that cannot be read stop the command (ConfigError, exit 2)
    # before the server starts, rather than leaving it up and never ready.
    watch = load_watchlist(limits.watchlist, name_values=False)
    if watch is not None:
        log.info("watch list %s: %s", limits.watchlist, watch.entries)
    found = load_profiles(limits.profiles)
    if found is not None:
        log.info("risk profiles %s: %s", limits.profiles, found.entries)
    # The store is opened and migrated before the server starts, so an unreachable database
    # stops the command with a message naming it (StoreUnavailable) instead of a failed start.
    store = Store.from_settings(settings)
    try:
        store.migrate()
        log.info("store: %s", store.shown_url)
        app = create_app(
            settings=settings,
            limits=limits,
            store=store,
            watchlist_loader=preloaded(
                watch, lambda: load_watchlist(limits.watchlist, name_values=False)
            ),
            profiles_loader=preloaded(found, lambda: load_profiles(limits.profiles)),
            settle_heap=True,
        )
        try:
            make_server(app, host=host, port=port, trusted_proxies=limits.trusted_proxies).run()
        except SystemExit as stopped:  # uvicorn's startup failure, its reason logged above
            if stopped.code == STARTUP_FAILURE:
                raise ConfigError(
                    f"the service did not start on {host}:{port}: see the error logged above "
                    "(most often an address in use, or not one of this machine's)"
                ) from None
            raise
    finally:
        store.dispose()


def main(argv: list[str] | None = None) -> None:
    """``python -m serve.run``: the same as ``risk-engine serve``, for scripts."""
    parser = argparse.ArgumentParser(prog="python -m serve.run", description=serve.__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--model", default=None)
    parser.add_argument("--watchlist", type=Path, default=None)
    parser.add_argument("--profiles", type=Path, default=None)
    parser.add_argument("--reload-check", type=float, default=None)
    args = parser.parse_args(argv)
    keep_files_private()
    try:
        serve(
            args.host,
            args.port,
            model=args.model,
            watchlist=args.watchlist,
            profiles=args.profiles,
            reload_check=args.reload_check,
        )
    except RiskEngineError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(exit_code_for(error)) from None


if __name__ == "__main__":
    main()
