"""Watch lists of parties and containers: lines that hit one are always selected.

A watch list is a CSV or Parquet file with any of the columns ``party_name`` (matched against
shipper, consignee, notify party and forwarder names, case and spacing ignored), ``country``
(optional, narrows a party match), ``container_number`` and ``bl_number``, and optionally
``note`` (a case reference or why the entry is there, told with every hit).

Each hit is told as a sentence an officer reads as it is ("consignee GOLDEN LOTUS TRADING
(Vietnam) is on the watch list: case HPH-24-117"): in the ranked list of batch screening and in
the service's answer, so a watch-list selection always says which entry it matched.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from features.files import open_records, read_table
from features.keys import folded, plain
from features.lexicons import SAME_AS_CONSIGNEE, TO_ORDER_PATTERN
from features.mapping import ColumnMapping
from risk_engine.errors import ConfigError
from risk_engine.parsing import CODE_PATTERN, unformatted
from risk_engine.reference import country_name, is_country
from risk_engine.reference.checks import CONTAINER_PATTERN

log = logging.getLogger(__name__)
_CONTAINER = re.compile(CONTAINER_PATTERN)
_BILL = re.compile(CODE_PATTERN)

__all__ = ["WATCHED_COLUMNS", "Watchlist", "count_hits", "load_watchlist"]

# The party columns of a line, the country column that narrows a match, and the party's role
# as an officer says it.
_PARTIES = (
    ("shipper_name", "shipper_country", "shipper"),
    ("consignee_name", "consignee_country", "consignee"),
    ("notify_party_name", "notify_party_country", "notify party"),
    ("freight_forwarder_name", None, "freight forwarder"),
)
# The columns of a line a watch list reads.
WATCHED_COLUMNS = (
    *(column for party in _PARTIES for column in party[:2] if column is not None),
    "container_number",
    "bl_number",
)
# The columns that make an entry; ``country`` only narrows a party_name, ``note`` only tells.
_ENTRY_COLUMNS = ("party_name", "container_number", "bl_number")


def _normal(value: object) -> str:
    """How names and numbers are compared (`features.keys.plain`): upper case, runs of spaces as
    one, no ends, full-width letters and digits plain ("ＧＯＬＤＥＮ　ＬＯＴＵＳ" passed the entry
    GOLDEN LOTUS), accents composed however they were stored (a name typed on a Mac, "ZÁMBEZE"
    with A and its accent apart, matched nothing). An entry written without accents also meets
    the same name written with them (`_found`)."""
    return plain(_text(value))


def _text(value: object) -> str:
    """A cell as text, without what shows as nothing (a zero-width space in a rejected line's
    "HLBU\u200b1021044"); a missing one (None, NA, NaN) as ""."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    return unformatted(str(value)).strip()


def _compact_one(value: object) -> str:
    """Container numbers as written on a box may carry spaces or hyphens: both are dropped."""
    if isinstance(value, str) and value.isascii() and value.isalnum() and value.isupper():
        return value  # already compact: most numbers, at a fraction of the cost
    return _normal(value).replace(" ", "").replace("-", "")


def _found(
    values: Sequence[object], watched: set[str], normal: Callable[[object], str]
) -> list[tuple[int, str, str | None]]:
    """(position, entry, the line's spelling when it differs) of the values that meet a watched
    entry: their normal form is one, or, for an entry written without accents, the form
    without its accents is ("CÔNG TY TNHH SEN VÀNG" meets CONG TY TNHH SEN VANG; an entry
    written with accents means them: THÀNH ĐẠT does not meet THẠNH ĐẠT). A value already in its
    normal form (as the contract writes most of them) is looked up as it is; the others are
    normalised once per distinct value (a chunk repeats its party names many times)."""
    found: list[tuple[int, str, str | None]] = []
    forms: dict[str, tuple[str | None, str | None]] = {}
    for i, value in enumerate(values):
        if not isinstance(value, str):  # blank, or a number or object sent for a name
            value = "" if isinstance(value, list | dict) else _text(value)
            if not value:
                continue
        if value in watched:
            found.append((i, value, None))
            continue
        met = forms.get(value)
        if met is None:
            form = normal(value)
            loose = folded(form)
            if form in watched:
                met = (form, None)
            elif loose != form and loose.isascii() and loose in watched:
                met = (loose, form)
            else:
                met = (None, None)
            forms[value] = met
        entry, spelled = met
        if entry is not None:
            found.append((i, entry, spelled))
    return found


