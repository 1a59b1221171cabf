"""Who looked at a container: the audit trail keeps the B/L and container of every line a
request named (scoring and outcomes), on SQLite and PostgreSQL, through export and retention."""
# A B/L and a container that look like LIKE wildcards or the trail's separators are matched
# literally: see test_a_number_with_wildcards_matches_only_itself.

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pandas as pd
import pytest
from serve_fakes import audit_entry, manifest, on_each_database
from typer.testing import CliRunner

from risk_engine.cli import app
from risk_engine.factories import valid_outcome_row
from risk_engine.settings import Settings
from serve.config import ServeLimits
from serve.store import Store

runner = CliRunner()


@on_each_database
def test_the_trail_says_which_keys_looked_at_a_container_and_when(
    home_env: Settings,
    store: Store,
    start_server: object,
    keys: dict[str, str],
) -> None:
    client: httpx.Client = start_server()  # type: ignore[operator]
    lines = manifest(3, seed=5)
    watched = lines[1]["container_number"]
    # the same container sent again, spelled loosely, on a line the contract rejects
    loose = f"{watched[:4].lower()} {watched[4:10]}-{watched[10:]}"
    broken = {**lines[2], "container_number": loose, "gross_weight_kg": -1}
    officer, analyst = {"X-API-Key": keys["officer"]}, {"X-API-Key": keys["analyst"]}
    assert client.post("/v1/score", json={"lines": lines[:2]}, headers=officer).status_code == 200
    assert client.post("/v1/score", json={"lines": [lines[0]]}, headers=analyst).status_code == 200
    assert client.post("/v1/score", json={"lines": [broken]}, headers=analyst).status_code == 200
    outcome = {
        **valid_outcome_row(0),
        "bl_number": lines[1]["bl_number"],
        "container_number": watched,
        "model_version": "",
    }
    sent = {"outcomes": [{k: v for k, v in outcome.items() if v != ""}]}
    assert client.post("/v1/outcomes", json=sent, headers=officer).status_code == 200

    seen = store.audit_entries(container=watched.lower())
    assert [(e.route, e.role) for e in seen] == [
        ("/v1/score", "officer"),
        ("/v1/score", "analyst"),  # the rejected line named it too
        ("/v1/outcomes", "officer"),
    ]
    assert seen[0].named == (
        (lines[0]["bl_number"], lines[0]["container_number"]),
        (lines[1]["bl_number"], watched),
    )
    assert seen[2].detail == "recorded 1, duplicate 0, conflict 0, rejected 0"
    by_bl = store.audit_entries(bl_number=lines[1]["bl_number"].lower())
    assert [e.request_id for e in by_bl] == [seen[0].request_id, seen[2].request_id]
    assert store.audit_entries(container="MSCU0000000") == []

    shown = runner.invoke(app, ["audit", "--container", watched])
    assert shown.exit_code == 0, shown.output
    printed = shown.stdout.splitlines()
    assert len(printed) == 3
    assert [line.split()[2] for line in printed] == ["/v1/score", "/v1/score", "/v1/outcomes"]
    assert all(f"request {e.request_id}" in line for e, line in zip(seen, printed, strict=True))
    nothing = runner.invoke(app, ["audit", "--bl", "NO-SUCH-BL"])
    assert nothing.exit_code == 0 and "no audit rows match" in nothing.stderr


@on_each_database
def test_a_nul_character_in_a_path_or_a_named_line_is_audited_and_answered(
    store: Store, start_server: object, keys: dict[str, str]
) -> None:
    """PostgreSQL cannot store a NUL: a ``%00`` in a path or a B/L sent with one made the
    audit write fail there, withholding the answer (503) and leaving no row of the request."""
    client: httpx.Client = start_server()  # type: ignore[operator]
    officer = {"X-API-Key": keys["officer"]}
    assert client.get("/v1/mo%00del", headers=officer).status_code == 404
    line = {**manifest(1, seed=6)[0], "bl_number": "BL\x001"}
    answer = client.post("/v1/score", json={"lines": [line]}, headers=officer)
    assert answer.status_code == 200
    assert answer.json()["lines"][0]["status"] == "rejected"
    rows = store.audit_entries()
    assert [(e.route, e.status) for e in rows[-2:]] == [
        ("/v1/mo\\x00del", 404),
        ("/v1/score", 200),
    ]
    assert rows[-1].named == (("BL\\x001", line["container_number"]),)


