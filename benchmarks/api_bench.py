"""Latency and throughput of the scoring API on 127.0.0.1.

Starts the real server (``python -m serve.run``) in a subprocess on a temporary home (or uses
``--url`` and ``--key`` of a running one), then for each manifest size (1 and 50 lines) and each
number of concurrent clients (1 and 8) posts manifests for ``--duration`` seconds over keep-alive
connections, one client per process so the clients do not share a GIL. Prints p50, p95 and p99
latency, throughput and the error count per scenario. The minimum is printed too: on a shared
machine the percentiles move with other work, the minimum much less. Before and after the
scenarios it times a fixed NumPy workload (`machine_steadiness`), so a reader can see how much of
the spread between minimum and p99 is the machine's own.

    python benchmarks/api_bench.py --model champion            # the registry's champion
    python benchmarks/api_bench.py --model /path/scorer.pkl    # a pickled scorer
    python benchmarks/api_bench.py --duration 60 --clients 8 --lines 50   # the soak target
    python benchmarks/api_bench.py --lines 50 --clients 1 --duration 30 --repeat 5  # the p99 target

Targets (2 cores): p99 <= 30 ms for 50 lines with 1 client; no errors with 8 clients for 60 s.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# The timestamp fields of a line, moved together when the manifest is dated (`_manifest`).
_TIMES = ("filed_at", "booking_created_at", "etd", "eta", "last_amended_at")


def _manifest(lines: int, seed: int, after: str | None = None) -> bytes:
    """A manifest of ``lines`` synthetic lines. With ``after`` (the served feature history's
    cut-off) each line's dates are moved together, its intervals kept, so that the lines are
    filed a minute apart from an hour after the cut-off: a manifest scored before its vessel
    berths, as officers send them (the synthetic filings would otherwise fall anywhere in a
    year, many long before the cut-off, where the lines' history features are approximate)."""
    import pandas as pd

    from risk_engine.factories import shipment_frame

    frame = shipment_frame(lines, seed=seed)
    if after is not None and len(frame):
        filed = pd.to_datetime(frame["filed_at"], utc=True)
        start = pd.Timestamp(after) + pd.Timedelta(hours=1)
        shift = start + pd.to_timedelta(range(len(frame)), unit="min") - filed
        for name in _TIMES:
            if name in frame.columns:
                moved = pd.to_datetime(frame[name].replace("", None), utc=True) + shift
                frame[name] = moved.dt.strftime("%Y-%m-%dT%H:%M:%SZ").fillna("")
    rows = [{k: v for k, v in row.items() if v != ""} for row in frame.to_dict("records")]
    return json.dumps({"lines": rows}).encode()


def _history_cutoff(url: str, key: str) -> str | None:
    """The served feature history's cut-off, as the score route tells it."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
    try:
        conn.request(
            "POST",
            "/v1/score",
            body=_manifest(1, seed=0),
            headers={"X-API-Key": key, "Content-Type": "application/json"},
        )
        answer = json.loads(conn.getresponse().read())
    finally:
        conn.close()
    cutoff = answer.get("history_as_of") if isinstance(answer, dict) else None
    return None if cutoff is None else str(cutoff)


def _client(args: tuple[str, str, bytes, float, float]) -> tuple[list[float], int, str]:
    """One client: posts the body until the deadline; latencies in ms and the error count."""
    url, key, body, start_at, duration = args
    parts = urlsplit(url)
    headers = {"X-API-Key": key, "Content-Type": "application/json"}
    latencies: list[float] = []
    errors = 0
    last_error = ""
    while time.time() < start_at:
        time.sleep(0.001)
    end = start_at + duration
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    while time.time() < end:
        began = time.perf_counter()
        try:
            conn.request("POST", "/v1/score", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            ok = response.status == 200
            if not ok:
                last_error = f"HTTP {response.status}"
        except (OSError, http.client.HTTPException) as error:
            ok = False
            last_error = f"{type(error).__name__}: {error}"
            conn.close()
            conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
        if ok:
            latencies.append((time.perf_counter() - began) * 1000.0)
        else:
            errors += 1
    conn.close()
    return latencies, errors, last_error


def _timings(run: Callable[[], Any], runs: int) -> list[float]:
    """Milliseconds of ``runs`` calls of ``run``, sorted."""
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        run()
        times.append((time.perf_counter() - began) * 1000.0)
    return sorted(times)


def machine_steadiness(runs: int = 100) -> dict[str, float]:
    """How steady this machine's speed is: a fixed NumPy workload (about 10 ms) timed ``runs``
    times. On a shared or throttled host the slow runs take up to twice the fastest, and every
    latency percentile above is stretched by as much; the minimum is not."""
    import numpy as np

    block = np.random.default_rng(0).random((200, 64))

    def work() -> float:
        total = 0.0
        for i in range(2000):
            total += float(np.cumsum(block[i % 200]).sum())
        return total

    times = _timings(work, runs)
    return {
        "min_ms": times[0],
        "p50_ms": _percentile(times, 0.50),
        "p99_ms": _percentile(times, 0.99),
        "slow_share": sum(t > 1.4 * times[0] for t in times) / len(times),
    }


def _print_steadiness(when: str) -> dict[str, float]:
    found = machine_steadiness()
    print(
        f"machine steadiness ({when}): fixed workload min {found['min_ms']:.2f} ms, "
        f"p50 {found['p50_ms']:.2f} ms, p99 {found['p99_ms']:.2f} ms; "
        f"{found['slow_share']:.0%} of runs over 1.4 x the fastest",
        flush=True,
    )
    return found


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def run_scenario(
    url: str,
    key: str,
    *,
    lines: int,
    clients: int,
    duration: float,
    warmup: float = 1.0,
    after: str | None = None,
) -> dict[str, Any]:
    body = _manifest(lines, seed=lines, after=after)
    _client((url, key, body, time.time(), warmup))  # warm the server and the connection path
    start_at = time.time() + 0.5
    context = multiprocessing.get_context("spawn")
    with context.Pool(clients) as pool:
        results = pool.map(_client, [(url, key, body, start_at, duration)] * clients)
    latencies = sorted(x for result in results for x in result[0])
    errors = sum(result[1] for result in results)
    return {
        "lines": lines,
        "clients": clients,
        "duration_s": duration,
        "requests": len(latencies),
        "errors": errors,
        "last_error": next((r[2] for r in results if r[2]), ""),
        "min_ms": latencies[0] if latencies else float("nan"),
        "p50_ms": _percentile(latencies, 0.50),
        "p95_ms": _percentile(latencies, 0.95),
        "p99_ms": _percentile(latencies, 0.99),
        "requests_per_s": len(latencies) / duration,
        "lines_per_s": len(latencies) * lines / duration,
    }


def breakdown(
    model: str, home: Path, lines: int, runs: int = 200
) -> dict[str, tuple[float, float]]:
    """Where the time of one request goes, in this process: the contract check, the feature
    transform, the rest of scoring, the answer's lines and what monitoring counts, each timed
    ``runs`` times on the benchmark's manifest; (min, median) in ms per part."""
    import numpy as np

    from risk_engine.settings import Settings
    from serve.metrics import ServiceMetrics
    from serve.model import ModelHolder, loader_for
    from serve.monitor import ServedScores
    from serve.records import RecordChecker
    from serve.routes import _line_results

    scorer = loader_for(Settings(home=home), model)()
    cutoff = scorer.describe().get("history_as_of")
    rows = json.loads(_manifest(lines, seed=lines, after=cutoff))["lines"]
    checker = RecordChecker("shipments")
    checked = checker.check(rows)
    parts: dict[str, Callable[[], Any]] = {
        "contract check": lambda: checker.check(rows),
        "feature transform": lambda: scorer.pipeline.transform(checked.accepted),
        "score (transform included)": lambda: scorer.score(checked.accepted),
    }
    scored = scorer.score(checked.accepted)
    parts["answer lines"] = lambda: _line_results(rows, checked, scored)
    served = ServedScores(getattr(scorer, "reference", None))
    metrics = ServiceMetrics(ModelHolder(lambda: scorer))
    scores = scored["risk_score"].to_numpy(dtype="float64")
    # a service some days up: 400,000 lines counted, so the recent keys are full and each
    # manifest's keys push the oldest out (that once cost 23 ms a manifest)
    served.add(
        np.zeros(400_000), ["green"] * 400_000, keys=[(f"OLD{i}", "") for i in range(400_000)]
    )
    sent = itertools.count()

    def monitor() -> None:  # what the service counts of each answered manifest
        bands = [str(band) for band in scored["band"].tolist()]
        batch = next(sent)
        served.add(scores, bands, keys=[(f"NEW{batch}", str(i)) for i in range(len(bands))])
        metrics.lines(bands, rejected=0)
        metrics.request(route="/v1/score", method="POST", status=200, seconds=0.02)

    parts["monitoring (metrics, drift)"] = monitor
    found: dict[str, tuple[float, float]] = {}
    for name, part in parts.items():
        times = _timings(part, runs)
        found[name] = (times[0], _percentile(times, 0.5))
    return found


# The latency target of the issue: p99 at most 30 ms for 50 lines with 1 client, on 2 cores.
TARGET = {"lines": 50, "clients": 1, "p99_ms": 30.0}


def _print_over_runs(results: list[dict[str, Any]]) -> None:
    """Each scenario's p99 over repeated runs; for the target's scenario, in how many runs it
    was met (one run's p99 moves with the machine's slow stretches)."""
    scenarios = sorted({(r["lines"], r["clients"]) for r in results})
    for lines, clients in scenarios:
        p99s = [r["p99_ms"] for r in results if (r["lines"], r["clients"]) == (lines, clients)]
        text = ", ".join(f"{p:.1f}" for p in p99s)
        line = f"{lines:>4} lines  {clients:>2} clients  p99 over {len(p99s)} runs: {text} ms"
        if (lines, clients) == (TARGET["lines"], TARGET["clients"]):
            met = sum(p <= TARGET["p99_ms"] for p in p99s)
            line += f"; at most {TARGET['p99_ms']:.0f} ms in {met} of {len(p99s)}"
        print(line)


def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    parts = urlsplit(url)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        try:
            conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=2)
            conn.request("GET", "/readyz")
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not become ready (is a model available?)")


