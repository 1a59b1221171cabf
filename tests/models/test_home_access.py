"""A home, a feature history or a model store that the user running the engine may not read or
write (a service user, or cron as another account, on a home another user made): each is told
by its path and the permission, exit 2, never a traceback.

File modes do not apply to root, so as root each case runs in a process without the
capabilities that pass over them (``setpriv``, as `DROP` does in the colleague's scripts)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from risk_engine.factories import shipment_frame

_CLI = "from risk_engine.cli import app; app()"


def _run(prefix: list[str], home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RISK_ENGINE_", "MLFLOW_"))}
    env["RISK_ENGINE_HOME"] = str(home)
    return subprocess.run(
        [*prefix, sys.executable, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )


def test_a_home_this_user_may_not_read_is_named_with_the_permission(
    tmp_path: Path, obeying_modes: list[str]
) -> None:
    """A home owned by another user: `models` and `screen` gave a traceback (PermissionError on
    mlflow.db from `Path.is_file`), `history` one from listing its folder."""
    home = tmp_path / "home"
    (home / "history").mkdir(parents=True)
    (home / "mlflow.db").touch()
    arrivals = tmp_path / "day.csv"
    shipment_frame(5).to_csv(arrivals, index=False)
    told = {
        "models": f"its model store {home / 'mlflow.db'} cannot be read (Permission denied)",
        "history": f"its feature histories {home / 'history'} cannot be read (Permission denied)",
        "screen": f"its model store {home / 'mlflow.db'} cannot be read (Permission denied)",
    }
    home.chmod(0o000)
    try:
        for command, message in told.items():
            extra = [str(arrivals), "--out", str(tmp_path / "r.csv")] if command == "screen" else []
            result = _run(obeying_modes, home, "-c", _CLI, command, *extra)
            assert result.returncode == 2, (command, result.stderr)
            assert f"setting RISK_ENGINE_HOME={str(home)!r}: {message}" in result.stderr, command
            assert "Traceback" not in result.stderr
    finally:
        home.chmod(0o700)


_HOLD = """
import sys
from models.history import ModelHistory
from risk_engine.errors import ConfigError
histories = ModelHistory(sys.argv[1])
try:
    with histories.advancing("1"):
        print("held")
except ConfigError as error:
    print("ConfigError:", error)
try:
    print("pruned", histories.prune(keep=()))
except ConfigError as error:
    print("ConfigError:", error)
"""


@pytest.mark.parametrize("lock_mode", [0o444, 0o644], ids=["lock read-only", "lock writable"])
def test_a_history_folder_this_user_may_not_write_is_named_before_the_work(
    tmp_path: Path, lock_mode: int, obeying_modes: list[str]
) -> None:
    """`screen` gave a traceback from opening the lock file in a history folder it may not
    write in; with a lock file it could open, it would have failed only when saving, after the
    work. `history --prune` told such a history as "a screening is adding to it now"."""
    home = tmp_path / "home"
    folder = home / "history"
    folder.mkdir(parents=True)
    (folder / "model-1.lock").touch()
    (folder / "model-2.json").write_text('{"model_version": "2", "as_of": "", "lines": 0}')
    (folder / "model-1.lock").chmod(lock_mode)
    folder.chmod(0o555)
    try:
        result = _run(obeying_modes, home, "-c", _HOLD, str(home))
    finally:
        folder.chmod(0o755)
        (folder / "model-1.lock").chmod(0o644)
    assert result.returncode == 0, result.stderr
    held, pruned = result.stdout.splitlines()
    assert held.startswith(
        f"ConfigError: cannot add to the feature history of model 1 in {folder}: Permission denied"
    )
    assert "--no-history" in held
    assert pruned.startswith("ConfigError: cannot add to the feature history of model 2")
    # a folder it may write in is held as before
    assert _run(obeying_modes, home, "-c", _HOLD, str(home)).stdout.splitlines()[0] == "held"


_LOAD = """
import hashlib, sys
from models.registry import configure_mlflow, load_scorer
from risk_engine.settings import load_settings
configure_mlflow(load_settings(), existing=True)
for which in ("champion", "1"):
    scorer = load_scorer(which)
    print(which, scorer.version, hashlib.sha256(scorer.booster_text.encode()).hexdigest())
"""


def test_a_model_store_this_user_may_only_read_loads_its_versions(
    tmp_path: Path, obeying_modes: list[str]
) -> None:
    """Loading as ``models:/NAME/V`` made MLflow rewrite ``registered_model_meta`` in the
    model's own folder on every load: a service user with read-only access to the model store
    got "no model ... Permission denied" (screen exit 4, serve never ready). Checked on a home
    moved elsewhere, whose store the engine re-pointed at its own folder."""
    import hashlib

    from models.registry import configure_mlflow
    from risk_engine.settings import Settings
    from training.config import TrainConfig
    from training.fixtures import small_training
    from training.tracking import log_training

    trained = small_training()
    config = TrainConfig(seed=1, booster={"max_rounds": 5, "num_threads": 2})
    first = Settings(home=tmp_path / "site-a")
    configure_mlflow(first)
    log_training(trained, settings=first, config=config, data_info={}, run_name="first")
    shutil.copytree(first.home, tmp_path / "site-b")  # restored on another machine
    shutil.rmtree(first.home)
    moved = Settings(home=tmp_path / "site-b")
    configure_mlflow(moved)  # re-points the store at site-b, as its owner's first command does
    store = moved.artifact_location
    files = [store, *store.rglob("*")]
    for path in files:
        path.chmod(path.stat().st_mode & ~0o222)  # another user trained it: readable only
    before = {path: path.stat().st_mtime_ns for path in files}
    try:
        result = _run(obeying_modes, moved.home, "-c", _LOAD)
    finally:
        for path in files:
            path.chmod(path.stat().st_mode | 0o200)
    assert result.returncode == 0, result.stderr
    booster = hashlib.sha256(trained.scorer.booster_text.encode()).hexdigest()
    assert result.stdout.split() == ["champion", "1", booster, "1", "1", booster]
    assert {path: path.stat().st_mtime_ns for path in files} == before  # nothing rewritten
    assert [path for path in store.rglob("*") if path not in before] == []
