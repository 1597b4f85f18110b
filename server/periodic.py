"""A background loop that runs `check()` every few seconds until stopped (the ingest's helpers)."""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable


class Periodic(ABC):
    name = "periodic"

    def __init__(self, every_s: float):
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        # With several servers, only the leader's rounds run (server/cluster.py); alone, every round.
        self.gate: Callable[[], bool] = lambda: True

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.gate():
                    self.check()
            except Exception:  # the database may be away; the next round tries again
                logging.getLogger(f"mamori.{self.name}").exception("%s check failed", self.name)
            self._stop.wait(self.every_s)

    @abstractmethod
    def check(self) -> int:
        """One round; returns how many things it did (for the log and the tests)."""
