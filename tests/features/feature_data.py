"""Small seeded history for the feature tests: lines with recurring parties, and outcomes.

`risk_engine.factories.shipment_frame` gives valid lines with thousands of distinct parties; the
history features need parties that recur, lines filed at the same second, and B/Ls with several
containers, so `history_lines` reshapes the factory's lines before validating them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from risk_engine.factories import shipment_frame
from risk_engine.validation import validate_frame

START = pd.Timestamp("2025-03-01", tz="UTC")
ISO = "%Y-%m-%dT%H:%M:%SZ"


def normalise(frame: pd.DataFrame, kind: str = "shipments") -> pd.DataFrame:
    """Text records through the contract, as the pipeline receives them; all must pass."""
    result = validate_frame(frame, kind)
    assert result.counts["rejected"] == 0, result.issues.head()
    return result.accepted


def raw_history(n: int, seed: int, *, days: int = 20, parties: int = 4) -> pd.DataFrame:
    """``n`` text lines over ``days`` days: few parties, B/Ls of 1-3 containers filed at once,
    and some B/Ls filed at the very same second as another B/L."""
    rng = np.random.default_rng(seed)
    frame = shipment_frame(n, seed)
    bl = np.cumsum(rng.random(n) < 0.55)  # consecutive lines share a B/L about half the time
    frame["bl_number"] = [f"BL{seed}X{b}" for b in bl]
    minutes = np.sort(rng.integers(0, days * 24 * 60, size=bl.max() + 1))
    minutes[1::7] = minutes[0::7][: len(minutes[1::7])]  # some B/Ls share their filing second
    filed = START + pd.to_timedelta(minutes[bl], unit="min")
    frame["filed_at"] = filed.strftime(ISO)
    frame["booking_created_at"] = (filed - pd.Timedelta(days=12)).strftime(ISO)
    frame["etd"] = (filed - pd.Timedelta(days=2)).strftime(ISO)
    frame["eta"] = (filed + pd.Timedelta(days=3)).strftime(ISO)
    shippers = np.array([f"SHIPPER {i} LTD" for i in range(parties)])
    consignees = np.array([f"Consignee {i} Co., Ltd" for i in range(parties)])
    frame["shipper_name"] = shippers[rng.integers(0, parties, size=bl.max() + 1)][bl]
    frame["consignee_name"] = consignees[rng.integers(0, parties, size=bl.max() + 1)][bl]
    frame["voyage_number"] = "V" + pd.Series(minutes[bl] // (3 * 24 * 60)).astype(str).to_numpy()
    return frame


def history_lines(n: int, seed: int, **kwargs: int) -> pd.DataFrame:
    return normalise(raw_history(n, seed, **kwargs))


def outcomes_for(
    lines: pd.DataFrame,
    rows: list[int] | np.ndarray,
    *,
    results: list[str] | None = None,
    delay_days: float | list[float] = 5.0,
) -> pd.DataFrame:
    """Normalised outcomes of the lines at positions ``rows``, recorded ``delay_days`` after
    filing (a seizure unless ``results`` says otherwise)."""
    picked = lines.iloc[list(rows)]
    k = len(picked)
    delays = np.broadcast_to(np.asarray(delay_days, dtype=float), (k,))
    filed = pd.DatetimeIndex(picked["filed_at"])
    recorded = filed + pd.to_timedelta(delays, unit="D")
    inspected = recorded - pd.to_timedelta(np.abs(delays) / 2, unit="D")
    results = results or ["SEIZURE"] * k
    frame = pd.DataFrame(
        {
            "bl_number": picked["bl_number"].to_numpy(dtype=object),
            "container_number": picked["container_number"].to_numpy(dtype=object),
            "selection_reason": "RANDOM_CONTROL",
            "inspected_at": inspected.strftime(ISO),
            "result": results,
            "seizure_category": ["WILDLIFE" if r == "SEIZURE" else "" for r in results],
            "recorded_at": recorded.strftime(ISO),
        }
    )
    return normalise(frame, "outcomes")


def random_outcomes(lines: pd.DataFrame, seed: int, share: float = 0.3) -> pd.DataFrame:
    """Outcomes for a random share of the lines: a third seizures, varied delays."""
    rng = np.random.default_rng(seed)
    rows = np.flatnonzero(rng.random(len(lines)) < share)
    results = ["SEIZURE" if x < 0.33 else "NO_FINDING" for x in rng.random(len(rows))]
    delays = list(rng.uniform(0.2, 12.0, size=len(rows)))
    return outcomes_for(lines, rows, results=results, delay_days=delays)


def assert_same_features(left: pd.DataFrame, right: pd.DataFrame, *, rtol: float = 1e-9) -> None:
    """Equal features: numbers to a relative tolerance (NaN equal to NaN), categories as text."""
    assert list(left.columns) == list(right.columns)
    assert left.index.equals(right.index)
    for name in left.columns:
        a, b = left[name], right[name]
        if isinstance(a.dtype, pd.CategoricalDtype):
            assert a.astype(object).equals(b.astype(object)), name
            continue
        x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
        same = np.isclose(x, y, rtol=rtol, atol=1e-12) | (np.isnan(x) & np.isnan(y))
        assert same.all(), (name, left.index[~same][:5].tolist(), x[~same][:5], y[~same][:5])
