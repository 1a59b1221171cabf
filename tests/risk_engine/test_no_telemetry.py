"""The engine contacts no one it was not told to: MLflow's usage telemetry is off."""

from __future__ import annotations

import os
import subprocess
import sys


def _telemetry_disabled(**env: str) -> str:
    # a clean process: MLflow turns telemetry off by itself under pytest or CI, which hid it
    clean = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_CURRENT_TEST")}
    clean.pop("MLFLOW_DISABLE_TELEMETRY", None)
    clean.update(env)
    code = (
        "import risk_engine.cli\n"
        "from mlflow.environment_variables import MLFLOW_DISABLE_TELEMETRY\n"
        "print(MLFLOW_DISABLE_TELEMETRY.get())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=clean, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_mlflow_telemetry_is_off_unless_the_operator_turns_it_on() -> None:
    assert _telemetry_disabled() == "True"
    assert _telemetry_disabled(MLFLOW_DISABLE_TELEMETRY="false") == "False"
