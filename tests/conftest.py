"""Fixtures shared by every test package: a throwaway PostgreSQL server for the store tests.

The store runs on SQLite by default and on PostgreSQL where a customs centre sets
``RISK_ENGINE_DATABASE_URL``; the tests run it on both. The PostgreSQL server is started by the
tests themselves from the installed server binaries (Debian's ``postgresql`` package, which
``.ci/run`` installs), in a temporary folder, on 127.0.0.1 and a free port, and stopped at the
end of the session. Each test gets a database of its own. Without the binaries the PostgreSQL
cases are skipped on a developer's machine and fail under CI (``CI`` set), so CI never passes by
skipping them.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_PG_USER = "risk"
_names = itertools.count(1)


def _server_binaries() -> Path | None:
    """The folder holding initdb and pg_ctl: ``RISK_ENGINE_TEST_PG_BIN``, the PATH, or the
    newest ``/usr/lib/postgresql/N/bin``."""
    candidates: list[Path] = []
    if os.environ.get("RISK_ENGINE_TEST_PG_BIN"):
        candidates.append(Path(os.environ["RISK_ENGINE_TEST_PG_BIN"]))
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    installed = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(
        installed, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, reverse=True
    )
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """One PostgreSQL server in a temporary folder, trusted on 127.0.0.1 only.

    PostgreSQL refuses to run as root, so under root (CI) the server runs as the ``postgres``
    system user that Debian's package creates.
    """

    def __init__(self, binaries: Path) -> None:
        self.binaries = binaries
        self.folder = Path(tempfile.mkdtemp(prefix="risk-engine-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        self._as: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.folder, user="postgres", group="postgres")
            self._as = ["runuser", "-u", "postgres", "--"]

    def _run(self, *command: str) -> None:
        result = subprocess.run(
            [*self._as, *command], capture_output=True, text=True, timeout=120, cwd=self.folder
        )
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")

    def start(self) -> None:
        self._run(
            str(self.binaries / "initdb"),
            "-D", str(self.data),
            "-U", _PG_USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )  # fmt: skip
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            str(self.binaries / "pg_ctl"),
            "-D", str(self.data),
            "-l", str(self.folder / "server.log"),
            "-o", options,
            "-w", "-t", "60",
            "start",
        )  # fmt: skip

    def stop(self) -> None:
        try:
            self._run(str(self.binaries / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+pg8000://{_PG_USER}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; returns its SQLAlchemy URL."""
        from sqlalchemy import create_engine, text

        name = f"test_{os.getpid()}_{next(_names)}"
        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.url(name)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    binaries = _server_binaries()
    if binaries is None:
        reason = "PostgreSQL server binaries not installed (apt-get install postgresql)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: .ci/run installs them, so CI must not skip these cases")
        pytest.skip(reason)
    server = PostgresServer(binaries)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """The URL of a fresh PostgreSQL database for this test."""
    return postgres_server.new_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database on each backend the store supports."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'engine.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def obeying_modes() -> list[str]:
    """The command prefix under which file modes apply: none for a user other than root; as
    root, setpriv dropping the capabilities that override them. Skipped as root where they
    cannot be dropped (no setpriv, a container that refuses it): the case would prove nothing."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    prefix = [str(setpriv), "--bounding-set=-dac_override,-dac_read_search,-fowner,-chown"]
    if setpriv is None or subprocess.run([*prefix, "true"], check=False).returncode != 0:
        pytest.skip("root that cannot drop dac_override: file modes would not apply")
    return prefix
