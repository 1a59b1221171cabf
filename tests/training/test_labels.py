"""Labels from inspection outcomes: which inspection of a line labels it."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from training.data import label_lines


def _outcome(container: str, result: str, day: int, reason: str = "MODEL") -> dict[str, object]:
    at = pd.Timestamp("2025-03-01", tz="UTC") + pd.Timedelta(days=day)
    return {
        "bl_number": "BL1",
        "container_number": container,
        "result": result,
        "inspected_at": at,
        "recorded_at": at + pd.Timedelta(hours=2),
        "selection_reason": reason,
        "selection_probability": {"MODEL": 1.0, "RANDOM_CONTROL": 0.25}.get(reason),
    }


def test_a_line_inspected_twice_is_a_seizure_when_either_inspection_found_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The first inspection counted: a scan that found nothing, then a physical inspection
    # that found drugs, trained as NO_FINDING.
    shipments = pd.DataFrame(
        {"bl_number": "BL1", "container_number": ["A", "B", "C", "D", "E", "F"]}
    )
    outcomes = pd.DataFrame(
        [
            _outcome("A", "NO_FINDING", 0),
            _outcome("A", "SEIZURE", 3, reason="RANDOM_CONTROL"),
            _outcome("B", "SEIZURE", 1),
            _outcome("B", "NO_FINDING", 4),
            _outcome("C", "NO_FINDING", 2),
            _outcome("C", "NO_FINDING", 5),
            _outcome("D", "INCONCLUSIVE", 0),
            _outcome("D", "NO_FINDING", 6),
            _outcome("E", "NO_FINDING", 0, reason="RANDOM_CONTROL"),
            _outcome("E", "SEIZURE", 2, reason="INTELLIGENCE"),
            # an inconclusive control scan, then an intelligence search that seized: still a
            # control pick (it became an INTELLIGENCE pick with no probability)
            _outcome("F", "INCONCLUSIVE", 0, reason="RANDOM_CONTROL"),
            _outcome("F", "SEIZURE", 3, reason="INTELLIGENCE"),
        ]
    )
    with caplog.at_level(logging.WARNING, logger="training.data"):
        labels = label_lines(shipments, outcomes, warn=True)
    assert labels["position"].tolist() == [0, 1, 2, 3, 4, 5]
    assert labels["label"].tolist() == [1, 1, 0, 0, 1, 1]
    # the label is known when the outcome that gives it was recorded, with its selection
    first = pd.Timestamp("2025-03-01 02:00", tz="UTC")
    assert labels["recorded_at"].tolist() == [
        first + pd.Timedelta(days=d) for d in (3, 1, 2, 6, 2, 3)
    ]
    # how a line was selected is its first inspection's: A was a MODEL pick, then seized
    # at a random-control inspection; E a control scan, then seized by another team
    assert labels.loc[0, "selection_reason"] == "MODEL"
    assert labels.loc[0, "selection_probability"] == 1.0
    assert labels.loc[4, "selection_reason"] == "RANDOM_CONTROL"
    assert labels.loc[4, "selection_probability"] == 0.25
    assert labels.loc[5, "selection_reason"] == "RANDOM_CONTROL"
    assert labels.loc[5, "selection_probability"] == 0.25
    assert "4 later inspections of lines inspected before" in caplog.text
