"""Cut an arrivals file out of a longer one, for demos and the quickstart: the lines arriving in
the last days ("tomorrow's arrivals"), or the lines filed in a period (a day or a year after a
model's cut-off).

    python -m training.arrivals SHIPMENTS OUT [--last-days 1]
    python -m training.arrivals SHIPMENTS OUT --since DATE [--until DATE]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from features.files import write_frame

__all__ = ["last_days"]


def last_days(shipments: pd.DataFrame, days: int) -> pd.DataFrame:
    """Lines arriving on the ``days`` busiest-ending days: the window ends on the day with the
    most arrivals among the last two weeks (the very last days of a file are thin, because
    later filings are not in it yet)."""
    eta = pd.to_datetime(shipments["eta"], utc=True, errors="coerce").dt.floor("D")
    recent = eta[eta >= eta.max() - pd.Timedelta(days=14)]
    end = pd.Timestamp(str(recent.value_counts().idxmax()))
    start = end - pd.Timedelta(days=days - 1)
    return shipments[((eta >= start) & (eta <= end)).to_numpy()].reset_index(drop=True)


def main(argv: list[str] | None = None) -> None:
    # the docstring's first paragraph, whole (its first line cut the sentence in two)
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("shipments", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--last-days", type=int, default=1)
    parser.add_argument("--since", help="instead: every line filed on or after this date")
    parser.add_argument("--until", help="with --since: and before this date")
    args = parser.parse_args(argv)
    if args.until and not args.since:
        parser.error("--until needs --since")
    frame = (
        pd.read_parquet(args.shipments)
        if args.shipments.suffix == ".parquet"
        else pd.read_csv(args.shipments, dtype=str)
    )
    if args.since:
        filed = pd.to_datetime(frame["filed_at"], utc=True, errors="coerce")
        keep = filed >= pd.Timestamp(args.since, tz="UTC")
        what = f"filed since {args.since}"
        if args.until:
            keep &= filed < pd.Timestamp(args.until, tz="UTC")
            what += f" and before {args.until}"
        cut = frame[keep.to_numpy()].reset_index(drop=True)
    else:
        cut = last_days(frame, args.last_days)
        what = f"arriving in the last {args.last_days} day(s)"
    write_frame(cut, args.out)
    print(f"{len(cut):,} lines {what} -> {args.out}")


if __name__ == "__main__":
    main()
