"""Benchmark the feature pipeline: training frames, batch throughput and request latency.

    .venv/bin/python benchmarks/features_bench.py [--days 365] [--arrivals-per-day 3000]
        [--manifests 300] [--skip-million] [--data DIR] [--chunk LINES] [--fit-only]

Simulates a year of a port (about 1.1 million lines by default), validates it, then prints

- ``fit_transform`` time on the first 300,000 lines and on all of them (about a million);
- ``fit`` on the first half year and ``transform`` of the second half (batch throughput);
- the latency of ``transform`` of one manifest of 1 and of 50 lines against that half-year state:
  median and p95 over ``--manifests`` consecutive manifests of the second half, each scored once
  after as many warm-up manifests (the API scores a stream of different manifests), and the
  latency of `models.scorer.to_matrix` on the 50-line features;
- with ``--chunk LINES``: the second half scored as batch screening does, ``transform`` of a
  chunk then ``update`` with it, chunk after chunk (200,000 lines is the screening chunk);
- peak resident memory.

``--fit-only`` fits on every line of the world and prints the time, the state's size and the
peak memory of the fit itself (Linux: the peak is reset after the frames are loaded), then
stops: ``--days 365 --arrivals-per-day 27400`` is a ten-million-line history, and
``--years 4 --arrivals-per-day 6850 --data DIR`` builds one from four simulated years laid end to
end without holding a ten-million-line simulation in memory (then run again with ``--data DIR``
to fit in a fresh process).

``--data DIR`` keeps the validated frames as Parquet in DIR and reads them back on the next run,
which skips the simulation. Timings are wall-clock seconds of one process on a possibly shared
machine: repeat a run and compare medians.
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.pipeline import FeaturePipeline, split_last_filing
from models.scorer import to_matrix


def _reset_peak() -> bool:
    """Start the process's peak resident memory afresh (Linux); False where it cannot."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


def _status_mib(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _fit_only(shipments: pd.DataFrame, outcomes: pd.DataFrame) -> None:
    gc.collect()
    reset = _reset_peak()
    before = _status_mib("VmRSS") if reset else _peak_rss_mib()
    pipeline = _timed(
        "fit (every line)", len(shipments), lambda: FeaturePipeline().fit(shipments, outcomes)
    )
    peak = _status_mib("VmHWM") if reset else _peak_rss_mib()
    print(
        f"frames {shipments.memory_usage(deep=True).sum() / 2**20:,.0f} MiB; "
        f"resident before fit {before:,.0f} MiB, peak during fit {peak:,.0f} MiB "
        f"(+{peak - before:,.0f} MiB); state {pipeline.state_.nbytes / 2**20:,.0f} MiB"
    )


def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)


def _world(days: int, arrivals_per_day: int, seed: int, data: Path | None, years: int = 1) -> Any:
    """Validated shipments and outcomes, simulated or read from ``data``; with ``years`` > 1,
    that many simulated periods (seeds ``seed``, ``seed + 1``, ...) laid end to end, each moved
    ``days`` later than the one before (a long history without one huge simulation in memory)."""
    if data is not None and (data / "shipments.parquet").exists():
        return (
            pd.read_parquet(data / "shipments.parquet"),
            pd.read_parquet(data / "outcomes.parquet"),
        )
    from risk_engine.validation import validate_frame
    from training.simulation import SimulationConfig, simulate

    started = time.perf_counter()
    pieces: list[tuple[pd.DataFrame, pd.DataFrame]] = []
    for year in range(years):
        config = SimulationConfig(days=days, arrivals_per_day=arrivals_per_day, seed=seed + year)
        world = simulate(config)
        frames = [
            validate_frame(world.shipments, "shipments").accepted,
            validate_frame(world.outcomes, "outcomes").accepted,
        ]
        del world
        shift = pd.Timedelta(days=days * year)
        for frame in frames:
            for name, column in frame.items():
                if pd.api.types.is_datetime64_any_dtype(column):
                    frame[name] = column + shift
        pieces.append((frames[0], frames[1]))
        gc.collect()
    shipments = pd.concat([p[0] for p in pieces], ignore_index=True)
    outcomes = pd.concat([p[1] for p in pieces], ignore_index=True)
    del pieces
    shipments = shipments.sort_values("filed_at", kind="stable", ignore_index=True)
    print(
        f"simulated and validated {len(shipments):,} lines in {time.perf_counter() - started:.1f} s"
    )
    if data is not None:
        data.mkdir(parents=True, exist_ok=True)
        shipments.to_parquet(data / "shipments.parquet")
        outcomes.to_parquet(data / "outcomes.parquet")
    return shipments, outcomes


