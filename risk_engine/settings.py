"""Typed settings (prefix ``RISK_ENGINE_``); nothing is read at import time.

All state lives under ``home``: the MLflow store, the outcome and audit database, reports.
"""

from __future__ import annotations

import getpass
import os
import socket
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from platformdirs import user_data_dir
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from risk_engine.errors import ConfigError

__all__ = [
    "Settings",
    "keep_files_private",
    "load_settings",
    "operator",
    "read_environment",
    "without_password",
]

S = TypeVar("S", bound=BaseSettings)


def keep_files_private() -> None:
    """No file or folder the process makes is readable by every user of the machine: the
    store (officers' names, seizures, the audit of who looked at which container), the feature
    history (party names), backups, archives and outputs were written 0644 under the usual
    umask 022, and a file an operator had locked down came back 0644 when it was rewritten.
    Group access stays as the operator's umask gives it."""
    os.umask(os.umask(0) | 0o007)


def _default_home() -> Path:
    return Path(user_data_dir("maritime-risk-engine", appauthor=False))


def without_password(uri: str) -> str:
    """A URI with its password, if it has one, written as ``***``."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


class Settings(BaseSettings):
    """Engine settings; every field can be set as ``RISK_ENGINE_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="RISK_ENGINE_", extra="ignore")

    home: Path = Field(default_factory=_default_home, description="Folder holding all state.")
    chunk_rows: int = Field(default=200_000, ge=1_000, description="Rows per chunk when reading.")
    mlflow_tracking_uri: str | None = Field(
        default=None, description="MLflow tracking URI; default: SQLite under home."
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL of the outcome/audit store; default: SQLite."
    )

    @field_validator("home", mode="before")
    @classmethod
    def _usable(cls, value: Any) -> Any:
        """An empty home (a unit file naming an unset variable) put every store in the current
        folder; a ``%`` or ``?`` in it is read by the database URLs made of it (``site%41``
        became ``siteA``): both refused."""
        if isinstance(value, str | Path) and not str(value).strip():
            raise ValueError("is empty: unset it for the default home, or name a folder")
        if isinstance(value, str | Path) and any(c in str(value) for c in "%?"):
            raise ValueError(
                "holds a % or ?, which the database URLs made of it would read as an escape "
                "or a query: name a folder without them"
            )
        return value

    @field_validator("home")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        """A relative home (``out/home``) is taken from the current folder, once."""
        return Path(value).expanduser().absolute()

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def tracking_uri(self) -> str:
        if self.mlflow_tracking_uri:
            return self.mlflow_tracking_uri
        return f"sqlite:///{(self.home / 'mlflow.db').as_posix()}"

    @property
    def tracking_uri_shown(self) -> str:
        """The tracking URI without a password, for messages and logs."""
        return without_password(self.tracking_uri)

    @property
    def artifact_location(self) -> Path:
        return self.home / "mlartifacts"

    @property
    def store_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'engine.db').as_posix()}"

    def ensure_home(self) -> Path:
        """Create the state folders on first use (never at import); a home that cannot be
        made (a file, a read-only mount) is a `ConfigError` naming it."""
        try:
            self.reports_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ConfigError(
                f"setting RISK_ENGINE_HOME={str(self.home)!r}: its folders cannot be made "
                f"there ({error.strerror or error})"
            ) from None
        return self.home


def load_settings() -> Settings:
    """Read settings from the environment now; `ConfigError` names a variable that cannot be
    used."""
    return read_environment(Settings)


def read_environment(kind: type[S], **given: Any) -> S:
    """Settings of ``kind`` from ``given`` and the environment; a value that cannot be used is
    a `ConfigError` naming the variable and its value (pydantic's own report, with its links,
    was a traceback)."""
    try:
        return kind(**given)
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        prefix = str(kind.model_config.get("env_prefix", ""))
        name = field if field in given else f"{prefix}{field}".upper()
        raise ConfigError(f"setting {name}={first['input']!r}: {first['msg']}") from None


def operator() -> str:
    """Who runs a command, as the operating system knows them (user@host, at most 64
    characters): the audit trail and the feature history record it."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"[:64]
