"""Limits of the scoring service, as a typed object passed to the app factory.

They sit here rather than in `risk_engine.settings` because only the service uses them; each can be
set as ``RISK_ENGINE_SERVE_<NAME>`` in the environment when the object is built (never at import).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ServeLimits"]


class ServeLimits(BaseSettings):
    """What one request may carry, and which model the service loads."""

    model_config = SettingsConfigDict(env_prefix="RISK_ENGINE_SERVE_", extra="ignore")

    max_lines: int = Field(
        default=5_000, ge=1, description="Shipment lines (or outcomes) per request."
    )
    max_body_bytes: int = Field(
        default=16 * 1024 * 1024, ge=1_024, description="Request body size; larger gets 413."
    )
    scoring_threads: int = Field(
        default=1,
        ge=1,
        description=(
            "Manifests scored at the same time; the others wait their turn. Scoring is CPU work "
            "under one interpreter lock, so two at once each take about twice as long: one at a "
            "time gives the same throughput with a shorter wait for the first in line."
        ),
    )
    reload_check_seconds: float = Field(
        default=60.0,
        ge=0,
        le=86_400,  # "inf" stopped the checking thread with a traceback at start
        allow_inf_nan=False,
        description=(
            "How often the service checks whether its model's source changed (a new champion, "
            "a screening that added to the feature history, a new pickle) and reloads it, as "
            "POST /v1/admin/reload does: 0 to 86,400 (a day). 0: only on that request."
        ),
    )
    trusted_proxies: str = Field(
        default="",
        description=(
            "Addresses of the reverse proxies whose X-Forwarded-For header names the client "
            "in the audit trail, comma-separated (127.0.0.1 for a proxy on this machine; * for "
            "any). Empty: the header is ignored and the client is the connection's address, "
            "as any caller could write the header."
        ),
    )
    model: str = Field(
        default="champion",
        description="Model to serve: a registry alias, a version number or a scorer pickle path.",
    )
    watchlist: Path | None = Field(
        default=None,
        description=(
            "Watch list file (CSV or Parquet, as `risk-engine screen --watchlist` reads): each "
            "scored line says which entries it names. Read at start and again on each reload."
        ),
    )
    profiles: Path | None = Field(
        default=None,
        description=(
            "Risk profiles file (YAML, as `risk-engine screen --profiles` reads): a line that "
            "meets a profile says so in its rule hits, and an `inspect` profile makes it "
            "mandatory. Read at start and again on each reload."
        ),
    )
