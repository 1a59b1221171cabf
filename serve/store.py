"""The service's database: inspection outcomes, the audit trail and API keys (SQLAlchemy 2 Core).

SQLite under RISK_ENGINE_HOME by default (WAL journal, so the CLI can manage keys while the
server runs), any SQLAlchemy URL by setting: PostgreSQL through pg8000 (the ``postgres`` extra;
a plain ``postgresql://`` URL uses it when SQLAlchemy's default driver is not installed), and
the tests run the store on both. The app creates and migrates the schema at start:
`metadata.create_all` for new tables, then numbered steps recorded in ``schema_version``.
Timestamps are stored as naive UTC and come back tz-aware UTC on every backend.
"""

from __future__ import annotations

import contextlib
import errno
import importlib.util
import logging
import os
import random
import re
import shutil
import sqlite3
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: migrations that race are tried again instead
    fcntl = None  # type: ignore[assignment]

import pandas as pd
from sqlalchemy import (
    Column,
    DateTime,
    Dialect,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DatabaseError,
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql import Select
from sqlalchemy.types import TypeDecorator

from risk_engine.columns import OUTCOME_FIELDS, OUTCOME_KEY, Kind
from risk_engine.contract import RECEIPT_SLACK
from risk_engine.errors import ConfigError, OutputUnwritable, StoreUnavailable
from risk_engine.parsing import printable
from risk_engine.settings import Settings
from risk_engine.terminal import escape_controls
from risk_engine.validation import DQ_FLAGS
from serve.records import accepted_layout

__all__ = [
    "CONFLICT_RULE",
    "SCHEMA_VERSION",
    "AuditEntry",
    "KeyRecord",
    "KeyReplacement",
    "OutcomeWrite",
    "RECEIPT_SLACK",
    "Store",
    "read_only",
    "read_outcomes",
    "sqlite_file",
    "unreachable",
]

KEY_NAME_MAX = 128  # characters of a key holder's name (the api_keys.name column)

log = logging.getLogger(__name__)

SCHEMA_VERSION = 4
_MIGRATE_TRIES = 5
_MIGRATION_LOCK = 7_361_902_214  # the advisory lock id of schema changes (PostgreSQL)
_PURGE_LOCK = 7_361_902_215  # the advisory lock id of audit purges (PostgreSQL)
# Steps from version n to n + 1, run in order inside one transaction. create_all runs before
# them and makes any missing table with today's columns, so a step adds a column only to a table
# that lacks it (a version-1 store made its api_keys table, but never had an audit table).
_MIGRATIONS: dict[int, Callable[[Connection], None]] = {}


def _add_column(conn: Connection, table: str, column: str, kind: Any) -> None:
    if column not in {c["name"] for c in inspect(conn).get_columns(table)}:
        compiled = kind.compile(dialect=conn.dialect)
        conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {compiled}"))


def _add_key_expiry(conn: Connection) -> None:
    """Version 2: API keys may expire (``api_keys.expires_at``; keys made before never do)."""
    _add_column(conn, "api_keys", "expires_at", DateTime())


_MIGRATIONS[1] = _add_key_expiry


def _audit_named(conn: Connection) -> None:
    """Version 3: the B/L and container of each line a request named (``audit.named``), so the
    trail says who looked at a container; requests before the migration have none."""
    _add_column(conn, "audit", "named", Text())


_MIGRATIONS[2] = _audit_named

_ROTATED = re.compile(r"replaces ([0-9a-f]{12}),")  # a rotation's audit detail before version 4


def _key_lineage(conn: Connection) -> None:
    """Version 4: a key names the key it replaced (``api_keys.replaces``) and the days it was
    made to work for (``api_keys.valid_days``), so rotation finds a key's successors, however
    many generations on, and keeps its lifetime: it read both from the audit trail, which
    retention deletes, and from an expiry a grace period had overwritten. The keys made
    before are read once, here: their making's audit row ("works until ...", "no expiry"),
    else their expiry; a rotation's row names the key it replaced."""
    _add_column(conn, "api_keys", "replaces", String(64))
    _add_column(conn, "api_keys", "valid_days", Integer())
    made_as: dict[str, str] = {}  # key id -> the detail of the row that made it
    replaced: dict[str, str] = {}  # key id -> the key it replaced
    if "audit" in inspect(conn).get_table_names():
        rows = conn.execute(
            select(audit.c.key_id, audit.c.route, audit.c.detail)
            .where(audit.c.route.in_(["risk-engine keys create", "risk-engine keys rotate"]))
            .order_by(audit.c.id)
        ).all()
        for key_id, route, detail in rows:
            if not key_id:
                continue
            found = _ROTATED.search(detail or "")
            if route == "risk-engine keys create" or found:  # the row that made the key (a
                made_as[key_id] = detail or ""  # rotation's row under the old key did not)
            if route == "risk-engine keys rotate" and found:
                replaced[key_id] = found.group(1)
    keys = conn.execute(
        select(api_keys.c.key_id, api_keys.c.created_at, api_keys.c.expires_at)
    ).all()
    for key_id, created_at, expires_at in keys:
        days = _days_made_for(made_as.get(key_id, ""), created_at, expires_at)
        values: dict[str, Any] = {"valid_days": days}
        if key_id in replaced:
            values["replaces"] = replaced[key_id]
        conn.execute(update(api_keys).where(api_keys.c.key_id == key_id).values(**values))


_MADE_UNTIL = re.compile(r"works until (\d{4}-\d{2}-\d{2} \d{2}:\d{2}) UTC")


def _days_made_for(made: str, created_at: datetime, expires_at: datetime | None) -> int | None:
    """The days a key made before version 4 was made for: as its making's audit row says,
    else from its expiry (which a grace period may have cut: the row, when kept, wins)."""
    until = _MADE_UNTIL.search(made)
    if until is not None:
        end = datetime.strptime(until.group(1), "%Y-%m-%d %H:%M")
        return max(1, round((end - created_at.replace(tzinfo=None)).total_seconds() / 86_400))
    if "no expiry" in made or expires_at is None:
        return None
    return max(1, round((expires_at - created_at).total_seconds() / 86_400))


_MIGRATIONS[3] = _key_lineage


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; stored as naive UTC everywhere."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _outcome_column(name: str, kind: Kind) -> Column[Any]:
    required = name in OUTCOME_KEY or name in {"selection_reason", "result", "recorded_at"}
    if kind is Kind.TIMESTAMP:
        return Column(name, UTCDateTime(), nullable=not required)
    if kind in (Kind.PROBABILITY, Kind.POSITIVE, Kind.NON_NEGATIVE):
        return Column(name, Float(), nullable=not required)
    if kind in (Kind.CODE, Kind.CONTAINER, Kind.ENUM):
        return Column(name, String(64), nullable=not required)
    return Column(name, Text(), nullable=not required)


metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("applied_at", UTCDateTime(), nullable=False),
)

