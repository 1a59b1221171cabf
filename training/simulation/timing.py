"""When things happen to a booking: vessel call, departure, filing, booking, amendments.

Times are whole seconds since the world's epoch (midnight UTC of the first day). A booking's
arrival day is moved back to the weekday on which its service calls the port of discharge, so all
containers of one call share vessel, voyage and ETA.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from training.simulation.bookings import Table
from training.simulation.config import Phase
from training.simulation.geography import transit_days
from training.simulation.world import World

__all__ = ["DAY", "HOUR", "schedule"]

DAY = 86_400
HOUR = 3_600
_AMENDMENTS = np.array([0.85, 0.11, 0.03, 0.01])


def _call_day(
    world: World, day: npt.NDArray[np.int64], weekday: npt.NDArray[np.int64], phase: Phase
) -> npt.NDArray[np.int64]:
    """The last call on or before ``day`` on the service's weekday, kept inside the phase."""
    today = (world.start_weekday + day) % 7
    call = day - (today - weekday) % 7
    call = np.where(call < phase.first_day, call + 7, call)
    return np.where(call >= phase.end_day, day, call)


def schedule(world: World, b: Table, phase: Phase, rng: np.random.Generator) -> Table:
    """Add vessel, voyage and the timestamps of each booking (in place, and returned)."""
    fleet = world.fleet
    n = len(b["day"])
    service, pod = b["service"], b["pod"]
    day = _call_day(world, b["day"], fleet.weekday[service, pod], phase)
    eta = day * DAY + fleet.hour[service, pod] * HOUR
    week = (day + world.start_weekday) // 7 + service
    vessel = fleet.pool_start[service] + week % fleet.pool_size[service]
    transit = transit_days(world.ports, b["pol"], b["hub1"], b["hub2"], pod)
    transit = transit * rng.uniform(0.95, 1.15, size=n)
    etd = eta - np.round(transit * DAY / 60).astype(np.int64) * 60
    lead = np.clip(rng.lognormal(np.log(5.0), 0.6, size=n), 1.1, transit + 3.0)
    lead = np.where(b["late"], rng.uniform(0.1, 0.95, size=n), lead)
    filed = eta - np.round(lead * DAY / 60).astype(np.int64) * 60
    before_etd = etd - np.round(rng.uniform(2.0, 25.0, size=n) * DAY / 60).astype(np.int64) * 60
    before_filing = (
        filed - np.round(rng.uniform(1.0, 10.0, size=n) * DAY / 60).astype(np.int64) * 60
    )
    booked = np.minimum(before_etd, before_filing)
    amend_n = rng.choice(4, size=n, p=_AMENDMENTS).astype(np.int64)
    amend_n = np.where(b["amend_late"], np.maximum(amend_n, 1), amend_n)
    window = (eta - filed).astype(np.float64)
    amended = filed + np.round(window * rng.uniform(0.05, 0.95, size=n)).astype(np.int64)
    late_amend = eta - np.round(rng.uniform(0.1, 1.0, size=n) * DAY).astype(np.int64)
    amended = np.where(b["amend_late"], np.maximum(late_amend, filed + 60), amended)
    b.update(
        day=day,
        eta=eta,
        etd=etd,
        filed=filed,
        booked=booked,
        amend_n=amend_n,
        amended=np.where(amend_n > 0, amended, -1),
        vessel=vessel,
        voyage=fleet.voyage_base[vessel] + week // fleet.pool_size[service],
    )
    return b
