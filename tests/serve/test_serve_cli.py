"""`risk-engine serve`: what stops it before the server starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from models.watchlist import Watchlist, load_watchlist
from risk_engine.cli import app
from serve.run import preloaded


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


def test_serve_with_risk_profiles_it_cannot_use_exits_two_naming_the_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RISK_ENGINE_HOME", str(tmp_path / "home"))
    bad = tmp_path / "profiles.yaml"
    bad.write_text("profiles:\n  - {name: a, when: {consignee_id: [X]}}\n")
    result = CliRunner().invoke(app, ["serve", "--port", "1", "--profiles", str(bad)])
    assert result.exit_code == 2, result.output
    assert f"risk profiles {bad}, profile 1 (a)" in result.stderr
    assert "consignee_id" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "home" / "engine.db").exists()  # stopped before opening the store


def test_serve_on_a_port_out_of_range_or_taken_exits_two_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    monkeypatch.setenv("RISK_ENGINE_HOME", str(tmp_path / "home"))
    # Before, a port over 65535 left the process up, listening nowhere, and a taken port
    # exited 3 (the code of a contract violation) with no line of the engine's own.
    result = CliRunner().invoke(app, ["serve", "--port", "99999"])
    assert result.exit_code == 2, result.output
    assert "--port=99999 is not a TCP port (1 to 65535)" in result.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["serve", "--port", str(port)])
    assert result.exit_code == 2, result.output
    assert f"the service did not start on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.output


def test_the_watch_list_read_at_start_is_served_and_a_reload_reads_the_file_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "watch.csv"
    path.write_text("party_name\nACME\n")
    checked = load_watchlist(path)
    assert checked is not None
    reads: list[Path | None] = []

    def counted(where: Path | None) -> Watchlist | None:
        reads.append(where)
        return load_watchlist(where)

    load = preloaded(checked, lambda: counted(path))
    assert load() is checked and reads == []  # start: the list `serve` already read and checked
    path.write_text("party_name\nACME\nGLOBEX\n")
    again = load()
    assert reads == [path] and again is not None and again.entries["parties"] == 2
