"""The functions behind ``risk-engine keys create|list|rotate|revoke``.

Each opens the configured store (creating its schema on first use, so keys can be made before the
server ever ran), does one thing and closes it. The full key is returned once, by `create_key`;
the store keeps only its hash. Making, rotating and revoking a key each leave an audit row
(method ``CLI``) naming the key and who ran the command.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from risk_engine.settings import Settings
from serve.audit import command_entry
from serve.auth import (
    KEY_PREFIX,
    KeyNotFound,
    NewKey,
    Role,
    generate_key,
    hash_key,
    issue_key,
    key_id_of,
)
from serve.store import KeyRecord, Store

__all__ = ["KeyInfo", "create_key", "key_id_given", "list_keys", "revoke_key", "rotate_key"]


@dataclass(frozen=True)
class KeyInfo:
    """A key as listed: never the key or its hash."""

    key_id: str
    role: str
    name: str
    created_at: datetime
    revoked_at: datetime | None
    expires_at: datetime | None = None

    @property
    def active(self) -> bool:
        """Neither revoked nor expired: the key works."""
        return self.revoked_at is None and not (
            self.expires_at is not None and self.expires_at <= datetime.now(UTC)
        )

    @property
    def state(self) -> str:
        """How `risk-engine keys list` shows it: revoked, expired, or until when it works."""
        if self.revoked_at is not None:
            return f"revoked {self.revoked_at:%Y-%m-%d %H:%M} UTC"
        if self.expires_at is None:
            return "active, does not expire"
        if not self.active:
            return f"expired {self.expires_at:%Y-%m-%d %H:%M} UTC"
        return f"active until {self.expires_at:%Y-%m-%d %H:%M} UTC"

    @classmethod
    def of(cls, record: KeyRecord) -> KeyInfo:
        return cls(
            record.key_id,
            record.role,
            record.name,
            record.created_at,
            record.revoked_at,
            record.expires_at,
        )


def create_key(settings: Settings, *, role: str, name: str, days: int | None = None) -> NewKey:
    """Issue a key for ``name`` (who holds it) with ``role`` (officer, analyst or admin),
    working for ``days`` days (for ever without)."""
    parsed = Role.parse(role)
    if days is not None and days < 1:
        raise ValueError(f"a key works for at least 1 day, not {days}")
    started = datetime.now(UTC)
    expires = None if days is None else started + timedelta(days=days)
    store = Store.opened(settings)
    try:
        new = issue_key(store, role=parsed, name=name, expires_at=expires, valid_days=days)
        store.record_audit(
            command_entry(
                "risk-engine keys create",
                started=started,
                key_id=new.key_id,
                role=parsed.label,
                detail=f"key for {new.name}{_until(new.expires_at)}",
            )
        )
        return new
    finally:
        store.dispose()


def list_keys(settings: Settings) -> list[KeyInfo]:
    """Every key, revoked ones included, oldest first."""
    store = Store.opened(settings)
    try:
        return [KeyInfo.of(record) for record in store.list_keys()]
    finally:
        store.dispose()


def key_id_given(given: str) -> str:
    """The key id an administrator gave: the id itself, ``rk_<id>``, or a whole key pasted
    (``rk_<id>_<secret>``; the secret is dropped here and never shown back)."""
    given = given.strip()
    whole = key_id_of(given)
    if whole is not None:
        return whole
    parts = given.split("_", 2)
    return parts[1] if len(parts) >= 2 and parts[0] == KEY_PREFIX else given


def working_successors(settings: Settings, key_id: str) -> list[KeyInfo]:
    """The keys rotated from ``key_id`` (any generation on) that still work: revoking a key for
    cause leaves them working, which `keys revoke` tells."""
    store = Store.opened(settings)
    try:
        found = [KeyInfo.of(record) for record in store.successors(key_id_given(key_id))]
    finally:
        store.dispose()
    return [info for info in found if info.active]


def revoke_key(settings: Settings, key_id: str) -> KeyInfo:
    """Revoke a key by id; it stops working on the running server's next request. A key
    revoked already is left as it was (no second audit row): its `revoked_at` says when."""
    started = datetime.now(UTC)
    key_id = key_id_given(key_id)
    store = Store.opened(settings)
    try:
        before = store.get_key(key_id)
        if before is not None and not before.active:
            return KeyInfo.of(before)
        record = store.revoke_key(key_id)
        if record is not None:
            store.record_audit(
                command_entry(
                    "risk-engine keys revoke",
                    started=started,
                    key_id=record.key_id,
                    role=record.role,
                    detail=f"key of {record.name} revoked",
                )
            )
    finally:
        store.dispose()
    if record is None:
        raise KeyNotFound(f"no API key has id {key_id!r}: see `risk-engine keys list`")
    return KeyInfo.of(record)


_ROTATE = "risk-engine keys rotate"  # the route of a rotation's audit row


def rotate_key(
    settings: Settings, key_id: str, *, days: int | None = None, grace_hours: int = 0
) -> tuple[NewKey, KeyInfo]:
    """A new key for the holder and role of ``key_id``, working ``days`` days (by default as
    many as the old key was made for, or until revoked when it had no expiry); the old key is
    revoked at once, or, with ``grace_hours``, stops working that many hours from now so its
    holder can switch. A revoked key is not rotated: it may have been revoked for cause, so a
    new one is made deliberately (`create_key`)."""
    if grace_hours < 0:
        raise ValueError(f"--grace-hours is 0 or more, not {grace_hours}")
    if days is not None and days < 1:
        raise ValueError(f"a key works for at least 1 day, not {days}")
    key_id = key_id_given(key_id)
    store = Store.opened(settings)
    try:
        found = store.get_key(key_id)
        if found is None:
            raise KeyNotFound(f"no API key has id {key_id!r}: see `risk-engine keys list`")
        now = datetime.now(UTC)
        if days is None:  # as long as the old key was made for (None: no expiry), not the
            days = found.valid_days  # expiry its grace period set
        expires = None if days is None else now + timedelta(days=days)
        new_id, key = generate_key()
        made = KeyRecord(
            new_id,
            hash_key(key),
            found.role,
            found.name,
            now,
            expires_at=expires,
            replaces=found.key_id,
            valid_days=days,
        )
        # The checks and the change in one step that holds the old key: two admins rotating
        # one key at once both got a successor, and a rotation racing a revocation made one
        # for a key revoked for cause.
        done = store.replace_key(
            made, now=now, old_until=now + timedelta(hours=grace_hours) if grace_hours else None
        )
        old = done.before
        if old is None:
            raise KeyNotFound(f"no API key has id {key_id!r}: see `risk-engine keys list`")
        if not old.active:
            raise ValueError(
                f"API key {old.key_id} was revoked; make a new key with `risk-engine keys create`"
            )
        # A key in its grace period was rotated already: rotating it again left two live
        # successors (two admins answering one leak). Its successors are found however many
        # generations on, from the keys themselves (the audit trail, retention deletes).
        if done.live:
            raise ValueError(
                f"API key {old.key_id} was rotated already: its successor "
                f"{done.live[-1].key_id} works; rotate that one, or revoke it first"
            )
        assert done.after is not None
        after = done.after
        new = NewKey(
            key=key,
            key_id=new_id,
            role=Role.parse(old.role),
            name=old.name,
            created_at=now,
            expires_at=expires,
        )
        state = KeyInfo.of(after).state
        # a row under each key: the new one's making, and the old one's life that
        # `audit --key OLD` tells (made, used, rotated)
        for key_id, detail in (
            (
                new.key_id,
                f"key for {new.name}{_until(new.expires_at)} replaces {old.key_id}, "
                f"which is {state}",
            ),
            (old.key_id, f"key of {old.name} replaced by {new.key_id}: {state}"),
        ):
            store.record_audit(
                command_entry(_ROTATE, started=now, key_id=key_id, role=old.role, detail=detail)
            )
    finally:
        store.dispose()
    return new, KeyInfo.of(after)


def _until(expires_at: datetime | None) -> str:
    return f", works until {expires_at:%Y-%m-%d %H:%M} UTC" if expires_at else ", no expiry"