def _start_server(
    model: str, home: Path, database_url: str | None = None
) -> tuple[str, str, subprocess.Popen[bytes]]:
    from risk_engine.settings import Settings
    from serve.keys import create_key

    settings = (
        Settings(home=home, database_url=database_url) if database_url else Settings(home=home)
    )
    key = create_key(settings, role="admin", name="api-bench").key
    port = _free_port()
    env = {**os.environ, "RISK_ENGINE_HOME": str(home)}
    if database_url:
        env["RISK_ENGINE_DATABASE_URL"] = database_url
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    command = [sys.executable, "-m", "serve.run", "--port", str(port), "--model", model]
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    _wait_ready(url, process)
    return url, key, process


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="champion", help="alias, version or scorer pickle")
    parser.add_argument("--home", type=Path, default=None, help="engine home (default: temp)")
    parser.add_argument("--url", default=None, help="use a running server instead")
    parser.add_argument("--key", default=None, help="API key for --url")
    parser.add_argument(
        "--database-url",
        default=None,
        help="the server's outcome, audit and key database (default: SQLite under --home)",
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per scenario")
    parser.add_argument("--lines", default="1,50", help="manifest sizes, comma-separated")
    parser.add_argument("--clients", default="1,8", help="concurrent clients, comma-separated")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run every scenario this many times (the machine's steadiness timed before each "
        "round) and print each scenario's p99 over the runs",
    )
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="time the parts of a request in this process instead (needs --home for champion)",
    )
    args = parser.parse_args(argv)
    if args.breakdown:
        home = args.home or Path(tempfile.mkdtemp(prefix="api-bench-"))
        for lines in (int(x) for x in args.lines.split(",")):
            for name, (least, median) in breakdown(args.model, home, lines).items():
                print(f"{lines:>4} lines  {name:<28} min {least:7.2f} ms  median {median:7.2f} ms")
        return 0

    process = None
    temp = None
    if args.url:
        if not args.key:
            parser.error("--url needs --key")
        url, key = args.url.rstrip("/"), args.key
    else:
        if args.home is None:
            temp = tempfile.TemporaryDirectory(prefix="api-bench-")
            home = Path(temp.name)
            if args.model == "champion":
                print("note: a fresh home has no champion; pass --home or a pickle path")
        else:
            home = args.home
        url, key, process = _start_server(args.model, home, args.database_url)
    results: list[dict[str, Any]] = []
    after = _history_cutoff(url, key)
    print(f"manifests filed from an hour after the served history's cut-off ({after})")
    steadiness: list[dict[str, float]] = []
    try:
        for round_ in range(1, max(1, args.repeat) + 1):
            if args.repeat > 1:
                print(f"run {round_} of {args.repeat}")
            steadiness.append(_print_steadiness("before"))
            for lines in (int(x) for x in args.lines.split(",")):
                for clients in (int(x) for x in args.clients.split(",")):
                    result = run_scenario(
                        url, key, lines=lines, clients=clients, duration=args.duration, after=after
                    )
                    result["run"] = round_
                    results.append(result)
                    print(
                        f"{lines:>4} lines  {clients:>2} clients  min {result['min_ms']:7.2f} ms  "
                        f"p50 {result['p50_ms']:7.2f} ms  p95 {result['p95_ms']:7.2f} ms  "
                        f"p99 {result['p99_ms']:7.2f} ms  {result['requests_per_s']:8.1f} req/s  "
                        f"{result['lines_per_s']:9.1f} lines/s  errors {result['errors']}"
                        + (f" ({result['last_error']})" if result["errors"] else ""),
                        flush=True,
                    )
        steadiness.append(_print_steadiness("after"))
        if args.repeat > 1:
            _print_over_runs(results)
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
        if temp is not None:
            temp.cleanup()
    if args.json:
        args.json.write_text(json.dumps({"scenarios": results, "steadiness": steadiness}, indent=2))
    return 1 if any(r["errors"] for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
