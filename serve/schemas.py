"""Request and response bodies of the HTTP API, with the examples shown in the OpenAPI document.

Requests carry lines as plain JSON objects, not as `ShipmentLine`: a manifest with one bad line is
still a manifest, so each line is checked against the contract on its own and a bad one comes back
with field-level errors while the others are scored. The shape each line should have is the
contract's `ShipmentLine` (or `InspectionOutcome`), published in the same OpenAPI document.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from risk_engine.contract import InspectionOutcome, ShipmentLine

__all__ = [
    "FieldError",
    "ErrorInfo",
    "ErrorBody",
    "ScoreRequest",
    "LineResult",
    "ScoreCounts",
    "ScoreResponse",
    "OutcomesRequest",
    "OutcomeResult",
    "OutcomeCounts",
    "OutcomesResponse",
    "ModelInfo",
    "BandShare",
    "ServedDrift",
    "ReportInfo",
    "ReportList",
    "Health",
    "Readiness",
    "ReloadResponse",
    "contract_example",
]


def contract_example(model: type[BaseModel]) -> dict[str, Any]:
    """The example record the contract model publishes in its JSON schema."""
    extra: Any = model.model_config.get("json_schema_extra")
    examples: Any = extra.get("examples") if isinstance(extra, dict) else None
    if not isinstance(examples, list) or not examples or not isinstance(examples[0], dict):
        return {}
    return copy.deepcopy(dict(examples[0]))


_LINE = contract_example(ShipmentLine)
_OUTCOME = contract_example(InspectionOutcome)
_BAD_LINE = {**_LINE, "bl_number": "MEDU7654321", "container_number": "CSQU305438"}


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldError(_Out):
    """One broken contract rule: the field, the value as sent and the rule."""

    field: str
    value: str
    rule: str


class ErrorInfo(_Out):
    code: str = Field(description="Stable machine-readable code, e.g. invalid_key.")
    message: str = Field(description="What went wrong, in words.")
    request_id: str | None = Field(default=None, description="Also in the X-Request-ID header.")
    details: list[dict[str, Any]] = Field(default_factory=list)


class ErrorBody(_Out):
    """Every error response has this body; never a stack trace."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "error": {
                        "code": "invalid_key",
                        "message": "the API key is not valid",
                        "request_id": "5f0c3a9e8b2d4c1f9a7e6d5c4b3a2918",
                        "details": [],
                    }
                }
            ]
        },
    )

    error: ErrorInfo


