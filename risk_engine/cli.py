"""The ``risk-engine`` command: parses options and calls one function per command.

It sits above every layer and imports each command's implementation lazily, so ``--help`` stays
fast. Errors become exit codes here and only here (`risk_engine.errors.exit_code_for`).
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

if TYPE_CHECKING:  # imported where used: a command loads only what it needs
    from models.history import HistoryInfo

__all__ = ["app", "main"]

app = typer.Typer(
    name="risk-engine",
    help="Risk screening of maritime containers for customs targeting centres.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class RecordKind(StrEnum):
    shipments = "shipments"
    outcomes = "outcomes"


@contextmanager
def _stopped_cleanly() -> Iterator[None]:
    """A stop asked with SIGTERM (what systemd and a timer's time-out send) or SIGHUP (a dropped
    SSH session of a run by hand) unwinds like an error, so that a screening's temporary parts,
    partial outputs and lock are cleaned up (it left its temporary folder, 14 MB for 17,000
    lines, and a hangup still left 5.8 MB of a batch's lines); exit 143 as for SIGTERM, 129 as
    for SIGHUP."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    stops = [signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])]
    before = {signum: signal.signal(signum, stop) for signum in stops}
    try:
        yield
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


class FileFormat(StrEnum):
    parquet = "parquet"
    csv = "csv"


def _echo(message: object = "", *, err: bool = False, one_line: bool = False) -> None:
    """``typer.echo`` with every control character of the message but its line breaks and tabs
    written as its escape: a value from a file (an outcome file's phase, a watch-list note) that
    held an escape sequence cleared or recoloured the officer's terminal, or a direction mark
    reversed a line (`risk_engine.terminal`). A message of ``one_line`` (a line of a listing
    that shows values) has its line breaks and tabs escaped too: one in a value forged a row."""
    from risk_engine.errors import OutputUnwritable
    from risk_engine.terminal import escape_controls

    try:
        typer.echo(escape_controls(str(message), keep="" if one_line else "\n\t"), err=err)
    except OSError as error:  # stdout on a full disk (/dev/full): a traceback, exit 1
        if err or error.errno not in _NO_ROOM:
            raise
        _fail(OutputUnwritable("standard output", error.strerror or str(error)))


def _fail(error: BaseException) -> None:
    from risk_engine.errors import RiskEngineError, exit_code_for

    if not isinstance(error, RiskEngineError):
        raise error
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":  # asked for no colour
        typer.echo(f"error: {error}", err=True)
    else:
        typer.secho(f"error: {error}", err=True, fg=typer.colors.RED)
    raise typer.Exit(exit_code_for(error))


@contextmanager
def _errors_to_exit_codes() -> Iterator[None]:
    from risk_engine.errors import OutputUnwritable, RiskEngineError

    try:
        yield
    except RiskEngineError as error:
        _fail(error)
    except OSError as error:
        # A full disk or a read-only file system in a library's write (MLflow logging a
        # training's plots: `train` on a full disk was a traceback, exit 1) is a file that
        # cannot be written, exit 2; any other OSError is a bug to see whole.
        if error.errno not in _NO_ROOM:
            raise
        where = (
            error.filename
            if error.filename is not None
            else "a file of this command (under RISK_ENGINE_HOME, or an output it names)"
        )
        _fail(OutputUnwritable(str(where), error.strerror or str(error)))


# errno of a disk that takes no more: full, over quota, read-only
_NO_ROOM = frozenset(
    getattr(errno, name) for name in ("ENOSPC", "EDQUOT", "EROFS") if hasattr(errno, name)
)


@contextmanager
def _progress(description: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr; advance it by calling the yielded function with a row count."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TimeElapsedColumn,
    )

    console = Console(stderr=True)
    columns: list[str | ProgressColumn] = [
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    ]
    with Progress(
        *columns, console=console, transient=False, disable=not console.is_terminal
    ) as bar:
        task = bar.add_task(description, total=total)
        yield _Advance(
            lambda n: bar.advance(task, n),
            lambda text: bar.reset(task, total=total, description=f"{description}: {text}"),
        )


class _Advance:
    """Advances a progress bar by a row count; ``phase`` starts it again from 0 under another
    description (screening a file out of filing order reads it whole, then scores it)."""

    def __init__(self, advance: Callable[[int], None], phase: Callable[[str], None]) -> None:
        self._advance = advance
        self.phase = phase

    def __call__(self, rows: int) -> None:
        self._advance(rows)


def _setup_logging(verbose: bool, *, serving: bool = False) -> None:
    """Warnings and errors on stderr; INFO too with ``verbose``, and for ``serving``: the
    service's journal tells where it listens, the store and the model it serves, and its stop
    (`risk-engine serve` logged nothing, where `python -m serve.run` logged all of it)."""
    if not verbose:  # MLflow logs at INFO on its own handler ("Creating initial MLflow database
        # tables...") whatever the root logger says; read when mlflow is first imported
        os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    logging.basicConfig(
        level=logging.INFO if verbose or serving else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _tolerant_output() -> None:
    """A character the terminal's encoding cannot write (an officer's name with Vietnamese
    letters under a Latin-1 locale) is written as its escape: `keys list` stopped with a
    UnicodeEncodeError traceback."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):
                reconfigure(errors="backslashreplace")


def _print_version(wanted: bool) -> None:
    if wanted:
        from risk_engine.columns import CONTRACT_VERSION
        from risk_engine.version import engine_version

        _echo(f"risk-engine {engine_version()} (data contract version {CONTRACT_VERSION})")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress.")] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the engine's release (CHANGELOG.md) and the data contract's version.",
        ),
    ] = False,
) -> None:
    _setup_logging(verbose, serving=ctx.invoked_subcommand == "serve")
    _tolerant_output()
    from risk_engine.settings import keep_files_private, load_settings

    keep_files_private()

    if ctx.invoked_subcommand != "serve":  # uvicorn shuts the server down on SIGTERM itself
        # every command unwinds on SIGTERM: `history --add-outcomes` left its 23 MB partial
        # history, `backup` its partial copy, the store's outcomes a copy in /tmp
        ctx.with_resource(_stopped_cleanly())

    with _errors_to_exit_codes():
        load_settings()  # a setting in the environment that cannot be used stops every command


@app.command()
def schema(
    kind: Annotated[RecordKind, typer.Argument(help="shipments or outcomes")],
) -> None:
    """Print the JSON Schema of a contract record."""
    from risk_engine.contract import InspectionOutcome, ShipmentLine

    model = ShipmentLine if kind is RecordKind.shipments else InspectionOutcome
    _echo(json.dumps(model.model_json_schema(), indent=2))


@app.command()
def samples(
    folder: Annotated[
        Path, typer.Argument(metavar="DIR", help="Folder to write them in (made when missing).")
    ],
) -> None:
    """Write a starter file of each kind the engine reads into DIR, ready to edit.

    A column mapping, a training config and risk profiles (YAML, commented), a watch list, a
    capacity file, inspection outcomes and a sample manifest (CSV, explained in README.txt).
    A file already in DIR is never overwritten: then nothing is written (exit 2)."""
    from risk_engine.starter import write_samples

    with _errors_to_exit_codes():
        written = write_samples(folder)
    width = max(len(str(item.path)) for item in written)
    for item in written:
        _echo(f"{str(item.path):<{width}}  {item.what}", one_line=True)
    _echo(f"wrote {len(written)} files in {folder}")


@app.command()
def validate(
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="CSV, CSV.GZ or Parquet.")],
    kind: Annotated[RecordKind, typer.Option(help="Record kind.")] = RecordKind.shipments,
    mapping: Annotated[Path | None, typer.Option(help="YAML column mapping.")] = None,
    rejects: Annotated[
        Path | None, typer.Option(help="Write rejected and flagged rows with reasons here (CSV).")
    ] = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="text or json")
    ] = OutputFormat.text,
) -> None:
    """Validate a file against the data contract and report what was accepted, flagged, rejected.

    Exit 0 when the file was read (even with rejects), 2 when it could not be read at all.
    """
    from features.ingest import validate_file
    from features.mapping import load_mapping
    from risk_engine.settings import load_settings

    settings = load_settings()
    with _errors_to_exit_codes():
        column_mapping = load_mapping(mapping)
        with _progress(f"validating {input_path.name}", None) as advance:
            report = validate_file(
                input_path,
                kind.value,
                mapping=column_mapping,
                rejects_path=rejects,
                chunk_rows=settings.chunk_rows,
                progress=advance,
            )
    if output is OutputFormat.json:
        _echo(json.dumps(report.as_dict(), indent=2))
        return
    _print_report(report.as_dict())


def _print_report(data: dict[str, Any]) -> None:
    counts = data["counts"]
    _echo(f"{data['path']} ({data['kind']})")
    for name in ("read", "accepted", "flagged", "rejected"):
        _echo(f"  {name:<9}{counts[name]:>12,}")
    if data["top_reasons"]:
        _echo("most common reasons:")
        for reason in data["top_reasons"]:
            _echo(
                f"  {reason['rows']:>10,}  {reason['severity']:<6} {reason['field']}: {reason['rule']}"
            )
    for hint in data.get("hints", []):
        _echo(f"note: {hint}")
    if data["ignored_columns"]:
        # a contract name the mapping replaced by another column is not "not in the contract",
        # and a blank header cell (a line ending in ",,") is named as one
        from risk_engine.columns import fields_for

        contract = {spec.name for spec in fields_for(data["kind"])}
        named = [f"{c!r}" if c.strip() else "(a blank name)" for c in data["ignored_columns"]]
        replaced = [n for n, c in zip(named, data["ignored_columns"], strict=True) if c in contract]
        other = [
            n for n, c in zip(named, data["ignored_columns"], strict=True) if c not in contract
        ]
        if other:
            _echo(f"columns not in the contract (ignored): {', '.join(other)}")
        if replaced:
            _echo(f"columns the mapping replaced (ignored): {', '.join(replaced)}")
    if data["rejects_path"]:
        _echo(f"rejected and flagged rows: {data['rejects_path']}")


@app.command()
def simulate(
    out: Annotated[Path, typer.Option(help="Output folder.")],
    start: Annotated[str, typer.Option(help="First day (YYYY-MM-DD).")] = "2024-01-01",
    # the limits the simulation's own settings hold (its --help said 1 and 10)
    days: Annotated[
        int, typer.Option(min=7, max=3660, help="Days of arrivals (at least 7 per phase).")
    ] = 365,
    arrivals_per_day: Annotated[int, typer.Option(min=20, max=200_000)] = 3000,
    phases: Annotated[int, typer.Option(min=1, max=24)] = 4,
    seed: Annotated[int, typer.Option(min=0)] = 7,
    output: Annotated[FileFormat, typer.Option("--format")] = FileFormat.parquet,
    contraband_rate: Annotated[
        float | None,
        typer.Option(
            help="Share of lines carrying contraband, above 0 and at most 0.05 (default 0.002)."
        ),
    ] = None,
) -> None:
    """Simulate a port world: shipments, past inspections with delayed labels, and the truth."""
    from pydantic import ValidationError

    from risk_engine.errors import ConfigError
    from training.simulation import SimulationConfig, write_world
    from training.simulation import simulate as run_simulation

    options: dict[str, Any] = (
        {} if contraband_rate is None else {"contraband_rate": contraband_rate}
    )
    with _errors_to_exit_codes():
        try:
            first_day = date.fromisoformat(start)
        except ValueError as error:
            raise ConfigError(f"--start={start!r} is not a date (YYYY-MM-DD): {error}") from None
        from risk_engine.parsing import MIN_YEAR

        if first_day.year < MIN_YEAR:  # the contract rejects every line filed before it
            raise ConfigError(
                f"--start={start} is before {MIN_YEAR}: the contract rejects lines filed then "
                "(out_of_range), so such a world could not be validated, trained on or screened"
            )
        if out.exists() and not out.is_dir():  # a traceback (FileExistsError) before
            raise ConfigError(f"--out {out} is a file: name a folder for the world")
        last = first_day + timedelta(days=days - 1)
        if last > datetime.now(UTC).date():
            raise ConfigError(
                f"--start={start} with --days={days} ends on {last}, after today: the contract "
                "rejects lines filed in the future (rule filed_after_receipt), so such a world "
                "could not be validated, trained on or screened; choose an earlier --start"
            )
        try:
            config = SimulationConfig(
                start=first_day,
                days=days,
                arrivals_per_day=arrivals_per_day,
                phases=phases,
                seed=seed,
                **options,
            )
        except (ValidationError, ValueError) as error:
            first = error.errors()[0] if isinstance(error, ValidationError) else None
            if first is None:
                detail = str(error)
            elif first["loc"]:  # one option
                detail = f"{first['loc'][0]}: {first['msg']}"
            else:  # options that do not go together
                detail = str(first["msg"]).removeprefix("Value error, ")
            raise ConfigError(f"simulation options: {detail}") from error
    with _errors_to_exit_codes(), _progress("simulating", 100) as advance:
        world = run_simulation(config, progress=_progress_callback(advance))
        paths = write_world(world, out, fmt=output.value)
    counts = world.meta.get("counts", {})
    _echo(f"simulated world written to {out}")
    for name, path in paths.items():
        _echo(f"  {name:<10}{path}")
    if counts:
        _echo("  " + ", ".join(f"{k}={v:,}" for k, v in counts.items() if isinstance(v, int)))


def main() -> None:
    """Entry point for ``python -m risk_engine``."""
    app()


def _progress_callback(advance: Callable[[int], None]) -> Callable[[str, float], None]:
    """Turn (step, fraction) reports into a 0-100 progress bar."""
    state = {"done": 0}

    def report(_: str, fraction: float) -> None:
        step = int(fraction * 100) - state["done"]
        if step > 0:
            advance(step)
            state["done"] += step

    return report


@app.command()
def features(
    shipments: Annotated[Path, typer.Option(help="Shipment lines (CSV or Parquet).")],
    outcomes: Annotated[Path, typer.Option(help="Inspection outcomes (CSV or Parquet).")],
    out: Annotated[Path, typer.Option(help="Feature frame to write (CSV or Parquet).")],
    mapping: ShipmentsMapping = None,
    outcomes_mapping: OutcomesMapping = None,
) -> None:
    """Write the point-in-time feature frame with its keys, for debugging and analysts."""
    from features.mapping import load_mapping
    from features.pipeline import build_feature_frame

    with _errors_to_exit_codes():
        summary = build_feature_frame(
            shipments,
            outcomes,
            out,
            mapping=load_mapping(mapping),
            outcomes_mapping=load_mapping(outcomes_mapping),
        )
    _echo(json.dumps(summary, indent=2, default=str))


_STORE = "store"


# The inspection period of the commands that read outcomes (``outcomes``, ``review``).
InspectedSince = Annotated[
    str | None, typer.Option(help="Inspected from this ISO date or time on (UTC).")
]
InspectedUntil = Annotated[str | None, typer.Option(help="Inspected before this ISO date or time.")]


# Each file of a command that reads shipments and outcomes has its own layout, so its own mapping.
ShipmentsMapping = Annotated[
    Path | None, typer.Option(help="YAML column mapping of the shipments file.")
]
OutcomesMapping = Annotated[
    Path | None, typer.Option(help="YAML column mapping of the outcomes file.")
]


def _outcomes_name(outcomes: Path) -> str | None:
    """What a training records as its outcomes' source when they come from the store (the
    temporary copy it reads is gone after the run)."""
    if str(outcomes) != _STORE:
        return None
    from risk_engine.settings import load_settings, without_password

    return f"the outcome store ({without_password(load_settings().store_url)})"


@contextmanager
def _outcomes_source(
    outcomes: Path, mapping: Path | None = None, *, command: str
) -> Iterator[Path]:
    """``--outcomes store`` reads the outcomes recorded through the API (the service's database)
    into a temporary Parquet file, the read recorded in the audit trail as ``command``'s; any
    other value is a file path (with its own ``mapping``)."""
    if mapping is not None and str(outcomes) == _STORE:
        from risk_engine.errors import ConfigError

        raise ConfigError(
            "a mapping (--outcomes-mapping, or --mapping of review and history) goes with an "
            "outcomes file: the outcome store's outcomes are in the contract's layout already"
        )
    if str(outcomes) != _STORE:
        yield outcomes
        return
    import tempfile

    from risk_engine.settings import load_settings
    from serve.audit import record_read
    from serve.store import read_outcomes

    started = datetime.now(UTC)
    settings = load_settings()
    frame = read_outcomes(settings.store_url)
    if frame.empty:  # said as such, not as an empty temporary file
        from risk_engine.errors import InputUnreadable

        raise InputUnreadable(
            "the outcome store",
            "it holds no outcomes yet: record them with POST /v1/outcomes or "
            "`risk-engine outcomes --record FILE`",
        )
    record_read(
        settings,
        f"risk-engine {command} store",
        started=started,
        rows=len(frame),
        detail=f"{len(frame):,} outcomes read from the outcome store",
    )
    with tempfile.TemporaryDirectory(prefix="outcomes-") as tmp:
        path = Path(tmp) / "outcomes.parquet"
        frame.drop(columns=["dq_flags"], errors="ignore").to_parquet(path, index=False)
        _echo(f"{len(frame):,} outcomes read from the outcome store", err=True)
        yield path


@app.command()
def outcomes(
    out: Annotated[
        Path | None, typer.Option(help="Export: the outcomes file to write (CSV or Parquet).")
    ] = None,
    since: InspectedSince = None,
    until: InspectedUntil = None,
    record: Annotated[
        Path | None,
        typer.Option(help="Record the outcomes of this file (CSV or Parquet) in the store."),
    ] = None,
    mapping: Annotated[
        Path | None, typer.Option(help="YAML column mapping of the --record file.")
    ] = None,
    rejects: Annotated[
        Path | None,
        typer.Option(help="With --record: write the rows not recorded, with the reason."),
    ] = None,
) -> None:
    """Export the outcomes recorded through the API, or record a file's outcomes in the store.

    --out FILE exports them in the contract's layout (what train, retrain and review read).
    --record FILE adds the outcomes of a file, with the API's checks and idempotency: an outcome
    already stored is a duplicate, one stored with other values a conflict (the stored one is
    kept); train --outcomes store then learns from both."""
    from risk_engine.errors import ConfigError

    with _errors_to_exit_codes():
        if (out is None) == (record is None):
            raise ConfigError("outcomes: give either --out FILE (export) or --record FILE")
        if record is None and (mapping is not None or rejects is not None):
            raise ConfigError("outcomes: --mapping and --rejects go with --record FILE")
        if record is not None and (since is not None or until is not None):
            raise ConfigError("outcomes: --since and --until go with --out FILE")
    if record is not None:
        _record_outcomes(record, mapping, rejects)
        return
    from features.files import file_format, write_frame
    from risk_engine.settings import load_settings
    from serve.audit import record_read
    from serve.store import read_outcomes
    from training.review import inspected_between

    with _errors_to_exit_codes():
        assert out is not None  # one of --out and --record, checked above
        file_format(out)  # an unknown extension fails before the database is opened
        start, end = _period(since, until)
        started = datetime.now(UTC)
        settings = load_settings()
        frame = read_outcomes(settings.store_url)
        chosen = frame[inspected_between(frame, start, end)].drop(
            columns=["dq_flags"], errors="ignore"
        )
        # recorded before the file is written: a row for an export that then failed says more
        # than an export the trail never saw
        record_read(
            settings,
            "risk-engine outcomes --out",
            started=started,
            rows=len(chosen),
            detail=f"{len(chosen):,} of {len(frame):,} outcomes"
            f"{_filters_text(since=since, until=until)} exported to {out}",
        )
        write_frame(chosen, out)
    _echo(f"{len(chosen):,} of {len(frame):,} recorded outcomes written to {out}")


def _record_outcomes(path: Path, mapping: Path | None, rejects: Path | None) -> None:
    from features.mapping import load_mapping
    from risk_engine.settings import load_settings
    from serve.outcome_files import record_outcome_file
    from serve.store import Store

    # SIGTERM unwinds like Ctrl-C: the partial rejects file dropped, the audit row written
    with (
        _stopped_cleanly(),
        _errors_to_exit_codes(),
        _progress("recording outcomes", None) as advance,
    ):
        store = Store.opened(load_settings())
        try:
            done = record_outcome_file(
                path,
                store,
                mapping=load_mapping(mapping),
                not_recorded=rejects,
                progress=advance,
            )
        finally:
            store.dispose()
    _echo(
        f"read {done.read:,}  recorded {done.recorded:,}  already stored {done.duplicate:,}  "
        f"conflicting with a stored outcome {done.conflict:,}  rejected {done.rejected:,}  "
        f"({done.flagged:,} stored with data-quality flags)"
    )
    if done.reasons:
        commonest = ", ".join(f"{why} ({n:,})" for why, n in done.reasons.most_common(3))
        _echo(f"rejected most often: {commonest}")
    if done.not_recorded_path:
        # a duplicate is stored already: it is not in the file (it counted here, not there)
        left = done.conflict + done.rejected
        stored = f"; the {done.duplicate:,} already stored are not in it" if done.duplicate else ""
        _echo(f"rows not recorded ({left:,}), and why: {done.not_recorded_path}{stored}")
    if done.read and done.rejected == done.read:
        # it read as a quiet success: "recorded 0 ... rejected 2", exit 0
        _echo(
            f"warning: every outcome of {path} was rejected: nothing recorded"
            + ("" if done.not_recorded_path else " (--rejects FILE says why for each row)"),
            err=True,
        )
        raise typer.Exit(3)


@app.command()
def train(
    shipments: Annotated[Path, typer.Option(help="Shipment lines (CSV or Parquet).")],
    outcomes: Annotated[
        Path, typer.Option(help="Inspection outcomes (CSV or Parquet), or 'store' for the API's.")
    ],
    until: Annotated[
        str | None, typer.Option(help="Cut-off (ISO date): learn from what was known before it.")
    ] = None,
    config: Annotated[Path | None, typer.Option(help="Training config (YAML).")] = None,
    truth: Annotated[
        Path | None, typer.Option(help="Simulator truth, for evaluation only.")
    ] = None,
    mapping: ShipmentsMapping = None,
    outcomes_mapping: OutcomesMapping = None,
) -> None:
    """Train a model on inspection outcomes, evaluate it at capacity, register it in MLflow."""
    from training.commands import train_command

    with (
        _errors_to_exit_codes(),
        _outcomes_source(outcomes, outcomes_mapping, command="train --outcomes") as outcomes_path,
        _progress("training", 100) as advance,
    ):
        summary = train_command(
            shipments,
            outcomes_path,
            until=until,
            config_path=config,
            truth_path=truth,
            mapping_path=mapping,
            outcomes_mapping_path=outcomes_mapping,
            outcomes_name=_outcomes_name(outcomes),
            progress=_progress_callback(advance),
        )
    _echo(summary)


@app.command()
def retrain(
    phase: Annotated[str, typer.Option(help="Name of the operation phase that just ended.")],
    shipments: Annotated[Path, typer.Option(help="Shipment lines (CSV or Parquet).")],
    outcomes: Annotated[
        Path, typer.Option(help="Inspection outcomes (CSV or Parquet), or 'store' for the API's.")
    ],
    until: Annotated[
        str | None, typer.Option(help="End of the phase (ISO date); default: from meta.json.")
    ] = None,
    eval_until: Annotated[str | None, typer.Option(help="End of the held-out period.")] = None,
    config: Annotated[Path | None, typer.Option(help="Training config (YAML).")] = None,
    truth: Annotated[
        Path | None, typer.Option(help="Simulator truth, for evaluation only.")
    ] = None,
    mapping: ShipmentsMapping = None,
    outcomes_mapping: OutcomesMapping = None,
) -> None:
    """Train a challenger after a phase; promote it only when it finds more seizures."""
    from training.commands import retrain_command

    with (
        _errors_to_exit_codes(),
        _outcomes_source(outcomes, outcomes_mapping, command="retrain --outcomes") as outcomes_path,
        _progress(f"retraining after {phase}", 100) as advance,
    ):
        summary = retrain_command(
            phase,
            shipments,
            outcomes_path,
            until=until,
            eval_until=eval_until,
            config_path=config,
            truth_path=truth,
            mapping_path=mapping,
            outcomes_mapping_path=outcomes_mapping,
            outcomes_name=_outcomes_name(outcomes),
            progress=_progress_callback(advance),
        )
    _echo(summary)


@app.command()
def models(
    discard: Annotated[
        str | None,
        typer.Option(
            metavar="VERSION",
            help="Close a version a stopped retrain left pending (decision `discarded`; kept "
            "in the registry for the record, no longer warned of).",
        ),
    ] = None,
) -> None:
    """List registered model versions, their aliases and key metrics."""
    from training.commands import discard_version, models_command

    with _errors_to_exit_codes():
        if discard is not None:
            _echo(discard_version(discard))
        _echo(models_command())


@app.command("history")
def history_command(
    reset: Annotated[
        str | None,
        typer.Option(
            metavar="VERSION",
            help="Forget this model version's current history: scoring goes back to the "
            "history of its training.",
        ),
    ] = None,
    add_outcomes: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE|store",
            help="Add the inspection outcomes recorded since training (a CSV or Parquet file, "
            "or `store`: those recorded through the service) to the model's history.",
        ),
    ] = None,
    model: Annotated[
        str, typer.Option(help="With --add-outcomes: champion, another alias, or a version.")
    ] = "champion",
    mapping: Annotated[
        Path | None,
        typer.Option(help="With --add-outcomes FILE: the YAML column mapping of that file."),
    ] = None,
    prune: Annotated[
        bool,
        typer.Option(
            "--prune",
            help="Forget the histories of the model versions no registry alias (champion, "
            "challenger, ...) names any more: each version keeps its own, so they pile up "
            "with every retraining.",
        ),
    ] = False,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes",
            "-y",
            help="With --reset or --prune: forget without asking first (for scripts; a "
            "forgotten history cannot be brought back).",
        ),
    ] = False,
) -> None:
    """The feature histories kept current by screening, one per model version: as of when,
    how many lines, the batches added, the space they take."""
    from models.history import ModelHistory
    from risk_engine.errors import ConfigError
    from risk_engine.settings import load_settings

    settings = load_settings()
    histories = ModelHistory(settings.home)
    with _errors_to_exit_codes():
        asked = [
            name
            for name, given in (
                ("--add-outcomes", add_outcomes is not None),
                ("--prune", prune),
                ("--reset", reset is not None),
            )
            if given
        ]
        if len(asked) > 1:  # one was done and the others silently not
            raise ConfigError(f"{' and '.join(asked)}: one at a time")
        if add_outcomes is not None:
            from features.mapping import load_mapping
            from models.registry import configure_mlflow, load_scorer
            from training.data import load_records

            configure_mlflow(settings, existing=True)
            scorer = load_scorer(model)
            with (
                _outcomes_source(add_outcomes, mapping, command="history --add-outcomes") as path,
                histories.advancing(scorer.version),
            ):
                frame, report = load_records(path, "outcomes", mapping=load_mapping(mapping))
                if frame.empty:
                    raise ConfigError(f"{add_outcomes}: no outcome passed the contract")
                info, counts = histories.add_outcomes(
                    scorer, frame.reset_index(drop=True), source=str(add_outcomes)
                )
            kept_days = scorer.pipeline.state_.params.label_lookback_days
            _echo(
                f"outcomes read {report.read:,}, rejected {report.rejected:,}; of the "
                f"{counts['given']:,} accepted: {counts['in_training']:,} recorded before the "
                f"model's training cut-off (training's to use), {counts['added_before']:,} "
                "added before, "
                f"{counts['added']:,} added ({counts['matched']:,} found their line, "
                f"{counts['unmatched']:,} did not: older than the {kept_days:g} days of lines "
                "kept (label_lookback_days in the training config); "
                f"{counts['inconclusive']:,} inconclusive, which give no label), "
                f"{counts['waiting']:,} not added: their line is not in the history (not "
                "screened by this model yet), offered again by the next --add-outcomes"
                + (
                    f", {counts['too_old']:,} not added: their line was screened more than "
                    f"{kept_days:g} days before the history's cut-off, beyond the lines kept "
                    "(label_lookback_days), so they can never be added"
                    if counts["too_old"]
                    else ""
                )
                + (
                    f", {counts['future']:,} left out: recorded more than a day after now, a "
                    "wrong date (the outcome store refuses them too, recorded_after_receipt)"
                    if counts["future"]
                    else ""
                )
            )
            _echo(
                f"feature history of model {info.model_version}: {info.outcomes_added:,} "
                "outcomes added since training"
            )
            return
        if prune:
            from models.registry import configure_mlflow, list_versions

            configure_mlflow(settings, existing=True)
            versions = list_versions()
            if not versions:  # a store that cannot be read must not empty the histories
                raise ConfigError(
                    f"no registered model in {settings.tracking_uri_shown}: nothing pruned "
                    "(a history is kept for each version an alias names)"
                )
            named = {v.version: v.aliases for v in versions if v.aliases}
            going = histories.unnamed(named)
            if going and not yes:
                for info in going:
                    _echo(_history_line(info, histories.size(info.model_version)))
                _confirm_forget(f"Forget these {len(going)} histories (no alias names them)?")
            forgotten, busy = histories.prune(named)
            for version, freed in forgotten:
                _echo(f"feature history of model {version} forgotten: {freed / 1e6:,.1f} MB")
            for version in busy:
                _echo(f"model {version}: a screening is adding to its history now; left")
            kept = ", ".join(f"{v} ({'/'.join(a)})" for v, a in sorted(named.items()))
            _echo(
                f"{len(forgotten)} histories forgotten, "
                f"{sum(freed for _, freed in forgotten) / 1e6:,.1f} MB freed; kept: {kept}"
            )
            return
        if reset is not None:
            held = histories.info(reset)
            # None before asking; False when it went meanwhile (another reset, a prune)
            if held is not None and not yes:
                _echo(_history_line(held, histories.size(reset)))
                _confirm_forget(f"Forget the feature history of model {reset}?")
            if held is None or not histories.forget(reset):
                raise ConfigError(f"model {reset} has no feature history under {histories.folder}")
            _echo(f"feature history of model {reset} forgotten: it scores as trained")
            return
        for version in histories.versions():  # a record a cut-off save left, written again
            if histories.repaired(version):
                _echo(
                    f"note: the record of model {version}'s feature history told an earlier one "
                    "or was missing (a save was cut off): written again from the history itself",
                    err=True,
                )
        found = histories.all()
    if not found:
        _echo(f"no feature history yet under {histories.folder}: screenings add to one")
        return
    for info in found:
        _echo(_history_line(info, histories.size(info.model_version)))


# A batch filed this long after the feature history's cut-off is told of: the lines between
# are missing from the history (days without filings at all are rare at a port).
_HISTORY_GAP_DAYS = 2.0


def _control_note(selected: dict[str, int], random_control: float) -> str | None:
    """A note when the random control drew far from the share asked (where at least 10 were
    asked), or nothing because the watch-list and rule hits took every slot. The share is of
    every slot, the hits' included, within the slots the hits leave, as the selection takes it:
    taken of the slots left, a batch whose hits filled half of each port-day was told it drew
    twice what was asked."""
    from models.selection import MANDATORY_REASONS

    drawn, picked = selected.get("RANDOM_CONTROL", 0), sum(selected.values())
    hits = sum(selected.get(reason, 0) for reason in MANDATORY_REASONS)
    scored = picked - hits  # the picks by score and by draw: the slots the hits left
    asked = min(picked * random_control, scored)
    if random_control > 0 and asked >= 10 and not 0.5 <= drawn / asked <= 1.5:
        # the sample the review's base rate rests on, far from what was asked
        return (
            f"note: the random control drew {drawn:,} of the {scored:,} lines selected by score "
            f"and draw ({drawn / scored:.1%}) against the {random_control * 100:.4g}% asked: "
            "each port-day gives the draw the whole part of its share of the slots and one "
            "more with the chance of the fraction, after watch-list and rule hits, so a batch "
            "of few port-days draws more or fewer by chance, and hits can take the control's "
            "slots."
        )
    if random_control > 0 and hits and not scored:
        # the hits filled their port-days: right, and said so, not blamed on one slot
        return (
            f"note: the random control drew no line: watch-list and rule hits ({hits:,}) took "
            "every slot of their port-days, and the control is drawn from the slots they leave. "
            "Give those ports more slots a day with --capacity-file for a control sample."
        )
    return None


def _many(count: int, thing: str) -> str:
    return f"{count:,} {thing}" + ("" if count == 1 else "s")


def _were(count: int) -> str:
    return "was" if count == 1 else "were"


def _history_line(info: HistoryInfo, size: int) -> str:
    """One line on a model version's feature history."""
    last = info.batches[-1] if info.batches else {}
    release = last.get("release")  # the engine that added it; none in a record before 0.31
    repeated = f"{info.lines_repeated:,} offered again and not added twice"
    if info.recognises_from:  # a record written before the history kept older line keys has none
        repeated += f", recognised back to {info.recognises_from[:10]}"
    if info.lines_beyond_memory:
        repeated += f", {info.lines_beyond_memory:,} added from before that"
    return (
        f"model {info.model_version}: as of {info.as_of}, {info.lines:,} lines "
        f"({info.lines_added:,} added by {_many(info.screenings, 'screening')} since training, "
        f"{repeated}; {info.outcomes_added:,} outcomes added by "
        f"{_many(info.outcome_files, 'outcome run')} (a file or the store); {size / 1e6:,.1f} MB"
        f"{f'; name rules {info.name_rules}' if info.name_rules else ''}); last: "
        f"{last.get('file', '-')} at {last.get('at', '-')} by {last.get('by', '-')}"
        f"{f' with release {release}' if release else ''}"
    )


def _confirm_forget(question: str) -> None:
    """Ask before a history is forgotten (it cannot be brought back); no answer (a script
    without --yes, or end of input) is no: exit 1, nothing forgotten."""
    try:
        agreed = typer.confirm(question, default=False, err=True)
    except (typer.Abort, EOFError, RuntimeError, OSError):  # stdin closed: "lost sys.stdin"
        agreed = False
    if not agreed:
        _echo("nothing forgotten (--yes forgets without asking)", err=True)
        raise typer.Exit(1)


class Engine(StrEnum):
    local = "local"
    dask = "dask"


@app.command()
def screen(
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="Arrivals (CSV or Parquet).")],
    out: Annotated[Path, typer.Option(help="Ranked output (CSV or Parquet by extension).")],
    capacity: Annotated[
        float, typer.Option(min=0.0001, max=1.0, help="Share of each port-day.")
    ] = 0.03,
    capacity_file: Annotated[
        Path | None,
        typer.Option(
            help="Slots per day by port (CSV or Parquet: port_of_discharge, slots_per_day, "
            "optionally documentary_slots_per_day); ports not in it keep --capacity and "
            "--documentary."
        ),
    ] = None,
    random_control: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=0.99,
            help="Share of each port-day's slots drawn at random: its whole part in every "
            "port-day and one slot more with the chance of its fraction (0.3 slots: one "
            "port-day in three), never beyond the slots the watch-list and rule hits leave.",
        ),
    ] = 0.1,
    documentary: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Share of each port-day for a document check (the yellow lane): the highest "
            "scores after the physical inspections. 0: no yellow lane.",
        ),
    ] = 0.0,
    model: Annotated[str, typer.Option(help="champion, another alias, or a version.")] = "champion",
    mapping: Annotated[Path | None, typer.Option(help="YAML column mapping.")] = None,
    watchlist: Annotated[Path | None, typer.Option(help="Watch list (CSV or Parquet).")] = None,
    profiles: Annotated[
        Path | None, typer.Option(help="Risk profiles (YAML): criteria to inspect or flag.")
    ] = None,
    rejects: Annotated[Path | None, typer.Option(help="Rejected lines with reasons (CSV).")] = None,
    report: Annotated[Path | None, typer.Option(help="HTML report to write.")] = None,
    engine: Annotated[Engine, typer.Option(help="local or dask")] = Engine.local,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address.")] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=(1 << 128) - 1,  # the draw reads 128 bits: a larger seed would draw as another
            help="Seed of the random-control draw. By default the home's own secret seed "
            "(RISK_ENGINE_HOME/control-seed, made on first use): the same batch draws the same "
            "lines, and no one without the file can tell which. A seed given here is known to "
            "whoever reads it: for reproducing a list drawn with it (since release 0.27: a list drawn "
            "before drew by each line's place in the batch and cannot be drawn again).",
        ),
    ] = None,
    top: Annotated[int, typer.Option(min=1, help="How many top containers to print.")] = 10,
    history: Annotated[
        bool,
        typer.Option(
            help="Score with the model's current feature history (RISK_ENGINE_HOME/history) "
            "and add this batch to it; --no-history scores with the history of the model's "
            "training and keeps nothing."
        ),
    ] = True,
) -> None:
    """Screen a batch of arrivals: a ranked list per port-day within the capacity.

    Exit 3 when lines were read and every one was rejected (the list, rejects file and report
    are written all the same): a nightly job would otherwise take a batch of nothing scored
    for a quiet day."""
    from features.files import check_outputs
    from features.mapping import load_mapping
    from models.capacity import load_port_capacity
    from models.history import ModelHistory
    from models.profiles import load_profiles
    from models.registry import configure_mlflow, load_scorer
    from models.screening import control_seed, screen_file
    from models.selection import MANDATORY_REASONS
    from models.watchlist import load_watchlist
    from risk_engine.errors import ConfigError
    from risk_engine.settings import load_settings

    settings = load_settings()
    with _stopped_cleanly(), _errors_to_exit_codes():
        if scheduler is not None and engine.value != "dask":
            raise ConfigError(
                f"--scheduler {scheduler} is for --engine dask; this screening runs locally"
            )
        others = (mapping, watchlist, profiles, capacity_file)
        # outputs first: one that is an input, or no table, stops before any work (and before
        # anything is removed: yesterday's list stays when the profiles or the model fail)
        check_outputs([(out, True), (rejects, True), (report, False)], inputs=(input_path, *others))
        port_capacity = load_port_capacity(capacity_file)  # a bad file stops before the model
        risk_profiles = load_profiles(profiles)  # so does a bad profiles file
        configure_mlflow(settings, existing=True)
        scorer = load_scorer(model)
        histories = ModelHistory(settings.home)
        kept: list[Any] = []
        holding = histories.advancing(scorer.version) if history else contextlib.nullcontext()
        with holding, _progress(f"screening {input_path.name}", None) as advance:
            if history:
                scorer = histories.current(scorer)
            lines_before = int(scorer.pipeline.state_.lines_seen)
            version = str(scorer.version)

            def keep(pipeline: Any) -> None:
                # saved before the ranked list and the report take their names: killed after
                # the list was written, a day's lines were missing from the history, unsaid
                kept.append(
                    histories.save(
                        version, pipeline, source=str(input_path), lines_before=lines_before
                    )
                )

            summary = screen_file(
                input_path,
                out,
                scorer=scorer,
                capacity=capacity,
                random_control=random_control,
                documentary=documentary,
                mapping=load_mapping(mapping),
                watchlist=load_watchlist(watchlist),
                profiles=risk_profiles,
                port_capacity=port_capacity,
                rejects_path=rejects,
                report_path=report,
                engine=engine.value,
                scheduler=scheduler,
                seed=control_seed(settings.home) if seed is None else seed,
                secret_seed=seed is None,
                chunk_rows=settings.chunk_rows,
                progress=advance,
                keep_history=keep if history else None,
                inputs=others,
            )
            if kept:
                record = kept[0]
    counts = summary.as_dict()
    _echo(
        f"read {counts['read']:,}  scored {counts['scored']:,}  rejected {counts['rejected']:,}  "
        f"selected {counts['selected_total']:,} {counts['selected']}  port-days {counts['port_days']:,}"
    )
    if counts["documentary"]:
        _echo(f"document checks (yellow lane) {counts['documentary']:,}")
    control_note = _control_note(summary.selected, random_control)
    if control_note is not None:
        _echo(control_note, err=True)
    if summary.approximate:
        _echo(
            f"note: {_many(summary.approximate, 'line')} {_were(summary.approximate)} filed "
            f"more than {summary.exact_days:g} "
            "days before the feature history had reached when they were scored: their history "
            "features are approximate (the history no longer holds the days around them, so "
            "their windowed counts and value norms come out low or missing), and so are their "
            "scores and bands; the drift check leaves them out. Train with a larger "
            "rescore_days (the training config) to cover filings that old. A line the history "
            "holds already (a past period screened again) is not added twice, back to "
            f"{summary.memory_days:g} days before the history's cut-off, but its score can "
            "differ from its first screening's, and so can the list: the first screening's "
            "ranked list is the record of that period.",
            err=True,
        )
    if summary.history_gap_days > _HISTORY_GAP_DAYS and history:
        _echo(
            f"note: the feature history of model {summary.model_version} reached "
            f"{summary.history_as_of}, and the batch's first line was filed "
            f"{summary.history_gap_days:.1f} days later ({summary.first_filed}): the lines filed "
            "between them are not in it, so the parties, routes and goods of those days counted "
            "for nothing in this list, which is issued and added to the history as it is. "
            "Screening those days now adds them, and changes some scores the service gives for "
            "this batch's lines, not this list. A newly promoted model's history ends at its "
            "training's cut-off: before its first batch, screen the days since, in order.",
            err=True,
        )
    elif summary.history_gap_days > _HISTORY_GAP_DAYS:  # --no-history: said too, as such
        _echo(
            f"note: with --no-history the batch was scored with the history of model "
            f"{summary.model_version}'s training, which ends {summary.history_as_of}, "
            f"{summary.history_gap_days:.1f} days before the batch's first line was filed "
            f"({summary.first_filed}): the parties, routes and goods of the days between count "
            "for nothing here; screen with the kept history (without --no-history) for them.",
            err=True,
        )
    if summary.beyond_memory and history:
        _echo(
            f"note: {_many(summary.beyond_memory, 'line')} {_were(summary.beyond_memory)} "
            "filed more than "
            f"{summary.memory_days:g} days before the feature history's cut-off: they were "
            "added to it, though it keeps no record of lines that old. If this period was "
            "screened before, its lines now count twice in the all-time counts (value norms, "
            "description words; the windowed counts no longer reach them): screen a period that "
            "old with --no-history.",
            err=True,
        )
    if summary.rejected:
        why = "; ".join(summary.reject_reasons)
        where = (
            f"the rejects file {summary.rejects_path} says why for each"
            if summary.rejects_path
            else "write them with --rejects FILE to see each one"
        )
        lead = (
            "warning: every line of the batch was rejected, nothing was scored"
            if not summary.scored
            else f"{summary.rejected:,} line{'s' if summary.rejected > 1 else ''} rejected"
        )
        _echo(f"{lead}: most often {why}; {where}", err=True)
        for hint in summary.hints:
            _echo(f"note: {hint}", err=True)
    if summary.watchlist_rejected:
        shown_rows = summary.watchlist_rejected[:10]
        more = len(summary.watchlist_rejected) - len(shown_rows)
        many = len(summary.watchlist_rejected) > 1
        _echo(
            f"warning: {len(summary.watchlist_rejected):,} rejected "
            f"{'lines name' if many else 'line names'} watch-list entries, unscored and so not "
            "in the ranked list: correct and screen again, or inspect:",
            err=True,
        )
        for sentence in shown_rows:
            _echo(f"  {sentence}", err=True, one_line=True)
        if more:
            _echo(f"  ... and {more:,} more (the report lists them all)", err=True)
    if summary.capacity_unmatched:
        _echo(
            f"warning: the capacity file lists {', '.join(summary.capacity_unmatched)}: no line "
            "of this batch arrives there and the port table does not know the code. If it is "
            "misspelt, the port it meant kept the share (--capacity) instead of its slots.",
            err=True,
        )
    for note in summary.drift_warnings:
        _echo(f"warning: against the model's training data, {note}", err=True)
    for note in summary.drift_notes:
        _echo(f"drift: {note} (the report's 'Against the training data')", err=True)
    if summary.drift_left_out:
        _echo(f"drift: {summary.drift_left_out_note}", err=True)
    small = _small_port_days(counts, capacity) if capacity_file is None else None
    if small:
        _echo(small, err=True)
    shown: set[int] = set()
    if summary.top is not None and len(summary.top):
        picks = summary.top.head(top)
        _echo(f"top {len(picks)} selected containers (model version {summary.model_version}):")
        shown = _echo_picks(picks)
    if summary.mandatory is not None and len(summary.mandatory):
        # A watch-list or rule pick with a low score is not in the top list: say it anyway.
        left = summary.mandatory[~summary.mandatory["row"].isin(shown)]
        total = sum(counts["selected"].get(reason, 0) for reason in MANDATORY_REASONS)
        if len(left):
            _echo(
                f"watch-list and rule selections below those ({total:,} in all, every one "
                "in the ranked list and the report):"
            )
            _echo_picks(left.head(top))
    if kept:
        _echo(
            f"feature history of model {record.model_version}: {record.lines_added:,} lines "
            f"added since training, as of {record.as_of} (`risk-engine history`)"
        )
    _echo(f"ranked list: {out}")
    if summary.rejects_path:
        _echo(f"rejected lines: {summary.rejects_path}")
    if summary.report_path:
        _echo(f"report: {summary.report_path}")
    if summary.rejected and not summary.scored:
        raise typer.Exit(3)  # every line broke the contract: told above, and not a success


