"""Batch screening of port arrivals under an inspection capacity, with a random-control share.

Lines are read in chunks through the contract (rejects go to the rejects file, never lost), scored
point in time in filing order whatever the file's order (each part, whole filing days, sees the
earlier parts as history, as if screened day by day; `models.filing_order`), and kept
on disk in temporary files (a Parquet file of the output columns and the raw model matrix, about
0.5 KB a line); then each port-day is selected within its capacity (watch-list and mandatory rule
hits first, then the highest scores, then a uniform random-control draw; with a documentary share,
the next highest scores go to the yellow lane for a document check), the model's picks that
were not explained when scored are explained from their matrix, and the ranked output is written
chunk by chunk. Memory does not grow with the file beyond a few numbers per line for the
selection.

``engine="dask"`` scores the chunks on a Dask cluster (a LocalCluster when no address is given):
the driver advances the feature state chunk by chunk and ships each chunk with its state snapshot,
so the results are identical to the local engine.
"""

from __future__ import annotations

import contextlib
import copy
import gc
import hashlib
import logging
import os
import re
import secrets
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from features.files import (
    FrameWriter,
    fresh_outputs,
    name_held,
    open_records,
    partial_name,
    read_ahead,
)
from features.ingest import ValidationReport, iter_validated
from features.mapping import ColumnMapping
from models.capacity import PortCapacity
from models.drift import DriftTally, drift_notes, with_families
from models.filing_order import in_filing_order
from models.profiles import ProfileSet
from models.selection import (
    MANDATORY_REASONS,
    arrival_days,
    documentary_picks,
    select_per_port_day,
)
from models.watchlist import Watchlist
from risk_engine.columns import SHIPMENT_KEY, Rule
from risk_engine.errors import ConfigError
from risk_engine.reference import known_port_codes
from risk_engine.validation import no_issues

__all__ = [
    "LANES",
    "LIST_JOIN",
    "OUTPUT_COLUMNS",
    "ScreenSummary",
    "control_seed",
    "screen_file",
]

log = logging.getLogger(__name__)

# The home's own secret seed of the random-control draw (`control_seed`).
CONTROL_SEED_FILE = "control-seed"


def control_seed(home: Path) -> int:
    """The random-control draw's seed of an engine home: 128 random bits made on first use and
    kept in ``home/control-seed`` (with the permissions the rest of the home gets). The same
    home draws the same lines from the same batch; no one without the file can tell which, as
    anyone could with the public seed 0. A `ConfigError` (exit 2) names a file that is not such
    a seed, or a home where it cannot be made or read."""
    path = Path(home) / CONTROL_SEED_FILE
    if not path.exists():
        try:
            _make_seed(path)
        except OSError as error:
            raise ConfigError(
                f"the random-control seed {path} cannot be made ({error.strerror}): run as the "
                "home's user, or give --seed"
            ) from None
    try:
        text = path.read_text(encoding="ascii", errors="replace").strip()
    except OSError as error:
        raise ConfigError(
            f"the random-control seed {path} cannot be read ({error.strerror}): remove it or "
            "give this user access, or give --seed"
        ) from None
    if not _SEED_TEXT.fullmatch(text) or not int(text, 16):
        raise ConfigError(
            f"{path} is not a random-control seed (32 hexadecimal digits, not all zero): remove "
            "it to make a new one, or give --seed"
        )
    return int(text, 16)


_SEED_TEXT = re.compile("[0-9a-f]{32}")


