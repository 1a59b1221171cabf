"""The feature frame of whole files, for analysts and debugging (`risk-engine features`).

Both files are read through the contract (`features.ingest.iter_validated`): rejected rows are
counted and left out, flagged rows are kept (their flags are features). Features are computed
point-in-time over all the history given (`FeaturePipeline.fit_transform`), and written with the
line keys (bl_number, container_number) in front.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pandas as pd

from features.files import fresh_outputs, open_records, write_frame
from features.ingest import iter_validated
from features.mapping import ColumnMapping
from features.pipeline import FeaturePipeline
from risk_engine.errors import ConfigError

__all__ = ["build_feature_frame", "read_validated"]

log = logging.getLogger(__name__)
KEYS = ["bl_number", "container_number"]


def read_validated(
    path: Path, kind: str, mapping: ColumnMapping | None = None
) -> tuple[pd.DataFrame, dict[str, int]]:
    """All accepted rows of a file (index: source row number) and the read/accepted/flagged/
    rejected counts."""
    source = open_records(Path(path), kind, mapping)
    parts: list[pd.DataFrame] = []
    counts = {"read": 0, "accepted": 0, "flagged": 0, "rejected": 0}
    for result in iter_validated(source):
        for name, value in result.counts.items():
            counts[name] += value
        if len(result.accepted):
            parts.append(result.accepted)
    if not parts:
        return pd.DataFrame(), counts
    return (pd.concat(parts) if len(parts) > 1 else parts[0]), counts


def build_feature_frame(
    shipments_path: Path,
    outcomes_path: Path,
    out_path: Path,
    *,
    mapping: ColumnMapping | None = None,
    outcomes_mapping: ColumnMapping | None = None,
    pipeline: FeaturePipeline | None = None,
) -> dict[str, Any]:
    """Write the point-in-time feature frame of a shipments file, keys first; return a summary.

    ``mapping`` is the shipments file's column mapping and ``outcomes_mapping`` the outcomes
    file's, as in `train` (one mapping applied to both files made a shipments layout rename the
    outcomes' columns). A shipments file none of whose lines passes the contract is a
    `ConfigError` (exit 2): it wrote an empty frame and exited 0.
    """
    started = time.perf_counter()
    # the output's name and type before the work, not after it ("unknown file type")
    fresh_outputs([(Path(out_path), True)], inputs=(shipments_path, outcomes_path))
    shipments, shipment_counts = read_validated(shipments_path, "shipments", mapping)
    outcomes, outcome_counts = read_validated(outcomes_path, "outcomes", outcomes_mapping)
    if not len(shipments):
        raise ConfigError(
            f"{shipments_path}: no shipment line passed the contract "
            f"({shipment_counts['read']:,} read, {shipment_counts['rejected']:,} rejected): see "
            "`risk-engine validate` for each row"
        )
    pipeline = pipeline or FeaturePipeline()
    features = pipeline.fit_transform(shipments, outcomes if len(outcomes) else None)
    frame = pd.concat([shipments[KEYS], features], axis=1)
    write_frame(frame.reset_index(drop=True), Path(out_path))
    seconds = time.perf_counter() - started
    log.info(
        "feature frame: %d lines x %d features in %.1f s", len(frame), frame.shape[1] - 2, seconds
    )
    state = getattr(pipeline, "state_", None)
    return {
        "out": str(out_path),
        "lines": len(frame),
        "features": frame.shape[1] - len(KEYS),
        "shipments": shipment_counts,
        "outcomes": outcome_counts,
        "outcomes_unmatched": state.outcomes_unmatched if state is not None else 0,
        "seconds": round(seconds, 2),
    }