@app.command()
def watchlist(
    path: Annotated[Path, typer.Argument(metavar="FILE", help="Watch list (CSV or Parquet).")],
    against: Annotated[
        Path | None,
        typer.Option(help="Shipments (CSV or Parquet) to count each entry's hits in."),
    ] = None,
    mapping: Annotated[Path | None, typer.Option(help="YAML column mapping of --against.")] = None,
    share: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="Warn about an entry that hits more than this share."),
    ] = 0.001,
    top: Annotated[int, typer.Option(min=1, help="Entries to list by hits.")] = 20,
) -> None:
    """Check a watch list before it goes live: entries, phrases, hits in sample traffic.

    Names party entries that are phrases many lines carry (they would select every such line)
    and, with --against, counts how many lines each entry hits."""
    from features.mapping import load_mapping
    from models.watchlist import count_hits, load_watchlist
    from risk_engine.settings import load_settings

    with _errors_to_exit_codes():
        watch = load_watchlist(path, warn=False)  # its warnings are part of this report
        assert watch is not None
        entries = watch.entries
        _echo(
            f"watch list {path}: {entries['parties']:,} parties, "
            f"{entries['containers']:,} containers, {entries['bills']:,} B/Ls"
        )
        if watch.unused_rows:
            _echo(f"warning: {watch.unused_note()}")
        for row, problem in watch.unmatchable:
            _echo(f"warning: row {row}: {problem}")
        for name in watch.generic_parties():
            _echo(
                f"warning: party {name!r} is a phrase, not a party: every line naming it "
                "would be selected",
            )
        if against is None:
            return
        hit: set[tuple[str, str, str]] = set()
        with _progress(f"matching {against.name}", None) as advance:
            lines, hits, lines_hit = count_hits(
                watch,
                against,
                mapping=load_mapping(mapping),
                chunk_rows=load_settings().chunk_rows,
                progress=advance,
                hit=hit,
            )
    # Lines, not sentences ("71 hits by 6 entries" for 57 lines hit by 5 entries): a line
    # naming a watched party in two roles is told twice and inspected once. Screening selects
    # the lines the contract accepts, once a key.
    every = watch.every_entry()
    _echo(
        f"{lines:,} lines of {against}: {lines_hit:,} hit by {len(hit & set(every)):,} of "
        f"{len(every):,} entries (each line as read: screening leaves out the lines the "
        "contract rejects, and a key repeated, and warns of a rejected line that names an entry)"
    )
    for sentence, count in hits.most_common(top):
        _echo(f"  {count:>9,}  {count / max(lines, 1):7.3%}  {sentence}", one_line=True)
    for sentence, count in hits.most_common():
        if count / max(lines, 1) <= share:
            break
        _echo(
            f"warning: {count:,} of {lines:,} lines ({count / lines:.2%}) hit: {sentence}; "
            "check that it names the party you mean",
            one_line=True,
        )
    unhit = [entry for entry in every if entry not in hit]
    if unhit:
        shown = [watch.shown(entry) for entry in unhit[:top]]
        more = f" and {len(unhit) - top:,} more" if len(unhit) > top else ""
        _echo(
            f"{len(unhit):,} of {len(every):,} entries hit no line of {against} "
            f"(check their spelling and country): {'; '.join(shown)}{more}",
            one_line=True,
        )