def _make_seed(path: Path) -> None:
    """A new seed put in place whole, never over one another screening made meanwhile."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, prefix=f".partial-{CONTROL_SEED_FILE}", delete=False
    ) as made:
        made.write(f"{secrets.randbits(128):032x}\n")
    try:
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(made.name, 0o666 & ~mask)  # as every file of the home (not the 0600 it got)
        with contextlib.suppress(FileExistsError):
            os.link(made.name, path)
    finally:
        os.unlink(made.name)


def seed_fingerprint(seed: int, *, secret: bool) -> str:
    """How a report names the seed its control was drawn with: one given with --seed as it is,
    the home's secret seed by the start of its SHA-256, which tells two seeds apart without
    telling the seed."""
    if not secret:
        return str(seed)
    digest = hashlib.sha256(seed.to_bytes(seed.bit_length() // 8 + 1, "big")).hexdigest()[:12]
    return f"sha256:{digest} (the home's control-seed)"


REASON_BANDS = ("red", "amber")
# The lanes of a screened line, as ASYCUDA names them: RED a physical inspection (the selection
# within the capacity), YELLOW a document check, GREEN release.
LANES = ("RED", "YELLOW", "GREEN")

OUTPUT_COLUMNS = [
    "bl_number",
    "container_number",
    "port_of_discharge",
    "arrival_date",
    "risk_score",
    "rank",
    "selected",
    "lane",
    "selection_reason",
    "selection_probability",
    "model_version",
    "reasons",
    "rule_hits",
    "watchlist_hits",
    "dq_flags",
    "approximate_history",
    "band",
    "row",
]
# The reason of a model pick in whose line no feature raises the risk (a quiet port-day's top).
# The ranked file's list cells (reasons, rule hits, watch-list hits), as the officers' page saves
# them: a sentence may hold "; " itself (HS chapter 04 "Dairy produce; birds' eggs; ...", a
# watch-list note), which read as two reasons when "; " joined them.
LIST_JOIN = " | "
_NOTHING_STANDS_OUT = "among the highest scores of its port-day; no feature raises its risk"
# What the output reads back of a scored part: everything but the selection's columns and the
# model version (one for the whole batch; on each line so that an inspection's outcome can be
# recorded from the ranked list with the contract's selection_reason, selection_probability
# and model_version).
_SELECTION_COLUMNS = ("rank", "selected", "lane", "selection_reason", "selection_probability")
_PART_COLUMNS = [
    name for name in OUTPUT_COLUMNS if name not in (*_SELECTION_COLUMNS, "model_version")
]


_KEPT = 50  # picks kept for the printed lists


def _highest(parts: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(parts).nlargest(_KEPT, "risk_score") if parts else pd.DataFrame()


@dataclass
class ScreenSummary:
    """Counts that add up: read = scored + rejected; selected by reason."""

    input: str
    output: str
    model_version: str
    read: int = 0
    scored: int = 0
    rejected: int = 0
    selected: Counter[str] = field(default_factory=Counter)
    # Lines in the yellow lane (a document check; not in ``selected``, which counts the
    # physical inspections).
    documentary: int = 0
    # Lines filed more than the state's rescore_days before its cut-off when they were scored:
    # their history features are approximate (`features.state`), and the drift check leaves
    # them out (they shift the windowed counts and value norms, not the world).
    approximate: int = 0
    # Of them, those the drift check left out (all of them, when the model has a reference).
    drift_left_out: int = 0
    exact_days: float = 0.0
    # Lines filed further back than the history keeps line keys (`FeatureState.key_horizon`)
    # when they were added: had they been screened before, the history cannot tell.
    beyond_memory: int = 0
    memory_days: float = 0.0
    # The feature history's cut-off when the batch was read, and the first filing of the
    # batch: a gap between them is lines the history lacks (a new champion's history ends at
    # its training's cut-off, though the champion before it screened the days since).
    history_as_of: str = ""
    first_filed: str = ""
    history_gap_days: float = 0.0
    port_days: int = 0
    # Ports of the capacity file that no line of the batch arrives at and the port table does
    # not know: most likely a misspelt code, whose port then kept the share.
    capacity_unmatched: list[str] = field(default_factory=list)
    # Rejected lines that name a watch-list entry, one sentence each: not in the ranked list
    # (they could not be scored), yet a listed container must not slip through on a typo.
    watchlist_rejected: list[str] = field(default_factory=list)
    # The commonest reasons lines were rejected ("filed_at malformed (131)"), so a batch whose
    # every line was rejected is not told as a quiet success.
    reject_reasons: list[str] = field(default_factory=list)
    # what to do about reasons with a fix outside the values (a mapping's decimal comma)
    hints: list[str] = field(default_factory=list)
    rejects_path: str | None = None
    report_path: str | None = None
    top: pd.DataFrame | None = None
    # What the selection was made with, in words (capacity, control share, lists): the report
    # says it, so a report read later still tells what produced it.
    inputs: list[str] = field(default_factory=list)
    # Watch-list and mandatory-rule picks (highest scores first, at most `_KEPT`): a low score
    # keeps them out of `top`, yet they are the picks an officer must not miss.
    mandatory: pd.DataFrame | None = None
    # The batch against the model's training reference (`models.drift`): PSI per feature and
    # for the score, the share of lines per band (reference, batch), and what stands out:
    # warnings when the scores or the bands moved, notes when features did.
    drift: pd.DataFrame | None = None
    bands: dict[str, tuple[float, float]] = field(default_factory=dict)
    drift_warnings: list[str] = field(default_factory=list)
    drift_notes: list[str] = field(default_factory=list)

    @property
    def drift_left_out_note(self) -> str | None:
        """What the drift check left out, when it left out lines."""
        if not self.drift_left_out:
            return None
        many = self.drift_left_out > 1
        lines = f"{self.drift_left_out:,} line{'s' if many else ''}"
        if self.drift is not None:
            lead = f"{lines} left out of the comparison: {'they have' if many else 'it has'}"
        elif many:
            lead = f"no line compared: all {lines} of the batch have"
        else:
            lead = "no line compared: the batch's one line has"
        return (
            f"{lead} approximate history features (filed more than {self.exact_days:g} days "
            "before the history's cut-off), whose windowed counts and value norms read a history "
            "that no longer holds the days around them; the shift they show is the history's, "
            "not the goods'"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "output": self.output,
            "model_version": self.model_version,
            "read": self.read,
            "scored": self.scored,
            "rejected": self.rejected,
            "selected": dict(self.selected),
            "selected_total": sum(self.selected.values()),
            "documentary": self.documentary,
            "approximate_history": self.approximate,
            "drift_left_out": self.drift_left_out,
            "beyond_history_memory": self.beyond_memory,
            "history_gap_days": round(self.history_gap_days, 2),
            "port_days": self.port_days,
            "capacity_ports_unmatched": self.capacity_unmatched,
            "watchlist_rejected": self.watchlist_rejected,
            "rejects": self.rejects_path,
            "report": self.report_path,
            "inputs": self.inputs,
            "drift_warnings": self.drift_warnings,
            "drift_notes": self.drift_notes,
        }


def _score_chunk(
    scorer: Any,
    accepted: pd.DataFrame,
    watchlist: Watchlist | None,
    profiles: ProfileSet | None = None,
    *,
    remember: bool = False,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Everything the output needs for one chunk of accepted lines (no selection yet), and the
    model matrix of each line. Reasons are told now for red and amber lines; a green line the
    selection picks for the model later gets its reasons from its matrix (`_explain_picks`);
    a random-control pick keeps the reasons of its band (a red or amber line's, which say what
    raised its score, not why it was drawn; a green one has none)."""
    scored, matrix = scorer.score_with_matrix(
        accepted, reason_bands=REASON_BANDS, remember=remember, profiles=profiles
    )
    mandatory = scored["mandatory_rule"]
    told = watchlist.matches(accepted) if watchlist is not None else [[]] * len(accepted)
    eta = pd.to_datetime(accepted["eta"], utc=True)
    frame = pd.DataFrame(
        {
            "row": accepted.index.to_numpy(dtype=np.int64),
            "bl_number": _text(accepted["bl_number"]),
            "container_number": _text(accepted["container_number"]),
            "port_of_discharge": _text(accepted["port_of_discharge"]),
            "arrival_date": arrival_days(accepted["port_of_discharge"], eta).to_numpy(),
            "risk_score": scored["risk_score"].to_numpy(dtype="float64"),
            "band": scored["band"].to_numpy(),
            "reasons": [LIST_JOIN.join(r) for r in scored["reasons"]],
            "rule_hits": [LIST_JOIN.join(r) for r in scored["rule_hits"]],
            "watchlist_hits": [LIST_JOIN.join(t) for t in told],
            "dq_flags": _text(
                accepted["dq_flags"]
                if "dq_flags" in accepted.columns
                else pd.Series("", index=accepted.index)
            ).fillna(""),
            "watchlist": np.array([bool(t) for t in told], dtype=bool),
            "mandatory_rule": mandatory.to_numpy(dtype=bool),
            "approximate_history": scored["approximate_history"].to_numpy(dtype=bool),
        }
    )
    return frame, matrix


