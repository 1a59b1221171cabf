"""`risk-engine serve`: what stops it before the server starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from risk_engine.cli import app


def test_serve_with_a_watch_list_it_cannot_read_exits_two_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RISK_ENGINE_HOME", str(tmp_path / "home"))
    bad = tmp_path / "watch.csv"
    bad.write_text("who,why\nsomeone,something\n")
    for path, problem in (
        (bad, "needs one of the columns"),
        (tmp_path / "gone.csv", "cannot read"),
    ):
        result = CliRunner().invoke(app, ["serve", "--port", "1", "--watchlist", str(path)])
        assert result.exit_code == 2, result.output
        assert f"watch list {path}" in result.stderr and problem in result.stderr
        assert "Traceback" not in result.output
    assert not (tmp_path / "home" / "engine.db").exists()  # stopped before opening the store