@app.command()
def profiles(
    path: Annotated[Path, typer.Argument(metavar="FILE", help="Risk profiles (YAML).")],
    against: Annotated[
        Path | None,
        typer.Option(help="Shipments (CSV or Parquet) to count the lines each profile meets."),
    ] = None,
    mapping: Annotated[Path | None, typer.Option(help="YAML column mapping of --against.")] = None,
    share: Annotated[
        float,
        typer.Option(
            min=0.0, max=1.0, help="Warn about an inspect profile meeting more than this share."
        ),
    ] = 0.005,
) -> None:
    """Check risk profiles before they go live: each profile, and the lines it would meet.

    An inspect profile selects every line it meets, whatever the capacity: --against counts
    them in sample traffic, and a profile over --share of the lines is named."""
    from features.mapping import load_mapping
    from models.profiles import count_profile_hits, load_profiles
    from risk_engine.settings import load_settings

    with _errors_to_exit_codes():
        found = load_profiles(path)
        assert found is not None
        entries = found.entries
        _echo(f"risk profiles {path}: {entries['inspect']:,} inspect, {entries['flag']:,} flag")
        for profile in found.profiles:
            # valid_until is the first day it no longer holds: "to 2024-05-05" read as inclusive
            valid = f"from {profile.valid_from or '...'}, before {profile.valid_until or '...'}"
            criteria = "; ".join(f"{k} {', '.join(map(str, v))}" for k, v in profile.when.items())
            _echo(f"  {profile.name} ({profile.action}, {valid}): {criteria}", one_line=True)
        if against is None:
            return
        with _progress(f"matching {against.name}", None) as advance:
            lines, met = count_profile_hits(
                found,
                against,
                mapping=load_mapping(mapping),
                chunk_rows=load_settings().chunk_rows,
                progress=advance,
            )
    _echo(f"{lines:,} accepted lines of {against}:")
    actions = {p.name: p.action for p in found.profiles}
    for name, count in met.most_common():
        _echo(
            f"  {count:>9,}  {count / max(lines, 1):7.3%}  {name} ({actions[name]})", one_line=True
        )
    for name, count in met.most_common():
        if actions[name] == "inspect" and count / max(lines, 1) > share:
            _echo(
                f"warning: inspect profile {name!r} meets {count:,} of {lines:,} lines "
                f"({count / lines:.2%}), all of them selected whatever the capacity: "
                "narrow its criteria or make it a flag",
                one_line=True,
            )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    model: Annotated[
        str | None, typer.Option(help="Alias, version or scorer .pkl (default: champion).")
    ] = None,
    watchlist: Annotated[
        Path | None,
        typer.Option(help="Watch list (CSV or Parquet), read again on each reload."),
    ] = None,
    profiles: Annotated[
        Path | None,
        typer.Option(help="Risk profiles (YAML), read again on each reload."),
    ] = None,
    reload_check: Annotated[
        float | None,
        typer.Option(
            min=0,
            max=86_400,
            help="Seconds between checks of whether the champion, its feature history, the "
            "watch list or the risk profiles changed, to reload them (default 60, at most "
            "86,400; 0: only on POST /v1/admin/reload).",
        ),
    ] = None,
) -> None:
    """Run the scoring service (FastAPI on uvicorn)."""
    from risk_engine.settings import load_settings
    from serve.run import serve as run

    with _errors_to_exit_codes():
        run(
            host,
            port,
            load_settings(),
            model=model,
            watchlist=watchlist,
            profiles=profiles,
            reload_check=reload_check,
        )