def _matrix_path(part: Path) -> Path:
    """Where a scored part's model matrix is kept (raw float64, read back by row)."""
    return part.with_suffix(".npy")


def _explain_picks(frame: pd.DataFrame, part: Path, scorer: Any) -> pd.DataFrame:
    """Reasons for the model's picks that have none yet (green lines chosen in their port-day,
    or for a document check), told from the matrix they were scored with: every MODEL pick says
    why. ``frame`` holds
    the part's lines in the part's order; returns the rows told, with their reasons."""
    wanted = np.flatnonzero(
        (frame["selection_reason"] == "MODEL").to_numpy(dtype=bool)
        & (frame["reasons"] == "").to_numpy(dtype=bool)
    )
    if not len(wanted):
        return pd.DataFrame({"row": np.zeros(0, dtype=np.int64), "reasons": []})
    # A memory map: only the pages of the rows wanted are read.
    matrix = np.asarray(np.load(_matrix_path(part), mmap_mode="r")[wanted])
    told = [LIST_JOIN.join(r) or _NOTHING_STANDS_OUT for r in scorer.explain_matrix(matrix)]
    frame.loc[frame.index[wanted], "reasons"] = told
    return pd.DataFrame({"row": frame["row"].to_numpy()[wanted], "reasons": told})


