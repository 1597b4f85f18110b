"""Registered readers, as the ingest needs them for every message."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, select

from server.bulk import among
from server.readers.models import Reader

_READERS = select(Reader.id, Reader.site, Reader.role, Reader.name, Reader.card_auth_required).where(
    among(Reader.id, "ids"))


@dataclass(frozen=True, slots=True)
class ReaderInfo:
    id: str
    site: str
    role: str
    name: str
    card_auth_required: bool = False  # cards that can prove they are no copy must (server/domain/card_auth.py)


class ReaderDirectory:
    """Remembers registered readers for `ttl` seconds: they change rarely and every scan needs one.

    Only readers that exist are remembered, so a reader registered a moment ago is found at once.
    """

    def __init__(self, ttl: float = 30.0, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self.clock = clock
        self._known: dict[str, tuple[ReaderInfo, float]] = {}

    def lookup(self, conn: Connection, ids: set[str]) -> dict[str, ReaderInfo]:
        now = self.clock()
        stale = [i for i in ids if i not in self._known or now - self._known[i][1] > self.ttl]
        if stale:
            for reader_id in stale:
                self._known.pop(reader_id, None)
            for row in conn.execute(_READERS, {"ids": stale}):
                self._known[row.id] = (ReaderInfo(row.id, row.site, row.role, row.name, row.card_auth_required), now)
        return {i: self._known[i][0] for i in ids if i in self._known}