class ScoreRequest(_In):
    """A manifest: shipment lines to score."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"lines": [_LINE, _BAD_LINE]}]}
    )

    lines: list[dict[str, Any]] = Field(
        description=(
            "Shipment lines, each a JSON object shaped like the ShipmentLine schema "
            "(#/components/schemas/ShipmentLine, data contract section 1). At most the "
            "configured limit (default 5,000; more gets 413). A line that breaks the contract "
            "comes back with field-level errors; the other lines are still scored."
        ),
    )


class LineResult(_Out):
    """The verdict on one line, in the order the lines were sent."""

    line: int = Field(description="1-based position of the line in the request.")
    status: Literal["scored", "rejected"]
    bl_number: str | None = None
    container_number: str | None = None
    risk_score: float | None = Field(
        default=None, description="Calibrated probability of a seizure."
    )
    rank: int | None = Field(default=None, description="1 = highest risk of this manifest.")
    band: Literal["red", "amber", "green"] | None = Field(
        default=None, description="From the model's capacity thresholds."
    )
    reasons: list[str] = Field(default_factory=list, description="Top reasons, officer language.")
    rule_hits: list[str] = Field(default_factory=list, description="Red-flag rules hit.")
    watchlist_hits: list[str] = Field(
        default_factory=list,
        description=(
            "Entries of the service's watch list the line names, one sentence each (a rejected "
            "line too). Batch screening always selects such a line, whatever its score."
        ),
    )
    mandatory: bool = Field(
        default=False,
        description=(
            "A mandatory rule (such as CITES-sensitive goods without a permit) or the watch list "
            "requires inspecting this line, whatever its score: batch screening selects it first."
        ),
    )
    dq_flags: list[str] = Field(
        default_factory=list,
        description=(
            "Data-quality flags as field:rule (a signal too). A rejected line has them as well: "
            "an unreadable optional value, dropped and flagged, can be what rejects it."
        ),
    )
    approximate_history: bool = Field(
        default=False,
        description=(
            "The line was filed longer before the feature history's cut-off (history_as_of) "
            "than the history keeps exact (the training config's rescore_days, 7 days by "
            "default): its party and route history features are approximate, and may count "
            "lines filed after it. Score such lines with the batch screening of their day."
        ),
    )
    errors: list[FieldError] = Field(
        default_factory=list, description="Why a rejected line was not scored."
    )


class ScoreCounts(_Out):
    received: int
    scored: int
    flagged: int
    rejected: int
    approximate_history: int = Field(
        default=0, description="Scored lines whose history features are approximate."
    )


class ScoreResponse(_Out):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "model_version": "3",
                    "scored_at": "2025-03-27T06:00:00Z",
                    "history_as_of": "2025-03-27T00:00:00Z",
                    "counts": {
                        "received": 2,
                        "scored": 1,
                        "flagged": 0,
                        "rejected": 1,
                        "approximate_history": 0,
                    },
                    "lines": [
                        {
                            "line": 1,
                            "status": "scored",
                            "bl_number": "MEDU1234567",
                            "container_number": "CSQU3054383",
                            "risk_score": 0.31,
                            "rank": 1,
                            "band": "red",
                            "reasons": [
                                "goods loaded in a known source country for wildlife products",
                                "consignee is TO ORDER",
                            ],
                            "rule_hits": ["source country + cover load + risky transit"],
                            "watchlist_hits": [
                                "consignee GOLDEN LOTUS TRADING (Vietnam) is on the watch list: "
                                "case HPH-24-117"
                            ],
                            "mandatory": True,
                            "dq_flags": [],
                            "approximate_history": False,
                            "errors": [],
                        },
                        {
                            "line": 2,
                            "status": "rejected",
                            "bl_number": "MEDU7654321",
                            "container_number": "CSQU305438",
                            "risk_score": None,
                            "rank": None,
                            "band": None,
                            "reasons": [],
                            "rule_hits": [],
                            "watchlist_hits": [],
                            "mandatory": False,
                            "dq_flags": [],
                            "approximate_history": False,
                            "errors": [
                                {
                                    "field": "container_number",
                                    "value": "CSQU305438",
                                    "rule": "malformed",
                                }
                            ],
                        },
                    ],
                }
            ]
        },
    )

    model_version: str
    scored_at: datetime
    history_as_of: datetime | None = Field(
        default=None,
        description=(
            "The cut-off of the feature history the lines were scored with: the parties' and "
            "routes' lines filed before it are known (nightly screening moves it on each day)."
        ),
    )
    counts: ScoreCounts
    lines: list[LineResult]


class OutcomesRequest(_In):
    """Inspection outcomes to record."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"outcomes": [_OUTCOME]}]}
    )

    outcomes: list[dict[str, Any]] = Field(
        description=(
            "Inspection outcomes, each a JSON object shaped like the InspectionOutcome schema "
            "(#/components/schemas/InspectionOutcome, data contract section 2). Recording is "
            "idempotent by (bl_number, container_number, inspected_at)."
        ),
    )