@dataclass
class Watchlist:
    parties: set[tuple[str, str]] = field(default_factory=set)  # (name, country or "")
    containers: set[str] = field(default_factory=set)
    bills: set[str] = field(default_factory=set)
    # Notes by entry: ("party", name, country), ("container", number, ""), ("bill", number, "").
    notes: dict[tuple[str, str, str], str] = field(default_factory=dict)
    # Rows that name no party, container or B/L (counted from 1, the header not a row, as
    # `validate` counts them): left out, and told.
    unused_rows: list[int] = field(default_factory=list)
    # Entries no line the contract accepts can match, by row (counted as `unused_rows` are):
    # a container number that is not ISO 6346, a country that is not an ISO code.
    unmatchable: list[tuple[int, str]] = field(default_factory=list)

    @property
    def entries(self) -> dict[str, int]:
        """How many entries of each kind (what the service reports of its list)."""
        return {
            "parties": len(self.parties),
            "containers": len(self.containers),
            "bills": len(self.bills),
        }

    def matches(
        self, lines: pd.DataFrame, *, hit: set[tuple[str, str, str]] | None = None
    ) -> list[list[str]]:
        """For each line, in order, a sentence per watch-list entry it hits (none: empty);
        the entries hit are added to ``hit`` (`every_entry`'s form)."""
        present = [name for name in WATCHED_COLUMNS if name in lines.columns]
        return self._told({name: lines[name].tolist() for name in present}, len(lines), hit)

    def every_entry(self) -> list[tuple[str, str, str]]:
        """Each entry as (kind, name or number, country or ""), kind party, container or bill."""
        return [
            *(("party", name, country) for name, country in sorted(self.parties)),
            *(("container", number, "") for number in sorted(self.containers)),
            *(("bill", number, "") for number in sorted(self.bills)),
        ]

    def shown(self, entry: tuple[str, str, str]) -> str:
        """An entry as an analyst reads it: "party NAME (Country)", "container X", "B/L Y"."""
        kind, name, country = entry
        label = {"party": "party", "container": "container", "bill": "B/L"}[kind]
        place = f" ({country_name(country) or country})" if country else ""
        return f"{label} {name}{place}"

    def matches_records(self, records: Sequence[Mapping[str, object]]) -> list[list[str]]:
        """`matches` for lines as sent (JSON objects), whatever the contract makes of them: a
        request's lines are matched without a frame, a rejected line as well as the others."""
        columns = {name: [r.get(name) for r in records] for name in WATCHED_COLUMNS}
        return self._told(columns, len(records))

    def _told(
        self,
        columns: Mapping[str, Sequence[object]],
        n: int,
        hit: set[tuple[str, str, str]] | None = None,
    ) -> list[list[str]]:
        """A sentence per entry each line hits; the entries hit are added to ``hit``."""
        told: list[list[str]] = [[] for _ in range(n)]

        def tell(i: int, who: str, entry: tuple[str, str, str]) -> None:
            told[i].append(self._sentence(who, entry))
            if hit is not None:
                hit.add(entry)

        names = {name for name, _ in self.parties}
        any_country = {name for name, country in self.parties if not country}
        listed_in: dict[str, list[str]] = {}
        for name, country in sorted(self.parties):
            if country and is_country(country):  # another country matches nothing (warned)
                listed_in.setdefault(name, []).append(country)
        for name_column, country_column, role in _PARTIES:
            if not names or name_column not in columns:
                continue
            countries = columns.get(country_column) if country_column is not None else None
            for i, party, spelled in _found(columns[name_column], names, _normal):
                name = party if spelled is None else f"{party} (written {spelled})"
                if party in any_country:
                    tell(i, f"{role} {name}", ("party", party, ""))
                where = _normal(countries[i]) if countries is not None else ""
                if where and is_country(where):
                    if (party, where) in self.parties:
                        shown = f"{role} {name} ({country_name(where) or where})"
                        tell(i, shown, ("party", party, where))
                    continue
                # No country to tell who it is: a forwarder declares none, and a notify party
                # or a shipper may leave it blank or give one the contract cannot read
                # ("Vietnam"). An entry listed with a country matches by name (it matched no
                # such line at all, unsaid: a consignment slipped past by leaving the country
                # out), and says so; not when the line names the same party in another
                # country, which tells who it is.
                listed = listed_in.get(party)
                if listed and not _placed_elsewhere(columns, i, party, listed):
                    places = ", ".join(country_name(where) or where for where in listed)
                    why = (
                        "a forwarder's country is not declared"
                        if country_column is None
                        else "the line gives no country for it"
                    )
                    shown = f"{role} {name} (listed for {places}; {why})"
                    if hit is not None:  # the sentence names each country it is listed for
                        hit.update(("party", party, where) for where in listed)
                    tell(i, shown, ("party", party, listed[0]))
        for column, watched, kind, label, normal in (
            ("container_number", self.containers, "container", "container", _compact_one),
            ("bl_number", self.bills, "bill", "B/L", _normal),
        ):
            if watched and column in columns:
                for i, value, _ in _found(columns[column], watched, normal):
                    tell(i, f"{label} {value}", (kind, value, ""))
        return told

    def generic_parties(self) -> list[str]:
        """Party entries that are not a party but a phrase many lines carry ("TO ORDER",
        "SAME AS CONSIGNEE"): on a watch list they would select every such line."""
        generic = re.compile(f"{TO_ORDER_PATTERN}|{SAME_AS_CONSIGNEE}")
        # an entry whose country is no country matches nothing (told as unmatchable instead)
        return sorted(
            {
                name
                for name, country in self.parties
                if generic.search(name) and (not country or is_country(country))
            }
        )

    def unused_note(self) -> str:
        """What the rows that name no entry are told by (empty when there are none)."""
        rows = self.unused_rows
        if not rows:
            return ""
        shown = ", ".join(str(row) for row in rows[:10]) + (", ..." if len(rows) > 10 else "")
        if len(rows) == 1:
            return f"row {shown} names no party_name, container_number or bl_number: left out"
        return (
            f"{len(rows):,} rows name no party_name, container_number or bl_number: left out "
            f"(rows {shown})"
        )

    def _sentence(self, who: str, entry: tuple[str, str, str]) -> str:
        note = self.notes.get(entry)
        return f"{who} is on the watch list" + (f": {note}" if note else "")


