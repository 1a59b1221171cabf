"""Checkpoints of the SQLite store's write-ahead log on a thread of the service's own.

SQLite copies its write-ahead log into the database file in the commit that takes the log past
1,000 pages, so one request in a few hundred waited for the copy and its fsync (17 ms for a
scoring request's audit row, once in about 260). The service copies the log every second
instead, off the requests' path, without waiting for anyone (`Store.checkpoint_log`); the
commits then rarely find a log long enough to copy themselves. Nothing to do on PostgreSQL.
"""

from __future__ import annotations

import logging

from serve.periodic import Periodic
from serve.store import Store

__all__ = ["LogCheckpointer"]

log = logging.getLogger(__name__)


class LogCheckpointer(Periodic):
    """Checkpoints ``store``'s write-ahead log every ``every_s`` on a daemon thread."""

    def __init__(self, store: Store, *, every_s: float = 1.0) -> None:
        super().__init__(every_s=every_s, name="log-checkpoint")
        self._store = store
        self._failed = False
        self.runs = 0  # checkpoints made, for tests and the curious

    def wanted(self) -> bool:
        return self._store.is_sqlite

    def tick(self) -> None:
        try:
            if self._store.checkpoint_log():
                self.runs += 1
            self._failed = False
        except Exception as error:  # never the service's end: its own commits checkpoint
            if not self._failed:  # told once per spell, not every second
                log.warning("could not checkpoint the store's write-ahead log: %s", error)
            self._failed = True
