"""Cutting demo arrivals files: a filing period, and a clear refusal of --until alone."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from training.arrivals import main


def _lines() -> pd.DataFrame:
    filed = pd.date_range("2024-04-28", periods=96, freq="h", tz="UTC")
    return pd.DataFrame(
        {
            "bl_number": [f"BL{i:04d}" for i in range(len(filed))],
            "filed_at": filed.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eta": (filed + pd.Timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    )


def test_a_filing_day_is_cut_out_with_since_and_until(tmp_path: Path) -> None:
    source = tmp_path / "all.parquet"
    _lines().to_parquet(source, index=False)
    out = tmp_path / "day.parquet"
    main([str(source), str(out), "--since", "2024-04-30", "--until", "2024-05-01"])
    day = pd.read_parquet(out)
    filed = pd.to_datetime(day["filed_at"], utc=True)
    assert len(day) == 24
    assert filed.min() == pd.Timestamp("2024-04-30", tz="UTC")
    assert filed.max() < pd.Timestamp("2024-05-01", tz="UTC")


def test_until_without_since_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "all.parquet"
    _lines().to_parquet(source, index=False)
    with pytest.raises(SystemExit) as stopped:
        main([str(source), str(tmp_path / "x.parquet"), "--until", "2024-05-01"])
    assert stopped.value.code == 2


def test_the_help_tells_the_whole_description(capsys: pytest.CaptureFixture[str]) -> None:
    """`--help` stopped mid-sentence: "... the lines arriving in"."""
    from training.arrivals import main

    with pytest.raises(SystemExit):
        main(["--help"])
    told = " ".join(capsys.readouterr().out.split())
    assert "the lines filed in a period (a day or a year after a model's cut-off)." in told