outcomes = Table(
    "outcomes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    *(_outcome_column(spec.name, spec.kind) for spec in OUTCOME_FIELDS),
    Column(DQ_FLAGS, Text(), nullable=True),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("received_by", String(64), nullable=True),
    UniqueConstraint(*OUTCOME_KEY, name="uq_outcome_key"),
)

audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(32), nullable=False, index=True),
    Column("at", UTCDateTime(), nullable=False, index=True),
    Column("key_id", String(64), nullable=True),
    Column("role", String(16), nullable=True),
    Column("method", String(16), nullable=False),
    Column("route", String(256), nullable=False),
    Column("status", Integer, nullable=False),
    Column("lines", Integer, nullable=True),
    Column("model_version", String(64), nullable=True),
    Column("duration_ms", Float(), nullable=False),
    Column("detail", String(256), nullable=True),
    Column("client", String(64), nullable=True),
    # The lines the request named, ";BL|CONTAINER;BL|CONTAINER;" (schema version 3): one text
    # on the request's own row, as an index per line cost a scoring request a few ms.
    Column("named", Text(), nullable=True),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(64), primary_key=True),
    Column("key_hash", String(128), nullable=False),
    Column("role", String(16), nullable=False),
    Column("name", String(KEY_NAME_MAX), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime(), nullable=True),
    Column("expires_at", UTCDateTime(), nullable=True),  # schema version 2
    Column("replaces", String(64), nullable=True),  # the key it was rotated from (version 4)
    Column("valid_days", Integer, nullable=True),  # days it was made for, none: no expiry (4)
)

_CONTRACT_COLUMNS = [spec.name for spec in OUTCOME_FIELDS]
# Statements of every request's path, built once.
_GET_KEY = select(api_keys).where(api_keys.c.key_id == bindparam("key_id"))
_INSERT_AUDIT = insert(audit)
_AUDIT_COLUMNS = (
    "request_id",
    "at",
    "key_id",
    "role",
    "method",
    "status",
    "lines",
    "model_version",
    "duration_ms",
    "client",
)


@dataclass(frozen=True)
class KeyRecord:
    """One API key as stored: never the key itself, only its hash."""

    key_id: str
    key_hash: str
    role: str
    name: str
    created_at: datetime
    revoked_at: datetime | None = None
    expires_at: datetime | None = None
    replaces: str | None = None
    valid_days: int | None = None

    @property
    def active(self) -> bool:
        """Not revoked (whether it has expired is `expired`)."""
        return self.revoked_at is None

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or _now())


@dataclass(frozen=True)
class AuditEntry:
    """One request: who, when, which route, how many lines, which model, what status."""

    request_id: str
    at: datetime
    method: str
    route: str
    status: int
    duration_ms: float
    key_id: str | None = None
    role: str | None = None
    lines: int | None = None
    model_version: str | None = None
    detail: str | None = None
    client: str | None = None
    # The (B/L, container) of each line the request named, as sent (score and outcomes).
    named: tuple[tuple[str | None, str | None], ...] = ()


@dataclass(frozen=True)
class KeyReplacement:
    """What `Store.replace_key` found and did: the old key as the rotation found it (None:
    there is no such key), its successors that still worked (then nothing was changed), and
    the old key after the change (None: nothing was changed)."""

    before: KeyRecord | None
    live: tuple[KeyRecord, ...] = ()
    after: KeyRecord | None = None


def _key_values(record: KeyRecord) -> dict[str, Any]:
    return asdict(record)


def _successors(conn: Connection, key_id: str) -> list[KeyRecord]:
    """The keys rotated from ``key_id``, and from those, every generation on, oldest first."""
    found: list[KeyRecord] = []
    wanted = [key_id]
    while wanted:
        rows = conn.execute(
            select(api_keys).where(api_keys.c.replaces.in_(wanted)).order_by(api_keys.c.created_at)
        ).all()
        made = [KeyRecord(**row._mapping) for row in rows]
        made = [record for record in made if record not in found]  # no loop, ever
        found.extend(made)
        wanted = [record.key_id for record in made]
    return found


# The rule named for an outcome whose key is stored with other values (the stored one stays).
CONFLICT_RULE = "stored_with_other_values"


@dataclass(frozen=True)
class OutcomeWrite:
    """What happened to one outcome: ``recorded`` (new), ``duplicate`` (the same record was
    already stored), ``conflict`` (the key is stored with other values; the stored one stays) or
    ``rejected`` (its ``recorded_at`` is later than the store received it, beyond
    `RECEIPT_SLACK`: a wrong date, which would keep the label out of every training)."""

    status: str
    key: tuple[Any, ...]
    # for a conflict, the fields whose values differ from the stored outcome's
    differs: tuple[str, ...] = ()


def _after_receipt(recorded_at: Any, received_at: datetime) -> bool:
    """Whether ``recorded_at`` is later than an outcome received at ``received_at`` can be."""
    if not isinstance(recorded_at, datetime):
        return False
    when: datetime = recorded_at
    if when.tzinfo is None:  # the contract's timestamps are UTC
        when = when.replace(tzinfo=UTC)
    return when > received_at + RECEIPT_SLACK


