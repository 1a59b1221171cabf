"""risk_engine package."""

import os

# MLflow 3 sends usage telemetry to its vendor's servers (config.mlflow-telemetry.io) and keeps
# an installation id under the user's home unless it is told not to: `train` tried to reach it
# from a targeting centre's network. Every entry point (the CLI, `python -m serve.run`,
# `python -m training.arrivals`) imports this package before MLflow. An operator who wants the
# telemetry sets MLFLOW_DISABLE_TELEMETRY=false.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

__all__: list[str] = []
