"""The training commands as an analyst runs them: train from files or from the outcome store
(SQLite or PostgreSQL), then list the registered versions."""

from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from features.keys import NAME_RULES
from risk_engine.cli import app
from risk_engine.contract import InspectionOutcome
from risk_engine.settings import Settings
from serve.store import Store
from training.fixtures import small_training, small_world

runner = CliRunner()


def _model_store(home: Path) -> None:
    """A home whose model store is there, for a test that gives the model itself (the commands
    that read models refuse a home without one)."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "mlflow.db").touch()


@pytest.fixture()
def world_files(tmp_path: Path) -> tuple[Path, Path]:
    world, _, _ = small_world()
    shipments, outcomes = tmp_path / "shipments.parquet", tmp_path / "outcomes.csv"
    world.shipments.to_parquet(shipments, index=False)
    world.outcomes.to_csv(outcomes, index=False)
    return shipments, outcomes


def test_train_reads_outcomes_from_the_store_and_registers_a_champion(
    tmp_path: Path,
    world_files: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("RISK_ENGINE_HOME", str(home))
    monkeypatch.setenv("RISK_ENGINE_DATABASE_URL", database_url)
    world, _, outcomes = small_world()
    store = Store.from_settings(Settings(home=home, database_url=database_url))
    store.migrate()
    records = [
        InspectionOutcome.model_validate(
            {k: v for k, v in row.items() if v == v and v is not None}
        ).model_dump()
        for row in world.outcomes.to_dict("records")
    ]
    store.record_outcomes(records)
    store.dispose()
    shipments, _ = world_files
    config = tmp_path / "train.yaml"
    config.write_text("booster:\n  max_rounds: 60\n  num_threads: 2\n")
    result = runner.invoke(
        app,
        ["train", "--shipments", str(shipments), "--outcomes", "store", "--config", str(config)],
    )
    assert result.exit_code == 0, result.output
    assert re.search(r"\nregistered model version 1 \(run \w+\): the champion\n", result.stdout)
    assert "note: nothing was filed after" not in result.stdout
    # how the calibration was fitted, said (out-of-fold when its slice holds few seizures)
    assert re.search(
        r"\ncalibration: (out-of-fold \(4 folds\)|calibration slice), [\d,]+ labelled lines "
        r"\([\d,]+ seizures\); label delay \d+ days \(learned\): left out as filed within it "
        r"before the test period [\d,]+ lines \([\d,]+ seizures\)"
        r"(; left out as recorded after their slice ended: [^\n]+)?\n",
        result.stdout,
    ), result.stdout
    # named as where they came from, not as the temporary copy read (gone after the run)
    assert "\noutcomes the outcome store (" in result.stdout
    assert "/outcomes-" not in result.stdout  # the temporary copy's folder
    # the read of the whole store is audited, by the command that made it
    audited = Store(database_url)
    (read,) = [e for e in audited.audit_entries() if e.method == "CLI"]
    audited.dispose()
    assert (read.route, read.lines) == ("risk-engine train --outcomes store", len(records))
    listed = runner.invoke(app, ["models"])
    assert listed.exit_code == 0 and "champion" in listed.stdout
    # each version's held-out period beside its figures (a retrained champion read as finding
    # fewer than the version it replaced, each on its own period)
    (row,) = [line for line in listed.stdout.splitlines() if re.match(r" *1 champion ", line)]
    assert re.search(r" 20\d\d-\d\d-\d\d +[1-9][\d,]* ", row), row
    assert "on its held-out period from test_from" in listed.stdout
    # an --until after the data: the last part of the data was the test period, unsaid
    late = runner.invoke(
        app,
        ["train", "--shipments", str(shipments), "--outcomes", "store", "--config", str(config)]
        + ["--until", "2030-01-01"],
    )
    assert late.exit_code == 0, late.output
    assert "note: nothing was filed after --until 2030-01-01" in late.stdout
    # a second version is no champion: said, as `screen` and `serve` keep the first
    assert "\nthe champion stays version 1: `screen` and `serve` use it" in late.stdout


def test_train_reads_outcomes_in_their_own_layout_and_says_what_it_rejected(
    tmp_path: Path, world_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The mapping applied to shipments only, so an outcomes export in another layout could not
    # be used; and rejected outcome rows, left out of the training, were told only with -v.
    monkeypatch.setenv("RISK_ENGINE_HOME", str(tmp_path / "home"))
    shipments, outcomes = world_files
    exported = pd.read_csv(outcomes, dtype=str).rename(columns={"bl_number": "BL_REF"})
    exported.loc[0, "result"] = "MAYBE"
    assert exported.columns[0] == "BL_REF"
    # as Excel saves "CSV UTF-8" and Notepad a mapping: with a byte-order mark before the
    # first column's name, which must not keep it from being found
    exported.to_csv(outcomes, index=False, encoding="utf-8-sig")
    mapping = tmp_path / "outcomes-map.yaml"
    mapping.write_text("fields:\n  bl_number: BL_REF\n", encoding="utf-8-sig")
    config = tmp_path / "train.yaml"
    config.write_text("booster:\n  max_rounds: 30\n  num_threads: 2\n")
    files = ["--shipments", str(shipments), "--outcomes", str(outcomes), "--config", str(config)]
    unmapped = runner.invoke(app, ["train", *files])
    assert unmapped.exit_code == 2 and "bl_number" in unmapped.stderr
    result = runner.invoke(app, ["train", *files, "--outcomes-mapping", str(mapping)])
    assert result.exit_code == 0, result.output
    told = f"outcomes {outcomes}: {len(exported):,} read, "
    assert told in result.stdout and ", 1 rejected (most often result " in result.stdout
    assert f"`risk-engine validate {outcomes} --kind outcomes --mapping {mapping} --rejects" in (
        result.stdout
    )  # the command as it reads the file: without the mapping it could not
    assert f"shipments {shipments}: " in result.stdout and "registered model version 1" in (
        result.stdout
    )


def test_train_with_a_bad_config_names_the_field(
    tmp_path: Path, world_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RISK_ENGINE_HOME", str(tmp_path / "home"))
    shipments, outcomes = world_files
    config = tmp_path / "bad.yaml"
    config.write_text("capacity: 7\n")
    result = runner.invoke(
        app,
        [
            "train",
            "--shipments",
            str(shipments),
            "--outcomes",
            str(outcomes),
            "--config",
            str(config),
        ],
    )
    assert result.exit_code == 2 and "capacity" in result.stderr


def test_train_on_a_file_whose_every_line_is_rejected_names_that_file(
    tmp_path: Path, world_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # It said "no labelled seizures to learn from: check the outcomes file" whichever file
    # had nothing the contract accepted.
    monkeypatch.setenv("RISK_ENGINE_HOME", str(tmp_path / "home"))
    shipments, outcomes = world_files
    broken = tmp_path / "broken.csv"
    lines = (
        pd.read_parquet(shipments).head(20).astype(str)
        if str(shipments).endswith(".parquet")
        else pd.read_csv(shipments, dtype=str).head(20)
    )
    lines["filed_at"] = "yesterday"
    lines.to_csv(broken, index=False)
    result = runner.invoke(app, ["train", "--shipments", str(broken), "--outcomes", str(outcomes)])
    assert result.exit_code == 2, result.output
    assert f"{broken}: no shipment line passed the contract (20 read; most often filed_at" in (
        result.stderr
    )


def test_screen_without_any_model_exits_four(
    tmp_path: Path, world_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RISK_ENGINE_HOME", str(tmp_path / "empty-home"))
    shipments, _ = world_files
    result = runner.invoke(app, ["screen", str(shipments), "--out", str(tmp_path / "o.csv")])
    assert result.exit_code == 4 and "no model" in result.stderr


@pytest.mark.parametrize("command", [["models"], ["train"]])
def test_an_mlflow_store_that_is_not_a_database_is_named_before_any_work(
    tmp_path: Path,
    world_files: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    command: list[str],
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "mlflow.db").write_bytes(b"not a database " * 400)
    monkeypatch.setenv("RISK_ENGINE_HOME", str(home))
    shipments, outcomes = world_files
    if command == ["train"]:
        command = [*command, "--shipments", str(shipments), "--outcomes", str(outcomes)]
    result = runner.invoke(app, command)
    assert result.exit_code == 4, result.output
    assert "cannot open the MLflow tracking store" in result.stderr
    assert "mlflow.db" in result.stderr and "not a database" in result.stderr
    assert "Traceback" not in result.output
    assert not list((home / "reports").glob("training-v*.html"))  # no training was run


def test_an_unreachable_tracking_server_is_given_up_soon_without_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    with socket.socket() as free:  # a port nothing listens on
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    monkeypatch.setenv("RISK_ENGINE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RISK_ENGINE_MLFLOW_TRACKING_URI", f"http://ana:s3cret@127.0.0.1:{port}")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")  # the test's own patience
    for name in ("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "MLFLOW_HTTP_REQUEST_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)  # restored when the test ends
    result = runner.invoke(app, ["models"])
    assert result.exit_code == 4, result.output
    assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "0"  # a setting given is kept
    assert os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "30"  # MLflow's own is 120 s a try
    assert f"http://ana:***@127.0.0.1:{port}" in result.stderr
    assert "s3cret" not in result.output


@pytest.mark.parametrize("command", [["review"], ["train", "--shipments", "s.parquet"]])
def test_an_empty_outcome_store_is_said_as_such(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    # It was "<a temporary folder>/outcomes.parquet: the file has columns but no data rows".
    monkeypatch.setenv("RISK_ENGINE_HOME", str(tmp_path / "home"))
    store = Store.from_settings(Settings(home=tmp_path / "home"))
    store.migrate()  # the service has run, and nothing was recorded
    store.dispose()
    result = runner.invoke(app, [*command, "--outcomes", "store"])
    assert result.exit_code == 2, result.output
    assert "error: the outcome store: it holds no outcomes yet" in result.stderr
    assert "outcomes.parquet" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["retrain", "--phase", "p", "--until", "2024-03-01", "--eval-until", "2024-02-01"],
            "--eval-until='2024-02-01' is not after --until='2024-03-01'",
        ),
        (["retrain", "--phase", "p", "--until", "soon"], "--until='soon' is not an ISO 8601"),
        (["train", "--until", "2024-13-01"], "--until='2024-13-01' is not an ISO 8601"),
        (
            ["train", "--outcomes-mapping", "m.yaml", "--outcomes", "store"],
            "goes with an outcomes file",
        ),
    ],
)
def test_training_periods_that_cannot_be_used_exit_two_naming_the_option(
    tmp_path: Path,
    world_files: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    message: str,
) -> None:
    monkeypatch.setenv("RISK_ENGINE_HOME", str(tmp_path / "home"))
    shipments, outcomes = world_files
    files = ["--shipments", str(shipments)]
    if "--outcomes" not in args:
        files += ["--outcomes", str(outcomes)]
    result = runner.invoke(app, [*args, *files])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output


def test_screen_with_a_scheduler_but_the_local_engine_exits_two(
    tmp_path: Path, world_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The address was ignored, and the batch screened locally unseen.
    monkeypatch.setenv("RISK_ENGINE_HOME", str(tmp_path / "empty-home"))
    shipments, _ = world_files
    out = tmp_path / "o.csv"
    args = ["screen", str(shipments), "--out", str(out), "--scheduler", "tcp://10.0.0.9:8786"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "--scheduler tcp://10.0.0.9:8786 is for --engine dask" in result.stderr
    assert not out.exists()


def test_screen_with_a_bad_capacity_file_exits_two_naming_it_before_the_model(
    tmp_path: Path, world_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RISK_ENGINE_HOME", str(tmp_path / "empty-home"))
    shipments, _ = world_files
    capacity = tmp_path / "capacity.csv"
    capacity.write_text("port_of_discharge,slots_per_day\nVNCLI,many\n")
    result = runner.invoke(
        app,
        [
            "screen",
            str(shipments),
            "--out",
            str(tmp_path / "o.csv"),
            "--capacity-file",
            str(capacity),
        ],
    )
    assert result.exit_code == 2, result.output
    assert f"capacity file {capacity}, row 1: slots_per_day='many'" in result.stderr


def test_screen_with_bad_risk_profiles_exits_two_naming_them_before_the_model(
    tmp_path: Path, world_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RISK_ENGINE_HOME", str(tmp_path / "empty-home"))  # no model either
    shipments, _ = world_files
    rules = tmp_path / "profiles.yaml"
    rules.write_text(
        "profiles:\n  - {name: late, valid_from: 2025-02-01, "
        "valid_until: 2025-01-01, when: {hs_code: ['0507']}}\n"
    )
    result = runner.invoke(
        app,
        ["screen", str(shipments), "--out", str(tmp_path / "o.csv"), "--profiles", str(rules)],
    )
    assert result.exit_code == 2, result.output
    assert f"risk profiles {rules}, profile 1 (late): valid_until" in result.stderr


def test_screen_prints_what_a_watch_list_pick_matched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trained = small_training()
    world, _, _ = small_world()
    later = world.shipments["filed_at"] >= pd.Timestamp(trained.boundaries["test_from"])
    lines = world.shipments[later].head(600)
    arrivals, ranked, watch = (
        tmp_path / "arrivals.parquet",
        tmp_path / "ranked.csv",
        tmp_path / "watch.csv",
    )
    from risk_engine.validation import validate_frame

    accepted = validate_frame(lines.astype(str)).accepted
    # a listed container on a line with a typo elsewhere: rejected, and said so
    typo = lines.astype(str).reset_index(drop=True)
    typo.loc[599, "eta"] = "2024-05-1O"
    typo.to_parquet(arrivals, index=False)
    rejected = str(typo.loc[599, "container_number"])
    accepted = accepted.drop(index=600)
    scores = trained.scorer.score(accepted, explain_reasons=False)["risk_score"]
    # One line among the highest scores, and the lowest-scoring line: a watch-list pick that
    # the top list leaves out must still be printed, with what it matched.
    high = str(accepted.loc[scores.idxmax(), "container_number"])
    low = str(accepted.loc[scores.idxmin(), "container_number"])
    watch.write_text(f"container_number,note\n{high},case 12\n{low},case 13\n{rejected},case 14\n")
    monkeypatch.setenv("RISK_ENGINE_HOME", str(tmp_path / "home"))
    _model_store(tmp_path / "home")
    monkeypatch.setattr("models.registry.load_scorer", lambda which: trained.scorer)
    result = runner.invoke(
        app,
        ["screen", str(arrivals), "--out", str(ranked), "--watchlist", str(watch), "--top", "3"],
    )
    assert result.exit_code == 0, result.output
    printed = result.stdout.splitlines()
    (line,) = [x for x in printed if f"  {high}  " in x]
    assert line.endswith(f"WATCHLIST: container {high} is on the watch list: case 12")
    (line,) = [x for x in printed if f"  {low}  " in x]
    assert line.endswith(f"WATCHLIST: container {low} is on the watch list: case 13")
    below = next(i for i, x in enumerate(printed) if x.startswith("watch-list and rule"))
    assert printed.index(line) > below > printed.index(next(x for x in printed if high in x))
    assert len(printed[1:below]) == 4  # the title and the top 3
    assert "1 line rejected: most often eta malformed (1); write them with --rejects" in (
        result.stderr
    )
    assert "warning: 1 rejected line names watch-list entries, unscored" in result.stderr
    assert f"  row 600: container {rejected} is on the watch list: case 14" in result.stderr


def _later_lines_and_the_small_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: int
) -> tuple[pd.DataFrame, Path, Path]:
    """``count`` lines filed after the small model's training, written to arrivals.parquet,
    with that model served as the registry's: (the lines, the arrivals file, a ranked file)."""
    trained = small_training()
    world, _, _ = small_world()
    later = world.shipments["filed_at"] >= pd.Timestamp(trained.boundaries["test_from"])
    lines = world.shipments[later].head(count)
    arrivals, ranked = tmp_path / "arrivals.parquet", tmp_path / "ranked.csv"
    lines.to_parquet(arrivals, index=False)
    monkeypatch.setenv("RISK_ENGINE_HOME", str(tmp_path / "home"))
    _model_store(tmp_path / "home")
    monkeypatch.setattr("models.registry.load_scorer", lambda which: trained.scorer)
    return lines, arrivals, ranked


