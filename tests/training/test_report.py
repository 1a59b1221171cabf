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
