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


def test_a_labelled_line_names_the_model_version_of_its_first_inspection() -> None:
    """Training weighs a random control by its chance of the draw only where it names the
    model_version whose ranked list drew it, as `review` does: the labels carry it, from the
    inspection their selection is taken from."""
    shipments = pd.DataFrame({"bl_number": "BL1", "container_number": ["A", "B", "C"]})
    rows = [
        # a control drawn from model 3's list, then seized by another team (no version)
        {**_outcome("A", "NO_FINDING", 0, reason="RANDOM_CONTROL"), "model_version": "3"},
        {**_outcome("A", "SEIZURE", 2, reason="INTELLIGENCE"), "model_version": None},
        {**_outcome("B", "NO_FINDING", 1, reason="RANDOM_CONTROL"), "model_version": None},
        {**_outcome("C", "SEIZURE", 1), "model_version": "3"},
    ]
    labels = label_lines(shipments, pd.DataFrame(rows))
    assert labels["label"].tolist() == [1, 0, 1]
    assert labels.loc[0, "model_version"] == "3"
    assert pd.isna(labels.loc[1, "model_version"]) and labels.loc[2, "model_version"] == "3"
    # the contract's optional column left out: no version named
    without = label_lines(shipments, pd.DataFrame(rows).drop(columns="model_version"))
    assert without["model_version"].isna().all()
