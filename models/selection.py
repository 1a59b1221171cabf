"""Capacity-aware selection per port-day: mandatory hits first, then the highest scores, then a
uniform random-control share of the rest, each with the probability that it was selected; and,
where a unit also checks documents, the documentary lane (ASYCUDA's yellow) after them.

Used by batch screening and, with the same capacity rule, by evaluation at capacity.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from risk_engine.hashing import mix
from risk_engine.reference import port_timezone

__all__ = [
    "MANDATORY_REASONS",
    "arrival_days",
    "capacity_slots",
    "documentary_picks",
    "keyed_draws",
    "port_day",
    "rank_within",
    "select_per_port_day",
]

# Selection reasons of lines selected whatever their score and the capacity (a watch-list hit,
# a mandatory rule such as CITES goods without a permit).
MANDATORY_REASONS = ("WATCHLIST", "RULE")


def capacity_slots(lines: np.ndarray | int, capacity: float) -> np.ndarray:
    """Inspection slots of a port-day with ``lines`` lines: capacity x lines rounded half up,
    at least 1."""
    n = np.asarray(lines, dtype=np.int64)
    slots: np.ndarray = np.maximum(1, _half_up(capacity * n))
    return slots


def _half_up(product: np.ndarray | float) -> np.ndarray:
    """A product of a share and a count rounded half up, as written in decimals: 0.29 x 50 is
    14.499999999999998 in binary floats, and gave 14 slots where 14.5 rounds to 15."""
    return np.floor(np.round(product, 9) + 0.5).astype(np.int64)


def port_day(port: pd.Series, arrival: pd.Series) -> pd.Series:
    """The group a selection is made in: discharge port and the arrival date at that port."""
    return port.astype("string") + "|" + arrival_days(port, arrival).astype("string")


def arrival_days(port: pd.Series, arrival: pd.Series) -> pd.Series:
    """``YYYY-MM-DD`` of each arrival in its port of discharge's own time zone (reference
    ``tz``): an inspection team works the port's day, and a vessel berthing at Hai Phong at
    02:00 belongs to that day, not to the UTC day before. UTC for a port not in the table.

    An ETA given as a date alone (``2025-01-01``) is read by the contract as that midnight UTC,
    which west of UTC is the evening before: it is not told apart from a time at midnight UTC
    here (a real 00:00Z arrival is common), so such a line falls on the port's previous day
    (docs/operations.md)."""
    moments = pd.to_datetime(arrival, utc=True)
    codes, ports = pd.factorize(port.astype("string"))
    # Each line's zone, by port code (a missing port, code -1, takes the last entry: UTC).
    zones = np.array([port_timezone(str(code)) or "UTC" for code in ports] + ["UTC"])[codes]
    days = pd.Series(np.empty(len(moments), dtype=object), index=moments.index)
    for zone in np.unique(zones):  # one conversion per zone, not per port
        at = zones == zone
        days[at] = moments[at].dt.tz_convert(zone).dt.strftime("%Y-%m-%d").to_numpy()
    return days


def rank_within(
    groups: pd.Series, score: pd.Series, *, tie_break: pd.Series | None = None
) -> pd.Series:
    """1 = highest score in its group; ties broken by ``tie_break`` (then position) so ranks
    are unique and stable. A missing score ranks last in its group, as does a missing
    tie-break among equal scores."""
    codes = _group_codes(groups)
    position = np.arange(len(codes))
    ties = position if tie_break is None else _ordinal(tie_break)
    # One sort by group, then score (highest first), then the tie-break, then position; the
    # order of the groups themselves plays no part in a rank.
    order = np.lexsort((position, ties, -score.to_numpy(dtype="float64"), codes))
    ordered = codes[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    first_of_run = np.repeat(starts, np.diff(np.r_[starts, len(ordered)]))
    out = np.empty(len(order), dtype=np.int64)
    out[order] = position - first_of_run + 1
    return pd.Series(out, index=score.index)


def _group_codes(groups: pd.Series | np.ndarray) -> np.ndarray:
    """An integer per group (hashed, not sorted: a million port-day labels in a few tens of
    milliseconds)."""
    codes, _ = pd.factorize(np.asarray(groups), use_na_sentinel=False)
    return np.asarray(codes, dtype=np.int64)


def _ordinal(values: pd.Series) -> np.ndarray:
    """Values as numbers that sort as they do, missing ones last."""
    array = values.to_numpy()
    if array.dtype.kind in "iubf":
        return array  # numbers sort as they are, NaN last
    codes, uniques = pd.factorize(values, sort=True)
    return np.where(codes < 0, len(uniques), codes)


_WORD = (1 << 64) - 1


def keyed_draws(keys: np.ndarray, seed: int) -> np.ndarray:
    """A uniform draw in [0, 1) per line from its key and ``seed`` (up to 128 bits) alone.

    With the home's secret seed (`models.screening.control_seed`) no one outside can tell which
    lines a draw takes: drawn by their order in the batch from a public seed, a B/L and
    container chosen offline (their key the batch's lowest) never fell in the control, though
    each line's selection probability said it could."""
    low = np.array(seed & _WORD, dtype=np.uint64)
    high = np.array((seed >> 64) & _WORD, dtype=np.uint64)
    mixed = mix(mix(np.bitwise_xor(keys, low)) ^ high)
    return np.right_shift(mixed, np.uint64(11)).astype(np.float64) * 2.0**-53


def _port_day_draws(codes: np.ndarray, draw_keys: np.ndarray | None, seed: int) -> np.ndarray:
    """A uniform draw per port-day (``codes``), spread to its lines: from its lines' keys (all
    of them folded into one) and the seed, so that it is the same whatever else the batch holds
    and cannot be told without the seed; without keys, NumPy's from the seed by the groups'
    order."""
    groups = int(codes.max()) + 1 if len(codes) else 0
    if draw_keys is None:
        # a child of the seed's own sequence: not the stream of any seed's line draws
        child = np.random.SeedSequence(seed).spawn(1)[0]
        spread: np.ndarray = np.random.default_rng(child).random(groups)[codes]
        return spread
    keys = np.asarray(draw_keys, dtype=np.uint64)
    folded = np.zeros(groups, dtype=np.uint64)
    np.bitwise_xor.at(folded, codes, mix(keys))
    drawn: np.ndarray = keyed_draws(folded, seed ^ _DAY_SALT)[codes]
    return drawn


_DAY_SALT = 0x5E1EC7  # the port-day's draw is not any of its lines' draws


def _control_chance(
    must: np.ndarray,
    free_rank: np.ndarray,
    free: np.ndarray,
    left: np.ndarray,
    whole: np.ndarray,
    fraction: np.ndarray,
) -> np.ndarray:
    """Each line's chance of the random control, over the port-day's two possible control
    counts (its whole part, and one more with the chance of the fraction): with ``k``
    controls, the model takes the ``left - k`` best of the ``free`` lines the hits leave, and
    the draw takes ``k`` of the others uniformly."""
    chance = np.zeros(len(must), dtype=np.float64)
    for count, weight in ((whole, 1 - fraction), (whole + 1, fraction)):
        controls = np.minimum(count, left)
        model = left - controls
        eligible = np.maximum(0, free - model)
        take = np.minimum(controls, eligible)
        drawn_from = ~must & (free_rank > model) & (eligible > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            chance += np.where(drawn_from, weight * take / np.maximum(eligible, 1), 0.0)
    return chance


def select_per_port_day(
    groups: pd.Series,
    score: pd.Series,
    *,
    capacity: float,
    random_control: float = 0.0,
    mandatory: pd.Series | None = None,
    seed: int = 0,
    tie_break: pd.Series | None = None,
    fixed_slots: np.ndarray | None = None,
    draw_keys: np.ndarray | None = None,
) -> pd.DataFrame:
    """Choose lines to inspect in each group within ``capacity`` (a share of the group's lines),
    or, where ``fixed_slots`` (aligned to ``score``) is 0 or more, within that many slots.

    ``random_control`` is the share of the slots kept for a uniform draw from the lines not
    otherwise selected: its whole part in every port-day, and one slot more with the chance of
    its fraction (0.3 slots: one slot in three port-days of ten, drawn by the port-day).
    Returns, aligned to ``score``: ``rank`` (by score within the group), ``selected``,
    ``selection_reason`` (MANDATORY, MODEL, RANDOM_CONTROL or empty) and
    ``selection_probability`` (1 for mandatory and model picks; for a random-control pick,
    its own chance of the draw over both control counts its port-day could have drawn,
    `_control_chance`).

    With ``draw_keys`` (a 64-bit key per line), each line's draw comes from its own key and
    the seed alone (`keyed_draws`): a port-day draws the same lines screened alone or in a
    national batch. Without, the draws are NumPy's from the seed, by the lines' order.
    """
    if not 0 < capacity <= 1:
        raise ValueError(f"capacity must be in (0, 1], not {capacity}")
    if not 0 <= random_control < 1:
        raise ValueError(f"random_control must be in [0, 1), not {random_control}")
    n = len(score)
    # Groups as integers once: every grouping below hashes numbers, not labels.
    codes = pd.Series(_group_codes(groups), index=score.index)
    rank = rank_within(codes, score, tie_break=tie_break)
    frame = pd.DataFrame({"g": codes.to_numpy(), "rank": rank.to_numpy()}, index=score.index)
    sizes = frame.groupby("g", sort=False)["g"].transform("size").to_numpy()
    slots = capacity_slots(sizes, capacity)
    if fixed_slots is not None:
        fixed = np.asarray(fixed_slots, dtype=np.int64)
        slots = np.where(fixed >= 0, np.minimum(fixed, sizes), slots)
    # The control's slots: the share asked of the port-day's slots, its whole part always and
    # its fraction by a draw of the port-day (`_port_day_draws`), so that the share drawn is the
    # share asked on average and every port-day may give one. At least one control in every
    # port-day of two slots or more drew 22 % of the quickstart year's picks by score and draw
    # for the 10 % asked, and a port-day of one slot never drew one.
    expected = np.round(slots * random_control, 9)
    whole = np.floor(expected)
    fraction = expected - whole
    day_draw = _port_day_draws(frame["g"].to_numpy(), draw_keys, seed)
    control_slots = (whole + (day_draw < fraction)).astype(np.int64)
    must = np.zeros(n, dtype=bool) if mandatory is None else mandatory.fillna(False).to_numpy(bool)
    frame["must"] = must
    # Mandatory lines take slots first (and may exceed them: a rule hit is never dropped); the
    # control's share comes out of the slots they leave, then the model's. A port-day whose
    # slots the hits fill opens nothing more (3 slots, 3 watch-list hits opened a 4th container
    # for the control, where 1 slot and 1 hit opened none).
    must_count = frame.groupby("g", sort=False)["must"].transform("sum").to_numpy()
    control_slots = np.minimum(control_slots, np.maximum(0, slots - must_count))
    model_slots = np.maximum(0, slots - control_slots - must_count)
    # Among the non-mandatory lines, the model's order decides.
    # Mandatory lines rank after every other (missing: last), and a missing score after every
    # score but before them: ranked after the hits, a line without a score lost the slot it
    # was due at capacity 1.0, the slot left empty.
    scores = score.to_numpy(dtype="float64")
    frame["s"] = np.where(must, np.nan, np.where(np.isnan(scores), -np.inf, scores))
    free_rank = rank_within(frame["g"], frame["s"], tie_break=tie_break).to_numpy()
    by_model = ~must & (free_rank <= model_slots)
    reason = np.full(n, "", dtype=object)
    reason[must] = "MANDATORY"
    reason[by_model] = "MODEL"
    probability = np.where(must | by_model, 1.0, 0.0)
    eligible = ~(must | by_model)
    if draw_keys is not None:
        draw = keyed_draws(np.asarray(draw_keys, dtype=np.uint64), seed)
    else:
        draw = np.random.default_rng(seed).random(n)
    frame["draw"] = np.where(eligible, draw, np.inf)
    frame["eligible"] = eligible
    eligible_count = frame.groupby("g", sort=False)["eligible"].transform("sum").to_numpy()
    draw_rank = frame.groupby("g", sort=False)["draw"].rank(method="first").to_numpy()
    take = np.minimum(control_slots, eligible_count)
    by_control = eligible & (draw_rank <= take)
    reason[by_control] = "RANDOM_CONTROL"
    control_probability = _control_chance(
        must, free_rank, sizes - must_count, np.maximum(0, slots - must_count), whole, fraction
    )
    probability = np.where(by_control, control_probability, probability)
    return pd.DataFrame(
        {
            "rank": rank.to_numpy(),
            "selected": must | by_model | by_control,
            "selection_reason": reason,
            "selection_probability": probability,
        },
        index=score.index,
    )


def documentary_picks(
    groups: pd.Series,
    score: pd.Series,
    *,
    selected: np.ndarray,
    share: float,
    tie_break: pd.Series | None = None,
    fixed_slots: np.ndarray | None = None,
) -> np.ndarray:
    """The documentary lane: in each group, the highest scores among the lines not ``selected``
    for a physical inspection, within ``share`` of the group's lines (at least one slot when
    ``share`` is above 0, none at 0), or, where ``fixed_slots`` is 0 or more, that many. A
    document check is cheap and is not the unbiased sample, so it keeps no random share.
    Returns a mask aligned to ``score``."""
    if not 0 <= share <= 1:
        raise ValueError(f"documentary share must be in [0, 1], not {share}")
    taken = np.asarray(selected, dtype=bool)
    sizes = groups.groupby(groups.to_numpy(), sort=False).transform("size").to_numpy()
    slots = capacity_slots(sizes, share) if share > 0 else np.zeros(len(score), dtype=np.int64)
    if fixed_slots is not None:
        fixed = np.asarray(fixed_slots, dtype=np.int64)
        slots = np.where(fixed >= 0, fixed, slots)
    free = pd.Series(np.where(taken, -np.inf, score.to_numpy(dtype="float64")), index=score.index)
    free_rank = rank_within(groups, free, tie_break=tie_break).to_numpy()
    picks: np.ndarray = ~taken & (free_rank <= slots)
    return picks
