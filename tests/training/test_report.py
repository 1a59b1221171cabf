"""The training and phase reports' tables read as an analyst reads them."""

from __future__ import annotations

import pandas as pd

from training.report import table_html


def test_report_tables_show_counts_as_counts_and_rates_to_three_digits() -> None:
    """The training report showed 8.15e+03 lines selected and 1.1e+04 labelled lines."""
    frame = pd.DataFrame(
        {
            "scorer": ["random", "model"],
            "selected": [8150.0, 8150.0],
            "hits": [6.69, 1050.0],
            "precision": [0.00082, 0.0597],
            "lift_over_random": [1.0, 13.5],
        }
    )
    page = table_html(frame)
    assert "8,150" in page and "1,050" in page and "e+0" not in page
    assert "6.69" in page and "0.00082" in page and "13.5" in page


def test_the_splits_are_told_as_inspected_lines_and_the_judged_period_as_lines() -> None:
    # "lines by split: train 702, valid 121, calibration 58, test 135, test_lines 6,610" read
    # as lines, and its test figure disagreed with the evaluation's 197 inspected lines.
    from training.report import _split_words

    told = _split_words(
        {
            "train": 702,
            "valid": 121,
            "calibration": 58,
            "test": 135,
            "test_lines": 6610,
            "lines": 45000,
        }
    )
    assert told.startswith(
        "conclusively inspected lines by split (validation after a gap): train 702, valid 121"
    )
    assert "lines filed in the test period, all judged below: 6,610" in told
    assert told.endswith("lines in all: 45,000.") and "test_lines" not in told