class OutcomeResult(_Out):
    line: int = Field(description="1-based position of the outcome in the request.")
    status: Literal["recorded", "duplicate", "conflict", "rejected"] = Field(
        description=(
            "recorded: stored now; duplicate: the same outcome was stored before; conflict: "
            "this key is stored with other values, which were kept; rejected: see errors."
        )
    )
    bl_number: str | None = None
    container_number: str | None = None
    inspected_at: datetime | None = None
    dq_flags: list[str] = Field(
        default_factory=list,
        description=(
            "Data-quality flags as field:rule, rejected outcomes included (a seizure category "
            "not in the list is dropped and flagged, and the seizure then rejected for want of one)."
        ),
    )
    errors: list[FieldError] = Field(default_factory=list)


class OutcomeCounts(_Out):
    received: int
    recorded: int
    duplicate: int
    conflict: int
    rejected: int


class OutcomesResponse(_Out):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "counts": {
                        "received": 1,
                        "recorded": 1,
                        "duplicate": 0,
                        "conflict": 0,
                        "rejected": 0,
                    },
                    "outcomes": [
                        {
                            "line": 1,
                            "status": "recorded",
                            "bl_number": "MEDU1234567",
                            "container_number": "CSQU3054383",
                            "inspected_at": "2025-03-28T10:00:00Z",
                            "dq_flags": [],
                            "errors": [],
                        }
                    ],
                }
            ]
        },
    )

    counts: OutcomeCounts
    outcomes: list[OutcomeResult]


class ModelInfo(_Out):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "version": "3",
                    "trained_at": "2025-03-20T12:00:00Z",
                    "trained_by_release": "0.31.0",
                    "engine_release": "0.31.0",
                    "loaded_at": "2025-03-21T07:00:00Z",
                    "metrics": {
                        "test_pr_auc": 0.178,
                        "test_brier": 0.031,
                        "observed_model_hits_2pct": 93.0,
                        "observed_model_precision_2pct": 0.041,
                        "observed_model_recall_2pct": 0.22,
                        "observed_model_lift_over_random_2pct": 9.5,
                    },
                    "feature_names": ["origin_wildlife_source", "cover_load", "consignee_to_order"],
                    "thresholds": {"red": 0.2, "amber": 0.05},
                    "watchlist": {"parties": 120, "containers": 8, "bills": 3},
                    "profiles": {"inspect": 2, "flag": 1},
                    "history_as_of": "2025-04-02T23:59:41Z",
                    "history_lines": 1250400,
                    "name_rules": 5,
                }
            ]
        },
    )

    version: str
    trained_at: str | None = None
    trained_by_release: str | None = Field(
        default=None,
        description="The engine release that trained the model (CHANGELOG.md); null for a "
        "model trained before 0.31.0, when every release called itself 0.1.0.",
    )
    engine_release: str = Field(description="The engine release serving it.")
    loaded_at: datetime
    metrics: dict[str, float | None] = Field(description="Held-out metrics, e.g. at capacity.")
    feature_names: list[str]
    thresholds: dict[str, float | None]
    watchlist: dict[str, int] | None = Field(
        default=None,
        description="Entries of the watch list served with the model, by kind; null without one.",
    )
    profiles: dict[str, int] | None = Field(
        default=None,
        description="Risk profiles served with the model, by action; null without a file.",
    )
    history_as_of: str | None = Field(
        default=None,
        description="The feature history scored with holds lines filed before this instant: "
        "the model's training cut-off, or later where screenings have added batches to it.",
    )
    history_lines: int | None = Field(
        default=None, description="Lines the feature history has seen."
    )
    name_rules: int | None = Field(
        default=None,
        description="The rules the feature history reads party names and goods descriptions "
        "by (`risk-engine history` tells them too): 1 for a history made before release 0.23, "
        "2 before 0.27 (letters of scripts other than Latin read as spaces), 3 before 0.29 "
        "(the consignee's logistics words as before), 4 by 0.29, 5 since 0.30 (the region's "
        "couriers and warehouses; CHANGELOG.md). A model scores by its own "
        "history's rules; retraining moves it to today's.",
    )


