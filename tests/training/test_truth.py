"""The simulator's truth file (--truth): checked before any training."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from risk_engine.errors import ConfigError
from risk_engine.factories import valid_outcome_row
from training.data import load_truth


def test_a_truth_file_that_is_none_is_told_before_any_training(tmp_path: Path) -> None:
    # A missing file was a FileNotFoundError, the outcomes file given as --truth a KeyError after
    # the whole training run.
    assert load_truth(None) is None
    with pytest.raises(ConfigError, match="cannot be read"):
        load_truth(tmp_path / "missing.parquet")
    outcomes = tmp_path / "outcomes.csv"
    pd.DataFrame([valid_outcome_row(1)]).to_csv(outcomes, index=False)
    with pytest.raises(ConfigError, match="lacks has_contraband, p_contraband"):
        load_truth(outcomes)