_BUSY_TIMEOUT_MS = 30_000  # how long a SQLite statement waits for another writer's lock
# A purge's checkpoint of the write-ahead log (`Store.truncate_log`): tries, each waiting this
# long for readers and writers (every writer waits meanwhile), with a pause between.
_CHECKPOINT_TRIES = 5
_CHECKPOINT_WAIT_S = 0.25
_CHECKPOINT_PAUSE_S = 1.0


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        _wal(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # a deleted row is overwritten, not left in the file's free pages: an audit purge
        # left the B/Ls and containers it deleted readable there, and in every later backup
        cursor.execute("PRAGMA secure_delete=ON")
    finally:
        cursor.close()


def _wal(cursor: Any, *, tries: int = 100) -> None:
    """Switch a new database to the WAL journal. Connections opening a new file at once (servers
    starting together) can find it locked without waiting the busy timeout: try again."""
    for attempt in range(tries):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == tries - 1:
                raise
            time.sleep(0.02)


# The driver a URL without one gets when SQLAlchemy's default for it is not installed: the one
# the engine's ``postgres`` extra brings (pure Python, BSD licence).
_FALLBACK_DRIVERS = {"postgresql": "pg8000"}
_PG8000_TIMEOUT_S = 30


def _server_engine(url: URL) -> Engine:
    """A database server's engine; pg8000 gets a socket timeout, as it waits for ever by
    default on a host that does not answer, and the URL's ``sslmode`` (libpq's word, which
    pg8000 does not know: a traceback) as the TLS context it stands for (`_tls`)."""
    connect_args: dict[str, Any] = {}
    if url.get_driver_name() == "pg8000":
        connect_args["timeout"] = _PG8000_TIMEOUT_S
        mode = url.query.get("sslmode")
        if mode is not None:
            context = _tls(url, str(mode))
            if context is not None:
                connect_args["ssl_context"] = context
            url = url.difference_update_query(["sslmode", "sslrootcert"])
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args, hide_parameters=True)


# libpq's sslmode values, as pg8000's ssl_context: False (no TLS) or a context that checks the
# server's certificate (and its name) as far as the mode asks
_SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


def _tls(url: URL, mode: str) -> ssl.SSLContext | bool | None:
    """The TLS context of a libpq ``sslmode`` (with ``sslrootcert``, the CA file to trust):
    pg8000 otherwise tries TLS without checking who answers. ``allow`` and ``prefer`` are
    pg8000's own way (None): TLS when the server offers it, plain otherwise."""
    if mode not in _SSL_MODES:
        raise ConfigError(
            f"the database URL's sslmode={mode!r} is none of {', '.join(_SSL_MODES)}"
        )
    if mode == "disable":
        return False
    if mode in ("allow", "prefer"):
        return None
    root = url.query.get("sslrootcert")
    try:
        context = ssl.create_default_context(cafile=str(root) if root else None)
    except (OSError, ssl.SSLError) as error:  # a traceback, exit 1
        raise ConfigError(
            f"the database URL's sslrootcert={root!r} cannot be read as CA certificates: "
            f"{getattr(error, 'strerror', None) or error}"
        ) from None
    if mode == "require":  # encrypted, the server's identity unchecked
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif mode == "verify-ca":
        context.check_hostname = False
    return context