@app.command()
def review(
    outcomes: Annotated[
        Path, typer.Option(help="Inspection outcomes (CSV or Parquet), or 'store' for the API's.")
    ],
    by: Annotated[
        str,
        typer.Option(
            help="Break down by these outcome columns, comma-separated: selection_reason, "
            "model_version, operation_phase, inspection_level."
        ),
    ] = "selection_reason",
    since: InspectedSince = None,
    until: InspectedUntil = None,
    out: Annotated[Path | None, typer.Option(help="Also write the table (CSV or Parquet).")] = None,
    mapping: Annotated[
        Path | None, typer.Option(help="YAML column mapping of the outcomes file.")
    ] = None,
) -> None:
    """Review what inspections found by selection reason, against the random control.

    Hit rates with 95 % intervals, and the lift over the random control of the same period."""
    from features.mapping import load_mapping
    from training.commands import review_command

    with (
        _errors_to_exit_codes(),
        _outcomes_source(outcomes, mapping, command="review --outcomes") as outcomes_path,
    ):
        start, end = _period(since, until)
        groups = tuple(name.strip() for name in by.split(",") if name.strip())
        if len(set(groups)) < len(groups):  # a traceback ("already exists") before
            from risk_engine.errors import ConfigError

            raise ConfigError(f"--by={by!r} names a column twice")
        table, counts, base = review_command(
            outcomes_path,
            by=groups,
            since=start,
            until=end,
            out=out,
            mapping=load_mapping(mapping),
        )
    _echo(
        f"outcomes read {counts['read']:,}, used {counts['used']:,}, "
        f"rejected {counts['rejected']:,}"
        + (f"; inspected in the period {counts['in_period']:,}" if since or until else ""),
        err=True,
    )
    _echo(_review_text(table, groups))
    if base.controls:
        how = (
            "each weighted by 1 / its chance of the draw (its selection_probability, with the "
            f"model_version of the engine that drew it); unweighted {base.plain:.2%}"
            if base.weighted
            else "unweighted: none has its chance of the draw (a selection_probability with "
            "the model_version of the engine that drew it)"
        )
        if base.without:
            how += (
                f"; {base.without:,} recorded without a selection_probability left out of the rate"
            )
        if base.other_policy:
            how += (
                f"; {base.other_policy:,} drawn by another policy (no model_version), whose "
                "probability need not be its chance of the draw, left out of the rate"
            )
        pooled = [name for name in groups if name != "selection_reason"]
        _echo(
            f"lift is over the random control's seizure rate, {base.rate:.2%} "
            f"({base.controls:,} conclusive controls, {how})"
            # one rate for every row: a phase's lift read as over its own controls
            + (
                f"; it is the rate of all the outcomes read, not of each {', '.join(pooled)}"
                if pooled
                else ""
            )
            + (
                "; the RANDOM_CONTROL rows' hit rates are weighted so too, their counts are not"
                if base.weighted
                else ""
            )
        )
    else:
        _echo("no conclusive random-control inspection in the period: no lift")
    if out is not None:
        _echo(f"table written to {out}", err=True)
    if counts["read"] and counts["rejected"] == counts["read"]:
        # an empty table and exit 0 read as "nothing inspected"
        _echo(
            f"warning: every outcome of {outcomes_path} was rejected by the contract: "
            "`risk-engine validate --kind outcomes` says why for each row",
            err=True,
        )
        raise typer.Exit(3)


