"""Shipment lines as contract records: Arrow columns named and typed as in `risk_engine.columns`.

List fields (seal_numbers, transshipment_ports) are ``;``-joined text; timestamps are UTC.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from risk_engine.columns import SHIPMENT_FIELDS, Kind
from risk_engine.reference import iso6346_check_digit
from training.simulation._arrow import digits, join, lookup, null_where, seconds_to_timestamps
from training.simulation.bookings import Table
from training.simulation.fleet import CARRIERS
from training.simulation.lines import CURRENCIES, OPTIONAL, OWNERS, SIZE_TYPES, unknown_port_codes
from training.simulation.world import World

__all__ = ["SHIPMENT_SCHEMA", "container_numbers", "render_shipments"]

TO_ORDER = ("TO ORDER", "TO ORDER OF SHIPPER", "TO THE ORDER OF ISSUING BANK", "TO ORDER OF BANK")
_ARROW_TYPE = {
    Kind.TIMESTAMP: pa.timestamp("us", tz="UTC"),
    Kind.INT_MIN0: pa.int64(),
    Kind.INT_MIN1: pa.int64(),
    Kind.POSITIVE: pa.float64(),
    Kind.NON_NEGATIVE: pa.float64(),
}
SHIPMENT_SCHEMA = pa.schema(
    [(f.name, _ARROW_TYPE.get(f.kind, pa.string())) for f in SHIPMENT_FIELDS]
)
_BIT = {name: i for i, name in enumerate(OPTIONAL)}
_PRIME = 1_000_003  # B/L numbers: an affine bijection of the booking id, so all are distinct


def _absent(lines: Table, name: str) -> npt.NDArray[np.bool_]:
    return ((lines["missing"] >> _BIT[name]) & 1).astype(bool)


def _stem_residue(stem: str) -> int:
    """ISO 6346 weighted sum of a 4-character owner+category stem, modulo 11.

    Found with the public check-digit function: the check digits of ``stem + 000000`` and
    ``stem + 000001`` (which adds 2**9) pin the residue down among 0..10.
    """
    zero, one = iso6346_check_digit(stem + "000000"), iso6346_check_digit(stem + "000001")
    return next(r for r in range(11) if r % 10 == zero and (r + 2**9) % 11 % 10 == one)


def container_numbers(
    owner: npt.NDArray[np.int64], serial: npt.NDArray[np.int64], wrong: npt.NDArray[np.bool_]
) -> pa.Array:
    """ISO 6346 numbers of owner code + U + serial, with a wrong check digit where asked."""
    stems = [o + "U" for o in OWNERS]
    residue = np.array([_stem_residue(stem) for stem in stems], dtype=np.int64)
    serial_digits = (serial[:, None] // 10 ** np.arange(5, -1, -1)) % 10
    total = residue[owner] + serial_digits @ (2 ** np.arange(4, 10))
    check = total % 11 % 10
    check = np.where(wrong, (check + 1 + (serial % 9)) % 10, check)
    return join(lookup(stems, owner), digits(serial, 6), digits(check, 1))


def _bl_numbers(world: World, lines: Table) -> tuple[pa.Array, pa.Array]:
    booking = lines["booking"]
    number = (booking * _PRIME + world.config.seed * 7919) % 9_000_000_000 + 1_000_000_000
    master = (booking * 7_000_003 + 12_345) % 9_000_000_000 + 1_000_000_000
    scac = lookup([c[0] for c in CARRIERS], lines["carrier"])
    fwd_codes = ["".join(w[0] for w in str(n).split()[:3]) + "L" for n in world.forwarder_name]
    house = lines["house"]
    prefix = lookup(fwd_codes, np.where(house, lines["forwarder"], -1))
    prefix = pc.if_else(pa.array(house), prefix, scac)
    return join(prefix, digits(number, 10)), null_where(~house, join(scac, digits(master, 10)))


def render_shipments(world: World, lines: Table, defect: npt.NDArray[np.int64]) -> pa.Table:
    ports, goods, fleet = world.ports, world.goods, world.fleet
    epoch = int(world.epoch.timestamp())
    n = len(lines["k"])
    codes = ports.codes
    bl_number, master = _bl_numbers(world, lines)
    pod_cc = ports.country[lines["pod"]]
    to_order, agent = lines["to_order"], lines["agent_consignee"]
    cons, notify = world.consignees, lines["notify"]
    named = ~to_order & ~agent
    consignee_name = np.where(
        to_order,
        np.array(TO_ORDER, dtype=object)[lines["booking"] % len(TO_ORDER)],
        np.where(
            agent,
            world.forwarder_name[np.maximum(lines["forwarder"], 0)],
            cons.name[lines["consignee"]],
        ),
    )
    imo = fleet.vessel_imo[lines["vessel"]].copy()
    for i in np.flatnonzero(defect == 2):
        imo[i] = imo[i][:6] + str((int(imo[i][6]) + 1 + i % 9) % 10)
    receipt = codes[lines["pol"]].copy()
    for i in np.flatnonzero(defect == 3):
        options = unknown_port_codes(str(world.shippers.country[lines["shipper"][i]]))
        receipt[i] = options[i % len(options)]
    hub1 = lookup(codes, lines["hub1"])
    hub2 = lookup(codes, lines["hub2"])
    transship = pc.if_else(pa.array(lines["hub2"] >= 0), join(hub1, ";", hub2), hub1)
    seal_prefix = lookup([c[2] for c in CARRIERS], lines["carrier"])
    seal = join(seal_prefix, digits(lines["seal1"], 7))
    second = join(
        lookup(list(world.shippers.country), lines["shipper"]),
        digits(np.maximum(lines["seal2"], 0), 7),
    )
    seal = pc.if_else(pa.array(lines["seal2"] >= 0), join(seal, ";", second), seal)
    kg = np.where(defect == 4, np.round(33_000 + (lines["booking"] % 9000), 1), lines["kg"])
    value_missing = _absent(lines, "declared_value")
    eta = np.datetime64(world.epoch.replace(tzinfo=None), "s") + lines["eta"].astype("m8[s]")
    year = eta.astype("datetime64[Y]").astype(np.int64) + 1970
    cites = join(
        pa.array(lines["origin"], type=pa.string()),
        "/CITES/",
        digits(year, 4),
        "/",
        digits(lines["booking"] % 100_000, 5),
    )
    booked_missing = _absent(lines, "booking_created_at") & (defect != 5)
    columns = {
        "bl_number": bl_number,
        "bl_type": null_where(
            _absent(lines, "bl_type"), lookup(("SIMPLE", "HOUSE"), lines["house"].astype(np.int64))
        ),
        "master_bl_number": master,
        "container_number": container_numbers(lines["owner"], lines["serial"], defect == 1),
        "container_size_type": lookup(
            SIZE_TYPES, np.where(_absent(lines, "container_size_type"), -1, lines["size"])
        ),
        "full_empty": null_where(
            _absent(lines, "full_empty"), pa.array(np.full(n, "FULL", dtype=object))
        ),
        "seal_numbers": null_where(_absent(lines, "seal_numbers"), seal),
        "carrier_code": lookup([c[0] for c in CARRIERS], lines["carrier"]),
        "vessel_imo": pa.array(imo, type=pa.string()),
        "vessel_name": null_where(
            _absent(lines, "vessel_name"), lookup(fleet.vessel_name, lines["vessel"])
        ),
        "voyage_number": join(
            digits(lines["voyage"], 4), lookup(fleet.voyage_suffix, lines["service"])
        ),
        "place_of_receipt": null_where(
            _absent(lines, "place_of_receipt") & (defect != 3), pa.array(receipt, type=pa.string())
        ),
        "port_of_loading": lookup(codes, lines["pol"]),
        "transshipment_ports": transship,
        "port_of_discharge": lookup(codes, lines["pod"]),
        "place_of_delivery": null_where(
            _absent(lines, "place_of_delivery"), lookup(codes, lines["pod"])
        ),
        "country_of_origin": null_where(
            _absent(lines, "country_of_origin"), pa.array(lines["origin"], type=pa.string())
        ),
        "filed_at": seconds_to_timestamps(epoch, lines["filed"], np.zeros(n, dtype=bool)),
        "booking_created_at": seconds_to_timestamps(epoch, lines["booked"], booked_missing),
        "etd": seconds_to_timestamps(epoch, lines["etd"], _absent(lines, "etd")),
        "eta": seconds_to_timestamps(epoch, lines["eta"], np.zeros(n, dtype=bool)),
        "amendment_count": pa.array(
            lines["amend_n"], type=pa.int64(), mask=_absent(lines, "amendment_count")
        ),
        "last_amended_at": seconds_to_timestamps(epoch, lines["amended"], lines["amend_n"] == 0),
        "shipper_name": lookup(world.shippers.name, lines["shipper"]),
        "shipper_address": lookup(world.shippers.address, lines["shipper"]),
        "shipper_country": lookup(world.shippers.country, lines["shipper"]),
        "shipper_id": lookup(world.shippers.party_id, lines["shipper"]),
        "consignee_name": pa.array(consignee_name, type=pa.string()),
        "consignee_address": lookup(cons.address, np.where(named, lines["consignee"], -1)),
        "consignee_country": pa.array(
            np.where(named, cons.country[lines["consignee"]], pod_cc), type=pa.string()
        ),
        "consignee_id": lookup(cons.party_id, np.where(named, lines["consignee"], -1)),
        "notify_party_name": lookup(
            [*cons.name, "SAME AS CONSIGNEE"], np.where(notify == -2, len(cons), notify)
        ),
        "notify_party_country": pc.if_else(
            pa.array(notify == -2), pa.array(pod_cc, type=pa.string()), lookup(cons.country, notify)
        ),
        "freight_forwarder_name": lookup(world.forwarder_name, lines["forwarder"]),
        "hs_code": lookup(goods.hs, lines["hs_good"]),
        "goods_description": lookup(world.desc_text, lines["desc"]),
        "package_count": pa.array(lines["packages"], type=pa.int64()),
        "package_type": lookup(
            goods.package_type, np.where(_absent(lines, "package_type"), -1, lines["good"])
        ),
        "gross_weight_kg": pa.array(kg, type=pa.float64()),
        "declared_value": pa.array(lines["value"], type=pa.float64(), mask=value_missing),
        "currency": lookup(CURRENCIES, np.where(value_missing, -1, lines["currency"])),
        "freight_terms": lookup(
            ("PREPAID", "COLLECT"), np.where(lines["freight"] < 2, lines["freight"], -1)
        ),
        "cites_permit_ref": null_where(~lines["cites"], cites),
    }
    return pa.Table.from_arrays([columns[f.name] for f in SHIPMENT_SCHEMA], schema=SHIPMENT_SCHEMA)