@on_each_database
def test_control_characters_are_stored_escaped_and_cannot_forge_audit_rows(
    home_env: Settings, store: Store, start_server: object, keys: dict[str, str]
) -> None:
    """A line break or an escape sequence in a path (or a B/L) was stored as sent: the `audit`
    listing printed a forged second row and drove the terminal (``ESC[2J`` cleared it)."""
    client: httpx.Client = start_server()  # type: ignore[operator]
    assert client.get("/y%E2%80%AEz%E2%80%A8w").status_code == 404  # U+202E, U+2028
    forged = "/x%1B%5B2J%0D%0A2026-11-30T00:00:00Z%20%20GET%20%20/v1/model"
    assert client.get(forged).status_code == 404
    line = {**manifest(1, seed=7)[0], "bl_number": "BL\x1b[31m\n2"}
    officer = {"X-API-Key": keys["officer"]}
    assert client.post("/v1/score", json={"lines": [line]}, headers=officer).status_code == 200
    rows = store.audit_entries()
    assert rows[-3].route == "/y\\u202ez\\u2028w"
    assert rows[-2].route == "/x\\x1b[2J\\x0d\\x0a2026-11-30T00:00:00Z  GET  /v1/model"
    assert rows[-1].named == (("BL\\x1b[31M\\x0a2", line["container_number"]),)
    shown = CliRunner().invoke(app, ["audit", "--last", "3"])
    assert shown.exit_code == 0, shown.output
    assert len(shown.stdout.splitlines()) == 3
    assert "\x1b" not in shown.stdout and "\r" not in shown.stdout and "\u202e" not in shown.stdout


@on_each_database
def test_the_client_of_an_audit_row_is_the_connection_unless_a_proxy_is_trusted(
    store: Store, start_server: object, keys: dict[str, str]
) -> None:
    """uvicorn read X-Forwarded-For from 127.0.0.1, where every caller of the service is: any
    caller chose the client address of its own rows, and on PostgreSQL one over 64 characters
    failed the audit write (a 503 after the outcome was stored, and no row)."""
    forwarded = {"X-Forwarded-For": "6.6.6.6" + "7" * 80}
    direct: httpx.Client = start_server()  # type: ignore[operator]
    assert direct.get("/readyz", headers=forwarded).status_code == 200
    assert store.audit_entries()[-1].client == "127.0.0.1"
    limits = ServeLimits(model="champion", trusted_proxies="127.0.0.1")
    proxied: httpx.Client = start_server(limits=limits)  # type: ignore[operator]
    assert proxied.get("/readyz", headers=forwarded).status_code == 200
    assert store.audit_entries()[-1].client == ("6.6.6.6" + "7" * 80)[:64]


@on_each_database
def test_a_request_refused_before_its_key_was_checked_names_its_key(
    store: Store, start_server: object, keys: dict[str, str]
) -> None:
    """A 404, a 405 or a body over the limit is answered before the route checks the key: the
    row named no key, so `audit --key` could not trace an insider probing paths."""
    limits = ServeLimits(model="champion", max_body_bytes=2_048)
    client: httpx.Client = start_server(limits=limits)  # type: ignore[operator]
    officer = keys["officer"]
    key_id = officer.split("_")[1]
    forged = officer[:-4] + ("AAAA" if not officer.endswith("AAAA") else "BBBB")
    big = json.dumps({"lines": [{"goods_description": "X" * 4_000}]})
    sent = [
        client.get("/nope", headers={"X-API-Key": officer}),
        client.get("/v1/score", headers={"Authorization": f"Bearer {officer}"}),
        client.post("/v1/score", content=big, headers={"X-API-Key": officer}),
        client.get("/nope", headers={"X-API-Key": forged}),  # its id, not its secret: no name
    ]
    assert [answer.status_code for answer in sent] == [404, 405, 413, 404]
    rows = store.audit_entries()[-4:]
    assert [(row.key_id, row.role) for row in rows] == [
        (key_id, "officer"),
        (key_id, "officer"),
        (key_id, "officer"),
        (None, None),
    ]
    assert [row.key_id for row in store.audit_entries(key_id=key_id)][-3:] == [key_id] * 3