def _filters_text(**given: str | None) -> str:
    """The filters a read was asked with, for its audit row: " (since 2026-11-01, container
    CSQU3054383)", or nothing."""
    named = [f"{name} {value}" for name, value in given.items() if value is not None]
    return f" ({', '.join(named)})" if named else ""


def _period(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    """``--since`` and ``--until`` as UTC datetimes (None when not given); a period that ends
    where or before it starts is a `ConfigError` rather than an empty answer."""
    from risk_engine.errors import ConfigError
    from risk_engine.parsing import parse_moment

    start = parse_moment(since, "--since") if since else None
    end = parse_moment(until, "--until") if until else None
    if start is not None and end is not None and end <= start:
        raise ConfigError(f"--until={until!r} is not after --since={since!r}: the period is empty")
    return start, end


def _review_text(table: Any, groups: tuple[str, ...]) -> str:
    header = "  ".join(f"{name:<18}" for name in groups)
    # "conclusive" is what a rate is of: an INCONCLUSIVE inspection counts as inspected only,
    # and without the column a reader dividing seizures by inspected got another rate.
    lines = [
        f"{header}  inspected  conclusive  seizures  hit rate (95 % interval)       "
        "lift over random"
    ]
    from risk_engine.terminal import escape_controls

    for row in table.itertuples(index=False):
        # a value of the outcome file, one row of the table each (a line break forged a row)
        keys = "  ".join(f"{escape_controls(str(getattr(row, name))):<18}" for name in groups)
        rate = (
            "-"
            if row.hit_rate != row.hit_rate
            else f"{row.hit_rate:6.1%} ({row.hit_rate_low:.1%}-{row.hit_rate_high:.1%})"
        )
        lift = (
            "-" if row.lift_over_random != row.lift_over_random else f"{row.lift_over_random:.1f}"
        )
        lines.append(
            f"{keys}  {row.inspected:>9,}  {row.conclusive:>10,}  {row.seizures:>8,}  "
            f"{rate:<29} {lift:>16}"
        )
    return "\n".join(lines)


@app.command()
def audit(
    since: Annotated[
        str | None, typer.Option(help="From this ISO date or time on (UTC when no zone).")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Before this ISO date or time.")] = None,
    key: Annotated[str | None, typer.Option(help="Only requests made with this key id.")] = None,
    container: Annotated[
        str | None,
        typer.Option(help="Only requests that named this container (who looked at it)."),
    ] = None,
    bl: Annotated[
        str | None, typer.Option(help="Only requests that named this B/L number.")
    ] = None,
    last: Annotated[
        # past a database integer it was a traceback (OverflowError)
        int | None,
        typer.Option(min=1, max=10**12, help="Rows to print (without --out; 20 by default)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Export every matching row to this CSV or Parquet file (with --purge-before: "
            "the archive written before the rows are deleted)."
        ),
    ] = None,
    purge_before: Annotated[
        str | None,
        typer.Option(
            help="Retention: archive to --out, then delete, the rows of requests before this "
            "ISO date or time."
        ),
    ] = None,
    no_archive: Annotated[
        bool, typer.Option("--no-archive", help="Purge without writing an archive.")
    ] = False,
) -> None:
    """Read the service's audit trail, or archive and delete its old rows (--purge-before).

    Each row says who called which route, when, with what result; --container and --bl list
    the requests that named a container or a B/L: who looked at it."""
    from risk_engine.settings import load_settings
    from serve.audit import export_audit, recent_audit, record_read

    with _errors_to_exit_codes():
        started = datetime.now(UTC)
        settings = load_settings()
        if purge_before is not None or no_archive:
            _purge(
                settings,
                purge_before,
                out,
                no_archive,
                since=since,
                until=until,
                key=key,
                container=container,
                bl=bl,
                last=None if last is None else str(last),  # it was quietly ignored
            )
            return
        start, end = _period(since, until)
        if out is not None and last is not None:  # the export held every row, unsaid
            from risk_engine.errors import ConfigError

            raise ConfigError(
                f"--last {last} goes without --out: an export writes every matching row; "
                "narrow it with --since, --until, --key, --container or --bl"
            )
        if out is not None:
            with _progress("exporting audit rows", None) as advance:
                rows = export_audit(
                    settings,
                    out,
                    since=start,
                    until=end,
                    key_id=key,
                    container=container,
                    bl_number=bl,
                    progress=advance,
                )
            filters = _filters_text(since=since, until=until, key=key, container=container, bl=bl)
            try:
                record_read(
                    settings,
                    "risk-engine audit --out",
                    started=started,
                    rows=rows,
                    detail=f"{rows:,} audit rows{filters} exported to {out}",
                )
            except BaseException:  # an export the trail cannot record is not left behind
                out.unlink(missing_ok=True)
                raise
            _echo(f"{rows:,} audit rows written to {out}")
            return
        entries = recent_audit(
            settings,
            last=20 if last is None else last,
            since=start,
            until=end,
            key_id=key,
            container=container,
            bl_number=bl,
        )
        # after the rows are read, so the listing does not hold its own read
        filters = _filters_text(since=since, until=until, key=key, container=container, bl=bl)
        record_read(
            settings,
            "risk-engine audit",
            started=started,
            rows=len(entries),
            detail=f"{len(entries):,} audit rows{filters} read",
        )
    for e in entries:
        # a revoked or expired key's request has no role: "(None)" was printed
        who = (
            (f"key {e.key_id} ({e.role})" if e.role else f"key {e.key_id}")
            if e.key_id
            else "no key"
        )
        if e.method == "CLI":  # a command run on the server, such as a purge
            who = f"by {e.client}"
        _echo(
            f"{e.at:%Y-%m-%dT%H:%M:%SZ}  {e.method:<5} {e.route:<20} {e.status}  {who}"
            f"  lines {e.lines if e.lines is not None else '-'}"
            f"  model {e.model_version or '-'}  {e.duration_ms:.1f} ms  request {e.request_id}"
            # what a command or an automatic reload did ("replaced by ...", "deleted 5 rows")
            + (f"  {e.detail}" if e.detail else "")
        )
    if not entries:
        _echo("no audit rows match", err=True)


def _score_text(score: float) -> str:
    """A score to 3 significant digits, never in exponent form: a watch-list pick's 0.000409
    read 0.000 (3 decimals), and 0.0000409 read 4.09e-05 (3 digits)."""
    import numpy as np

    return str(np.format_float_positional(score, precision=3, fractional=False, trim="-"))


def _echo_picks(picks: Any) -> set[int]:
    """Print screening picks one a line, each with what selected it; returns their rows."""
    for line in picks.itertuples(index=False):
        # Both are text columns (" | "-joined in `_score_chunk`); pandas-stubs types a row's
        # fields as any scalar, bytes included.
        told = {"RULE": line.rule_hits, "WATCHLIST": line.watchlist_hits}
        detail = cast(str, told.get(cast(str, line.selection_reason), line.reasons))
        _echo(  # a random-control pick may have nothing to tell: no empty ": "
            f"  {line.container_number}  {line.port_of_discharge} {line.arrival_date}  "
            f"score {_score_text(line.risk_score)}  {line.selection_reason}"
            + (f": {detail}" if detail else ""),
            one_line=True,
        )
    return {int(row) for row in picks["row"]}


def _small_port_days(counts: dict[str, Any], capacity: float) -> str | None:
    """A note when a share capacity selects far more than the share because the batch's
    port-days are small (each gets at least one slot): a batch of one day's filings holds
    fragments of many arrival days."""
    scored, chosen, days = counts["scored"], counts["selected_total"], counts["port_days"]
    if not scored or not days or chosen <= 1.5 * capacity * scored:
        return None
    per_day = scored / days
    if per_day * capacity >= 1:
        return None
    return (
        f"note: {chosen:,} of {scored:,} lines selected ({chosen / scored:.1%}) against a "
        f"capacity of {capacity:.{1 if capacity >= 0.001 else 3}%}: the {days:,} port-days "
        f"have {per_day:.1f} lines on average "
        "and each gets at least one slot. Screen whole port-days (a port-day's slots go to "
        "each batch that holds part of it), or give ports a number of slots a day with "
        "--capacity-file when each batch holds their whole day."
    )


def _purge(
    settings: Any,
    before: str | None,
    out: Path | None,
    no_archive: bool,
    **others: str | None,
) -> None:
    """``audit --purge-before``: the options checked, then `serve.audit.purge_audit`."""
    from risk_engine.errors import ConfigError
    from risk_engine.parsing import parse_moment
    from serve.audit import purge_audit

    if before is None:
        raise ConfigError("--no-archive goes with --purge-before DATE")
    given = [f"--{name}" for name, value in others.items() if value is not None]
    if given:
        raise ConfigError(f"--purge-before takes no {', '.join(given)}: it purges every key's rows")
    if (out is None) == (not no_archive):
        raise ConfigError(
            "--purge-before needs --out ARCHIVE.csv|.parquet (written before anything is "
            "deleted), or --no-archive to delete without one; not both"
            if out is None
            else "--out and --no-archive contradict each other: give one"
        )
    cutoff = parse_moment(before, "--purge-before")
    with _progress("archiving audit rows", None) as advance:
        done = purge_audit(settings, cutoff, archive=out, progress=advance)
    moment = f"{cutoff:%Y-%m-%dT%H:%M:%SZ}"
    if not done.log_cleared:  # the rows are gone from the table, not yet from the log's pages
        _echo(
            "warning: the write-ahead log (engine.db-wal) may still hold the purged rows' B/Ls "
            "and containers: a reader held the database open (a backup, an export, a long "
            f"query); run `risk-engine audit --purge-before {moment}` again (a new --out, or "
            "--no-archive) once it is done",
            err=True,
        )
    if done.deleted == 0:
        _echo(f"0 audit rows of requests before {moment}: nothing archived or deleted")
        return
    where = f"archived to {done.archive}" if done.archive is not None else "no archive"
    _echo(
        f"{done.deleted:,} audit rows of requests before {moment} deleted, {where} "
        f"({done.archived:,} rows written)"
    )


@app.command()
def backup(
    out: Annotated[Path, typer.Argument(help="The copy to write (a new file).")],
) -> None:
    """Copy the outcome, audit and key database (SQLite) while the service runs."""
    from risk_engine.settings import load_settings
    from serve.audit import record_read
    from serve.store import Store, backup_row_counts

    with _errors_to_exit_codes():
        started = datetime.now(UTC)
        settings = load_settings()
        # recorded before the copy, which then holds its own row
        record_read(
            settings,
            "risk-engine backup",
            started=started,
            rows=None,
            detail=f"the store copied to {out}",
        )
        store = Store.opened(settings, existing=True)
        try:
            counts = store.row_counts()
            store.backup_to(out)
        finally:
            store.dispose()
        copied = backup_row_counts(out)
    rows = ", ".join(f"{copied[name]:,} {name}" for name in copied)
    _echo(f"{out}: {rows} (the store had {sum(counts.values()):,} rows just before)")


@app.command()
def restore(
    backup: Annotated[Path, typer.Argument(help="The backup to put back (a `backup` copy).")],
    keep: Annotated[
        Path | None,
        typer.Option(
            help="Where to keep the store as it was (default: beside it, "
            "engine.db.before-restore-TIME)."
        ),
    ] = None,
) -> None:
    """Put the outcome, audit and key database (SQLite) back to a backup, keeping it as it was.

    The backup is checked first (a sound SQLite copy of the store, of a schema this engine
    reads); the store as it was is copied to --keep; then the backup is written into the store
    through SQLite, so no write-ahead log of the old database is applied to it. Stop the service
    first: what it records between the backup and the restore is only in the kept copy."""
    from risk_engine.settings import load_settings
    from serve.restore import restore_store

    with _errors_to_exit_codes():
        done = restore_store(load_settings(), backup, keep=keep)
    rows = ", ".join(f"{done.counts[name]:,} {name}" for name in done.counts)
    _echo(f"restored from {backup} (schema version {done.backup_version}): {rows}")
    if done.kept is not None:
        _echo(f"the store as it was is kept in {done.kept}")


keys_app = typer.Typer(
    help="API keys of the scoring service (stored hashed).", no_args_is_help=True
)
app.add_typer(keys_app, name="keys")


class Role(StrEnum):
    officer = "officer"
    analyst = "analyst"
    admin = "admin"


@keys_app.command("create")
def keys_create(
    role: Annotated[Role, typer.Option(help="officer, analyst or admin")],
    name: Annotated[str, typer.Option(help="Who or what the key is for.")],
    days: Annotated[
        int | None,
        typer.Option(min=1, max=3650, help="Days the key works (default: until revoked)."),
    ] = None,
) -> None:
    """Create a key; it is shown once, only its hash is kept."""
    from risk_engine.settings import load_settings
    from serve.keys import create_key

    with _errors_to_exit_codes():
        try:
            new = create_key(load_settings(), role=role.value, name=name, days=days)
        except ValueError as error:
            from risk_engine.errors import ConfigError

            raise ConfigError(str(error)) from error
    _echo(new.key)
    until = f", works until {new.expires_at:%Y-%m-%d %H:%M} UTC" if new.expires_at else ""
    _echo(
        f"key id {new.key_id}, role {role.value}{until}: store the key now, it is not shown again",
        err=True,
    )


@keys_app.command("list")
def keys_list() -> None:
    """List keys (ids, roles, names, when created; revoked, expired or until when)."""
    from risk_engine.settings import load_settings
    from serve.keys import list_keys

    with _errors_to_exit_codes():
        for info in list_keys(load_settings()):
            _echo(
                f"{info.key_id}  {info.role:<8} {info.name:<24} "
                f"created {info.created_at:%Y-%m-%d %H:%M} UTC  {info.state}"
            )


@keys_app.command("rotate")
def keys_rotate(
    key_id: Annotated[
        str, typer.Argument(help="Key id of the key to replace (12 hex digits, or the key).")
    ],
    days: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=3650,
            help="Days the new key works (default: as many as the old key was made for).",
        ),
    ] = None,
    grace_hours: Annotated[
        int,
        typer.Option(
            min=0, max=720, help="Hours the old key keeps working (default 0: revoked now)."
        ),
    ] = 0,
) -> None:
    """Replace a key: a new one for the same holder and role; the old one is revoked.

    With --grace-hours the old key keeps working that many hours instead."""
    from risk_engine.settings import load_settings
    from serve.keys import rotate_key

    with _errors_to_exit_codes():
        try:
            new, old = rotate_key(load_settings(), key_id, days=days, grace_hours=grace_hours)
        except ValueError as error:
            from risk_engine.errors import ConfigError

            raise ConfigError(str(error)) from error
    _echo(new.key)
    until = f", works until {new.expires_at:%Y-%m-%d %H:%M} UTC" if new.expires_at else ""
    _echo(
        f"key id {new.key_id}, role {new.role.label}, for {new.name}{until}: store the key now, "
        f"it is not shown again; the old key {old.key_id} is {old.state}",
        err=True,
    )


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[
        str, typer.Argument(help="Key id (12 hex digits, as `keys list` shows; or the key).")
    ],
) -> None:
    """Revoke a key; requests with it get 401 from then on."""
    from risk_engine.settings import load_settings
    from serve.keys import revoke_key, working_successors

    started = datetime.now(UTC)
    settings = load_settings()
    with _errors_to_exit_codes():
        info = revoke_key(settings, key_id)
        still = working_successors(settings, info.key_id)
    if info.revoked_at is not None and info.revoked_at < started:
        _echo(f"{info.key_id} ({info.role}, {info.name}) was revoked already: {info.state}")
    else:
        _echo(f"revoked {info.key_id} ({info.role}, {info.name})")
    for successor in still:  # revoked for cause, its holder's rotated key went on working
        _echo(
            f"note: {successor.key_id} ({successor.role}, {successor.name}), rotated from it, "
            f"still works ({successor.state}): `risk-engine keys revoke {successor.key_id}` "
            "if the holder is the reason",
            err=True,
        )