def _placed_elsewhere(
    columns: Mapping[str, Sequence[object]], row: int, party: str, listed: list[str]
) -> bool:
    """Whether line ``row`` names ``party`` as a shipper, consignee or notify party of a
    country none of ``listed``: the party is that one, not the listed one."""
    for name_column, country_column, _ in _PARTIES:
        names = columns.get(name_column)
        countries = columns.get(country_column) if country_column is not None else None
        if names is None or countries is None or not _names(names[row], party):
            continue
        where = _normal(countries[row])
        if where and is_country(where) and where not in listed:
            return True
    return False


def _names(value: object, party: str) -> bool:
    """Whether a line's value names a party entry, as `_found` matches them."""
    form = _normal(value)
    return form == party or (party.isascii() and folded(form) == party)


def load_watchlist(
    path: Path | None, *, warn: bool = True, name_values: bool = True
) -> Watchlist | None:
    """The watch list of a file, or None without one; `ConfigError` (exit 2) names a file that
    cannot be read or has none of the entry columns. Rows that name no entry (a country or note
    alone) are left out and listed in `Watchlist.unused_rows`. With ``warn``, those rows and each
    party entry that is a phrase many lines carry are logged as warnings; without
    ``name_values`` (the service's journal), by row and count only: a listed party's name or a
    watched container is intelligence, not a log line."""
    if path is None:
        return None
    path = Path(path)
    frame = read_table(path, "watch list")
    if not set(_ENTRY_COLUMNS) & set(frame.columns):
        raise ConfigError(
            f"watch list {path} needs one of the columns {sorted(_ENTRY_COLUMNS)} "
            f"(country only narrows a party_name), has {list(frame.columns)}"
        )
    blank = [""] * len(frame)

    def column(name: str, normal: Callable[[object], str] = _normal) -> list[str]:
        return [normal(v) for v in frame[name]] if name in frame.columns else blank

    notes = [_text(v) for v in frame["note"]] if "note" in frame.columns else blank
    names, countries = column("party_name"), column("country")
    containers, bills = column("container_number", _compact_one), column("bl_number")
    watch = Watchlist()

    def noted(entry: tuple[str, str, str], note: str) -> None:
        if note:
            earlier = watch.notes.get(entry)
            # a note already told is not told again; a shorter one is no repeat of a longer
            # one ("case KUL-1" replaced "case KUL-12")
            told = earlier.split("; ") if earlier else []
            if note not in told:
                watch.notes[entry] = "; ".join([*told, note])

    for row, (name, country, container, bill, note) in enumerate(
        zip(names, countries, containers, bills, notes, strict=True), start=1
    ):
        if name:
            watch.parties.add((name, country))
            noted(("party", name, country), note)
        if container:
            watch.containers.add(container)
            noted(("container", container, ""), note)
        if bill:
            watch.bills.add(bill)
            noted(("bill", bill, ""), note)
        if not (name or container or bill):
            watch.unused_rows.append(row)
        if container and not _CONTAINER.fullmatch(container):
            watch.unmatchable.append(
                (
                    row,
                    f"container_number {container!r} is not a container number (4 letters, "
                    "the 4th U, J or Z, then 7 digits): no accepted line can match it",
                )
            )
        if bill and not _BILL.fullmatch(bill):
            watch.unmatchable.append(
                (
                    row,
                    f"bl_number {bill!r} is not a B/L number (up to 35 letters, digits, / and -, "
                    "no spaces): no accepted line can match it",
                )
            )
        if name and country and not is_country(country):
            watch.unmatchable.append(
                (
                    row,
                    f"country {country!r} is not an ISO 3166 country code: party {name!r} "
                    "can match no accepted line with it",
                )
            )
    if watch.unused_rows and warn:
        log.warning("watch list %s: %s", path, watch.unused_note())
    if warn and not (watch.parties or watch.containers or watch.bills):
        log.warning(  # a header alone: an export that lost its rows, more likely than meant
            "watch list %s has no entry: no line will be selected as WATCHLIST", path
        )
    if warn and not name_values:  # a service's log: rows and counts, no listed name or number
        if watch.unmatchable:
            rows = ", ".join(str(row) for row, _ in watch.unmatchable[:10])
            log.warning(
                "watch list %s: %d entries no accepted line can match (rows %s); "
                "`risk-engine watchlist %s` names them",
                path,
                len(watch.unmatchable),
                rows,
                path,
            )
        if watch.generic_parties():
            log.warning(
                "watch list %s: %d party entries are phrases many lines carry, not parties: "
                "every line naming them is selected; `risk-engine watchlist %s` names them",
                path,
                len(watch.generic_parties()),
                path,
            )
        return watch
    for row, problem in watch.unmatchable if warn else []:
        log.warning("watch list %s, row %d: %s", path, row, problem)
    for name in watch.generic_parties() if warn else []:
        log.warning(
            "watch list %s: party %r is a phrase, not a party: every line naming it is selected",
            path,
            name,
        )
    return watch


def count_hits(
    watchlist: Watchlist,
    path: Path,
    *,
    mapping: ColumnMapping | None = None,
    chunk_rows: int = 200_000,
    progress: Callable[[int], None] | None = None,
    hit: set[tuple[str, str, str]] | None = None,
) -> tuple[int, Counter[str], int]:
    """How many lines of a shipments file there are, how many lines each entry's sentence is
    told of, and how many lines any entry hits (a line naming a watched party twice, as
    consignee and notify party, is one line to inspect), the lines read as they are in the
    file: what an analyst checks before a list goes live, so that no entry selects far more
    than meant. The entries that hit a line are added to ``hit`` (the others may be misspelt)."""
    lines = 0
    lines_hit = 0
    hits: Counter[str] = Counter()
    for _, chunk in open_records(path, "shipments", mapping, chunk_rows=chunk_rows).chunks():
        for told in watchlist.matches(chunk, hit=hit):
            hits.update(told)
            lines_hit += bool(told)
        lines += len(chunk)
        if progress is not None:
            progress(len(chunk))
    return lines, hits, lines_hit