def test_screen_refused_for_its_inputs_leaves_yesterdays_list_and_the_inputs_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The outputs were removed before the profiles, the watch list or the model were read: a
    # bad profiles file deleted yesterday's ranked list; and --report could be the profiles.
    _, arrivals, ranked = _later_lines_and_the_small_model(tmp_path, monkeypatch, 50)
    ranked.write_text("yesterday's list\n")
    profiles = tmp_path / "profiles.yaml"
    profiles.write_text(
        "profiles:\n  - {name: a, valid_from: 2024-13-01, when: {hs_code: ['0507']}}\n"
    )
    args = ["screen", str(arrivals), "--out", str(ranked), "--profiles", str(profiles)]
    bad = runner.invoke(app, args)
    assert bad.exit_code == 2 and "profile 1 (a): valid_from" in bad.stderr
    over = runner.invoke(app, [*args, "--report", str(profiles)])
    assert over.exit_code == 2 and "it is the input" in over.stderr
    assert ranked.read_text() == "yesterday's list\n" and "2024-13-01" in profiles.read_text()


def test_screen_warns_of_a_capacity_port_no_line_arrives_at_and_no_table_knows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, arrivals, ranked = _later_lines_and_the_small_model(tmp_path, monkeypatch, 300)
    capacity = tmp_path / "capacity.csv"
    capacity.write_text("port_of_discharge,slots_per_day\nVNHPN,4\n")  # VNHPH misspelt
    args = ["screen", str(arrivals), "--out", str(ranked), "--capacity-file", str(capacity)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "warning: the capacity file lists VNHPN: no line of this batch arrives" in (
        result.stderr
    )


def test_screen_draws_about_the_random_control_share_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each port-day of two slots or more drew at least one control: port-days of two slots gave
    half of them to the draw (the quickstart year drew 22 % of its picks by score and draw for
    the 10 % asked, while its report said 10 % of the slots). Now a port-day of two slots draws
    one with a chance of 0.2."""
    lines, _, ranked = _later_lines_and_the_small_model(tmp_path, monkeypatch, 200)
    # one arrival day: a port-day per port of discharge, a few slots each
    lines = lines.assign(eta=pd.to_datetime(lines["eta"], utc=True).max())
    lines.to_csv(tmp_path / "lines.csv", index=False)
    args = ["screen", str(tmp_path / "lines.csv"), "--out", str(ranked), "--no-history"]
    result = runner.invoke(app, [*args, "--capacity", "0.12"])
    assert result.exit_code == 0, result.output
    picks = pd.read_csv(ranked, keep_default_na=False)
    drawn = int((picks["selection_reason"] == "RANDOM_CONTROL").sum())
    scored = int(picks["selection_reason"].isin(["MODEL", "RANDOM_CONTROL"]).sum())
    assert scored >= 20 and drawn <= 0.35 * scored, (drawn, scored)  # was half
    assert "note: the random control drew" not in result.stderr  # 2.6 asked: too few to judge
    assert "a control needs two slots" not in result.stderr + result.stdout


def test_screen_exits_three_when_every_line_was_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A nightly job took a batch of nothing scored for a quiet day (exit 0)."""
    lines, _, ranked = _later_lines_and_the_small_model(tmp_path, monkeypatch, 50)
    broken = lines.astype(str).assign(eta="bad")
    broken.to_csv(tmp_path / "broken.csv", index=False)
    args = ["screen", str(tmp_path / "broken.csv"), "--out", str(ranked), "--no-history"]
    result = runner.invoke(app, args)
    assert result.exit_code == 3, result.output
    assert "warning: every line of the batch was rejected, nothing was scored" in result.stderr
    assert ranked.exists() and len(pd.read_csv(ranked)) == 0  # written all the same
    # one good line among them: a batch with rejects is a success
    broken.iloc[:1] = lines.astype(str).iloc[:1].to_numpy()
    assert broken.columns[0] == "bl_number"  # Excel's "CSV UTF-8" marks it: still found
    broken.to_csv(tmp_path / "broken.csv", index=False, encoding="utf-8-sig")
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "49 lines rejected" in result.stderr


def test_screen_prints_the_top_containers_with_their_reasons_as_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    lines, arrivals, ranked = _later_lines_and_the_small_model(tmp_path, monkeypatch, 600)
    result = runner.invoke(app, ["screen", str(arrivals), "--out", str(ranked), "--top", "5"])
    assert result.exit_code == 0, result.output
    printed = result.stdout.split("selected containers")[1].splitlines()[1:6]
    selected = pd.read_csv(ranked, keep_default_na=False).query("selected")
    told = set(selected["reasons"]) | set(selected["rule_hits"])
    assert len(printed) == 5
    for line in printed:
        assert "b'" not in line
        assert line.split(": ", 1)[1] in told
        # a score is told to 3 significant digits: a watch-list pick's 0.000409 read 0.000
        score = float(line.split("score ")[1].split()[0])
        assert score > 0 and score in set(selected["risk_score"].map(lambda v: float(f"{v:.3g}")))
    assert "document checks" not in result.stdout  # no yellow lane unless asked
    # the header says how many are shown; --top 0 or less is refused, not a list cut short
    few = runner.invoke(app, ["screen", str(arrivals), "--out", str(ranked), "--top", "100000"])
    assert few.exit_code == 0, few.output
    header, _, rest = few.stdout.partition(" selected containers")
    shown = int(header.rsplit("top ", 1)[1])
    listed = [line for line in rest.splitlines()[1:] if line.startswith("  ")]
    assert 0 < shown == len(listed) <= int(pd.read_csv(ranked)["selected"].sum())
    for bad_top in ("0", "-1"):
        refused = runner.invoke(
            app, ["screen", str(arrivals), "--out", str(ranked), "--top", bad_top]
        )
        assert refused.exit_code == 2, refused.output
    ranked_lines = pd.read_csv(ranked, keep_default_na=False)
    drawn = int((ranked_lines["selection_reason"] == "RANDOM_CONTROL").sum())
    picked = int(ranked_lines["selected"].sum())
    # the note tells a share far from the one asked, where enough was asked to judge
    scored = int(ranked_lines["selection_reason"].isin(["MODEL", "RANDOM_CONTROL"]).sum())
    far = scored * 0.1 >= 10 and not 0.5 <= drawn / (scored * 0.1) <= 1.5
    assert ("note: the random control drew" in result.stderr) is far, (drawn, picked)
    assert "a control needs two slots" not in result.stderr
    none = runner.invoke(
        app, ["screen", str(arrivals), "--out", str(ranked), "--random-control", "0"]
    )
    assert none.exit_code == 0 and "note: the random control drew" not in none.stderr
    # every slot taken by watch-list hits: the note blamed one-slot port-days and counted the
    # hits among the lines the draw should have had a share of
    every = tmp_path / "every.csv"
    pd.DataFrame({"container_number": lines["container_number"]}).to_csv(every, index=False)
    listed = runner.invoke(
        app, ["screen", str(arrivals), "--out", str(ranked), "--watchlist", str(every)]
    )
    assert listed.exit_code == 0, listed.output
    assert "note: the random control drew no line: watch-list and rule hits" in listed.stderr
    assert "a control needs two slots" not in listed.stderr
    caplog.set_level(logging.INFO, logger="models.screening")
    cheap = tmp_path / "cheap.parquet"  # declared at a hundredth of the value: it shows
    lines.assign(declared_value=lines["declared_value"] / 100).to_parquet(cheap, index=False)
    papers = runner.invoke(
        app,
        ["screen", str(cheap), "--out", str(tmp_path / "r2.csv"), "--documentary", "0.05"],
    )
    assert papers.exit_code == 0, papers.output
    # ... and by shippers never seen before, the scores move too, whichever features the model
    # leans on: a warning (the selection no longer holds what it was set for)
    strangers = tmp_path / "strangers.parquet"
    lines.assign(
        declared_value=lines["declared_value"] / 100,
        shipper_name=[f"NEW SHIPPER {i} LTD" for i in range(len(lines))],
    ).to_parquet(strangers, index=False)
    moved = runner.invoke(app, ["screen", str(strangers), "--out", str(tmp_path / "r4.csv")])
    assert moved.exit_code == 0, moved.output
    assert "warning: against the model's training data, the scores are distributed" in (
        moved.stderr
    )
    # said once: it was logged as a warning as well, and printed twice
    logged = [r for r in caplog.records if "the scores are distributed" in r.getMessage()]
    assert logged and all(r.levelno < logging.WARNING for r in logged)
    assert moved.stderr.count("the scores are distributed") == 1
    told = [line for line in papers.stderr.splitlines() if line.startswith("drift: ")]
    assert any("value_per_kg_z_hs6 (" in line for line in told), papers.stderr
    assert all(line.endswith("(the report's 'Against the training data')") for line in told)
    yellow = int((pd.read_csv(tmp_path / "r2.csv")["lane"] == "YELLOW").sum())
    assert yellow > 0 and f"document checks (yellow lane) {yellow:,}" in papers.stdout
    bad = runner.invoke(
        app, ["screen", str(arrivals), "--out", str(tmp_path / "r3.csv"), "--documentary", "2"]
    )
    assert bad.exit_code == 2 and "--documentary" in bad.output


def test_review_reads_the_outcomes_recorded_through_the_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    from risk_engine.factories import valid_outcome_row
    from serve.records import RecordChecker

    monkeypatch.setenv("RISK_ENGINE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RISK_ENGINE_DATABASE_URL", database_url)
    rows = [{k: v for k, v in valid_outcome_row(s).items() if v != ""} for s in range(4)]
    rows[0]["operation_phase"] = "P1\x1b[2J\nall  999"  # clears the screen, forges a row
    checked = RecordChecker("outcomes").check(rows)
    store = Store(database_url)
    store.migrate()
    store.record_outcomes([checked.values(p) for p in sorted(checked.models)])
    store.dispose()
    result = runner.invoke(app, ["review", "--outcomes", "store"])
    assert result.exit_code == 0, result.output
    assert "outcomes read 4, used 4, rejected 0" in result.stderr
    total = next(line for line in result.stdout.splitlines() if line.startswith("all"))
    assert total.split()[1] == "4"
    # the bulk read of the outcomes is in the audit trail: who, what, how many
    store = Store(database_url)
    (read,) = [e for e in store.audit_entries() if e.method == "CLI"]
    store.dispose()
    assert (read.route, read.lines) == ("risk-engine review --outcomes store", 4)
    assert read.detail == "4 outcomes read from the outcome store"
    # a column named twice, a row count past a database integer: tracebacks before
    twice = runner.invoke(
        app, ["review", "--outcomes", "store", "--by", "selection_reason,selection_reason"]
    )
    assert twice.exit_code == 2 and "names a column twice" in twice.stderr
    phases = runner.invoke(app, ["review", "--outcomes", "store", "--by", "operation_phase"])
    assert phases.exit_code == 0, phases.output
    assert "\x1b" not in phases.output
    assert [line.split()[0] for line in phases.stdout.splitlines()].count("all") == 1
    assert "P1\\x1b[2J\\x0aall  999" in phases.stdout


def test_a_share_capacity_over_small_port_days_is_explained() -> None:
    from risk_engine.cli import _small_port_days

    fragments = {"scored": 913, "selected_total": 101, "port_days": 101}
    note = _small_port_days(fragments, 0.03)
    assert note is not None
    assert note.startswith("note: 101 of 913 lines selected (11.1%) against a capacity of 3.0%")
    assert "9.0 lines on average" in note and "--capacity-file" in note
    # slots are a batch's: a port-day split across batches gets them in each
    assert "a port-day's slots go to each batch that holds part of it" in note
    whole_days = {"scored": 366_850, "selected_total": 11_823, "port_days": 4_025}
    assert _small_port_days(whole_days, 0.03) is None
    assert _small_port_days({"scored": 0, "selected_total": 0, "port_days": 0}, 0.03) is None


def test_the_recorded_outcomes_export_to_the_contracts_layout_by_period(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    from risk_engine.factories import valid_outcome_row
    from risk_engine.validation import validate_frame
    from serve.records import RecordChecker

    monkeypatch.setenv("RISK_ENGINE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RISK_ENGINE_DATABASE_URL", database_url)
    rows = [{k: v for k, v in valid_outcome_row(s).items() if v != ""} for s in range(6)]
    checked = RecordChecker("outcomes").check(rows)
    store = Store(database_url)
    store.migrate()
    store.record_outcomes([checked.values(p) for p in sorted(checked.models)])
    store.dispose()
    inspected = sorted(pd.to_datetime([r["inspected_at"] for r in rows], utc=True))
    cut = inspected[3]
    out = tmp_path / "outcomes.csv"
    result = runner.invoke(app, ["outcomes", "--out", str(out), "--since", cut.isoformat()])
    assert result.exit_code == 0, result.output
    assert f"of 6 recorded outcomes written to {out}" in result.stdout
    written = pd.read_csv(out)
    assert len(written) == sum(t >= cut for t in inspected)
    again = validate_frame(pd.read_csv(out, dtype=str, keep_default_na=False), "outcomes")
    assert again.counts["rejected"] == 0 and len(again.accepted) == len(written)
    assert "dq_flags" not in written.columns
    store = Store(database_url)
    (export,) = [e for e in store.audit_entries() if e.method == "CLI"]
    store.dispose()
    assert (export.route, export.lines) == ("risk-engine outcomes --out", len(written))
    assert export.detail == (
        f"{len(written)} of 6 outcomes (since {cut.isoformat()}) exported to {out}"
    )
    bad = runner.invoke(app, ["outcomes", "--out", str(tmp_path / "o.xlsx")])
    assert bad.exit_code == 2
    # a home with no store (misspelt in a nightly job) is the store unreachable, exit 5 as in
    # backup and audit, not 2, which reads as a bad input file
    monkeypatch.setenv("RISK_ENGINE_HOME", str(tmp_path / "hmoe"))
    monkeypatch.delenv("RISK_ENGINE_DATABASE_URL", raising=False)
    for command in (["outcomes", "--out", str(out)], ["review", "--outcomes", "store"]):
        missing = runner.invoke(app, command)
        assert missing.exit_code == 5, missing.output
        assert "there is no outcome store there" in missing.stderr


def test_screen_killed_before_its_outputs_are_named_keeps_neither_list_nor_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after the ranked list was written and before the history was saved, a day looked
    screened and its lines were missing from every later score, unsaid; killed after the
    history was saved and before the list was (the order until stop 25), the rerun gave
    another list. The history is saved after every output is written, before any is named."""
    import copy

    trained = copy.copy(small_training().scorer)
    trained.version = "3"
    world, _, _ = small_world()
    later = world.shipments[world.shipments["filed_at"] >= trained.pipeline.as_of_]
    arrivals = tmp_path / "arrivals.parquet"
    later.head(200).to_parquet(arrivals, index=False)
    monkeypatch.setenv("RISK_ENGINE_HOME", str(tmp_path / "home"))
    _model_store(tmp_path / "home")
    monkeypatch.setattr("models.registry.load_scorer", lambda which: trained)
    ranked = tmp_path / "r.parquet"
    from models.screening import _select as selecting

    def killed(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt("killed while selecting")

    monkeypatch.setattr("models.screening._select", killed)
    result = runner.invoke(app, ["screen", str(arrivals), "--out", str(ranked)])
    assert result.exit_code != 0 and not ranked.exists()
    listed = runner.invoke(app, ["history"])
    assert "added by 1 screening" not in listed.stdout + listed.stderr, listed.output
    monkeypatch.setattr("models.screening._select", selecting)
    again = runner.invoke(app, ["screen", str(arrivals), "--out", str(ranked)])
    assert again.exit_code == 0, again.output
    assert ranked.exists() and len(pd.read_parquet(ranked)) == 200
    assert "feature history of model 3: 200 lines added since training" in again.stdout


def test_screen_keeps_the_feature_history_and_history_tells_and_resets_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import copy

    from risk_engine.factories import seizure_after_filing

    trained = copy.copy(small_training().scorer)
    trained.version = "3"
    world, _, _ = small_world()
    later = world.shipments[world.shipments["filed_at"] >= trained.pipeline.as_of_]
    arrivals = tmp_path / "arrivals.parquet"
    later.head(300).to_parquet(arrivals, index=False)
    monkeypatch.setenv("RISK_ENGINE_HOME", str(tmp_path / "home"))
    _model_store(tmp_path / "home")
    monkeypatch.setattr("models.registry.load_scorer", lambda which: trained)
    before = trained.pipeline.state_.lines_seen

    def screen(*extra: str) -> Any:
        result = runner.invoke(
            app, ["screen", str(arrivals), "--out", str(tmp_path / "r.parquet"), *extra]
        )
        assert result.exit_code == 0, result.output
        return result

    assert "feature history of model 3: 300 lines added since training" in screen().stdout
    assert "no feature history" not in runner.invoke(app, ["history"]).stdout
    again = screen()  # the same batch: nothing added twice
    assert "feature history of model 3: 300 lines added since training" in again.stdout
    listed = runner.invoke(app, ["history"])
    assert listed.exit_code == 0
    assert "model 3: as of" in listed.stdout and f"{before + 300:,} lines" in listed.stdout
    assert "(300 added by 2 screenings since training, 300 offered again" in listed.stdout
    assert "feature history" not in screen("--no-history").stdout  # nothing kept
    assert "by 2 screenings" in runner.invoke(app, ["history"]).stdout
    assert trained.pipeline.state_.lines_seen == before  # the loaded model is left alone
    seized = later.head(300).iloc[0]
    outcome = seizure_after_filing(seized, "DRUGS")
    broken = dict(outcome, result="FOUND SOMETHING")  # not a contract result: rejected
    # 2062 typed for 2026: taken, it moved the history's clock to 2062 and it forgot the lines
    # it held; an inconclusive one gives no label (the counts did not add up without it)
    future = dict(
        seizure_after_filing(later.head(300).iloc[1], "DRUGS"),
        recorded_at="2062-03-01T00:00:00Z",
        inspected_at="2062-02-28T00:00:00Z",
    )
    unclear = dict(
        seizure_after_filing(later.head(300).iloc[2], "DRUGS"),
        result="INCONCLUSIVE",
        seizure_category="",
    )
    # in the centre's own layout, read through a mapping (it read the contract's only)
    exported = pd.DataFrame([outcome, broken, future, unclear])
    exported.rename(columns=lambda c: f"src_{c}").to_csv(tmp_path / "outcomes.csv", index=False)
    mapping = tmp_path / "outcomes.yaml"
    mapping.write_text("fields:\n" + "".join(f"  {c}: src_{c}\n" for c in exported.columns))
    as_of = re.search(r"as of (\S+),", runner.invoke(app, ["history"]).stdout)
    added = runner.invoke(
        app,
        ["history", "--add-outcomes", str(tmp_path / "outcomes.csv"), "--mapping", str(mapping)],
    )
    assert added.exit_code == 0, added.output
    assert (
        "outcomes read 4, rejected 1; of the 3 accepted: 0 recorded before the model's training cut-off"
        in (added.stdout)
    )
    assert "2 added (1 found their line, 0 did not" in added.stdout
    assert "1 inconclusive, which give no label), 0 not added: their line is not in" in (
        added.stdout
    )
    assert "next --add-outcomes, 1 left out: recorded more than" in added.stdout
    assert "older than the 120 days of lines kept (label_lookback_days" in added.stdout
    assert "2 outcomes added since training" in added.stdout
    assert as_of is not None  # the outcomes did not move the history's clock
    assert f"as of {as_of.group(1)}," in runner.invoke(app, ["history"]).stdout
    both = runner.invoke(app, ["history", "--reset", "3", "--prune", "--yes"])
    assert both.exit_code == 2 and "--prune and --reset: one at a time" in both.stderr
    # an outcome file is no screening ("0 added by 2 screenings" after two outcome files)
    assert re.search(
        r"added by 2 screenings since training, .*; 2 outcomes added by 1 outcome run \(a file or the store\); \d+\.\d MB; "
        rf"name rules {NAME_RULES}\); last: ",
        runner.invoke(app, ["history"]).stdout,
    )
    missing = runner.invoke(app, ["history", "--add-outcomes", str(tmp_path / "none.csv")])
    assert missing.exit_code == 2 and "none.csv" in missing.output
    from models.history import ModelHistory

    with ModelHistory(tmp_path / "home").advancing("3"):  # a screening adding to it now
        busy = runner.invoke(app, ["history", "--reset", "3", "--yes"])
    # It deleted the files under the screening, which then saved them back on finishing.
    assert busy.exit_code == 2
    assert "a screening is adding to the feature history of model 3 now" in busy.stderr
    assert "model 3: as of" in runner.invoke(app, ["history"]).stdout  # still there
    # It asks first: no (or no answer, a script without --yes) forgets nothing.
    declined = runner.invoke(app, ["history", "--reset", "3"], input="n\n")
    assert declined.exit_code == 1 and "nothing forgotten" in declined.stderr
    assert "model 3: as of" in declined.stdout and "Forget the feature history" in declined.stderr
    unanswered = runner.invoke(app, ["history", "--reset", "3"])  # end of input
    assert unanswered.exit_code == 1 and "nothing forgotten" in unanswered.stderr
    assert "model 3: as of" in runner.invoke(app, ["history"]).stdout
    reset = runner.invoke(app, ["history", "--reset", "3"], input="y\n")
    assert reset.exit_code == 0 and "forgotten" in reset.stdout
    # the lock file stays (removed, a screening waiting on it ran beside a second one)
    assert [p.name for p in (tmp_path / "home" / "history").glob("model-3*")] == ["model-3.lock"]
    assert "no feature history yet" in runner.invoke(app, ["history"]).stdout
    unknown = runner.invoke(app, ["history", "--reset", "3", "--yes"])
    assert unknown.exit_code == 2 and "model 3 has no feature history" in unknown.output


def test_history_prune_forgets_the_histories_no_alias_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from models.history import ModelHistory
    from models.registry import ModelVersionInfo

    pipeline = small_training().scorer.pipeline
    monkeypatch.setenv("RISK_ENGINE_HOME", str(tmp_path / "home"))
    _model_store(tmp_path / "home")
    histories = ModelHistory(tmp_path / "home")
    for version in ("1", "2", "3"):
        histories.save(version, pipeline, source="day.parquet", lines_before=0)
    size = histories.size("1")
    assert size > 0

    def registry(*named: tuple[str, list[str]]) -> None:
        created = pd.Timestamp("2025-01-01", tz="UTC")
        versions = [ModelVersionInfo(v, a, created, "run", {}) for v, a in named]
        monkeypatch.setattr("models.registry.list_versions", lambda: versions)

    registry()  # a registry that cannot be read must not empty the histories
    refused = runner.invoke(app, ["history", "--prune"])
    assert refused.exit_code == 2 and "nothing pruned" in refused.output
    assert [i.model_version for i in histories.all()] == ["1", "2", "3"]

    registry(("1", []), ("2", ["challenger"]), ("3", ["champion"]))
    declined = runner.invoke(app, ["history", "--prune"], input="n\n")
    assert declined.exit_code == 1 and "nothing forgotten" in declined.stderr
    assert "model 1: as of" in declined.stdout and "model 2" not in declined.stdout
    assert [i.model_version for i in histories.all()] == ["1", "2", "3"]
    pruned = runner.invoke(app, ["history", "--prune", "--yes"])
    assert pruned.exit_code == 0, pruned.output
    assert f"feature history of model 1 forgotten: {size / 1e6:,.1f} MB" in pruned.stdout
    assert "1 histories forgotten" in pruned.stdout
    assert "kept: 2 (challenger), 3 (champion)" in pruned.stdout
    assert [i.model_version for i in histories.all()] == ["2", "3"]
    assert [p.name for p in (tmp_path / "home/history").glob("model-1.*")] in ([], ["model-1.lock"])

    registry(("2", []), ("3", ["champion"]))
    with histories.advancing("2"):  # a screening adding to it now: left alone
        busy = runner.invoke(app, ["history", "--prune", "-y"])
    assert busy.exit_code == 0 and "model 2: a screening is adding" in busy.stdout
    assert [i.model_version for i in histories.all()] == ["2", "3"]
    assert "0 histories forgotten" in busy.stdout


def test_screen_says_when_lines_are_older_than_the_history_keeps_exact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import copy

    trained = small_training().scorer
    late = copy.copy(trained)
    late.pipeline = copy.deepcopy(trained.pipeline)
    late.pipeline.state_.as_of += 30 * 86_400  # the history is a month past these filings
    world, _, _ = small_world()
    later = world.shipments[world.shipments["filed_at"] >= trained.pipeline.as_of_]
    later.head(200).to_parquet(tmp_path / "a.parquet", index=False)
    monkeypatch.setenv("RISK_ENGINE_HOME", str(tmp_path / "home"))
    _model_store(tmp_path / "home")
    monkeypatch.setattr("models.registry.load_scorer", lambda which: late)
    result = runner.invoke(
        app,
        ["screen", str(tmp_path / "a.parquet"), "--out", str(tmp_path / "r.csv"), "--no-history"],
    )
    assert result.exit_code == 0, result.output
    assert "note: 200 lines were filed more than 7 days before the feature history" in (
        result.stderr
    )
    assert "rescore_days" in result.stderr
    # their shift is the history's: the drift check leaves them out, and says so
    assert "drift: no line compared: all 200 lines of the batch have approximate" in result.stderr
    assert "warning: against the model's training data" not in result.stderr


def test_screen_says_when_lines_are_older_than_the_history_keeps_their_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lines filed before the history's key horizon are added, but it cannot tell whether it
    added them before: with the history on, the command says so and counts them."""
    import copy

    trained = small_training().scorer
    late = copy.copy(trained)
    late.pipeline = copy.deepcopy(trained.pipeline)
    state = late.pipeline.state_
    state.as_of += 400 * 86_400  # the history is more than a year past these filings
    state.remember(late.pipeline.state_.recent.head(0), np.zeros(0, np.uint64))
    world, _, _ = small_world()
    later = world.shipments[world.shipments["filed_at"] >= trained.pipeline.as_of_]
    later.head(200).to_parquet(tmp_path / "a.parquet", index=False)
    monkeypatch.setenv("RISK_ENGINE_HOME", str(tmp_path / "home"))
    _model_store(tmp_path / "home")
    monkeypatch.setattr("models.registry.load_scorer", lambda which: late)
    args = ["screen", str(tmp_path / "a.parquet"), "--out", str(tmp_path / "r.csv")]
    kept = runner.invoke(app, args)
    assert kept.exit_code == 0, kept.output
    assert "note: 200 lines were filed more than 379 days before the feature history's" in (
        kept.stderr
    )
    assert "--no-history" in kept.stderr
    listed = runner.invoke(app, ["history"]).stdout
    horizon = pd.Timestamp(state.key_horizon, unit="s", tz="UTC")
    assert f"recognised back to {horizon:%Y-%m-%d}, 200 added from before that;" in listed
    unkept = runner.invoke(app, [*args[:2], "--out", str(tmp_path / "r2.csv"), "--no-history"])
    assert unkept.exit_code == 0 and "more than 379 days" not in unkept.stderr


def test_a_stop_asked_with_sigterm_unwinds_and_cleans_up(tmp_path: Path) -> None:
    """systemd stops a screening with SIGTERM: it left its temporary folder of scored parts."""
    import os
    import signal
    import tempfile

    from risk_engine.cli import _stopped_cleanly

    before = signal.getsignal(signal.SIGTERM)
    folder: list[str] = []
    with pytest.raises(SystemExit) as stopped, _stopped_cleanly():
        with tempfile.TemporaryDirectory(dir=tmp_path, prefix="screen-") as tmp:
            folder.append(tmp)
            (Path(tmp) / "part-00000.parquet").write_bytes(b"x" * 1000)
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler raises before this ends
    assert stopped.value.code == 143
    assert folder and not Path(folder[0]).exists()
    assert signal.getsignal(signal.SIGTERM) == before  # put back as it was


def test_screen_tells_a_batch_filed_days_after_its_history_with_or_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gap was told only with the kept history: with --no-history a batch weeks after the
    training's cut-off was scored without those weeks, unsaid."""
    import copy

    trained = copy.copy(small_training().scorer)
    trained.version = "3"
    world, _, _ = small_world()
    filed = world.shipments["filed_at"]
    later = world.shipments[filed >= trained.pipeline.as_of_ + pd.Timedelta(days=10)]
    later.head(100).to_parquet(tmp_path / "a.parquet", index=False)
    monkeypatch.setenv("RISK_ENGINE_HOME", str(tmp_path / "home"))
    _model_store(tmp_path / "home")
    monkeypatch.setattr("models.registry.load_scorer", lambda which: trained)
    args = ["screen", str(tmp_path / "a.parquet"), "--out", str(tmp_path / "r.csv")]
    unkept = runner.invoke(app, [*args, "--no-history"])
    assert unkept.exit_code == 0, unkept.output
    assert "note: with --no-history the batch was scored with the history of model 3's" in (
        unkept.stderr
    )
    kept = runner.invoke(app, args)
    assert kept.exit_code == 0, kept.output
    assert "note: the feature history of model 3 reached" in kept.stderr
    assert "with --no-history the batch" not in kept.stderr


def test_commands_that_read_models_make_nothing_in_a_home_that_is_not_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`models` on a misspelt home made a new, empty one (mlflow.db, mlartifacts, reports) and
    said "no registered model yet" with exit 0; `screen` and `history --prune` made it too."""
    typo = tmp_path / "hmoe"
    monkeypatch.setenv("RISK_ENGINE_HOME", str(typo))
    monkeypatch.delenv("RISK_ENGINE_MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("RISK_ENGINE_DATABASE_URL", raising=False)
    arrivals = tmp_path / "arrivals.csv"
    arrivals.write_text("bl_number\nX\n")
    for command in (
        ["models"],
        ["models", "--discard", "2"],
        ["history", "--prune", "--yes"],
        ["screen", str(arrivals), "--out", str(tmp_path / "ranked.csv")],
    ):
        result = runner.invoke(app, command)
        assert result.exit_code == 4, (command, result.output)
        assert f"no model store at {typo / 'mlflow.db'}" in result.stderr
        assert not typo.exists(), command
    # a misspelt tracking store's file, the home's set right: the same
    monkeypatch.setenv("RISK_ENGINE_MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlfow.db'}")
    result = runner.invoke(app, ["models"])
    assert result.exit_code == 4 and f"no model store at {tmp_path / 'mlfow.db'}" in result.stderr
    assert not (tmp_path / "mlfow.db").exists() and not typo.exists()
    # a store whose path is percent-encoded in its URI is found, as SQLAlchemy opens it
    (tmp_path / "sp ace").mkdir()
    (tmp_path / "sp ace" / "mlflow.db").touch()
    monkeypatch.setenv(
        "RISK_ENGINE_MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/sp%20ace/mlflow.db"
    )
    found = runner.invoke(app, ["models"])
    assert found.exit_code == 0 and "no registered model yet" in found.stdout, found.output


def test_the_control_note_takes_the_share_of_every_slot_as_the_selection_does() -> None:
    """The share asked was taken of the slots the hits left: port-days whose hits filled half
    their slots drew one control in ten slots, as asked, and were told they drew twice that."""
    from risk_engine.cli import _control_note

    # 200 port-days of 10 slots: 5 hits, 4 model picks and 1 control each
    as_asked = {"WATCHLIST": 1_000, "MODEL": 800, "RANDOM_CONTROL": 200}
    assert _control_note(as_asked, 0.1) is None
    # a third of the share asked, and twice it: told, with the counts
    few = _control_note({"MODEL": 990, "RANDOM_CONTROL": 30}, 0.1)
    assert few is not None and "drew 30 of the 1,020 lines" in few and "10% asked" in few
    many = _control_note({"MODEL": 800, "RANDOM_CONTROL": 200}, 0.1)
    assert (
        many is not None
        and "drew 200 of the 1,000 lines selected by score and draw (20.0%)" in many
    )
    # too few asked to judge; no share asked; hits that took every slot
    assert _control_note({"MODEL": 40, "RANDOM_CONTROL": 20}, 0.1) is None
    assert _control_note({"MODEL": 1_000}, 0.0) is None
    every = _control_note({"WATCHLIST": 30}, 0.1)
    assert every is not None and "hits (30) took every slot" in every