def _text(column: pd.Series) -> pd.Series:
    """A text column as Arrow-backed strings (no Python string per line), without its index."""
    return column.astype(pd.StringDtype("pyarrow")).reset_index(drop=True)


def _score_remote(
    scorer: Any,
    pipeline: Any,
    accepted: pd.DataFrame,
    watchlist: Watchlist | None,
    profiles: ProfileSet | None,
) -> tuple[pd.DataFrame, np.ndarray]:
    working = copy.copy(scorer)
    working.pipeline = pipeline
    return _score_chunk(working, accepted, watchlist, profiles)


def _watched_rejects(watchlist: Watchlist, result: Any) -> list[str]:
    """Sentences for the rejected lines of a validated chunk that name a watch-list entry: the
    rows the contract rejected and the CSV lines that did not split (their fields read at the
    header's positions), as read. A repeated line (`duplicate_key`) is left out: its first
    copy was screened."""

    def told(rows: list[int], frame: pd.DataFrame) -> list[str]:
        matched = zip(rows, watchlist.matches(frame), strict=True)
        return [f"row {row}: {'; '.join(hits)}" for row, hits in matched if hits]

    issues = result.issues
    found: list[str] = []
    lines: pd.DataFrame | None = result.rejected_lines
    if lines is not None and len(lines):
        repeated = issues.loc[issues["rule"] == Rule.DUPLICATE_KEY.value, "row"]
        lines = lines[~lines.index.isin(repeated)]
        found += told(lines.index.tolist(), lines)
    return found


def _scored_chunks(
    source: Any,
    scorer: Any,
    working: Any,
    watchlist: Watchlist | None,
    profiles: ProfileSet | None,
    report: ValidationReport,
    rejects: FrameWriter | None,
    *,
    engine: str,
    scheduler: str | None,
    progress: Callable[[int], None] | None,
    folder: Path,
    watched_rejects: list[str] | None = None,
    first_filed: list[pd.Timestamp] | None = None,
) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
    """Scored parts in filing order, each with its model matrix; the feature state of
    ``working`` (a copy of ``scorer`` with its own pipeline) advances part by part. Rejected
    lines that name a watch-list entry are told in ``watched_rejects``; ``folder`` holds the
    lines of a batch of more than one chunk until they are scored."""

    def validated() -> Iterator[pd.DataFrame]:
        """Accepted lines in filing order, in parts of whole filing days (the lines of one
        day, a B/L's containers, a voyage's B/Ls, are featurised together, as when screening
        day by day), whatever the file's order (`models.filing_order`)."""
        return in_filing_order(_accepted(), rows=source.chunk_rows, folder=folder, ordered=ordered)

    ordered = source.filed_in_order()
    # A file out of order is read whole (set aside by filing day) before the first line is
    # scored: the progress bar then counts the scored lines again, from 0, rather than stand
    # at the last line read while the scoring runs.
    scoring = _scoring_progress(progress) if not ordered else None

    def _accepted() -> Iterator[pd.DataFrame]:
        for result in iter_validated(source, progress=progress):
            report.add(result)
            if first_filed is not None and len(result.accepted):
                first_filed.append(pd.to_datetime(result.accepted["filed_at"], utc=True).min())
            if watchlist is not None and watched_rejects is not None:
                watched_rejects.extend(_watched_rejects(watchlist, result))
            if rejects is not None and not result.issues.empty:
                rejected_rows = set(result.rejected_rows.tolist())
                issues = result.issues
                mask = issues["row"].isin(rejected_rows) | (issues["field"] == "record")
                if mask.any():
                    rejects.write(issues[mask])
            yield result.accepted

    if engine == "local":
        # The next chunk is validated in a thread while this one is scored.
        for accepted in read_ahead(validated()):
            if len(accepted):
                # Scored, then added to the state in the same pass.
                yield _score_chunk(working, accepted, watchlist, profiles, remember=True)
                if scoring is not None:
                    scoring(len(accepted))
        return
    if engine != "dask":
        raise ValueError(f"engine must be 'local' or 'dask', not {engine!r}")
    from dask.distributed import Client, LocalCluster

    cluster = None if scheduler else LocalCluster(n_workers=2, threads_per_worker=1, processes=True)
    try:
        try:
            client = Client(scheduler or cluster)
        except (OSError, TimeoutError) as error:  # distributed times out after 30 s
            raise ConfigError(
                f"--scheduler {scheduler}: the Dask scheduler cannot be reached ({error})"
            ) from None
        with client:
            try:
                client.wait_for_workers(1, timeout=_WORKER_WAIT_S)
            except TimeoutError:  # scattering the model to none failed with a traceback
                raise ConfigError(
                    f"--scheduler {scheduler}: the Dask scheduler has no worker after "
                    f"{_WORKER_WAIT_S:g} s: start workers on it (dask worker {scheduler})"
                ) from None
            for scored in _dask_chunks(client, scorer, working, validated(), watchlist, profiles):
                yield scored
                if scoring is not None:
                    scoring(len(scored[0]))
    finally:
        if cluster is not None:
            cluster.close()


