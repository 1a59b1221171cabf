"""Schemathesis against the real server's OpenAPI document: generated requests, valid and
invalid, never get a 5xx, and every answer has a documented status, content type and schema.

Run through the ``schemathesis`` command (its pytest plugin does not support this pytest), bounded
by a fixed number of examples per operation and a seed, so it takes seconds and repeats."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from serve_fakes import FakeScorer, serving, wait_ready

from risk_engine.settings import Settings
from serve.app import create_app
from serve.auth import Role, issue_key
from serve.config import ServeLimits
from serve.store import Store

pytestmark = pytest.mark.slow

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[str, str, Store]]:
    settings = Settings(home=tmp_path / "home")
    store = Store.from_settings(settings)
    store.migrate()
    key = issue_key(store, role=Role.ADMIN, name="schemathesis").key
    app = create_app(
        settings=settings,
        scorer_loader=FakeScorer,
        store=store,
        limits=ServeLimits(model="champion", max_lines=100, max_body_bytes=200_000),
    )
    with serving(app) as url:
        with httpx.Client(base_url=url) as client:
            wait_ready(client)
        yield url, key, store
    store.dispose()


def test_no_generated_request_gets_a_server_error_or_an_undocumented_answer(
    running: tuple[str, str, Store], tmp_path: Path
) -> None:
    url, key, store = running
    exe = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert exe, "schemathesis is a development dependency"
    result = subprocess.run(
        [
            exe,
            "run",
            f"{url}/openapi.json",
            "--header",
            f"X-API-Key: {key}",
            "--checks",
            CHECKS,
            "--max-examples",
            "40",
            "--seed",
            "6",
            "--workers",
            "1",
            "--request-timeout",
            "30",
            "--phases",
            "examples,coverage,fuzzing",
            "--suppress-health-check",
            "all",
            "--generation-database",
            "none",
            "--no-color",
            "--report-dir",
            str(tmp_path / "report"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,  # its crash cache lands here, not in the repository
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert not [e for e in store.audit_entries() if e.status >= 500]