def sqlite_file(url: URL) -> str | None:
    """The file of a SQLite database kept in one; None for any other database."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    return None if database in ("", ":memory:") or database.startswith("file:") else database


# SQLSTATE classes of a database that cannot be used now, whatever the statement: connection
# exceptions (08), authorisation (28: a wrong password), no such database (3D), insufficient
# resources (53: too many connections), operator intervention (57: shutting down, starting up).
# pg8000 raises the server's refusals at connection time as ProgrammingError, not as the
# OperationalError SQLAlchemy gives for a refused connection.
# Attempts at recording a batch of outcomes while other writers store the same ones.
_OUTCOME_TRIES = 8
_UNREACHABLE_CLASSES = frozenset({"08", "28", "3D", "53", "57"})
# Transaction rollbacks another writer caused: a deadlock (40P01), a serialization failure (40001).
_CONCURRENT_STATES = frozenset({"40P01", "40001"})


def _sqlstate(error: DBAPIError) -> str | None:
    """The SQLSTATE of a driver's error: psycopg's ``sqlstate`` or ``pgcode``, pg8000's first
    argument (the server's error fields, code under "C")."""
    cause = error.orig
    for name in ("sqlstate", "pgcode"):
        code = getattr(cause, name, None)
        if isinstance(code, str):
            return code
    args = getattr(cause, "args", ())
    if args and isinstance(args[0], dict) and isinstance(args[0].get("C"), str):
        return str(args[0]["C"])
    return None


def unreachable(error: BaseException) -> bool:
    """Whether a database error says the database cannot be used now (down, starting, refusing
    the password, out of connections, locked, its disk full), not that a statement was wrong:
    SQLite's "no such table" is an OperationalError too, and a 503 to retry would hide it."""
    if isinstance(error, InterfaceError):  # the driver reached no server
        return True
    if not isinstance(error, DBAPIError):
        return False
    cause = error.orig
    if isinstance(cause, sqlite3.Error):
        code = getattr(cause, "sqlite_errorcode", None)
        return code is not None and code & 0xFF in _SQLITE_UNAVAILABLE
    state = _sqlstate(error)
    if state is not None:
        return state[:2] in _UNREACHABLE_CLASSES
    return isinstance(error, OperationalError)  # no answer from a server to classify


# SQLite's primary result codes of a file that cannot be used now: PERM, BUSY, LOCKED,
# READONLY, IOERR, CORRUPT, FULL, CANTOPEN, NOTADB.
_SQLITE_UNAVAILABLE = frozenset({3, 5, 6, 8, 10, 11, 13, 14, 26})


def _problem(error: DBAPIError) -> str:
    """A driver's error as one line: pg8000's message field rather than the fields' dict."""
    cause = error.orig if error.orig is not None else error
    args = getattr(cause, "args", ())
    if args and isinstance(args[0], dict) and args[0].get("M"):
        state = _sqlstate(error)
        return f"{args[0]['M']}" + (f" (SQLSTATE {state})" if state else "")
    text = str(cause).strip()
    return text.splitlines()[0] if text else type(cause).__name__


def _make_engine(url: str) -> Engine:
    scheme, _, rest = url.partition("://")
    if not scheme.startswith("sqlite") and rest.split("?", 1)[0].count("@") > 1:
        # a user name or password with an "@": the URL splits at one of them, and the
        # password's tail was read as the host or the database, printed in every message
        # naming the database (or quoted by a ValueError)
        raise ConfigError(
            "the database URL holds more than one '@': a user name or password with an '@' "
            "(or ':', '/', '%') is written percent-encoded in a URL, '@' as %40"
        )
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # the text is not repeated: it may hold a password
        raise ConfigError(
            "the database URL is not an SQLAlchemy URL such as "
            "postgresql+pg8000://user:password@host:5432/database"
        ) from None
    if parsed.get_backend_name() != "sqlite":
        try:
            return _server_engine(parsed)
        except ModuleNotFoundError as error:
            fallback = _FALLBACK_DRIVERS.get(parsed.drivername)
            if fallback and importlib.util.find_spec(fallback) is not None:
                return _server_engine(parsed.set(drivername=f"{parsed.drivername}+{fallback}"))
            raise StoreUnavailable(
                parsed.render_as_string(hide_password=True),
                f"its driver is not installed (no module {error.name!r}); for PostgreSQL "
                "install the engine's postgres extra (pip install 'maritime-risk-engine[postgres]') "
                "and use postgresql+pg8000://",
            ) from None
    database = sqlite_file(parsed)
    if database is None:  # in memory
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False},
            poolclass=StaticPool,
            hide_parameters=True,
        )
    else:
        try:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:  # a file on the way, a read-only mount: named, not a traceback
            raise StoreUnavailable(
                parsed.render_as_string(hide_password=True),
                f"its folder cannot be made ({error.strerror or error})",
            ) from None
        # A failed statement is logged without its values: they hold the lines a request named.
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
        )
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class Store:
    """Outcomes, audit rows and API keys in one database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _make_engine(url)

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        """The configured store; the default SQLite file lives under home."""
        if not settings.database_url:
            settings.ensure_home()
        return cls(settings.store_url)

    @classmethod
    def opened(cls, settings: Settings, *, existing: bool = False) -> Store:
        """The configured store with its schema made or migrated (for the commands that use
        it: keys can be made, and the trail read, before the server ever ran). With
        ``existing``, a SQLite store that is not there yet is `StoreUnavailable` rather than
        made (a backup of a misspelt home copied a new, empty store, and said so as success)."""
        if existing:
            parsed = make_url(settings.store_url)
            database = sqlite_file(parsed)
            if database is not None and not Path(database).is_file():
                raise StoreUnavailable(
                    parsed.render_as_string(hide_password=True),
                    "there is no store there: check RISK_ENGINE_HOME (or "
                    "RISK_ENGINE_DATABASE_URL); nothing was made",
                )
        store = cls.from_settings(settings)
        store.migrate()
        return store

    def dispose(self) -> None:
        self.engine.dispose()

    @property
    def is_sqlite(self) -> bool:
        """A SQLite file store (the default), which keeps a write-ahead log beside it."""
        return sqlite_file(self.engine.url) is not None

    @property
    def shown_url(self) -> str:
        """The database URL without its password, for messages and logs."""
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def _reached(self) -> Iterator[None]:
        """Turns "cannot connect or open" into `StoreUnavailable`, naming the database."""
        try:
            yield
        except DBAPIError as error:
            if isinstance(error, DatabaseError):
                self._damaged(error)  # a file that is no database, or a damaged one: told so
            # a command opening the store: any OperationalError says it cannot (as it did)
            if not (isinstance(error, OperationalError) or unreachable(error)):
                raise
            raise StoreUnavailable(self.shown_url, _problem(error)) from error
        except sqlite3.DatabaseError as error:
            self._damaged(error)
            raise

    def _damaged(self, error: DatabaseError | sqlite3.DatabaseError) -> None:
        """ "file is not a database", "database disk image is malformed" as `StoreUnavailable`:
        exactly SQLite's DatabaseError (its subclasses, a conflict say, are the caller's)."""
        cause = error.orig if isinstance(error, DatabaseError) else error
        if type(cause) is sqlite3.DatabaseError:
            raise StoreUnavailable(
                self.shown_url,
                f"{cause}: not a SQLite database, or a damaged one; restore it from a backup "
                "(`risk-engine backup`) or set RISK_ENGINE_DATABASE_URL",
            ) from error

    # schema -------------------------------------------------------------------------------

    def migrate(self) -> int:
        """Create missing tables and run pending steps; returns the schema version.

        Several servers may start at once on a new database. On PostgreSQL they take turns (a
        transaction-scoped advisory lock), on a SQLite file too (a lock file); on any other
        database the one that loses a race to create a table or the version row tries again and
        finds the schema made."""
        with self._reached(), self.engine.connect():
            pass  # unreachable: StoreUnavailable now, not after the retries
        for attempt in range(_MIGRATE_TRIES - 1):
            try:
                return self._migrate_once()
            except DBAPIError as error:
                log.info(
                    "store schema made by another process meanwhile (%s); again",
                    type(error).__name__,
                )
                time.sleep(0.05 * (attempt + 1))
        with self._reached():
            return self._migrate_once()

    @contextmanager
    def _sqlite_migration_lock(self) -> Iterator[None]:
        """One process at a time migrates a SQLite file (a lock file beside it): two
        connections that both read and then write can refuse each other at once, whatever the
        busy timeout."""
        database = sqlite_file(self.engine.url)
        if database is None or fcntl is None:
            yield
            return
        with open(f"{database}.migrate-lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextmanager
    def purge_lock(self) -> Iterator[None]:
        """One audit purge at a time on this store; a second waits until the first is done,
        and then finds only the rows left: two at once both archived the same rows, and the
        second said it had archived nothing though it had written an archive. A lock file
        beside a SQLite file (``engine.db.purge-lock``), an advisory lock on PostgreSQL."""
        database = sqlite_file(self.engine.url)
        if database is not None and fcntl is not None:
            path = f"{database}.purge-lock"
            try:
                handle = open(path, "a")  # closed below, once the purge is done
            except OSError as error:
                raise StoreUnavailable(
                    self.shown_url, f"its purge lock {path} cannot be opened ({error.strerror})"
                ) from None
            with handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    log.warning("another audit purge of %s is running: waiting for it", database)
                    fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
            return
        if self.engine.dialect.name != "postgresql":
            yield
            return
        with self.engine.connect() as conn:
            with self._reached():
                # tried again rather than waited for: pg8000 gives up on a statement that
                # waits longer than its socket timeout
                told = False
                while not conn.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": _PURGE_LOCK}
                ).scalar():
                    conn.rollback()
                    if not told:
                        log.warning(
                            "another audit purge of %s is running: waiting for it", self.shown_url
                        )
                        told = True
                    time.sleep(0.5)
                conn.commit()  # the lock is the session's: it outlives the transaction
            try:
                yield
            finally:
                with contextlib.suppress(DBAPIError):  # a lost connection let it go already
                    conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PURGE_LOCK})
                    conn.commit()

    def _migrate_once(self) -> int:
        with self._sqlite_migration_lock(), self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            metadata.create_all(conn)
            current = conn.execute(select(func.max(schema_version.c.version))).scalar()
            if current is None:
                conn.execute(
                    insert(schema_version).values(version=SCHEMA_VERSION, applied_at=_now())
                )
                log.info("created store schema version %d", SCHEMA_VERSION)
                return SCHEMA_VERSION
            if current > SCHEMA_VERSION:
                raise ConfigError(
                    f"database {self.shown_url} has schema "
                    f"version {current}, newer than this engine's {SCHEMA_VERSION}: upgrade the engine"
                )
            for version in range(current, SCHEMA_VERSION):
                _MIGRATIONS[version](conn)
                conn.execute(insert(schema_version).values(version=version + 1, applied_at=_now()))
                log.info("migrated store schema to version %d", version + 1)
            return SCHEMA_VERSION

    def row_counts(self) -> dict[str, int]:
        """Rows of each table of the store (what a backup is checked against)."""
        with self._reached(), self.engine.connect() as conn:
            return {
                table.name: int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)
                for table in (outcomes, audit, api_keys)
            }

    def backup_to(self, target: Path) -> Path:
        """A consistent copy of a SQLite store at ``target``, taken with SQLite's online backup
        while the service may keep writing; written beside the target and renamed into place, so
        a failed backup leaves no partial file. Another database has its own tools (pg_dump)."""
        database = sqlite_file(self.engine.url)
        if database is None:
            raise ConfigError(
                f"database {self.shown_url} is not a SQLite file: back it up with its own "
                "tools (pg_dump for PostgreSQL)"
            )
        target = Path(target)
        if target.is_dir():
            raise ConfigError(
                f"{target} is a folder: name the backup file, e.g. {target}/engine.db"
            )
        if target.exists():
            raise ConfigError(f"{target} exists: a backup never overwrites a file")
        # one partial file per run (two backups to one name at once shared it: one failed with
        # "attempt to write a readonly database"), put in place without overwriting
        partial = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.partial")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            source = sqlite3.connect(database)
            try:
                copy = sqlite3.connect(partial)
                try:
                    source.backup(copy)
                    # One self-contained file: the copy is not left in WAL mode.
                    copy.execute("PRAGMA journal_mode=DELETE")
                finally:
                    copy.close()
            finally:
                source.close()
            _put_in_place(partial, target)
        except FileExistsError:
            raise ConfigError(f"{target} exists: a backup never overwrites a file") from None
        except (OSError, sqlite3.Error) as error:
            raise OutputUnwritable(str(target), _backup_failure(error, database, target)) from error
        finally:
            # its journal, write-ahead log and shared memory too (a copy of a store in WAL mode
            # starts in it: a full disk left a pair of them per nightly run); and on a folder
            # that cannot be written, an unlink that fails masked the clear error with a
            # traceback (Read-only file system)
            for suffix in ("", "-journal", "-wal", "-shm"):
                left = partial.with_name(partial.name + suffix)
                with contextlib.suppress(OSError):
                    left.unlink(missing_ok=True)
        return target

    def schema_version(self) -> int | None:
        if not inspect(self.engine).has_table("schema_version"):
            return None
        with self.engine.connect() as conn:
            found = conn.execute(select(func.max(schema_version.c.version))).scalar()
        return None if found is None else int(found)

    # API keys -----------------------------------------------------------------------------

    def add_key(self, record: KeyRecord) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(api_keys).values(**_key_values(record)))

    def get_key(self, key_id: str) -> KeyRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(_GET_KEY, {"key_id": key_id}).first()
        return None if row is None else KeyRecord(**row._mapping)

    def list_keys(self) -> list[KeyRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(api_keys).order_by(api_keys.c.created_at)).all()
        return [KeyRecord(**row._mapping) for row in rows]

    def revoke_key(self, key_id: str, *, at: datetime | None = None) -> KeyRecord | None:
        """Mark a key revoked (it stays listed); None when there is no such key."""
        with self.engine.begin() as conn:
            conn.execute(
                update(api_keys)
                .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=at or _now())
            )
        return self.get_key(key_id)

    def successors(self, key_id: str) -> list[KeyRecord]:
        """The keys rotated from ``key_id``, and from those, every generation on, oldest
        first."""
        with self.engine.connect() as conn:
            return _successors(conn, key_id)

    def replace_key(
        self, new: KeyRecord, *, now: datetime, old_until: datetime | None = None
    ) -> KeyReplacement:
        """Store ``new`` in place of the key it replaces (``new.replaces``), which is revoked
        at ``now``, or with ``old_until`` stops working then, unless that key is missing,
        revoked, or has a successor (any generation on) that still works: then nothing is
        changed, and the result says which. The look and the change are one transaction that
        holds the old key's row from the start, so a rotation or a revocation of the same key
        at the same moment waits for it and then sees what it did: two admins rotating one
        key at once both succeeded, leaving two working successors, and a rotation racing a
        revocation issued a successor for a key revoked for cause."""
        if new.replaces is None:
            raise ValueError("a replacement key names the key it replaces")
        old_id = new.replaces
        with self.engine.begin() as conn:
            # A write first: the row's lock on PostgreSQL, SQLite's write lock (a read first
            # would share the database, and both rotations would read before either wrote).
            conn.execute(
                update(api_keys).where(api_keys.c.key_id == old_id).values(key_id=api_keys.c.key_id)
            )
            row = conn.execute(_GET_KEY, {"key_id": old_id}).first()
            if row is None:
                return KeyReplacement(None)
            before = KeyRecord(**row._mapping)
            if not before.active:
                return KeyReplacement(before)
            live = [k for k in _successors(conn, old_id) if k.active and not k.expired(now)]
            if live:
                return KeyReplacement(before, live=tuple(live))
            conn.execute(insert(api_keys).values(**_key_values(new)))
            if old_until is None:
                conn.execute(
                    update(api_keys).where(api_keys.c.key_id == old_id).values(revoked_at=now)
                )
            else:
                conn.execute(
                    update(api_keys)
                    .where(
                        api_keys.c.key_id == old_id,
                        (api_keys.c.expires_at.is_(None)) | (api_keys.c.expires_at > old_until),
                    )
                    .values(expires_at=old_until)
                )
            after = conn.execute(_GET_KEY, {"key_id": old_id}).one()
        return KeyReplacement(before, after=KeyRecord(**after._mapping))

    def expire_key(self, key_id: str, at: datetime) -> KeyRecord | None:
        """Make a key that is not revoked stop working at ``at`` (or at its own expiry, when
        that is sooner); None when there is no such key."""
        with self.engine.begin() as conn:
            conn.execute(
                update(api_keys)
                .where(
                    api_keys.c.key_id == key_id,
                    api_keys.c.revoked_at.is_(None),
                    (api_keys.c.expires_at.is_(None)) | (api_keys.c.expires_at > at),
                )
                .values(expires_at=at)
            )
        return self.get_key(key_id)

    # outcomes -----------------------------------------------------------------------------

    def record_outcomes(
        self, records: Sequence[Mapping[str, Any]], *, received_by: str | None = None
    ) -> list[OutcomeWrite]:
        """Store normalised outcomes, idempotent by (bl_number, container_number, inspected_at).

        One transaction; if another writer stores the same key meanwhile, the whole batch is
        judged again against what is then stored. New rows are written in key order, so two
        writers of the same outcomes wait for each other rather than deadlock (they deadlocked
        on PostgreSQL when their files listed them in other orders). When other writers keep
        storing the same keys through every attempt, `StoreUnavailable`: retry later.
        """
        for attempt in range(_OUTCOME_TRIES):
            try:
                return self._record_outcomes(records, received_by)
            except DBAPIError as error:
                concurrent = isinstance(error, IntegrityError) or (
                    _sqlstate(error) in _CONCURRENT_STATES
                )
                if not concurrent:
                    raise
                if attempt == _OUTCOME_TRIES - 1:
                    raise StoreUnavailable(
                        self.shown_url,
                        f"other writers stored the same outcomes through {_OUTCOME_TRIES} "
                        "attempts; send them again (recording is idempotent)",
                    ) from error
                log.info("concurrent outcome write (%s); judging the batch again", _problem(error))
                time.sleep(random.uniform(0.005, 0.05) * (attempt + 1))
        raise AssertionError("unreachable")

    def _record_outcomes(
        self, records: Sequence[Mapping[str, Any]], received_by: str | None
    ) -> list[OutcomeWrite]:
        received_at = _now()
        results: list[OutcomeWrite] = []
        with self.engine.begin() as conn:
            stored = self._stored_outcomes(conn, {r["bl_number"] for r in records})
            new_rows: list[dict[str, Any]] = []
            for record in records:
                values = {name: record.get(name) for name in _CONTRACT_COLUMNS}
                values[DQ_FLAGS] = record.get(DQ_FLAGS)
                key = _outcome_key(values)
                if _after_receipt(values.get("recorded_at"), received_at):
                    results.append(OutcomeWrite("rejected", key))
                    continue
                if key in stored:
                    differs = _differing(stored[key], values)
                    status = "conflict" if differs else "duplicate"
                    results.append(OutcomeWrite(status, key, differs))
                    continue
                stored[key] = values
                new_rows.append({**values, "received_at": received_at, "received_by": received_by})
                results.append(OutcomeWrite("recorded", key))
            if new_rows:
                new_rows.sort(key=_write_order)
                conn.execute(insert(outcomes), new_rows)
        return results

    @staticmethod
    def _stored_outcomes(
        conn: Connection, bl_numbers: Iterable[str]
    ) -> dict[tuple[Any, ...], dict[str, Any]]:
        found: dict[tuple[Any, ...], dict[str, Any]] = {}
        wanted = sorted(bl_numbers)
        columns = [outcomes.c[name] for name in _CONTRACT_COLUMNS]
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = conn.execute(select(*columns).where(outcomes.c.bl_number.in_(chunk))).all()
            for row in rows:
                values = dict(row._mapping)
                found[_outcome_key(values)] = values
        return found

    def outcome_count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(outcomes)).scalar() or 0)

    def outcomes_frame(self) -> pd.DataFrame:
        """Stored outcomes in the layout of a validated outcomes file (contract columns,
        normalised dtypes, ``dq_flags``), so training reads the store and files alike."""
        with self._reached(), self.engine.connect() as conn:
            if not inspect(conn).has_table("outcomes"):
                rows: list[dict[str, Any]] = []
            else:
                columns = [outcomes.c[name] for name in _CONTRACT_COLUMNS]
                query = select(*columns, outcomes.c[DQ_FLAGS]).order_by(outcomes.c.id)
                rows = [dict(row._mapping) for row in conn.execute(query)]
        return _outcomes_layout(rows)

    # audit --------------------------------------------------------------------------------

    def record_audit(self, entry: AuditEntry, *, wait_s: float | None = None) -> None:
        """One short transaction per request (on every request's path: the statement is built
        once, with bound parameters, instead of compiling ``.values(...)`` each time). With
        ``wait_s`` (the readiness probe's row), the write waits at most that long for a
        database another process holds locked, then fails, rather than the busy timeout's 30 s:
        a load balancer's check timed out while a purge or a backup held the file."""
        values = _audit_values(entry)
        if wait_s is None:
            with self.engine.begin() as conn:
                conn.execute(_INSERT_AUDIT, values)
            return
        with self._waiting_at_most(wait_s) as conn, conn.begin():
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SET LOCAL statement_timeout = {max(1, int(wait_s * 1000))}")
            conn.execute(_INSERT_AUDIT, values)

    @contextmanager
    def _waiting_at_most(self, wait_s: float) -> Iterator[Connection]:
        """A connection whose statements wait at most ``wait_s`` for SQLite's locks (its busy
        timeout, set back to the usual 30 s before the connection goes back to the pool)."""
        with self.engine.connect() as conn:
            if conn.dialect.name != "sqlite":
                yield conn
                return
            conn.exec_driver_sql(f"PRAGMA busy_timeout={max(1, int(wait_s * 1000))}")
            conn.commit()  # SQLAlchemy began a transaction with the pragma: the caller's own
            try:
                yield conn
            finally:
                try:
                    conn.exec_driver_sql(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
                except DBAPIError:  # never back in the pool with the short wait
                    conn.invalidate()

    def audit_entries(
        self,
        *,
        limit: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        key_id: str | None = None,
        container: str | None = None,
        bl_number: str | None = None,
    ) -> list[AuditEntry]:
        """Audit rows, oldest first (the last ``limit`` when given), of requests at or after
        ``since`` and before ``until``, made with ``key_id`` when given, and naming ``container``
        or ``bl_number`` when given (who looked at it)."""
        query = _audit_filter(select(audit), since, until, key_id, container, bl_number)
        query = query.order_by(audit.c.id.desc())
        if limit is not None:
            query = query.limit(limit)
        with self._reached(), self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [_audit_entry(row._mapping) for row in reversed(rows)]

    def audit_chunks(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        key_id: str | None = None,
        container: str | None = None,
        bl_number: str | None = None,
        chunk_rows: int = 50_000,
        through_id: int | None = None,
    ) -> Iterator[list[AuditEntry]]:
        """The same rows as `audit_entries`, oldest first, ``chunk_rows`` at a time, so an export
        of a long trail never holds it all (each chunk starts after the last row's id); with
        ``through_id``, none after that row."""
        last = 0
        while True:
            query = _audit_filter(select(audit), since, until, key_id, container, bl_number)
            query = query.where(audit.c.id > last)
            if through_id is not None:
                query = query.where(audit.c.id <= through_id)
            query = query.order_by(audit.c.id).limit(chunk_rows)
            with self._reached(), self.engine.connect() as conn:
                rows = conn.execute(query).all()
            if not rows:
                return
            last = int(rows[-1]._mapping["id"])
            yield [_audit_entry(row._mapping) for row in rows]

    def audit_last_id(self, *, until: datetime) -> int | None:
        """The id of the newest audit row of a request before ``until`` (None: there is none)."""
        query = select(func.max(audit.c.id)).where(audit.c.at < until)
        with self._reached(), self.engine.connect() as conn:
            found = conn.execute(query).scalar()
        return None if found is None else int(found)

    def delete_audit(
        self,
        *,
        until: datetime,
        through_id: int,
        note: Callable[[int], AuditEntry] | None = None,
    ) -> int:
        """Delete the audit rows of requests before ``until`` whose id is at most
        ``through_id`` (what an archive written just before holds); returns how many. The
        rows stay readable in a SQLite store's write-ahead log until `truncate_log`.

        ``note`` (given the number deleted) is the deletion's own row, written in the same
        transaction, so no deletion goes unrecorded, and written first: its id is above every
        row's and it stays, so the table is never left empty. SQLite gives a new row the
        largest id + 1 (the table has no AUTOINCREMENT), and after a purge that emptied it,
        new rows took the ids of the purged ones again."""
        statement = delete(audit).where(audit.c.at < until, audit.c.id <= through_id)
        with self._reached(), self.engine.begin() as conn:
            if note is None:
                return int(conn.execute(statement).rowcount)
            noted = conn.execute(_INSERT_AUDIT, _audit_values(note(0))).inserted_primary_key
            assert noted is not None
            deleted = int(conn.execute(statement).rowcount)
            told = _audit_values(note(deleted))
            conn.execute(
                update(audit)
                .where(audit.c.id == noted[0])
                .values(lines=told["lines"], detail=told["detail"])
            )
        return deleted

    def checkpoint_log(self) -> bool:
        """Copy what a SQLite store's write-ahead log holds into the database file, waiting for
        no reader or writer (PASSIVE): run now and then off the requests' path, so that a
        request's audit row rarely meets SQLite's own checkpoint, which runs in the commit that
        takes the log past 1,000 pages (17 ms, one scoring request in about 260). True when it
        ran (any other database: nothing to do, False)."""
        if not self.is_sqlite:
            return False
        with self._reached(), self.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        return True

    def truncate_log(self) -> bool:
        """Copy a SQLite store's write-ahead log into the database file and empty it: rows
        just deleted stayed readable there (beside the database, in every copy of the folder)
        until later writes overwrote them. True when the log is empty (and on any other
        database, which keeps no such file); False when a reader holding an older snapshot
        (a backup, an export, a long query) kept it. The checkpoint holds off every writer
        while it waits for the reader, so it waits a moment at a time, a few times with a
        pause between: with the 30 s busy timeout both service replicas answered nothing for
        30 s, and the purge said nothing of the log it left."""
        if not self.is_sqlite:
            return True
        for attempt in range(_CHECKPOINT_TRIES):
            if attempt:
                time.sleep(_CHECKPOINT_PAUSE_S)
            with self._reached(), self._waiting_at_most(_CHECKPOINT_WAIT_S) as conn:
                # (busy, frames in the log, frames copied); busy 1: the log was not emptied
                result = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()
            if result is None or result[0] == 0:
                return True
            log.info("a reader holds the write-ahead log of %s; checkpoint again", self.shown_url)
        return False


def _audit_filter(
    query: Select[Any],
    since: datetime | None,
    until: datetime | None,
    key_id: str | None,
    container: str | None = None,
    bl_number: str | None = None,
) -> Select[Any]:
    """Requests in [since, until), made with ``key_id``, naming ``container`` or ``bl_number``
    (normalised as stored), each when given."""
    if since is not None:
        query = query.where(audit.c.at >= since)
    if until is not None:
        query = query.where(audit.c.at < until)
    if key_id is not None:
        query = query.where(audit.c.key_id == key_id)
    if container is not None:
        query = query.where(audit.c.named.like(f"%|{_like(_container_text(container))};%", "\\"))
    if bl_number is not None:
        query = query.where(audit.c.named.like(f"%;{_like(_bl_text(bl_number))}|%", "\\"))
    return query


def _backup_failure(error: BaseException, database: str | Path, target: Path) -> str:
    """Why a backup failed, as its user can act on it: SQLite says "disk I/O error" when the
    copy's disk is full; then the space it needed and the space left are told."""
    told = str(error)
    if isinstance(error, OSError) and error.errno != errno.ENOSPC:
        return told  # a read-only disk or no permission: told as it is
    if isinstance(error, sqlite3.Error) and not re.search("disk I/O error|full", told):
        return told
    try:
        free = shutil.disk_usage(target.parent).free
        needed = Path(database).stat().st_size
    except OSError:
        return told
    if free < needed + (1 << 20):
        return (
            f"No space left on device ({told}): the copy needs about {needed / 1e6:,.1f} MB, "
            f"{free / 1e6:,.1f} MB are free on its disk"
        )
    return told


def _put_in_place(partial: Path, target: Path) -> None:
    """``partial`` under the name ``target``, never over a file of that name (FileExistsError):
    a hard link where the file system has them, else a rename after a last look."""
    try:
        os.link(partial, target)
    except FileExistsError:
        raise
    except OSError:  # no hard links here
        if target.exists():
            raise FileExistsError(str(target)) from None
        partial.rename(target)


def _audit_values(entry: AuditEntry) -> dict[str, Any]:
    """An audit row's values as stored."""
    values = {name: _storable(getattr(entry, name)) for name in _AUDIT_COLUMNS}
    values["route"] = _storable(entry.route)[:256]
    values["detail"] = None if entry.detail is None else _storable(entry.detail)[:256]
    # the client's address fits its column whatever a proxy header held (a longer one
    # failed the write on PostgreSQL: the request was answered 503 and left no row)
    values["client"] = None if entry.client is None else _storable(entry.client)[:64]
    values["named"] = _storable(_named_text(entry.named))
    return values


def _like(value: str | None) -> str:
    """``value`` matched literally by LIKE (its wildcards escaped with a backslash)."""
    text = value or ""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _storable(value: Any) -> Any:
    """Text any database keeps and any terminal shows as it is: a control character (NUL, ESC,
    a line break, ``%1B`` or ``%0A`` in a path) is written as its escape (``\\x00``, ``\\x1b``,
    ``\\x0a``), and a lone surrogate as its escape (`printable`). PostgreSQL cannot store a NUL
    nor SQLite a surrogate, and the failed write withheld the answer (503) and left the request
    out of the trail; a line break or an escape sequence in a path forged rows in the `audit`
    listing and drove the terminal that showed it."""
    if isinstance(value, str):
        # A lone surrogate (a JSON "\\ud800" escape) no database encoding can write either.
        return escape_controls(printable(value))
    return value


def _named_text(named: tuple[tuple[str | None, str | None], ...]) -> str | None:
    """The stored form of the lines a request named (each normalised as `_bl_text` and
    `_container_text` do, so no value holds a separator)."""
    if not named:
        return None
    pairs = ((_bl_text(bl), _container_text(container)) for bl, container in named)
    return ";" + "".join(f"{bl or ''}|{container or ''};" for bl, container in pairs)


def _named_pairs(text: str | None) -> tuple[tuple[str | None, str | None], ...]:
    if not text:
        return ()
    pairs = (item.partition("|") for item in text.strip(";").split(";"))
    return tuple((bl or None, container or None) for bl, _, container in pairs)


def _container_text(value: object) -> str | None:
    """A container number as the trail keeps it: upper case, without spaces or hyphens (and
    without the trail's separators ``;`` and ``|``)."""
    if value is None:
        return None
    text = "".join(str(value).split()).replace("-", "").upper()
    return text.replace(";", "").replace("|", "")[:64] or None


def _bl_text(value: object) -> str | None:
    """A B/L number as the trail keeps it: trimmed, upper case, without ``;`` and ``|``."""
    if value is None:
        return None
    text = str(value).strip().upper()
    return text.replace(";", "").replace("|", "")[:64] or None


def _audit_entry(row: Mapping[Any, Any]) -> AuditEntry:
    values = dict(row)
    values.pop("id")
    values["named"] = _named_pairs(values.get("named"))
    return AuditEntry(**values)


def read_outcomes(store_url: str) -> pd.DataFrame:
    """Outcomes recorded through the API, as a validated outcomes file would give them
    (contract columns, normalised dtypes, ``dq_flags``; in the order they were recorded)."""
    parsed = make_url(store_url)
    database = sqlite_file(parsed)
    if database is not None and not Path(database).is_file():
        # exit 5, as backup and audit say it: a nightly export on a misspelt home exited 2,
        # which reads as a bad input file
        raise StoreUnavailable(
            parsed.render_as_string(hide_password=True),
            "there is no outcome store there (nothing was recorded yet, or RISK_ENGINE_HOME "
            "or RISK_ENGINE_DATABASE_URL is not the service's)",
        )
    store = Store(store_url)
    try:
        return store.outcomes_frame()
    finally:
        store.dispose()


def _outcomes_layout(rows: list[dict[str, Any]]) -> pd.DataFrame:
    layout = accepted_layout("outcomes")
    data = {name: [row.get(name) for row in rows] for name in layout if name != DQ_FLAGS}
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(rows)))
    for spec in OUTCOME_FIELDS:
        if spec.kind is Kind.TIMESTAMP:
            frame[spec.name] = pd.to_datetime(frame[spec.name], utc=True)
    frame[DQ_FLAGS] = [row.get(DQ_FLAGS) for row in rows]
    return frame.astype(layout)


