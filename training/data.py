"""Loading what training needs: validated shipments and outcomes, labels, truth, fingerprints."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from features.files import file_format, open_records
from features.ingest import ValidationReport, iter_validated
from features.mapping import ColumnMapping
from risk_engine.columns import SHIPMENT_KEY
from risk_engine.errors import ConfigError, InputUnreadable

__all__ = ["LoadedData", "load_records", "label_lines", "load_truth", "fingerprint"]

log = logging.getLogger(__name__)


@dataclass
class LoadedData:
    shipments: pd.DataFrame
    outcomes: pd.DataFrame
    shipments_report: ValidationReport
    outcomes_report: ValidationReport


def load_records(
    path: Path,
    kind: str,
    *,
    mapping: ColumnMapping | None = None,
    chunk_rows: int = 200_000,
    progress: Callable[[int], None] | None = None,
) -> tuple[pd.DataFrame, ValidationReport]:
    """Accepted (normalised) records of a file and the validation report; rejects are counted,
    not lost: they are in the report."""
    source = open_records(path, kind, mapping, chunk_rows=chunk_rows)
    report = ValidationReport(str(path), kind, ignored_columns=source.ignored_columns)
    parts = []
    for result in iter_validated(source, progress=progress):
        report.add(result)
        parts.append(result.accepted)
    frame = pd.concat(parts) if parts else pd.DataFrame()
    log.info("%s: %s", path, report.as_dict()["counts"])
    return frame, report


def label_lines(
    shipments: pd.DataFrame, outcomes: pd.DataFrame, *, warn: bool = False
) -> pd.DataFrame:
    """One labelled row per inspected shipment line: position in ``shipments``, label (1 when the
    inspection found contraband), inspected_at, recorded_at, selection reason and probability,
    and the model_version that scored the line when it was selected (NA where none is named).

    INCONCLUSIVE results carry no label. A line inspected more than once is labelled by its
    first inspection that found contraband, else by its first inspection: a scan or document
    check that found nothing, then a physical inspection that found drugs, is a seizure (the
    first inspection used to count, and such a line trained as NO_FINDING). The label is known
    from that outcome's ``recorded_at`` (a slice cut before it leaves the line out rather than
    train it as a NO_FINDING it turned out not to be); the selection reason and probability
    are the first inspection's, an inconclusive one included. Outcomes that match no shipment line are left out (counted in
    the log, as are the repeat inspections).

    The model_version is the first inspection's too: a random control naming one was drawn from
    that model's ranked list, whose ``selection_probability`` is its chance of the draw; one
    naming none was drawn by another policy (`training.review.draw_weights`).
    """
    if "model_version" not in outcomes.columns:  # optional in the contract
        outcomes = outcomes.assign(model_version=pd.Series(pd.NA, outcomes.index, "string"))
    usable = outcomes[outcomes["result"].isin(["SEIZURE", "NO_FINDING"])]
    key = list(SHIPMENT_KEY)
    # how the line was selected is its first inspection's, whatever it found (a random-control
    # scan that found nothing, or nothing conclusive, then an intelligence-led search that found
    # drugs, is a control pick with its probability, not an intelligence pick without one)
    first = outcomes.sort_values("inspected_at", kind="stable").drop_duplicates(key)
    how = ["selection_reason", "selection_probability", "model_version"]
    selected = first.set_index(key)[how]
    usable = usable.assign(_found=usable["result"] != "SEIZURE").sort_values(
        ["_found", "inspected_at"], kind="stable"
    )
    repeats = int(usable.duplicated(key).sum())
    usable = usable.drop_duplicates(key).drop(columns=["_found", *how])
    usable = usable.join(selected, on=key)
    if repeats and warn:
        log.warning(
            "%d later inspections of lines inspected before: each line is labelled by its first "
            "seizure, else its first inspection",
            repeats,
        )
    lines = shipments[list(SHIPMENT_KEY)].copy()
    lines["position"] = np.arange(len(shipments))
    merged = lines.merge(usable, on=list(SHIPMENT_KEY), how="inner")
    unmatched = len(usable) - len(merged)
    if unmatched and warn:
        log.warning("%d outcomes match no shipment line and are left out", unmatched)
    merged["label"] = (merged["result"] == "SEIZURE").astype("int8")
    keep = [
        "position",
        "label",
        "inspected_at",
        "recorded_at",
        "selection_reason",
        "selection_probability",
        "model_version",
    ]
    return merged[keep].sort_values("position").reset_index(drop=True)


_TRUTH_COLUMNS = ("bl_number", "container_number", "has_contraband", "p_contraband")


def load_truth(path: Path | None) -> pd.DataFrame | None:
    """The simulator's truth (evaluation only; training never reads it); `ConfigError` naming
    the file before any training when it cannot be one (a traceback after the whole run)."""
    if path is None:
        return None
    try:
        if file_format(Path(path)) == "parquet":
            truth = pd.read_parquet(path)
        else:
            truth = pd.read_csv(path, dtype={"bl_number": str, "container_number": str})
    except (OSError, ValueError, InputUnreadable) as error:
        raise ConfigError(f"--truth {path}: cannot be read: {error}") from error
    missing = [name for name in _TRUTH_COLUMNS if name not in truth.columns]
    if missing:
        raise ConfigError(
            f"--truth {path}: not a simulator's truth file, it lacks {', '.join(missing)} "
            "(simulate writes truth.parquet beside the shipments)"
        )
    return truth


def fingerprint(path: Path) -> str:
    """sha256 of a file's bytes, recorded with each training run."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
