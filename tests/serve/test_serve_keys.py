"""The functions behind `risk-engine keys create|list|revoke`."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from serve_fakes import free_port, on_each_database
from sqlalchemy import text, update
from typer.testing import CliRunner

from risk_engine.cli import app
from risk_engine.settings import Settings
from serve.auth import Authenticator, AuthError, KeyNotFound
from serve.keys import create_key, list_keys, revoke_key, rotate_key
from serve.store import Store, api_keys


def test_keys_can_be_made_before_the_server_ever_ran(settings: Settings) -> None:
    new = create_key(settings, role="officer", name="Officer Le")
    assert (settings.home / "engine.db").exists()
    store = Store.from_settings(settings)
    try:
        assert Authenticator(store).authenticate(new.key).key_id == new.key_id
    finally:
        store.dispose()


@on_each_database
def test_listing_shows_every_key_but_never_a_key_or_its_hash(settings: Settings) -> None:
    first = create_key(settings, role="officer", name="Officer Le")
    second = create_key(settings, role="admin", name="Admin Pham")
    listed = list_keys(settings)
    assert [k.key_id for k in listed] == [first.key_id, second.key_id]
    assert {f.name for f in dataclasses.fields(listed[0])} == {
        "key_id",
        "role",
        "name",
        "created_at",
        "revoked_at",
        "expires_at",
    }
    assert all(k.active for k in listed)


@on_each_database
def test_a_key_made_for_some_days_works_until_then_and_lists_as_expired_after(
    settings: Settings,
) -> None:
    before = datetime.now(UTC)
    new = create_key(settings, role="officer", name="Temp officer", days=30)
    assert new.expires_at is not None
    assert timedelta(days=30) <= new.expires_at - before < timedelta(days=30, minutes=1)
    forever = create_key(settings, role="officer", name="Desk")
    listed = {k.key_id: k for k in list_keys(settings)}
    assert listed[new.key_id].state.startswith("active until ")
    assert listed[forever.key_id].state == "active, does not expire"
    store = Store.opened(settings)
    try:
        authenticator = Authenticator(store)
        assert authenticator.authenticate(new.key).key_id == new.key_id
        with store.engine.begin() as conn:  # a month later
            conn.execute(
                update(api_keys)
                .where(api_keys.c.key_id == new.key_id)
                .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        with pytest.raises(AuthError, match="the API key expired at") as refused:
            authenticator.authenticate(new.key)
        assert refused.value.status == 401 and refused.value.code == "expired_key"
        assert refused.value.key_id == new.key_id  # the audit row names the key
        assert authenticator.authenticate(forever.key).key_id == forever.key_id
    finally:
        store.dispose()
    expired = {k.key_id: k for k in list_keys(settings)}[new.key_id]
    assert not expired.active and expired.state.startswith("expired ")


def test_a_key_cannot_be_made_for_less_than_a_day(settings: Settings) -> None:
    with pytest.raises(ValueError, match="at least 1 day, not 0"):
        create_key(settings, role="officer", name="x", days=0)
    result = CliRunner().invoke(
        app,
        ["keys", "create", "--role", "officer", "--name", "x", "--days", "0"],
        env={"RISK_ENGINE_HOME": str(settings.home)},
    )
    assert result.exit_code == 2 and "--days" in result.output


@on_each_database
def test_revoking_marks_the_key_revoked_and_keeps_it_listed(settings: Settings) -> None:
    new = create_key(settings, role="analyst", name="Analyst Vo")
    revoked = revoke_key(settings, new.key_id)
    assert not revoked.active and revoked.revoked_at is not None
    assert [k.active for k in list_keys(settings)] == [False]


@on_each_database
def test_revoking_an_unknown_key_names_it(settings: Settings) -> None:
    with pytest.raises(KeyNotFound, match="feedfacecafe"):
        revoke_key(settings, "feedfacecafe")


def test_creating_a_key_with_an_unknown_role_fails_before_touching_the_store(
    settings: Settings,
) -> None:
    with pytest.raises(ValueError, match="role"):
        create_key(settings, role="root", name="x")
    assert not (settings.home / "engine.db").exists()


@on_each_database
def test_a_holder_name_longer_than_its_column_is_refused_and_nothing_is_stored(
    settings: Settings,
) -> None:
    with pytest.raises(ValueError, match="at most 128 characters, not 129"):
        create_key(settings, role="officer", name="N" * 129)
    assert list_keys(settings) == []
    # a line break split `keys list`, and a crafted name could fake an admin's row in it
    with pytest.raises(ValueError, match="one line of text"):
        create_key(settings, role="officer", name="Le Van\nabc123  admin  active")
    assert list_keys(settings) == []
    assert create_key(settings, role="officer", name="N" * 128).name == "N" * 128


def test_keys_on_an_unreachable_database_exit_five_naming_it_without_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    monkeypatch.setenv("RISK_ENGINE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RISK_ENGINE_DATABASE_URL", f"postgresql://kim:s3cret@127.0.0.1:{port}/x")
    result = CliRunner().invoke(app, ["keys", "list"])
    assert result.exit_code == 5, result.output
    assert f"database postgresql+pg8000://kim:***@127.0.0.1:{port}/x" in result.stderr
    assert "s3cret" not in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("command", [["keys", "list"], ["audit"], ["backup", "copy.db"]])
@pytest.mark.parametrize("damage", ["not a database", "cut in half"])
def test_a_store_file_that_is_no_database_or_a_damaged_one_exits_five_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str], damage: str
) -> None:
    # A traceback ending in "sqlite3.DatabaseError: file is not a database", exit 1.
    home = tmp_path / "home"
    monkeypatch.setenv("RISK_ENGINE_HOME", str(home))
    settings = Settings(home=home)
    if damage == "not a database":
        home.mkdir()
        (home / "engine.db").write_bytes(b"\x00garbage" * 800)
    else:  # a copy stopped half-way
        for n in range(40):
            create_key(settings, role="officer", name=f"officer {n}")
        whole = (home / "engine.db").read_bytes()
        for side in ("engine.db-wal", "engine.db-shm"):
            (home / side).unlink(missing_ok=True)
        (home / "engine.db").write_bytes(whole[: len(whole) // 2])
    if command[0] == "backup":
        command = ["backup", str(tmp_path / "copy.db")]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 5, result.output
    assert f"database sqlite:///{home / 'engine.db'}: " in result.stderr
    assert "restore it from a backup" in result.stderr and "Traceback" not in result.output


@on_each_database
def test_rotating_a_key_gives_its_holder_a_new_one_and_revokes_the_old(settings: Settings) -> None:
    old = create_key(settings, role="analyst", name="Analyst Vo", days=10)
    new, before = rotate_key(settings, old.key_id, days=90)
    assert (new.role.label, new.name) == ("analyst", "Analyst Vo") and new.key != old.key
    assert new.expires_at is not None
    assert timedelta(days=90, seconds=-1) < new.expires_at - new.created_at <= timedelta(days=90)
    assert before.key_id == old.key_id and before.state.startswith("revoked")
    store = Store.opened(settings)
    try:
        authenticator = Authenticator(store)
        assert authenticator.authenticate(new.key).name == "Analyst Vo"
        with pytest.raises(AuthError, match="revoked"):
            authenticator.authenticate(old.key)
    finally:
        store.dispose()
    with pytest.raises(ValueError, match=f"API key {old.key_id} was revoked"):
        rotate_key(settings, old.key_id)
    with pytest.raises(KeyNotFound, match="feedfacecafe"):
        rotate_key(settings, "feedfacecafe")


@on_each_database
def test_a_grace_period_keeps_the_old_key_working_for_that_many_hours(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RISK_ENGINE_HOME", str(settings.home))
    if settings.database_url:
        monkeypatch.setenv("RISK_ENGINE_DATABASE_URL", settings.database_url)
    old = create_key(settings, role="officer", name="Officer Le")
    result = CliRunner().invoke(app, ["keys", "rotate", old.key_id, "--grace-hours", "2"])
    assert result.exit_code == 0, result.output
    new_key = result.stdout.strip()
    assert new_key.startswith("rk_") and "Officer Le" in result.stderr
    assert f"the old key {old.key_id} is active until" in result.stderr
    listed = {k.key_id: k for k in list_keys(settings)}
    (made,) = [k for k in listed.values() if k.key_id != old.key_id]
    assert made.expires_at is None  # as the old key: no expiry
    kept = listed[old.key_id]
    assert kept.active and kept.expires_at is not None
    assert (
        timedelta(hours=1, minutes=59) < kept.expires_at - datetime.now(UTC) <= timedelta(hours=2)
    )
    store = Store.opened(settings)
    try:
        authenticator = Authenticator(store)
        assert authenticator.authenticate(old.key).key_id == old.key_id
        assert authenticator.authenticate(new_key).name == "Officer Le"
    finally:
        store.dispose()
    # rotated again in its grace period: a second live successor (two admins, one leak)
    again = CliRunner().invoke(app, ["keys", "rotate", old.key_id])
    assert again.exit_code == 2, again.output
    assert f"was rotated already: its successor {made.key_id} works" in again.stderr
    assert len(list_keys(settings)) == 2


@on_each_database
def test_two_rotations_of_one_key_at_the_same_moment_leave_one_working_successor(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rotation looked at the key (revoked? rotated already?) and changed it in separate
    transactions: two admins rotating one key at once both passed the look, and each got a
    working successor. Here the two rotations run at once in two threads, and where a rotation
    looks at the successors apart from its change, each waits there until both have looked."""
    old = create_key(settings, role="officer", name="Officer Le")
    both_looked = threading.Barrier(2, timeout=3)
    look = Store.successors

    def look_then_wait(self: Store, key_id: str) -> list[Any]:
        found = look(self, key_id)
        with contextlib.suppress(threading.BrokenBarrierError):
            both_looked.wait()
        return found

    monkeypatch.setattr(Store, "successors", look_then_wait)
    results: list[Any] = []

    def rotate() -> None:
        try:
            results.append(rotate_key(settings, old.key_id, grace_hours=2))
        except ValueError as error:
            results.append(error)

    admins = [threading.Thread(target=rotate) for _ in range(2)]
    for admin in admins:
        admin.start()
    for admin in admins:
        admin.join()
    made = [result[0] for result in results if not isinstance(result, ValueError)]
    refused = [str(result) for result in results if isinstance(result, ValueError)]
    assert len(made) == 1 and len(refused) == 1, results
    assert f"was rotated already: its successor {made[0].key_id} works" in refused[0]
    working = {k.key_id for k in list_keys(settings) if k.active}
    assert working == {old.key_id, made[0].key_id}  # the old one in its grace period