_WORKER_WAIT_S = 30.0  # how long a cluster may take to have a worker to score on


def _scoring_progress(progress: Callable[[int], None] | None) -> Callable[[int], None] | None:
    """``progress`` counting scored lines from 0 under a new description, when it can be told
    one (a ``phase`` attribute, as the CLI's bar has); None otherwise."""
    phase = getattr(progress, "phase", None)
    if progress is None or phase is None:
        return None
    started = False

    def scored(lines: int) -> None:
        nonlocal started
        if not started:
            phase("lines scored in filing order")
            started = True
        progress(lines)

    return scored


def _dask_chunks(
    client: Any,
    scorer: Any,
    working: Any,
    batches: Iterator[pd.DataFrame],
    watchlist: Watchlist | None,
    profiles: ProfileSet | None,
) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
    """Each batch scored on the cluster with a snapshot of the state before it; the driver
    advances the state batch by batch, so the scores equal the local engine's."""
    futures = []
    scattered_scorer = client.scatter(scorer, broadcast=True)
    for accepted in batches:
        if len(accepted):
            snapshot = copy.deepcopy(working.pipeline)
            # Sent as data, not inside the task: in the task graph each chunk made distributed
            # warn "Sending large graph ... Consider loading the data with Dask directly".
            futures.append(
                client.submit(
                    _score_remote,
                    scattered_scorer,
                    client.scatter(snapshot),
                    client.scatter(accepted),
                    watchlist,
                    profiles,
                    pure=False,
                )
            )
            working.pipeline.update(accepted)
    for future in futures:
        yield future.result()


@contextmanager
def _discarded_on_error(*writers: FrameWriter | None, pages: list[Path]) -> Iterator[None]:
    """A screening that fails leaves no partial output beside the name it was to have: the
    rejects file, the ranked list and the report (``pages``: the partial files held)."""
    try:
        yield
    except BaseException:
        for writer in writers:
            if writer is not None:
                writer.discard()
        for page in pages:
            with contextlib.suppress(OSError):
                partial_name(page).unlink(missing_ok=True)
        raise


