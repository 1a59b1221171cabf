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