@on_each_database
def test_a_key_revoked_while_it_is_being_rotated_gets_no_successor(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rotation read the key as working and issued its successor in another transaction: a
    revocation for cause landing in between left the revoked key with a working successor,
    and the rotation said the old key "is revoked" as if that were its own doing."""
    old = create_key(settings, role="officer", name="Officer Le")
    read = Store.get_key
    revoked: list[bool] = []

    def read_then_an_admin_revokes(self: Store, key_id: str) -> Any:
        found = read(self, key_id)
        if not revoked:  # once, just after the rotation read the key
            revoked.append(True)
            revoke_key(settings, old.key_id)
        return found

    monkeypatch.setattr(Store, "get_key", read_then_an_admin_revokes)
    with pytest.raises(ValueError, match=f"API key {old.key_id} was revoked"):
        rotate_key(settings, old.key_id, grace_hours=2)
    monkeypatch.undo()
    (only,) = list_keys(settings)
    assert only.key_id == old.key_id and only.revoked_at is not None


def test_a_rotated_key_works_as_many_days_as_the_old_one_was_made_for(settings: Settings) -> None:
    old = create_key(settings, role="officer", name="Officer Le", days=30)
    new, _ = rotate_key(settings, old.key_id)
    assert new.expires_at is not None
    assert abs(new.expires_at - new.created_at - timedelta(days=30)) < timedelta(seconds=1)


@on_each_database
def test_a_rotated_key_keeps_one_live_successor_whatever_the_audit_trail_lost(
    settings: Settings,
) -> None:
    # The guard read the successor from the audit trail: a purge (retention) erased it, and it
    # looked one generation deep, so a key could be rotated again to a third live key.
    first = create_key(settings, role="admin", name="Admin Pham")
    second, _ = rotate_key(settings, first.key_id, grace_hours=24)
    store = Store.opened(settings)
    try:
        store.delete_audit(until=datetime.now(UTC) + timedelta(seconds=1), through_id=10**9)
    finally:
        store.dispose()
    with pytest.raises(ValueError, match=f"its successor {second.key_id} works"):
        rotate_key(settings, first.key_id, grace_hours=24)
    third, _ = rotate_key(settings, second.key_id)  # the successor rotated: it is revoked
    with pytest.raises(ValueError, match=f"its successor {third.key_id} works"):
        rotate_key(settings, first.key_id)  # two generations on
    assert sum(k.active for k in list_keys(settings)) == 2  # the first in its grace, the third


def test_a_key_rotated_again_after_its_successor_was_revoked_keeps_its_own_lifetime(
    settings: Settings,
) -> None:
    # The grace period's expiry was read as the key's lifetime: a key that never expired was
    # replaced by one that stopped working the next day.
    old = create_key(settings, role="officer", name="Officer Le")
    made, _ = rotate_key(settings, old.key_id, grace_hours=2)
    revoke_key(settings, made.key_id)  # as the refusal to rotate again suggests
    again, _ = rotate_key(settings, old.key_id)
    assert made.expires_at is None and again.expires_at is None
    dated = create_key(settings, role="officer", name="Officer Vu", days=30)
    made, _ = rotate_key(settings, dated.key_id, grace_hours=2)
    revoke_key(settings, made.key_id)
    again, _ = rotate_key(settings, dated.key_id)
    assert again.expires_at is not None
    assert abs(again.expires_at - again.created_at - timedelta(days=30)) < timedelta(seconds=1)


def test_a_key_whose_successor_has_expired_may_be_rotated_again(settings: Settings) -> None:
    """Only a successor that still works blocks a second rotation: one that expired (its holder
    never switched) left the old key in its grace period with no way to hand a new one out;
    no test held the expiry apart from a revocation."""
    old = create_key(settings, role="officer", name="Officer Pham")
    made, _ = rotate_key(settings, old.key_id, grace_hours=2)
    store = Store.opened(settings)
    try:
        store.expire_key(made.key_id, datetime.now(UTC) - timedelta(seconds=1))
    finally:
        store.dispose()
    again, _ = rotate_key(settings, old.key_id)
    assert again.key_id not in (old.key_id, made.key_id)


def test_a_store_of_schema_three_learns_its_rotations_and_lifetimes_from_the_trail(
    settings: Settings,
) -> None:
    old = create_key(settings, role="admin", name="Admin Pham", days=30)
    new, _ = rotate_key(settings, old.key_id, grace_hours=24)
    store = Store.opened(settings)
    try:
        with store.engine.begin() as conn:  # the store as schema version 3 left it
            conn.execute(update(api_keys).values(replaces=None, valid_days=None))
            conn.execute(text("DELETE FROM schema_version"))
            conn.execute(
                text("INSERT INTO schema_version (version, applied_at) VALUES (3, :at)"),
                {"at": datetime.now(UTC).replace(tzinfo=None)},
            )
        assert store.schema_version() == 3 and store.migrate() == 4
        record = store.get_key(new.key_id)
        assert record is not None and record.replaces == old.key_id and record.valid_days == 30
        # the old key's expiry is its grace period's end now: its making's row says 30 days
        first = store.get_key(old.key_id)
        assert first is not None and first.valid_days == 30 and first.replaces is None
    finally:
        store.dispose()
    with pytest.raises(ValueError, match=f"its successor {new.key_id} works"):
        rotate_key(settings, old.key_id)


@on_each_database
def test_making_rotating_and_revoking_a_key_each_leave_an_audit_row(settings: Settings) -> None:
    made = create_key(settings, role="officer", name="Officer Le", days=30)
    new, _ = rotate_key(settings, made.key_id, grace_hours=1)
    revoke_key(settings, made.key_id)
    store = Store.opened(settings)
    try:
        rows = [e for e in store.audit_entries() if e.method == "CLI"]
    finally:
        store.dispose()
    assert [(e.route, e.key_id, e.role, e.status) for e in rows] == [
        ("risk-engine keys create", made.key_id, "officer", 0),
        ("risk-engine keys rotate", new.key_id, "officer", 0),
        ("risk-engine keys rotate", made.key_id, "officer", 0),  # the old key's life tells it
        ("risk-engine keys revoke", made.key_id, "officer", 0),
    ]
    assert rows[0].detail is not None and rows[0].detail.startswith(
        "key for Officer Le, works until"
    )
    assert rows[1].detail is not None and f"replaces {made.key_id}, which is active until" in (
        rows[1].detail
    )
    assert rows[2].detail is not None and rows[2].detail.startswith(
        f"key of Officer Le replaced by {new.key_id}: active until"
    )
    assert rows[3].detail == "key of Officer Le revoked"
    # `audit --key OLD` lists its whole life: made, rotated, revoked
    store = Store.opened(settings)
    try:
        life = [e.route for e in store.audit_entries(key_id=made.key_id)]
    finally:
        store.dispose()
    assert life == [
        "risk-engine keys create",
        "risk-engine keys rotate",
        "risk-engine keys revoke",
    ]
    # and the listing tells what each did: by which key it was replaced
    env = {"RISK_ENGINE_HOME": str(settings.home)}
    if settings.database_url:
        env["RISK_ENGINE_DATABASE_URL"] = settings.database_url
    listed = CliRunner().invoke(app, ["audit", "--key", made.key_id], env=env)
    assert f"replaced by {new.key_id}" in listed.stdout, listed.output
    assert all(e.client and "@" in e.client for e in rows)
    assert all(made.key not in (e.detail or "") for e in rows)  # never the key itself


@pytest.mark.parametrize(
    "command", [["backup", "nightly.db"], ["audit"], ["audit", "--out", "trail.csv"]]
)
def test_reading_or_copying_a_store_that_is_not_there_makes_none_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    # A nightly backup of a misspelt home made a new, empty store and copied it: "0 outcomes,
    # 0 audit, 0 api_keys", exit 0, every night.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RISK_ENGINE_HOME", str(tmp_path / "typo-home"))
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 5, result.output
    assert "there is no store there: check RISK_ENGINE_HOME" in result.stderr
    assert not (tmp_path / "typo-home" / "engine.db").exists()
    assert not (tmp_path / "nightly.db").exists() and not (tmp_path / "trail.csv").exists()


def test_revoking_a_rotated_key_tells_that_its_successor_still_works(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Revoked for cause after a rotation with a grace period, the key's successor went on
    working, and `keys revoke` said only "revoked"."""
    monkeypatch.setenv("RISK_ENGINE_HOME", str(settings.home))
    old = create_key(settings, role="officer", name="Officer Ha")
    made, _ = rotate_key(settings, old.key_id, grace_hours=2)
    told = CliRunner().invoke(app, ["keys", "revoke", old.key_id])
    assert told.exit_code == 0, told.output
    assert f"note: {made.key_id} (officer, Officer Ha), rotated from it, still works" in (
        told.stderr
    )
    lone = create_key(settings, role="officer", name="Officer Tu")
    quiet = CliRunner().invoke(app, ["keys", "revoke", lone.key_id])
    assert quiet.exit_code == 0 and "note:" not in quiet.stderr


def test_revoke_takes_the_id_as_listed_as_its_help_shows_or_the_key_and_never_echoes_it(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The help said "Key id (rk_<id>)", which was refused; a pasted key was echoed back
    # whole in the error; a second revoke wrote a second audit row and said "revoked".
    monkeypatch.setenv("RISK_ENGINE_HOME", str(settings.home))
    runner = CliRunner()
    made = [create_key(settings, role="officer", name=f"Officer {n}") for n in range(3)]
    for key, given in zip(made, (made[0].key_id, f"rk_{made[1].key_id}", made[2].key), strict=True):
        result = runner.invoke(app, ["keys", "revoke", given])
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith(f"revoked {key.key_id} (officer, ")
    again = runner.invoke(app, ["keys", "revoke", made[0].key_id])
    assert again.exit_code == 0 and "was revoked already: revoked " in again.stdout
    secret = made[2].key.split("_", 2)[2]
    typo = runner.invoke(app, ["keys", "revoke", f"rk_{made[2].key_id[:-1]}_{secret}"])
    assert typo.exit_code == 2 and secret not in typo.output
    store = Store.opened(settings)
    try:
        revokes = [e for e in store.audit_entries() if e.route == "risk-engine keys revoke"]
    finally:
        store.dispose()
    assert len(revokes) == 3
    audit = runner.invoke(app, ["audit", "--out", str(settings.home / "t.csv"), "--last", "2"])
    assert audit.exit_code == 2 and "--last 2 goes without --out" in audit.stderr