class BandShare(_Out):
    band: Literal["red", "amber", "green"]
    reference_share: float | None = Field(
        description="Share of the training reference lines in this band (the calibration "
        "period the thresholds were set on); null where the model does not keep it."
    )
    served_share: float | None = Field(
        description="Share of the lines scored since the model version was first loaded; null before any."
    )


class ServedDrift(_Out):
    """What the served model scored since its version was first loaded, against its training reference."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "model_version": "3",
                    "loaded_at": "2025-03-21T07:00:00Z",
                    "counting_since": "2025-03-20T07:00:00Z",
                    "lines": 48210,
                    "repeated_lines": 1320,
                    "reference_lines": 61000,
                    "score_psi": 0.14,
                    "bands": [
                        {"band": "red", "reference_share": 0.02, "served_share": 0.041},
                        {"band": "amber", "reference_share": 0.03, "served_share": 0.035},
                        {"band": "green", "reference_share": 0.95, "served_share": 0.924},
                    ],
                    "warnings": [
                        "the scores are distributed unlike the training reference's (PSI 0.14)",
                        "4.1% of the lines are red, against 2.0% of the reference lines the "
                        "band was set on",
                    ],
                    "notes": [],
                }
            ]
        },
    )

    model_version: str
    loaded_at: datetime
    counting_since: datetime = Field(
        description="When these counts started: the first load of this model version. A "
        "reload of the same version (a new feature history, which each screening writes, or "
        "watch list) keeps counting; a new version starts again."
    )
    lines: int = Field(
        description="Lines scored since counting started, each (B/L, container) once."
    )
    repeated_lines: int = Field(
        default=0,
        description=(
            "Lines sent again since the model version was first loaded (a manifest scored once more): "
            "answered, not counted again, so that the manifests looked at twice do not swell "
            "their bands."
        ),
    )
    reference_lines: int | None = Field(
        description="Lines of the training reference; null for a model trained without one."
    )
    score_psi: float | None = Field(
        description="Population stability index of the served scores against the reference's "
        "(under 0.1 little change, 0.1-0.25 some, above 0.25 a shift); null without a "
        "reference or a scored line."
    )
    bands: list[BandShare]
    warnings: list[str] = Field(
        description="The scores or the bands moved: the capacity no longer takes the lines the "
        "thresholds were set for, and retraining is due (from 1,000 lines on)."
    )
    notes: list[str] = Field(description="What limits the comparison.")


class ReportInfo(_Out):
    name: str = Field(description="File name; GET /v1/reports/{name} returns the report.")
    kind: Literal["training", "phase", "other"] = Field(
        description="training: one per version `train` registered; phase: one per challenger "
        "`retrain` registered, with its champion/challenger decision after an operation phase."
    )
    size_bytes: int
    modified_at: datetime


class ReportList(_Out):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "reports": [
                        {
                            "name": "phase-phase-3-v4.html",
                            "kind": "phase",
                            "size_bytes": 251204,
                            "modified_at": "2026-11-20T09:12:00Z",
                        },
                        {
                            "name": "training-v3.html",
                            "kind": "training",
                            "size_bytes": 249987,
                            "modified_at": "2026-11-20T09:02:00Z",
                        },
                    ]
                }
            ]
        },
    )

    reports: list[ReportInfo] = Field(description="Newest first.")


class Health(_Out):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"status": "ok"}]})

    status: Literal["ok"] = "ok"


class Readiness(_Out):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"ready": True, "model_version": "3", "detail": None},
                {"ready": False, "model_version": None, "detail": "no model loaded yet"},
            ]
        },
    )

    ready: bool
    model_version: str | None = None
    detail: str | None = None


class ReloadResponse(_Out):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "previous_version": "2",
                    "model_version": "3",
                    "loaded_at": "2025-03-21T07:00:00Z",
                }
            ]
        },
    )

    previous_version: str | None
    model_version: str
    loaded_at: datetime
