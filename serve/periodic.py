"""A daemon thread that does one piece of the service's upkeep every few seconds, until stopped
(the model's source followed, the store's write-ahead log copied)."""

from __future__ import annotations

import threading

__all__ = ["Periodic"]


class Periodic:
    """Calls `tick` every ``every_s`` seconds on a thread named ``name``, once `start` finds
    it `wanted`; `stop` ends the thread (after the tick in progress)."""

    def __init__(self, *, every_s: float, name: str) -> None:
        self._every_s = every_s
        self._name = name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def wanted(self) -> bool:
        """Whether there is anything to do at all (checked once, at `start`)."""
        return True

    def tick(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        if self._every_s <= 0 or self._thread is not None or not self.wanted():
            return
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self._every_s):
            self.tick()
