"""Checkpoints of the SQLite store's write-ahead log on a thread of the service's own.

SQLite copies its write-ahead log into the database file in the commit that takes the log past
1,000 pages, so one request in a few hundred waited for the copy and its fsync (17 ms for a
scoring request's audit row, once in about 260). The service copies the log every second
instead, off the requests' path, without waiting for anyone (`Store.checkpoint_log`); the
commits then rarely find a log long enough to copy themselves. Nothing to do on PostgreSQL.
"""

from __future__ import annotations

import logging
import threading

from serve.store import Store

__all__ = ["LogCheckpointer"]

log = logging.getLogger(__name__)


class LogCheckpointer:
    """A daemon thread that checkpoints ``store``'s write-ahead log every ``every_s``."""

    def __init__(self, store: Store, *, every_s: float = 1.0) -> None:
        self._store = store
        self._every_s = every_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs = 0  # checkpoints made, for tests and the curious

    def start(self) -> None:
        if self._every_s <= 0 or self._thread is not None or not self._store.is_sqlite:
            return
        self._thread = threading.Thread(target=self._run, name="log-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        failed = False
        while not self._stop.wait(self._every_s):
            try:
                if self._store.checkpoint_log():
                    self.runs += 1
                failed = False
            except Exception as error:  # never the service's end: its own commits checkpoint
                if not failed:  # told once per spell, not every second
                    log.warning("could not checkpoint the store's write-ahead log: %s", error)
                failed = True