# The cyclic collector's thresholds while a batch is screened (`_fewer_collections`).
_BATCH_GC_THRESHOLD = (50_000, 20, 100)


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Screening makes millions of short-lived small objects (a list of reasons and of rule
    hits per line, their strings) that form no cycle. At the default thresholds (a young
    collection every 700 of them) the collector took about a tenth of a million-line run
    (`benchmarks/screen_bench.py`: 48.8 / 49.5 s against 44.8 / 44.3 s raised). Raised while
    the batch is screened, restored after; memory held is unchanged."""
    before = gc.get_threshold()
    gc.set_threshold(*_BATCH_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*before)


@_fewer_collections()
def screen_file(
    input_path: Path,
    out_path: Path,
    *,
    scorer: Any,
    capacity: float = 0.03,
    random_control: float = 0.1,
    documentary: float = 0.0,
    mapping: ColumnMapping | None = None,
    watchlist: Watchlist | None = None,
    profiles: ProfileSet | None = None,
    port_capacity: PortCapacity | None = None,
    rejects_path: Path | None = None,
    report_path: Path | None = None,
    engine: str = "local",
    scheduler: str | None = None,
    seed: int = 0,
    secret_seed: bool = False,
    chunk_rows: int = 200_000,
    progress: Callable[[int], None] | None = None,
    keep_history: Callable[[Any], None] | None = None,
    inputs: Sequence[Path | None] = (),
) -> ScreenSummary:
    """Screen a whole arrivals file; see the module docstring. ``keep_history`` is given the
    feature pipeline advanced by the batch's lines (`models.history` keeps it for the next
    screening); ``scorer`` itself is left as it was. ``inputs`` are the job's other input
    files (mapping, watch list, profiles, capacity file), which no output may overwrite."""
    # before the work: an output that cannot be written stops it now, and nothing is removed
    fresh_outputs(
        [(out_path, True), (rejects_path, True), (report_path, False)],
        inputs=(input_path, *inputs),
    )
    source = open_records(input_path, "shipments", mapping, chunk_rows=chunk_rows)
    report = ValidationReport(str(input_path), "shipments")
    summary = ScreenSummary(str(input_path), str(out_path), str(getattr(scorer, "version", "")))
    state = scorer.pipeline.state_
    summary.exact_days = float(state.params.rescore_days)
    summary.memory_days = float(state.key_memory_days)
    first_filed: list[pd.Timestamp] = []
    summary.inputs = _inputs(
        capacity,
        random_control,
        documentary,
        port_capacity,
        watchlist,
        profiles,
        seed_fingerprint(seed, secret=secret_seed),
    )
    summary.inputs.append(
        f"feature history: lines filed before {scorer.pipeline.as_of_:%Y-%m-%d %H:%M} UTC "
        f"({state.lines_seen:,} lines, {state.outcomes_seen:,} outcomes), exact for filings "
        f"from {state.params.rescore_days:g} days before that"
    )
    rejects = FrameWriter(rejects_path) if rejects_path is not None else None
    if rejects_path is not None:
        summary.rejects_path = str(rejects_path)
    reference = getattr(scorer, "reference", None)
    tally = reference.tally() if reference is not None else None
    in_band: Counter[str] = Counter()
    ports_seen: set[str] = set()
    ranked = FrameWriter(Path(out_path))
    held: list[Path] = []  # pages written under their partial names, named at the end
    # Every output is written under its partial name first, the feature history saved, and
    # only then are the outputs named: stopped or failed before the save, the run leaves no
    # output and the history as it was, so running it again gives the same list (the history
    # was saved before the list and the report were written: a stop or a full disk after it
    # left no list, and the next run, the batch now in the history, gave another one).
    with _discarded_on_error(rejects, ranked, pages=held):
        with tempfile.TemporaryDirectory(prefix="screen-") as tmp:
            parts: list[Path] = []
            working = copy.copy(scorer)
            working.pipeline = copy.deepcopy(scorer.pipeline)
            chunks = _scored_chunks(
                source,
                scorer,
                working,
                watchlist,
                profiles,
                report,
                rejects,
                engine=engine,
                scheduler=scheduler,
                progress=progress,
                folder=Path(tmp),
                watched_rejects=summary.watchlist_rejected,
                first_filed=first_filed,
            )
            for number, (chunk, matrix) in enumerate(chunks):
                part = Path(tmp) / f"part-{number:05d}.parquet"
                chunk.to_parquet(part, index=False)
                np.save(_matrix_path(part), matrix)
                parts.append(part)
                ports_seen.update(chunk["port_of_discharge"].dropna().unique().tolist())
                approximate = chunk["approximate_history"].to_numpy(dtype=bool)
                summary.approximate += int(approximate.sum())
                if tally is not None and not approximate.all():
                    rows = np.column_stack([matrix, chunk["risk_score"].to_numpy()])
                    bands = chunk["band"]
                    if approximate.any():  # a copy of the rows only when some are left out
                        rows, bands = rows[~approximate], bands[~approximate]
                    tally.add(rows)
                    in_band.update(bands.tolist())
            if rejects is not None:
                if not rejects.rows:  # written, with its header, when nothing was rejected too
                    rejects.write(no_issues())
                rejects.finish()
            if first_filed:
                start, cut = min(first_filed), pd.Timestamp(scorer.pipeline.as_of_)
                summary.history_as_of = f"{cut:%Y-%m-%d %H:%M} UTC"
                summary.first_filed = f"{start:%Y-%m-%d %H:%M} UTC"
                summary.history_gap_days = max(0.0, (start - cut) / pd.Timedelta(days=1))
            summary.beyond_memory = (
                working.pipeline.state_.lines_beyond_memory - state.lines_beyond_memory
            )
            if tally is not None:
                summary.drift_left_out = summary.approximate
                if tally.lines:
                    _compare(summary, tally, in_band)
            selection = _select(
                parts,
                capacity=capacity,
                random_control=random_control,
                documentary=documentary,
                seed=seed,
                port_capacity=port_capacity,
            )
            summary.port_days = int(selection["group"].nunique()) if len(selection) else 0
            if port_capacity is not None:
                summary.capacity_unmatched = sorted(
                    set(port_capacity.slots) - ports_seen - known_port_codes()
                )
            top_parts, must_parts = [], []
            told_parts = []
            for part in parts:  # the list written whole here, named with the others at the end
                frame = pd.read_parquet(part, columns=_PART_COLUMNS)
                # a left merge keeps the part's order, which `_explain_picks` relies on
                frame = frame.merge(selection.drop(columns=["group"]), on="row", how="left")
                frame["model_version"] = summary.model_version
                told_parts.append(_explain_picks(frame, part, scorer))
                ranked.write(frame[OUTPUT_COLUMNS])
                summary.selected.update(frame.loc[frame["selected"], "selection_reason"].tolist())
                summary.documentary += int((frame["lane"] == "YELLOW").sum())
                picked = frame[frame["selected"]]
                top_parts.append(picked.nlargest(_KEPT, "risk_score"))
                must = picked["selection_reason"].isin(MANDATORY_REASONS)
                must_parts.append(picked[must].nlargest(_KEPT, "risk_score"))
            if not parts:  # every line rejected: the list says so with its columns, no row
                ranked.write(
                    pd.DataFrame({name: pd.Series(dtype=object) for name in OUTPUT_COLUMNS})
                )
            ranked.finish()
            summary.top = _highest(top_parts)
            summary.mandatory = _highest(must_parts)
            # The file is read whole by now: the report states these counts (it was written
            # before them, and said "read 0, scored 0").
            summary.read = report.read
            summary.rejected = report.rejected
            rejects_only = Counter(
                {(f, r): n for (s, f, r), n in report.reasons.items() if s == "reject"}
            )
            summary.reject_reasons = [
                f"{f} {r} ({n:,})" for (f, r), n in rejects_only.most_common(3)
            ]
            summary.hints = report.hints()
            summary.scored = report.accepted + report.flagged
            if report_path is not None:
                from models.screen_report import write_screen_report

                held.append(Path(report_path))
                summary.report_path = str(
                    write_screen_report(
                        Path(report_path),
                        parts=parts,
                        selection=selection,
                        summary=summary,
                        told=pd.concat(told_parts, ignore_index=True) if told_parts else None,
                        hold=True,
                    )
                )
            if keep_history is not None:
                keep_history(working.pipeline)
            # named last: a rename each, after the history is saved
            if rejects is not None:
                rejects.close()
            ranked.close()
            for page in held:
                name_held(page)
    return summary


def _compare(summary: ScreenSummary, tally: DriftTally, in_band: Counter[str]) -> None:
    """The batch against the model's reference, into the summary."""
    summary.drift = with_families(tally.compare())
    summary.bands = {
        band: (share, in_band[band] / tally.lines) for band, share in tally.reference.bands.items()
    }
    summary.drift_warnings, summary.drift_notes = drift_notes(summary.drift, summary.bands)
    for note in summary.drift_warnings:  # told as warnings by the caller (the CLI, the report)
        log.info("screening %s against model %s: %s", summary.input, summary.model_version, note)


