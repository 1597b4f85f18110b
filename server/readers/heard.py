"""When each reader was last heard from: its status, or a scan or door event it sent, whichever is latest.

A reader's status is published on connect and at its Last Will only, so a busy reader's status time
stands still while its taps arrive; the taps themselves are what say it is alive.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.ledger.models import ReaderEvent, ScanRecord
from server.readers.models import Reader


def last_heard(db: Session) -> dict[str, datetime]:
    """Reader id → the latest time anything of it arrived (readers never heard from are left out).

    A message's arrival time is taken from its reader's latest message by event time, read backwards
    on ix_scans_reader_at / ix_reader_events_reader_at: one probe per reader, whatever the ledger's size."""
    def latest(model):
        return (select(model.received_at).where(model.reader_id == Reader.id).order_by(model.at.desc()).limit(1)
                .correlate(Reader).scalar_subquery())

    rows = db.execute(select(Reader.id, Reader.last_seen_at, latest(ScanRecord), latest(ReaderEvent))).all()
    heard = {}
    for reader_id, *times in rows:
        known = [t for t in times if t is not None]
        if known:
            heard[reader_id] = max(known)
    return heard