def _outcome_key(values: Mapping[str, Any]) -> tuple[Any, ...]:
    inspected = values["inspected_at"]
    if isinstance(inspected, datetime):
        inspected = inspected.astimezone(UTC) if inspected.tzinfo else inspected.replace(tzinfo=UTC)
    return (values["bl_number"], values["container_number"], inspected)


def _write_order(values: Mapping[str, Any]) -> tuple[str, ...]:
    """The order new outcomes are written in, the same for every writer (`record_outcomes`)."""
    return tuple(str(part) for part in _outcome_key(values))


def _differing(stored: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[str, ...]:
    """The fields in which ``new`` tells another inspection than ``stored``; none when it is the
    same one told again: every field alike but ``recorded_at``, which tells when it was written
    down (an inspection system exporting again stamps it anew). The stored one, the first
    known, stays: training learns a label from when it was first recorded."""
    differs: list[str] = []
    for name in _CONTRACT_COLUMNS:
        if name == "recorded_at":
            continue
        a, b = stored.get(name), new.get(name)
        if isinstance(a, datetime) and isinstance(b, datetime):
            if a.astimezone(UTC) != b.astimezone(UTC):
                differs.append(name)
        elif isinstance(a, float) or isinstance(b, float):
            if a is None or b is None or abs(float(a) - float(b)) > 1e-9 * max(1.0, abs(float(a))):
                differs.append(name)
        elif a != b:
            differs.append(name)
    return tuple(differs)


def _now() -> datetime:
    return datetime.now(UTC)


def read_only(path: Path) -> sqlite3.Connection:
    """A connection to a SQLite file that cannot change it (a backup, a store to be checked)."""
    return sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)


def backup_row_counts(path: Path) -> dict[str, int]:
    """Rows of each table of a backup file, read without changing it (read-only)."""
    copy = read_only(path)
    try:
        return {
            table.name: int(copy.execute(f"SELECT COUNT(*) FROM {table.name}").fetchone()[0])
            for table in (outcomes, audit, api_keys)
        }
    finally:
        copy.close()
