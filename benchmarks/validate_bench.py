"""Validate a generated 1,000,000-row CSV in chunks; print rows/s and peak memory.

    .venv/bin/python benchmarks/validate_bench.py [--rows 1000000] [--chunk-rows 200000]

Peak memory is the process's maximum resident set size (ru_maxrss), read after generating the file
in a child process, so it measures reading and validating only. It is also printed after every
chunk, to show whether it grows with the file.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GENERATE = """
import sys
import pandas as pd
from risk_engine.factories import shipment_frame
rows, path = int(sys.argv[1]), sys.argv[2]
step = 250_000
for start in range(0, rows, step):
    part = shipment_frame(min(step, rows - start), seed=start)
    part["bl_number"] = "B" + (part.index + start).astype(str)
    if start == 0:
        part.loc[5, "container_number"] = "CSQU3054384"
        part.loc[7, "gross_weight_kg"] = "-1"
    part.to_csv(path, index=False, mode="a" if start else "w", header=start == 0)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunk-rows", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "shipments.csv"
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", GENERATE, str(args.rows), str(path)], check=True)
        print(
            f"generated {args.rows:,} rows ({path.stat().st_size / 1e6:.0f} MB) "
            f"in {time.perf_counter() - started:.1f} s"
        )

        from features.ingest import validate_file

        done = [0]
        peaks: list[str] = []

        def progress(rows: int) -> None:
            done[0] += rows
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            peaks.append(f"{done[0]:,}: {peak:,.0f} MB")

        started = time.perf_counter()
        report = validate_file(path, chunk_rows=args.chunk_rows, progress=progress)
        seconds = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        counts = report.as_dict()["counts"]
        print(f"validated: {counts}")
        print(
            f"seconds: {seconds:.1f}  rows/s: {report.read / seconds:,.0f}  "
            f"peak RSS: {peak_mb:,.0f} MB  chunk rows: {args.chunk_rows:,}"
        )
        print("peak RSS after rows read: " + "; ".join(peaks))


if __name__ == "__main__":
    main()
