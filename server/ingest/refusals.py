"""Refused payloads, kept without letting one reader pile them up.

The same reader refused for the same reason within `fold` is one dead-letter row with a count and
its first and last time (the first payload kept for inspection). Past a token bucket per reader,
refusals are only counted in memory and added to the row's count at the next one kept, so a reader
sending garbage in a loop costs neither a row nor a log line per payload. Accepted messages never
touch the bucket: a replayed outbox of valid scans is never slowed or dropped.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.ingest.intake import Incoming, dead_letter, source_of
from server.ledger.models import DeadLetter

log = logging.getLogger("mamori.ingest")


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: datetime
    limited: bool = False


class RefusalLimit:
    """A token bucket per reader: `burst` refusals at once, then `per_s` a second."""

    def __init__(self, per_s: float, burst: int):
        self.per_s, self.burst = per_s, burst
        self._buckets: dict[str, _Bucket] = {}
        self.held: defaultdict[tuple[str, str], int] = defaultdict(int)  # (source, reason) -> refusals not kept

    def allow(self, source: str, now: datetime) -> bool:
        bucket = self._buckets.get(source)
        if bucket is None:
            bucket = self._buckets[source] = _Bucket(float(self.burst), now)
        elapsed = max((now - bucket.at).total_seconds(), 0.0)
        bucket.tokens, bucket.at = min(self.burst, bucket.tokens + elapsed * self.per_s), max(now, bucket.at)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            bucket.limited = False
            return True
        if not bucket.limited:
            bucket.limited = True
            log.warning("%s sends refused payloads faster than %g/s: further ones are counted, not kept, until "
                        "it slows down", source, self.per_s)
        return False


class DeadLetterBook:
    """One unit of work's dead letters, folded into the rows of the last `fold`."""

    def __init__(self, db: Session, limit: RefusalLimit, fold: timedelta):
        self.db, self.limit, self.fold = db, limit, fold
        self._open: dict[tuple[str, str], DeadLetter] = {}

    def refuse(self, msg: Incoming, reason: str, detail: str) -> None:
        source = source_of(msg.topic)
        key = (source, reason)
        if not self.limit.allow(source, msg.received_at):
            self.limit.held[key] += 1
            return
        extra = self.limit.held.pop(key, 0)
        row = self._open.get(key) or self._recent(key, msg.received_at)
        if row is None:
            row = dead_letter(self.db, msg, reason, detail)
            row.count += extra
            self._open[key] = row
            return
        log.debug("dead letter %s folded: %s: %s", msg.topic[:200], reason, detail)
        row.count += 1 + extra
        row.last_received_at = max(row.last_received_at, msg.received_at)
        self._open[key] = row

    def _recent(self, key: tuple[str, str], now: datetime) -> DeadLetter | None:
        source, reason = key
        return self.db.scalars(select(DeadLetter).where(
            DeadLetter.source == source, DeadLetter.reason == reason,
            DeadLetter.last_received_at >= now - self.fold).order_by(DeadLetter.id.desc()).limit(1)).first()