def _inputs(
    capacity: float,
    random_control: float,
    documentary: float,
    port_capacity: PortCapacity | None,
    watchlist: Watchlist | None,
    profiles: ProfileSet | None,
    seed: str = "0",
) -> list[str]:
    told = [f"capacity {capacity:.2%} of each port-day's lines (at least one slot)"]
    if port_capacity is not None:
        told.append(
            f"slots a day for {len(port_capacity.slots):,} ports: "
            + ", ".join(f"{port} {n}" for port, n in sorted(port_capacity.slots.items()))
        )
    told.append(
        f"random control {random_control * 100:.4g}% of the slots (the whole part in every "
        f"port-day, one more with the chance of the fraction), drawn with seed {seed}"
    )
    if documentary > 0:
        told.append(
            f"document checks (yellow lane) {documentary:.2%} of each port-day's lines, "
            "the highest scores after the physical inspections"
        )
    if port_capacity is not None and port_capacity.documentary:
        told.append(
            f"document checks a day for {len(port_capacity.documentary):,} ports: "
            + ", ".join(f"{port} {n}" for port, n in sorted(port_capacity.documentary.items()))
        )
    if watchlist is not None:
        e = watchlist.entries
        told.append(
            f"watch list: {e['parties']:,} parties, {e['containers']:,} containers, "
            f"{e['bills']:,} B/Ls"
        )
    if profiles is not None:
        names = ", ".join(f"{p.name} ({p.action})" for p in profiles.profiles)
        told.append(f"risk profiles {profiles.source}: {names or 'none'}")
    return told


