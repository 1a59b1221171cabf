"""Fixtures of the service tests: settings on a temporary home, a migrated store, keys of each
role, the `FakeScorer` test double (see serve_fakes) and a real server started on 127.0.0.1.

The store is SQLite under the home unless a test asks for PostgreSQL too, with
``@on_each_database`` (serve_fakes): then ``settings`` point at a fresh PostgreSQL database of
the session's throwaway server (tests/conftest.py) in the second case."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from serve_fakes import FakeScorer, serving, wait_ready

from risk_engine.settings import Settings
from serve.app import create_app
from serve.auth import Role, issue_key
from serve.config import ServeLimits
from serve.store import Store


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        return Settings(home=tmp_path / "home")
    assert backend == "postgresql", backend
    url: str = request.getfixturevalue("postgres_url")
    return Settings(home=tmp_path / "home", database_url=url)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    the_store = Store.from_settings(settings)
    the_store.migrate()
    yield the_store
    the_store.dispose()


@pytest.fixture
def home_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """``settings`` as the CLI finds them: RISK_ENGINE_HOME (and the database URL) set."""
    monkeypatch.setenv("RISK_ENGINE_HOME", str(settings.home))
    if settings.database_url:
        monkeypatch.setenv("RISK_ENGINE_DATABASE_URL", settings.database_url)
    return settings


@pytest.fixture
def keys(store: Store) -> dict[str, str]:
    """One key per role, by role label."""
    return {role.label: issue_key(store, role=role, name=f"{role.label} one").key for role in Role}


@pytest.fixture
def fake_scorer() -> FakeScorer:
    return FakeScorer()


@pytest.fixture
def start_server(settings: Settings, store: Store) -> Iterator[Callable[..., httpx.Client]]:
    """Starts the real server (uvicorn, 127.0.0.1, free port) with the given loader and limits;
    returns an HTTP client on it. Servers stop at the end of the test."""
    stack: list[Any] = []

    def start(
        loader: Callable[[], Any] | None = None,
        *,
        limits: ServeLimits | None = None,
        ready: bool = True,
    ) -> httpx.Client:
        limits = limits or ServeLimits(model="champion")
        app = create_app(
            settings=settings, scorer_loader=loader or FakeScorer, store=store, limits=limits
        )
        context = serving(app, trusted_proxies=limits.trusted_proxies)
        url = context.__enter__()
        client = httpx.Client(base_url=url, timeout=30)
        stack.append((context, client))
        if ready:
            wait_ready(client)
        return client

    yield start
    for context, client in reversed(stack):
        client.close()
        context.__exit__(None, None, None)


@pytest.fixture
def client(start_server: Callable[..., httpx.Client]) -> httpx.Client:
    """A client on a ready server serving `FakeScorer`."""
    return start_server()
