"""The knobs of a simulated port world, and the operation phases they imply."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["SCHEME_NAMES", "Phase", "SimulationConfig"]

SCHEME_NAMES: tuple[str, ...] = ("ivory", "pangolin", "cocaine", "rosewood", "precursors")


@dataclass(frozen=True)
class Phase:
    """One phase of the enforcement operation: days ``[first_day, end_day)`` of the world."""

    index: int  # 1-based
    name: str
    first_day: int
    end_day: int
    start: date  # first calendar day
    end: date  # last calendar day (inclusive)


class SimulationConfig(BaseModel):
    """Everything that shapes a simulated world; the same config and seed give the same bytes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: date = Field(default=date(2024, 1, 1), description="First arrival day (UTC).")
    days: int = Field(default=365, ge=7, le=3660, description="Days of arrivals.")
    arrivals_per_day: int = Field(
        default=3000, ge=20, le=200_000, description="Shipment lines (containers) per day."
    )
    phases: int = Field(default=4, ge=1, le=24, description="Operation phases (equal lengths).")
    seed: int = Field(default=7, ge=0, description="Seed of every random draw.")
    inspection_rate: float = Field(
        default=0.03, gt=0, le=0.5, description="Inspection capacity as a share of a port-day."
    )
    random_control_share: float = Field(
        default=0.1, ge=0, le=1, description="Expected share of inspections chosen at random."
    )
    contraband_rate: float = Field(
        default=0.002, gt=0, le=0.05, description="Expected share of lines carrying contraband."
    )
    scheme_shares: dict[str, float] = Field(
        default_factory=lambda: {
            "ivory": 0.2,
            "pangolin": 0.15,
            "cocaine": 0.3,
            "rosewood": 0.2,
            "precursors": 0.15,
        },
        description="Split of the contraband lines between the schemes (normalised).",
    )
    defect_rate: float = Field(
        default=0.03, ge=0, le=0.3, description="Share of lines with a data defect to be flagged."
    )
    detection_rate: float = Field(
        default=0.85,
        gt=0,
        le=1,
        description="Chance that a physical inspection finds contraband that is there.",
    )
    intelligence_rate: float = Field(
        default=0.03, ge=0, le=1, description="Chance that a smuggling B/L comes with a tip-off."
    )
    policy_sharpness: float = Field(
        default=1.0, ge=0, le=5, description="How strongly rule points raise selection odds."
    )
    shippers: int | None = Field(
        default=None, ge=50, description="Legitimate shippers; default scales with volume."
    )
    consignees: int | None = Field(
        default=None, ge=50, description="Legitimate consignees; default scales with volume."
    )

    @model_validator(mode="after")
    def _check(self) -> SimulationConfig:
        unknown = sorted(set(self.scheme_shares) - set(SCHEME_NAMES))
        if unknown:
            raise ValueError(f"scheme_shares has unknown schemes {unknown}; known: {SCHEME_NAMES}")
        if any(share < 0 for share in self.scheme_shares.values()):
            raise ValueError("scheme_shares must not be negative")
        if sum(self.scheme_shares.values()) <= 0:
            raise ValueError("scheme_shares must not all be zero")
        if self.days < self.phases * 7:
            raise ValueError(
                f"days={self.days} with phases={self.phases} gives phases shorter than a week "
                f"(at least {self.phases * 7} days, or fewer phases)"
            )
        return self

    @property
    def total_lines(self) -> int:
        return self.days * self.arrivals_per_day

    @property
    def n_shippers(self) -> int:
        return self.shippers or int(min(6000, max(300, self.total_lines // 150)))

    @property
    def n_consignees(self) -> int:
        return self.consignees or int(min(4500, max(250, self.total_lines // 200)))

    def scheme_share(self, name: str) -> float:
        total = sum(self.scheme_shares.values())
        return self.scheme_shares.get(name, 0.0) / total

    def phase_list(self) -> list[Phase]:
        """Equal phases covering all days (the last one takes the remainder)."""
        length = self.days // self.phases
        phases = []
        for i in range(self.phases):
            first = i * length
            end = self.days if i == self.phases - 1 else first + length
            phases.append(
                Phase(
                    index=i + 1,
                    name=f"phase-{i + 1}",
                    first_day=first,
                    end_day=end,
                    start=self.start + timedelta(days=first),
                    end=self.start + timedelta(days=end - 1),
                )
            )
        return phases
