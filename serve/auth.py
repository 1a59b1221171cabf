"""API keys and roles.

A key reads ``rk_<key id>_<secret>``: the key id is public (it names the key in lists and the audit
trail), the secret is 256 random bits. The store keeps only the SHA-256 of the whole key: a slow
password hash buys nothing for a random secret of that length. Roles are ordered, each one can do
what the ones below it can: officer (score, outcomes) < analyst (model information, reports) <
admin (reload).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum

from risk_engine.errors import RiskEngineError
from serve.errors import ApiError
from serve.store import KEY_NAME_MAX, KeyRecord, Store

__all__ = [
    "KEY_PREFIX",
    "Role",
    "Principal",
    "NewKey",
    "AuthError",
    "KeyNotFound",
    "generate_key",
    "hash_key",
    "key_id_of",
    "issue_key",
    "Authenticator",
]

KEY_PREFIX = "rk"
_ID_BYTES = 6  # 12 hex characters
_SECRET_BYTES = 32


class Role(IntEnum):
    """Ordered roles: a higher role may do everything a lower one may."""

    OFFICER = 1
    ANALYST = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            choices = ", ".join(role.label for role in cls)
            raise ValueError(f"role must be one of {choices}, not {text!r}") from None


@dataclass(frozen=True)
class Principal:
    """The caller of a request, once its key checked out."""

    key_id: str
    name: str
    role: Role


@dataclass(frozen=True)
class NewKey:
    """A key just issued: ``key`` is shown once and never stored."""

    key: str
    key_id: str
    role: Role
    name: str
    created_at: datetime
    expires_at: datetime | None = None


class AuthError(ApiError):
    """A request without a valid key (401) or with a role too low for the route (403)."""

    def __init__(self, status: int, code: str, message: str, *, key_id: str | None = None):
        headers = {"WWW-Authenticate": 'ApiKey header="X-API-Key"'} if status == 401 else None
        super().__init__(status, code, message, headers=headers)
        self.key_id = key_id


class KeyNotFound(RiskEngineError):
    """No API key has this id."""

    exit_code = 2


def generate_key() -> tuple[str, str]:
    """A fresh (key id, full key) pair."""
    key_id = secrets.token_hex(_ID_BYTES)
    return key_id, f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(_SECRET_BYTES)}"


API_KEY_HEADER = "X-API-Key"


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The key of ``X-API-Key``, or else of ``Authorization: Bearer KEY`` (as a Prometheus
    server sends the credentials of its scrape configuration); ``headers`` as Starlette reads
    them (any case)."""
    key = headers.get(API_KEY_HEADER)
    if key:
        return key
    scheme, _, credentials = (headers.get("authorization") or "").partition(" ")
    return credentials.strip() or None if scheme.lower() == "bearer" else None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_id_of(key: str) -> str | None:
    """The key id a presented key claims, or None when it is not shaped like a key."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[2]:
        return None
    key_id = parts[1]
    if len(key_id) != 2 * _ID_BYTES or any(c not in "0123456789abcdef" for c in key_id):
        return None
    return key_id


def issue_key(
    store: Store,
    *,
    role: Role,
    name: str,
    expires_at: datetime | None = None,
    valid_days: int | None = None,
    replaces: str | None = None,
) -> NewKey:
    """Create a key with a role and a human name (who holds it), valid until ``expires_at``
    (never, without one; made for ``valid_days``), rotated from ``replaces`` if it was; only
    its hash is stored."""
    name = name.strip()
    if not name:
        raise ValueError("a key needs a name saying who holds it")
    if len(name) > KEY_NAME_MAX:
        raise ValueError(
            f"a key holder's name has at most {KEY_NAME_MAX} characters, not {len(name)}: "
            f"{name[:40]!r}..."
        )
    if not name.isprintable():  # a line break split `keys list` and could fake a row in it
        raise ValueError(f"a key holder's name is one line of text, not {name!r}")
    created = datetime.now(UTC)
    if expires_at is not None and expires_at <= created:
        raise ValueError(f"a key must expire after it is made, not at {expires_at.isoformat()}")
    key_id, key = generate_key()
    store.add_key(
        KeyRecord(
            key_id,
            hash_key(key),
            role.label,
            name,
            created,
            expires_at=expires_at,
            replaces=replaces,
            valid_days=valid_days,
        )
    )
    return NewKey(
        key=key, key_id=key_id, role=role, name=name, created_at=created, expires_at=expires_at
    )


class Authenticator:
    """Checks presented keys against the store; every check reads the store, so a key revoked
    from the command line stops working on the next request."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def authenticate(self, presented: str | None) -> Principal:
        if not presented:
            raise AuthError(401, "missing_key", "this route needs an API key in X-API-Key")
        key_id = key_id_of(presented.strip())
        record = self._store.get_key(key_id) if key_id else None
        if record is None or not hmac.compare_digest(record.key_hash, hash_key(presented.strip())):
            raise AuthError(401, "invalid_key", "the API key is not valid", key_id=None)
        if not record.active:
            raise AuthError(401, "revoked_key", "the API key was revoked", key_id=record.key_id)
        if record.expired():
            assert record.expires_at is not None
            raise AuthError(
                401,
                "expired_key",
                f"the API key expired at {record.expires_at.isoformat()}: ask for a new one",
                key_id=record.key_id,
            )
        return Principal(key_id=record.key_id, name=record.name, role=Role.parse(record.role))

    def identify(self, presented: str) -> tuple[str, str] | None:
        """(key id, role) of a genuine key, revoked or expired as it may be; None for anything
        else. For the audit row of a request refused before its key was checked (no such route,
        a body over the limit): the key that made it is named, as for every other refusal."""
        key_id = key_id_of(presented.strip())
        record = self._store.get_key(key_id) if key_id else None
        if record is None or not hmac.compare_digest(record.key_hash, hash_key(presented.strip())):
            return None
        return record.key_id, record.role

    @staticmethod
    def authorise(principal: Principal, needed: Role) -> None:
        if principal.role < needed:
            raise AuthError(
                403,
                "forbidden",
                f"this route needs the {needed.label} role; the key has {principal.role.label}",
                key_id=principal.key_id,
            )