def _selection_lines(part: Path, columns: list[str]) -> pd.DataFrame:
    """What selection needs of a scored part, with each line's key as one number (a hash of
    its B/L and container; the strings are not kept)."""
    frame = pq.read_table(part, columns=[*columns, *SHIPMENT_KEY]).to_pandas()
    keys = pd.util.hash_pandas_object(frame[list(SHIPMENT_KEY)], index=False)
    frame["key"] = np.asarray(keys.to_numpy(), dtype=np.uint64)
    lines: pd.DataFrame = frame.drop(columns=list(SHIPMENT_KEY))
    return lines


def _select(
    parts: list[Path],
    *,
    capacity: float,
    random_control: float,
    seed: int,
    documentary: float = 0.0,
    port_capacity: PortCapacity | None = None,
) -> pd.DataFrame:
    """Per port-day selection over all scored lines (a few numbers per line in memory)."""
    columns = [
        "row",
        "port_of_discharge",
        "arrival_date",
        "risk_score",
        "watchlist",
        "mandatory_rule",
    ]
    if not parts:
        return pd.DataFrame(
            columns=[
                "row",
                "group",
                "rank",
                "selected",
                "lane",
                "selection_reason",
                "selection_probability",
            ]
        )
    lines = pd.concat([_selection_lines(part, columns) for part in parts], ignore_index=True)
    # In the order of the lines' keys, whatever order the file has and the parts were scored
    # in: equal scores and the random control's draw then fall on the same lines for the same
    # batch, however its file is sorted or chunked (by file order, 24 of 1,430 model picks
    # moved when a file was sorted by eta rather than by filing time).
    lines = lines.sort_values("key", kind="stable", ignore_index=True)
    # A port-day as one integer (port code x days + day code): no label is built per line.
    port, _ = pd.factorize(lines["port_of_discharge"], use_na_sentinel=False)
    day, days = pd.factorize(lines["arrival_date"], use_na_sentinel=False)
    group = pd.Series(port.astype(np.int64) * max(len(days), 1) + day, index=lines.index)
    must = lines["watchlist"] | lines["mandatory_rule"]
    chosen = select_per_port_day(
        group,
        lines["risk_score"],
        capacity=capacity,
        random_control=random_control,
        mandatory=must,
        seed=seed,
        tie_break=lines["key"],
        draw_keys=lines["key"].to_numpy(dtype=np.uint64),
        fixed_slots=(
            None if port_capacity is None else port_capacity.per_line(lines["port_of_discharge"])
        ),
    )
    reason = chosen["selection_reason"].to_numpy(dtype=object)
    mandatory = reason == "MANDATORY"
    reason[mandatory & lines["watchlist"].to_numpy()] = "WATCHLIST"
    reason[mandatory & ~lines["watchlist"].to_numpy()] = "RULE"
    selected = chosen["selected"].to_numpy(dtype=bool)
    probability = chosen["selection_probability"].to_numpy(dtype="float64")
    papers = np.zeros(len(lines), dtype=bool)
    if documentary > 0 or (port_capacity is not None and port_capacity.documentary):
        papers = documentary_picks(
            group,
            lines["risk_score"],
            selected=selected,
            share=documentary,
            tie_break=lines["key"],
            fixed_slots=(
                None
                if port_capacity is None
                else port_capacity.per_line(lines["port_of_discharge"], documentary=True)
            ),
        )
        # A document check is the model's choice too: its outcome is recorded with MODEL
        # and probability 1, and its inspection_level (DOCUMENTARY) tells it apart.
        reason[papers] = "MODEL"
        probability = np.where(papers, 1.0, probability)
    return pd.DataFrame(
        {
            "row": lines["row"].to_numpy(),
            "group": group.to_numpy(),
            "rank": chosen["rank"].to_numpy(),
            "selected": selected,
            "lane": np.where(selected, "RED", np.where(papers, "YELLOW", "GREEN")),
            "selection_reason": reason,
            "selection_probability": probability,
        }
    )