def _timed(label: str, lines: int, run: Callable[[], Any]) -> Any:
    gc.collect()
    started = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - started
    print(f"{label:<44} {lines:>10,} lines {seconds:8.2f} s {lines / seconds:>10,.0f} lines/s")
    return result


def _latency(label: str, manifests: list[pd.DataFrame], run: Callable[[pd.DataFrame], Any]) -> None:
    """Median and p95 of ``run`` over the second half of ``manifests`` (the first half warms)."""
    half = len(manifests) // 2
    for manifest in manifests[:half]:
        run(manifest)
    times = []
    for manifest in manifests[half:]:
        started = time.perf_counter()
        run(manifest)
        times.append((time.perf_counter() - started) * 1e3)
    times.sort()
    p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
    print(
        f"{label:<44} median {statistics.median(times):6.2f} ms   p95 {p95:6.2f} ms   (n={len(times)})"
    )


def _screen(pipeline: FeaturePipeline, lines: pd.DataFrame, chunk: int) -> None:
    """Score lines as batch screening does: each chunk scored and added to the state in one
    pass (`transform_update`; filings are not split: `split_last_filing`)."""
    carried = lines.iloc[:0]
    for start in range(0, len(lines), chunk):
        ready, carried = split_last_filing(pd.concat([carried, lines.iloc[start : start + chunk]]))
        pipeline.transform_update(ready)
    if len(carried):
        pipeline.transform(carried)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--arrivals-per-day", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--years", type=int, default=1, help="simulated periods laid end to end (seeds in turn)"
    )
    parser.add_argument("--manifests", type=int, default=300, help="timed manifests per size")
    parser.add_argument("--skip-million", action="store_true", help="no fit_transform of all")
    parser.add_argument("--data", type=Path, default=None, help="folder to keep the frames in")
    parser.add_argument(
        "--chunk", type=int, default=0, help="also score the second half chunk by chunk"
    )
    parser.add_argument(
        "--fit-only", action="store_true", help="only fit on every line, with its peak memory"
    )
    args = parser.parse_args()

    built = args.data is None or not (args.data / "shipments.parquet").exists()
    shipments, outcomes = _world(
        args.days, args.arrivals_per_day, args.seed, args.data, years=args.years
    )
    if args.fit_only and built and args.data is not None and args.years > 1:
        # The simulations' memory is still held by this process: fit in a fresh one.
        print(f"frames written to {args.data}; run again with --data to fit in a fresh process")
        return
    if args.fit_only:
        _fit_only(shipments, outcomes)
        return

    def training(lines: pd.DataFrame) -> Any:
        last = lines["filed_at"].iloc[-1]
        return FeaturePipeline().fit_transform(lines, outcomes[outcomes["recorded_at"] <= last])

    first = shipments.iloc[:300_000]
    _timed("fit_transform", len(first), lambda: training(first))
    if not args.skip_million:
        _timed("fit_transform", len(shipments), lambda: training(shipments))

    cut = shipments["filed_at"].iloc[len(shipments) // 2]
    fitted_on = int((shipments["filed_at"] < cut).sum())
    pipeline = _timed(
        "fit (half the period)",
        fitted_on,
        lambda: FeaturePipeline().fit(shipments, outcomes, until=cut),
    )
    later = shipments[shipments["filed_at"] >= cut]
    _timed("transform (the other half)", len(later), lambda: pipeline.transform(later))
    if args.chunk > 0:
        chunked = FeaturePipeline().fit(shipments, outcomes, until=cut)
        _timed(
            f"transform_update, {args.chunk:,}-line chunks",
            len(later),
            lambda: _screen(chunked, later, args.chunk),
        )

    count = 2 * args.manifests
    for size in (1, 50):
        manifests = [later.iloc[i * size : (i + 1) * size] for i in range(count)]
        _latency(f"transform, {size}-line manifest", manifests, pipeline.transform)
    features = pipeline.transform(later.iloc[:50])
    names = pipeline.feature_names_
    _latency("to_matrix, 50 lines", [features] * count, lambda frame: to_matrix(frame, names))
    print(
        f"peak memory (RSS) {_peak_rss_mib():,.0f} MiB; numpy {np.__version__}, pandas {pd.__version__}"
    )


if __name__ == "__main__":
    main()
