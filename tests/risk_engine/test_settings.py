"""Settings come from RISK_ENGINE_* variables, and importing reads nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from risk_engine.cli import app
from risk_engine.errors import ConfigError
from risk_engine.settings import Settings, load_settings, read_environment, without_password
from serve.config import ServeLimits


def test_home_and_stores_follow_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RISK_ENGINE_HOME", str(tmp_path))
    settings = load_settings()
    assert settings.home == tmp_path
    assert settings.tracking_uri == f"sqlite:///{tmp_path.as_posix()}/mlflow.db"
    assert settings.store_url.startswith("sqlite:///") and str(tmp_path) in settings.store_url


def test_database_url_can_point_at_postgres(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISK_ENGINE_DATABASE_URL", "postgresql+psycopg://u@db/risk")
    assert load_settings().store_url == "postgresql+psycopg://u@db/risk"


def test_bad_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISK_ENGINE_CHUNK_ROWS", "lots")
    with pytest.raises(ConfigError, match=r"setting RISK_ENGINE_CHUNK_ROWS='lots': Input should"):
        load_settings()
    # every command refuses at once, exit 2, with that line and no traceback
    result = CliRunner().invoke(app, ["schema", "shipments"])
    assert result.exit_code == 2
    assert "error: setting RISK_ENGINE_CHUNK_ROWS='lots'" in result.stderr
    assert "Traceback" not in result.output
    monkeypatch.delenv("RISK_ENGINE_CHUNK_ROWS")
    monkeypatch.setenv("RISK_ENGINE_SERVE_MAX_LINES", "0")
    with pytest.raises(ConfigError, match=r"setting RISK_ENGINE_SERVE_MAX_LINES='0'"):
        read_environment(ServeLimits)
    assert read_environment(ServeLimits, max_lines=7).max_lines == 7  # given wins


def test_importing_the_packages_creates_no_state(tmp_path: Path) -> None:
    home = tmp_path / "home"
    code = "import risk_engine.settings, risk_engine.cli, features.ingest, risk_engine.validation"
    env = {"RISK_ENGINE_HOME": str(home), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=Path(__file__).parents[2])
    assert not home.exists()


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        ("postgresql://ana:pa%40ss@db:5432/mlflow", "postgresql://ana:***@db:5432/mlflow"),
        ("https://:token@mlflow.example/", "https://:***@mlflow.example/"),
        ("sqlite:////srv/home/mlflow.db", "sqlite:////srv/home/mlflow.db"),
        ("http://ana@mlflow:5000", "http://ana@mlflow:5000"),
    ],
)
def test_a_uri_is_shown_without_its_password(uri: str, shown: str) -> None:
    assert without_password(uri) == shown
    assert Settings(mlflow_tracking_uri=uri).tracking_uri_shown == shown


@pytest.mark.parametrize(
    ("home", "told"),
    [
        ("", "is empty"),  # every store was made in the current folder
        ("  ", "is empty"),
        ("site%41", "holds a % or ?"),  # the store went to siteA
        ("why?", "holds a % or ?"),
    ],
)
def test_a_home_the_stores_cannot_use_is_refused_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, home: str, told: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RISK_ENGINE_HOME", home)
    result = CliRunner().invoke(app, ["keys", "list"])
    assert result.exit_code == 2, result.output
    assert f"error: setting RISK_ENGINE_HOME={home!r}: " in result.stderr and told in result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing made anywhere


def test_a_home_or_a_database_folder_that_cannot_be_made_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("RISK_ENGINE_HOME", str(tmp_path / "a-file" / "home"))
    # train makes the home (a command that only reads models refuses one without its store)
    result = CliRunner().invoke(
        app, ["train", "--shipments", "s.parquet", "--outcomes", "o.parquet"]
    )
    assert result.exit_code == 2, result.output
    assert "its folders cannot be made there (Not a directory)" in result.stderr
    monkeypatch.setenv("RISK_ENGINE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RISK_ENGINE_DATABASE_URL", f"sqlite:///{tmp_path}/a-file/engine.db")
    result = CliRunner().invoke(app, ["keys", "list"])
    assert result.exit_code == 5, result.output
    assert "/a-file/engine.db: its folder cannot be made (File exists)" in result.stderr
    assert "Traceback" not in result.output
