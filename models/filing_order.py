"""A batch's accepted lines in filing order, whatever the order of its file.

Screening featurises a batch point in time, a part after another: each part counts the lines of
the parts before it, as if screened day by day. Cut from a file sorted by filing time, that is
exact. Cut from a file sorted otherwise (by arrival, as arrival exports come, or not at all), a
line missed the lines of its own batch filed before it that sat later in the file, so its
score depended on the row order and the chunk size (59,183 quickstart lines sorted by `eta`:
892 scores and 34 model picks changed, none of them said).

So a batch of more than one chunk whose file is not in filing order is set aside on disk as it
is read, one slice per filing day of each chunk (pickled: the validated frame comes back exactly, dtypes and lists included), and
given back in filing-day order, whole days at a time, about ``rows`` lines in each part; a
batch of one chunk is featurised whole, in memory, and a file in filing order (checked first, from
its ``filed_at`` column alone) chunk after chunk as it is read. Memory stays within a part and a
chunk, whatever the file's size.
"""

from __future__ import annotations

import pickle
from collections import Counter, defaultdict
from collections.abc import Iterator
from itertools import chain
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["FilingDays", "in_filing_order"]


class FilingDays:
    """Accepted lines kept on disk by filing day (UTC), given back in day order."""

    def __init__(self, folder: Path) -> None:
        self._folder = Path(folder)
        # by filing day, as days since 1970-01-01 (UTC)
        self._slices: dict[int, list[tuple[Path, int]]] = defaultdict(list)
        self._lines: Counter[int] = Counter()
        self._files = 0

    def add(self, frame: pd.DataFrame) -> None:
        """Set a chunk aside, a slice per filing day, each in the file's order."""
        if not len(frame):
            return
        filed = pd.to_datetime(frame["filed_at"], utc=True).dt.tz_localize(None)
        days = filed.to_numpy().astype("datetime64[D]").astype(np.int64)
        path = self._folder / f"accepted-{self._files:05d}.pkl"
        self._files += 1
        with open(path, "wb") as handle:
            order = np.argsort(days, kind="stable")  # by day, the file's order within one
            for rows in np.split(order, np.flatnonzero(np.diff(days[order])) + 1):
                part = frame.iloc[rows]
                key = int(days[rows[0]])
                self._slices[key].append((path, handle.tell()))
                pickle.dump(part, handle, protocol=pickle.HIGHEST_PROTOCOL)
                self._lines[key] += len(part)

    def parts(self, rows: int) -> Iterator[pd.DataFrame]:
        """Whole filing days in order, joined until a part holds ``rows`` lines or more; within
        a day, the lines keep the file's order."""
        held: list[pd.DataFrame] = []
        size = 0
        for day in sorted(self._slices):
            for path, offset in self._slices[day]:
                with open(path, "rb") as handle:
                    handle.seek(offset)
                    held.append(pickle.load(handle))
            size += self._lines[day]
            if size >= rows:
                yield pd.concat(held) if len(held) > 1 else held[0]
                held, size = [], 0
        if held:
            yield pd.concat(held) if len(held) > 1 else held[0]


def in_filing_order(
    chunks: Iterator[pd.DataFrame], *, rows: int, folder: Path, ordered: bool = False
) -> Iterator[pd.DataFrame]:
    """The accepted lines of ``chunks`` in parts a point-in-time featurisation can take one
    after another. A file ``ordered`` by filing day (`features.files.RecordFile.filed_in_order`)
    is taken as read, each chunk cut at its last filing day (carried into the next chunk), so
    reading overlaps scoring; one chunk is taken whole; more, out of order, are set aside by
    filing day (`FilingDays`) until the last is read, then given back in day order."""
    if ordered:
        yield from _whole_days(chunks)
        return
    first = next(chunks, None)
    second = next(chunks, None)
    if second is None:
        if first is not None and len(first):
            yield first
        return
    assert first is not None
    days = FilingDays(folder)
    for chunk in chain([first, second], chunks):
        days.add(chunk)
    yield from days.parts(rows)


def _whole_days(chunks: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """Chunks of a file in filing order, cut at filing-day boundaries: the lines of one day (a
    B/L's containers, a voyage's B/Ls) are featurised together, as when screening day by day."""
    pending: pd.DataFrame | None = None
    for accepted in chunks:
        frame = accepted if pending is None else pd.concat([pending, accepted])
        day = pd.to_datetime(frame["filed_at"], utc=True).dt.floor("D")
        last = day.max()
        ready, pending = frame[(day < last).to_numpy()], frame[(day >= last).to_numpy()]
        if len(ready):
            yield ready
    if pending is not None and len(pending):
        yield pending
