"""The ``risk-engine`` command as a user runs it: exit codes, outputs, files."""

from __future__ import annotations

import codecs
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from risk_engine.cli import app
from risk_engine.factories import shipment_frame

runner = CliRunner()
SAMPLE = Path(__file__).parents[1] / "risk_engine" / "samples" / "shipments_sample.csv"


def test_validate_prints_counts_that_add_up_and_exits_zero_with_rejects(tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.csv"
    result = runner.invoke(
        app, ["validate", str(SAMPLE), "--rejects", str(rejects), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    counts = report["counts"]
    assert counts["read"] == 40
    assert counts["accepted"] + counts["flagged"] + counts["rejected"] == counts["read"]
    assert counts["rejected"] == 7 and counts["flagged"] == 3
    written = pd.read_csv(rejects)
    assert set(written.columns) >= {
        "row",
        "bl_number",
        "container_number",
        "field",
        "value",
        "rule",
    }
    assert written[written["severity"] == "reject"]["row"].nunique() == 7


def test_validate_text_output_names_the_reasons() -> None:
    result = runner.invoke(app, ["validate", str(SAMPLE)])
    assert result.exit_code == 0
    assert "rejected" in result.stdout and "eta_not_after_etd" in result.stdout


def test_validate_names_the_columns_it_leaves_out_as_they_are(tmp_path: Path) -> None:
    # A contract column the mapping replaced read as "not in the contract", and blank header
    # cells (lines ending in ",,") as an empty list ", ".
    frame = shipment_frame(5, seed=3)
    frame["Remarks"] = "x"
    frame[""] = ""
    path = tmp_path / "s.csv"
    frame.to_csv(path, index=False)
    mapping = tmp_path / "m.yaml"
    mapping.write_text("fields:\n  place_of_receipt: port_of_loading\n")
    result = runner.invoke(app, ["validate", str(path), "--mapping", str(mapping)])
    assert result.exit_code == 0, result.output
    assert "columns not in the contract (ignored): 'Remarks', (a blank name)" in result.stdout
    assert "columns the mapping replaced (ignored): 'place_of_receipt'" in result.stdout


def test_validate_exits_two_when_the_file_cannot_be_read(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    shipment_frame(3).to_csv(path, index=False, sep="\t")
    mapping = tmp_path / "m.yaml"
    mapping.write_text('delimiter: ","\n')  # a tab file reads without one (its header's tabs)
    result = runner.invoke(app, ["validate", str(path), "--mapping", str(mapping)])
    assert result.exit_code == 2
    assert "delimited by '\\t'" in result.stderr


def test_validate_reads_excels_csv_utf8_with_its_byte_order_mark_and_a_mapping_with_one(
    tmp_path: Path,
) -> None:
    """Excel's "CSV UTF-8" starts with a byte-order mark; it must not become part of the first
    column's name (a required field "missing"), in the data or in a mapping saved by Notepad."""
    frame = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    frame.loc[0, "shipper_name"] = "上海金莲花贸易有限公司"
    marked = tmp_path / "excel.csv"
    marked.write_bytes(codecs.BOM_UTF8 + frame.to_csv(index=False).encode("utf-8"))
    plain = runner.invoke(app, ["validate", str(SAMPLE), "--format", "json"])
    result = runner.invoke(app, ["validate", str(marked), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["counts"] == json.loads(plain.stdout)["counts"]
    renamed = tmp_path / "renamed.csv"
    text = frame.rename(columns={"bl_number": "Số vận đơn"}).to_csv(index=False)
    renamed.write_bytes(codecs.BOM_UTF8 + text.encode("utf-8"))
    mapping = tmp_path / "m.yaml"
    mapping.write_bytes(codecs.BOM_UTF8 + "fields:\n  bl_number: Số vận đơn\n".encode())
    result = runner.invoke(
        app, ["validate", str(renamed), "--mapping", str(mapping), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["counts"] == json.loads(plain.stdout)["counts"]


def test_validate_exits_two_for_a_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_validate_outcomes_kind(tmp_path: Path) -> None:
    from risk_engine.factories import valid_outcome_row

    path = tmp_path / "o.csv"
    pd.DataFrame([valid_outcome_row(s) for s in range(4)]).to_csv(path, index=False)
    result = runner.invoke(app, ["validate", str(path), "--kind", "outcomes", "--format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["counts"]["accepted"] == 4


def test_schema_prints_json_schema_with_forbidden_extras() -> None:
    result = runner.invoke(app, ["schema", "shipments"])
    schema = json.loads(result.stdout)
    assert schema["additionalProperties"] is False
    assert "container_number" in schema["required"]


def test_console_script_help_runs_without_heavy_imports() -> None:
    code = (
        "import sys; from risk_engine.cli import app; "
        "print(any(m in sys.modules for m in ('pandas', 'pyarrow', 'lightgbm', 'mlflow')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("verbose", [False, True])
def test_mlflow_says_what_it_does_only_when_asked_for_progress(
    tmp_path: Path, verbose: bool
) -> None:
    # Every first command on a home printed MLflow's "Creating initial MLflow database
    # tables..." at INFO, whatever -v said.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RISK_ENGINE_", "MLFLOW_"))}
    env["RISK_ENGINE_HOME"] = str(tmp_path / "home")
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "mlflow.db").touch()  # an empty database: MLflow makes its tables
    code = "from risk_engine.cli import app; app()"
    args = [sys.executable, "-c", code, *(["-v"] if verbose else []), "models"]
    out = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "no registered model yet" in out.stdout
    assert ("Creating initial MLflow database tables" in out.stderr) is verbose


def test_every_command_but_serve_unwinds_on_sigterm(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only `screen` and `outcomes --record` unwound on SIGTERM (a timer's stop): `history
    --add-outcomes` left a 23 MB partial history, `backup` its partial copy, a store read a
    copy of every outcome in /tmp."""
    import signal

    import training.commands

    before = signal.getsignal(signal.SIGTERM)
    hangup_before = signal.getsignal(signal.SIGHUP)
    seen: list[Any] = []

    def listing(settings: Any = None) -> str:
        seen.append(signal.getsignal(signal.SIGTERM))
        seen.append(signal.getsignal(signal.SIGHUP))
        return "versions"

    monkeypatch.setattr(training.commands, "models_command", listing)
    result = CliRunner().invoke(app, ["models"])
    assert result.exit_code == 0, result.output
    handler, hangup = seen
    assert callable(handler) and handler is not before
    with pytest.raises(SystemExit) as stopped:
        handler(signal.SIGTERM, None)
    assert stopped.value.code == 143  # as for SIGTERM, after every cleanup ran
    assert signal.getsignal(signal.SIGTERM) is before  # given back when the command ends
    # a hangup (an SSH session dropped under a run by hand) killed a screening outright, its
    # temporary folder of the batch's lines left behind
    assert callable(hangup) and hangup is not hangup_before
    with pytest.raises(SystemExit) as hung_up:
        hangup(signal.SIGHUP, None)
    assert hung_up.value.code == 129
    assert signal.getsignal(signal.SIGHUP) is hangup_before


def test_no_file_the_engine_writes_is_readable_by_every_user(tmp_path: Path) -> None:
    """Under the usual umask 022 the store, the feature history, backups and archives were
    written 0644: any user of the machine read officers' names, seizures and party names."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RISK_ENGINE_", "MLFLOW_"))}
    env["RISK_ENGINE_HOME"] = str(tmp_path / "home")
    code = "import os; os.umask(0o022); from risk_engine.cli import app; app()"
    made = subprocess.run(
        [sys.executable, "-c", code, "keys", "create", "--role", "officer", "--name", "A N"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    backup = tmp_path / "backups" / "engine.db"
    copied = subprocess.run(
        [sys.executable, "-c", code, "backup", str(backup)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert copied.returncode == 0, copied.stderr
    written = [tmp_path / "home", *(tmp_path / "home").rglob("*"), backup.parent, backup]
    assert len(written) > 3
    for path in written:
        assert path.stat().st_mode & 0o007 == 0, (path, oct(path.stat().st_mode))


def test_a_history_prompt_with_stdin_closed_is_no_answer(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A cron job runs with stdin closed (`<&-`): the prompt raised "input(): lost sys.stdin",
    a traceback, where an unanswered one is no."""
    import typer

    from risk_engine import cli

    def closed(*args: Any, **kwargs: Any) -> bool:
        raise RuntimeError("input(): lost sys.stdin")

    monkeypatch.setattr(typer, "confirm", closed)
    with pytest.raises(typer.Exit) as stopped:
        cli._confirm_forget("Forget the feature history of model 1?")
    assert stopped.value.exit_code == 1
    assert "nothing forgotten (--yes forgets without asking)" in capsys.readouterr().err


def test_error_lines_are_plain_under_no_color_and_a_dumb_terminal(tmp_path: Path) -> None:
    args = ["history", "--reset", "1", "--prune"]  # refused before anything is read
    env = {"RISK_ENGINE_HOME": str(tmp_path / "home")}
    coloured = CliRunner().invoke(app, args, env=env, color=True)
    assert coloured.exit_code != 0 and "\x1b[31m" in coloured.stderr
    for plain in ({"NO_COLOR": "1"}, {"TERM": "dumb"}):
        told = CliRunner().invoke(app, args, env={**env, **plain}, color=True)
        assert told.exit_code == coloured.exit_code and "error:" in told.stderr
        assert "\x1b[" not in told.stderr


def test_names_the_terminal_cannot_write_are_escaped_not_a_traceback(tmp_path: Path) -> None:
    """`keys list` under a Latin-1 locale stopped with UnicodeEncodeError on a key named
    "Officer Nguyễn, Cát Lái"."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RISK_ENGINE_")}
    env.update(RISK_ENGINE_HOME=str(tmp_path / "home"), PYTHONIOENCODING="latin-1")
    code = "from risk_engine.cli import app; app()"
    name = "Officer Nguy\u1ec5n, C\u00e1t L\u00e1i"
    for args in (["keys", "create", "--role", "officer", "--name", name], ["keys", "list"]):
        done = subprocess.run(
            [sys.executable, "-c", code, *args], env=env, capture_output=True, timeout=120
        )
        assert done.returncode == 0, done.stderr.decode("latin-1")
        assert b"Traceback" not in done.stderr
    assert b"Nguy\\u1ec5n, C\xe1t L\xe1i" in done.stdout  # the letter Latin-1 has is written


def test_a_purge_that_could_not_empty_the_log_warns_that_it_may_hold_the_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The purge said it deleted the rows and exited 0 while engine.db-wal still held their
    B/Ls and containers (a reader had the database open)."""
    from datetime import UTC, datetime

    import serve.audit
    from serve.audit import Purge

    def kept_log(*args: Any, **kwargs: Any) -> Purge:
        return Purge(
            before=datetime(2025, 1, 1, tzinfo=UTC),
            archived=0,
            deleted=3,
            archive=None,
            log_cleared=False,
        )

    monkeypatch.setattr(serve.audit, "purge_audit", kept_log)
    env = {"RISK_ENGINE_HOME": str(tmp_path / "home")}
    args = ["audit", "--purge-before", "2025-01-01", "--no-archive"]
    told = CliRunner().invoke(app, args, env=env)
    assert told.exit_code == 0, told.output
    assert "warning: the write-ahead log (engine.db-wal) may still hold the purged rows" in (
        told.stderr
    )
    assert "risk-engine audit --purge-before 2025-01-01T00:00:00Z` again" in told.stderr


def test_a_full_disk_in_a_librarys_write_is_a_clear_error_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`train` on a full disk stopped with a traceback from MLflow's artifact copy (exit 1)."""
    import errno

    import training.commands

    def full(*args: Any, **kwargs: Any) -> str:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "mlartifacts/x.png"))

    monkeypatch.setattr(training.commands, "models_command", full)
    told = CliRunner().invoke(app, ["models"], env={"RISK_ENGINE_HOME": str(tmp_path / "h")})
    assert told.exit_code == 2, told.output
    assert f"error: cannot write {tmp_path}/mlartifacts/x.png: No space left on device" in (
        told.stderr
    )

    def other(*args: Any, **kwargs: Any) -> str:
        raise OSError(errno.EIO, "Input/output error")

    # no file named (a library's write, stdout): which files the command writes, told
    def unnamed(*args: Any, **kwargs: Any) -> str:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(training.commands, "models_command", unnamed)
    told = CliRunner().invoke(app, ["models"], env={"RISK_ENGINE_HOME": str(tmp_path / "h")})
    assert told.exit_code == 2 and "under RISK_ENGINE_HOME, or an output it names" in told.stderr
    monkeypatch.setattr(training.commands, "models_command", other)
    crashed = CliRunner().invoke(app, ["models"], env={"RISK_ENGINE_HOME": str(tmp_path / "h")})
    assert crashed.exit_code == 1 and isinstance(crashed.exception, OSError)  # a bug, seen whole


def test_standard_output_on_a_full_disk_is_named_with_exit_two(tmp_path: Path) -> None:
    """`schema outcomes` (and `validate`, `audit`, `history`) printing to /dev/full stopped with
    a traceback, exit 1."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RISK_ENGINE_")}
    env["RISK_ENGINE_HOME"] = str(tmp_path / "home")
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-c", "from risk_engine.cli import app; app()", "schema", "outcomes"],
            env=env,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    assert done.returncode == 2, done.stderr
    assert "error: cannot write standard output: No space left on device" in done.stderr
    assert "Traceback" not in done.stderr


def test_version_prints_the_installed_release_and_the_contract_version() -> None:
    """Every release was 0.1.0 and no command said which one ran: a model's run tagged
    `engine.version` 0.1.0 whatever code trained it."""
    import tomllib

    from risk_engine.columns import CONTRACT_VERSION

    release = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]
    told = runner.invoke(app, ["--version"])
    assert told.exit_code == 0, told.output
    assert told.output.strip() == (
        f"risk-engine {release['version']} (data contract version {CONTRACT_VERSION})"
    )
    assert release["version"] != "0.1.0"  # releases are numbered 0.N.0 after stop N


def test_no_help_text_names_a_development_stop() -> None:
    """`screen --help` told of lists drawn "since stop 27": an operator knows releases
    (`--version`, CHANGELOG.md), not the developers' stops."""
    import re

    import typer.main

    root = typer.main.get_command(app)
    found: list[str] = []

    walked: list[str] = []

    def walk(command: Any, path: list[str]) -> None:
        # wide enough that no sentence wraps, so "stop" and its number stay on one line
        told = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "2000"})
        assert told.exit_code == 0, told.output
        walked.append(" ".join(path))
        found.extend(
            f"{' '.join(path)}: {m}" for m in re.findall(r".{0,40}\bstops? \d+", told.output)
        )
        for name, sub in getattr(command, "commands", {}).items():  # a group's commands
            walk(sub, [*path, name])

    walk(root, [])
    assert {"screen", "serve", "keys create", "history"} <= set(walked), walked
    assert not found, found
