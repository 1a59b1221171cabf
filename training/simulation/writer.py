"""Write a simulated world to disk: shipments, outcomes, truth (Parquet or CSV) and meta.json.

Canonical contract column names; list fields as ``;``-joined text; timestamps UTC (Parquet:
timestamp[us, tz=UTC]; CSV: ``2024-01-31T08:00:00Z``). Files carry no pandas metadata and no
write time, so the same world gives the same bytes.
"""

from __future__ import annotations

import contextlib
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from features.files import partial_name
from risk_engine.columns import OUTCOME_FIELDS, Kind
from training.simulation.render import SHIPMENT_SCHEMA

if TYPE_CHECKING:
    from training.simulation.engine import SimulatedWorld

__all__ = ["FORMATS", "OUTCOME_SCHEMA", "TRUTH_SCHEMA", "write_world"]

logger = logging.getLogger(__name__)

FORMATS = ("parquet", "csv")
_TIME = pa.timestamp("us", tz="UTC")
_OUTCOME_TYPE = {Kind.TIMESTAMP: _TIME, Kind.PROBABILITY: pa.float64(), Kind.POSITIVE: pa.float64()}
OUTCOME_SCHEMA = pa.schema(
    [(f.name, _OUTCOME_TYPE.get(f.kind, pa.string())) for f in OUTCOME_FIELDS]
)
TRUTH_SCHEMA = pa.schema(
    [
        ("bl_number", pa.string()),
        ("container_number", pa.string()),
        ("p_contraband", pa.float64()),
        ("has_contraband", pa.bool_()),
        ("scheme", pa.string()),
        ("phase", pa.int64()),
    ]
)


def _column(series: pd.Series, kind: pa.DataType) -> pa.Array:
    if pa.types.is_timestamp(kind):  # via integers: no tz-dropping pandas conversion
        utc = pd.to_datetime(series, utc=True)
        micros = utc.dt.tz_convert(None).to_numpy(dtype="datetime64[us]").astype(np.int64)
        return pa.array(micros, type=kind, mask=np.asarray(utc.isna()))
    return pa.Array.from_pandas(series, type=kind)


def _table(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """The frame's columns in the schema's order and types, without pandas metadata."""
    columns = [_column(frame[field.name], field.type) for field in schema]
    return pa.Table.from_arrays(columns, schema=schema)


def _csv_ready(table: pa.Table) -> pa.Table:
    """Timestamps as ISO 8601 text with a Z (UTC); everything else as is."""
    columns = []
    for field, column in zip(table.schema, table.columns, strict=True):
        if pa.types.is_timestamp(field.type):
            seconds = pc.cast(column, pa.timestamp("s", tz="UTC"))  # whole seconds already
            column = pc.strftime(seconds, format="%Y-%m-%dT%H:%M:%SZ")
        columns.append(column)
    return pa.Table.from_arrays(columns, names=table.column_names)


def _earlier_world(out_dir: Path, fmt: str) -> list[Path]:
    """The files of an earlier simulated world in ``out_dir`` in another format than ``fmt``,
    as its meta.json names them: a file no simulation wrote (an analyst's own shipments.csv)
    is never among them."""
    meta = out_dir / "meta.json"
    try:
        named = json.loads(meta.read_text(encoding="utf-8")).get("files", {})
    except (OSError, ValueError, AttributeError):
        return []
    if not isinstance(named, dict):
        return []
    found = []
    for name in ("shipments", "outcomes", "truth"):
        file = named.get(name)
        if (
            isinstance(file, str)
            and file != f"{name}.{fmt}"
            and file in {f"{name}.{other}" for other in FORMATS}
        ):
            if (out_dir / file).is_file():
                found.append(out_dir / file)
    return found


def write_world(world: SimulatedWorld, out_dir: Path, fmt: str = "parquet") -> dict[str, Path]:
    """Write the world's files into ``out_dir`` (created if needed); returns their paths."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, not {fmt!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = {
        "shipments": _table(world.shipments, SHIPMENT_SCHEMA),
        "outcomes": _table(world.outcomes, OUTCOME_SCHEMA),
        "truth": _table(world.truth, TRUTH_SCHEMA),
    }
    paths: dict[str, Path] = {}
    for earlier in _earlier_world(out_dir, fmt):  # would be read as this world's
        earlier.unlink()
        logger.warning("removed %s, an earlier simulated world's (its meta.json names it)", earlier)
    # each file under a partial name, named when whole; stopped half-way (SIGTERM), the run
    # left a complete shipments file and no meta.json, which a later run then never removed
    try:
        for name, table in tables.items():
            path = out_dir / f"{name}.{fmt}"
            partial = partial_name(path)
            if fmt == "parquet":
                pq.write_table(table, partial, compression="zstd")
            else:
                pa_csv.write_csv(_csv_ready(table), partial)
            partial.replace(path)
            paths[name] = path
            logger.info("wrote %s (%d rows)", path, table.num_rows)
        meta = dict(world.meta, files={name: path.name for name, path in paths.items()}, format=fmt)
        paths["meta"] = out_dir / "meta.json"
        paths["meta"].write_text(
            json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
    except BaseException:
        for name in tables:
            with contextlib.suppress(OSError):
                partial_name(out_dir / f"{name}.{fmt}").unlink(missing_ok=True)
        for path in paths.values():  # a world without its meta.json is no world
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
        raise
    return paths
