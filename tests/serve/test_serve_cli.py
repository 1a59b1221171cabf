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


def test_serve_logs_its_start_and_stops_gracefully_on_a_hangup(tmp_path: Path) -> None:
    """`risk-engine serve` wrote nothing to the journal (its INFO lines were below the CLI's
    WARNING), and a SIGHUP killed it outright in the middle of its requests."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RISK_ENGINE_")}
    env["RISK_ENGINE_HOME"] = str(tmp_path / "home")
    code = "from risk_engine.cli import app; app()"
    server = subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
        server.send_signal(signal.SIGHUP)
        _, err = server.communicate(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    log = err.decode()
    assert f"Uvicorn running on http://127.0.0.1:{port}" in log
    assert "store: " in log  # what it serves from, as `python -m serve.run` tells it
    assert "Finished server process" in log  # a graceful stop, told
    # then ended by the hangup, as any command is (exit 0 read as a clean finish)
    assert server.returncode in (-signal.SIGHUP, 128 + signal.SIGHUP), log