def test_naming_the_key_of_a_refused_request_never_fails_it_nor_reads_on_answered_ones(
    store: Store, start_server: object, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lookup ran outside the audit's error handling: a store that could not read keys
    turned a 404 into a 500 with no row; and a health probe sending a key read the store."""
    client: httpx.Client = start_server()  # type: ignore[operator]
    officer = {"X-API-Key": keys["officer"]}
    reads: list[str] = []

    def broken(key_id: str) -> None:
        reads.append(key_id)
        raise OSError("the key table cannot be read")

    monkeypatch.setattr(store, "get_key", broken)
    assert client.get("/healthz", headers=officer).status_code == 200
    assert reads == []  # answered: nothing to name
    answer = client.get("/nope", headers=officer)
    assert answer.status_code == 404 and reads == [keys["officer"].split("_")[1]]
    row = store.audit_entries()[-1]
    assert (row.route, row.status, row.key_id) == ("/nope", 404, None)


@on_each_database
def test_an_export_and_a_purge_keep_the_lines_each_request_named(
    home_env: Settings,
    store: Store,
    start_server: object,
    keys: dict[str, str],
    tmp_path: Path,
) -> None:
    client: httpx.Client = start_server()  # type: ignore[operator]
    lines = manifest(2, seed=9)
    officer = {"X-API-Key": keys["officer"]}
    assert client.post("/v1/score", json={"lines": lines}, headers=officer).status_code == 200
    export = tmp_path / "audit.parquet"
    done = runner.invoke(
        app, ["audit", "--container", lines[1]["container_number"], "--out", str(export)]
    )
    assert done.exit_code == 0, done.output
    (row,) = pd.read_parquet(export).to_dict("records")
    assert row["named"] == "; ".join(
        f"{line['container_number']} (B/L {line['bl_number']})" for line in lines
    )
    archive = tmp_path / "archive.csv"
    purged = runner.invoke(
        app, ["audit", "--purge-before", pd.Timestamp.now("UTC").isoformat(), "--out", str(archive)]
    )
    assert purged.exit_code == 0, purged.output
    assert lines[1]["container_number"] in "".join(pd.read_csv(archive)["named"].dropna())
    assert store.audit_entries(container=lines[1]["container_number"]) == []


def test_a_number_with_wildcards_matches_only_itself(store: Store) -> None:
    store.record_audit(audit_entry("a", ("BL_1", "AB%")))
    store.record_audit(audit_entry("b", ("BLX1", "ABCD")))
    store.record_audit(audit_entry("c", ("BL;1|", "X")))  # separators in a raw value are dropped
    assert [e.request_id for e in store.audit_entries(bl_number="bl_1")] == ["a"]
    assert [e.request_id for e in store.audit_entries(container="AB%")] == ["a"]
    assert [e.request_id for e in store.audit_entries(bl_number="BL1")] == ["c"]
    assert store.audit_entries(container="AB") == []
    (c,) = store.audit_entries(container="x")
    assert c.named == (("BL1", "X"),)


@on_each_database
def test_a_store_of_schema_two_gains_the_named_lines_and_keeps_its_old_rows(store: Store) -> None:
    from sqlalchemy import text

    from serve.store import SCHEMA_VERSION

    made = datetime.now(UTC).replace(tzinfo=None)
    with store.engine.begin() as conn:  # the store as schema version 2 left it
        conn.execute(text("ALTER TABLE audit DROP COLUMN named"))
        conn.execute(text("DELETE FROM schema_version"))
        conn.execute(
            text("INSERT INTO schema_version (version, applied_at) VALUES (2, :at)"), {"at": made}
        )
        conn.execute(
            text(
                "INSERT INTO audit (request_id, at, method, route, status, duration_ms) "
                "VALUES ('old', :at, 'POST', '/v1/score', 200, 1.0)"
            ),
            {"at": made},
        )
    assert store.schema_version() == 2
    assert store.migrate() == SCHEMA_VERSION == 4
    (row,) = store.audit_entries()
    assert row.request_id == "old" and row.named == ()
    store.record_audit(audit_entry("new", ("BL1", "CSQU3054383")))
    assert [e.request_id for e in store.audit_entries(container="CSQU3054383")] == ["new"]


@on_each_database
def test_a_lone_surrogate_rejects_its_line_and_the_rest_are_answered_and_audited(
    store: Store, start_server: object, keys: dict[str, str]
) -> None:
    """A JSON "\\ud800" escape alone (a text cut in the middle of an emoji) is no character: in
    any text field it failed the whole manifest (500), in a B/L the audit write (503, no row)."""
    client: httpx.Client = start_server()  # type: ignore[operator]
    officer = {"X-API-Key": keys["officer"], "Content-Type": "application/json"}
    lines = manifest(4, seed=7)
    lines[0]["shipper_name"] = "\ud800Lagos"
    lines[1]["bl_number"] = "BL\ud8001"
    lines[2]["x\udc00"] = "1"
    lines[3]["consignee_name"] = "Hanoi \U0001f600"  # a whole pair is a character, and kept
    body = json.dumps({"lines": lines})  # ASCII, with each surrogate as its \u escape
    assert "\\ud800" in body
    answer = client.post("/v1/score", content=body.encode(), headers=officer)
    assert answer.status_code == 200, answer.text
    got = answer.json()["lines"]
    assert [line["status"] for line in got] == ["rejected", "rejected", "rejected", "scored"]
    assert {"field": "shipper_name", "value": "\\ud800Lagos", "rule": "malformed"} in got[0][
        "errors"
    ]
    assert {"field": "bl_number", "value": "BL\\ud8001", "rule": "malformed"} in got[1]["errors"]
    assert any("x\\udc00" in (e["field"] + e["value"]) for e in got[2]["errors"])
    row = store.audit_entries()[-1]
    assert (row.route, row.status, row.lines) == ("/v1/score", 200, 4)
    assert row.named[1] == ("BL\\UD8001", lines[1]["container_number"])

    outcome = {k: v for k, v in valid_outcome_row(3).items() if v != ""}
    sent = [
        {**outcome, "commodity": "ivory\udc00"},  # an optional field: dropped and flagged
        {**outcome, "bl_number": "B\ud800L", "inspected_at": "2024-05-02T10:00:00Z"},
    ]
    answer = client.post(
        "/v1/outcomes", content=json.dumps({"outcomes": sent}).encode(), headers=officer
    )
    assert answer.status_code == 200, answer.text
    told = answer.json()["outcomes"]
    assert [o["status"] for o in told] == ["recorded", "rejected"]
    assert store.audit_entries()[-1].route == "/v1/outcomes"
    # a body that is no manifest, with a surrogate where the lines or a key belong: 422, told
    for wrong in ('{"lines": "\\ud800"}', '{"\\ud800": []}'):
        answer = client.post("/v1/score", content=wrong.encode(), headers=officer)
        assert answer.status_code == 422 and "not_a_manifest" in answer.text, (wrong, answer.text)
    answer = client.post("/v1/score", content=b'{"lines": [{"\\udc00": 1}]}', headers=officer)
    assert answer.status_code == 200 and answer.json()["counts"]["rejected"] == 1, answer.text
