"""Benchmark: simulate a world of about a million shipment lines and write it to Parquet.

    .venv/bin/python benchmarks/simulate_bench.py [--days 334] [--arrivals-per-day 3000]

Prints seconds, lines per second and peak resident memory. The target of issue 3 is at most 60 s
for 1,000,000 lines on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from training.simulation import SimulationConfig, simulate, write_world


def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=334)
    parser.add_argument("--arrivals-per-day", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    args = parser.parse_args()
    config = SimulationConfig(
        days=args.days, arrivals_per_day=args.arrivals_per_day, seed=args.seed
    )
    start = time.perf_counter()
    world = simulate(config)
    simulated = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        paths = write_world(world, Path(folder), args.format)
        size = sum(p.stat().st_size for p in paths.values())
        written = time.perf_counter()
    lines = len(world.shipments)
    total = written - start
    print(f"cpus available      {len(os.sched_getaffinity(0))}")
    print(f"shipment lines      {lines:,}")
    print(f"outcomes            {len(world.outcomes):,}")
    elapsed = simulated - start
    print(f"simulate            {elapsed:.1f} s ({lines / elapsed:,.0f} lines/s)")
    print(f"write {args.format:<13} {written - simulated:.1f} s ({size / 2**20:.0f} MiB)")
    print(f"total               {total:.1f} s ({lines / total:,.0f} lines/s)")
    print(f"peak memory (RSS)   {_peak_rss_mib():,.0f} MiB")


if __name__ == "__main__":
    main()
