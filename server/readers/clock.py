"""A reader whose clock runs ahead of the server's.

Scans are stamped by the reader and the ledger follows those stamps, so a fast clock would put
its taps "in the future". Event-time replay (server/ingest/rewind.py) keeps such a scan from
locking anyone out — it simply sorts after the taps that really came later — but the office must
know: the reader's offset is kept on its row (`clock_offset_s`, + ahead, shown on the reader list) and one
`reader_clock_ahead` alert opens while it is more than `clock_ahead_tolerance_s` ahead. A live
status whose time is back in step resolves it (as mamori).
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.alerts import actions
from server.alerts.models import Alert
from server.config import Settings
from server.readers.models import Reader

log = logging.getLogger("mamori.readers")

BY = "mamori"


def _open_alert(db: Session, reader_id: str) -> Alert | None:
    return db.scalars(select(Alert).where(Alert.type == "reader_clock_ahead", Alert.reader_id == reader_id,
                                          Alert.state != "resolved").limit(1)).first()


def seen_ahead(db: Session, settings: Settings, *, reader_id: str, name: str, lead_s: float, at: datetime,
               now: datetime) -> Alert | None:
    """A message stamped `lead_s` seconds after it arrived: keep the lead and alert once."""
    db.execute(update(Reader).where(Reader.id == reader_id).values(clock_offset_s=round(lead_s, 3)))
    if lead_s <= settings.clock_ahead_tolerance_s or _open_alert(db, reader_id) is not None:
        return None
    subject = f"{name}: clock {lead_s:.1f} s ahead of the server"
    alert = Alert(type="reader_clock_ahead", severity="medium", state="open", opened_at=now, subject=subject,
                  reader_id=reader_id)
    db.add(alert)
    db.flush()
    log.warning("reader clock ahead: %s (a message stamped %s)", subject, at.isoformat())
    return alert


def seen_in_step(db: Session, settings: Settings, *, reader_id: str, lead_s: float, now: datetime) -> None:
    """A live status whose time is within the tolerance: the reader's clock is right again."""
    db.execute(update(Reader).where(Reader.id == reader_id).values(clock_offset_s=round(lead_s, 3)))
    alert = _open_alert(db, reader_id)
    if alert is not None:
        try:
            actions.resolve(db, alert.id, by=BY, at=now, zone=settings.zone, why="clock_in_step")
        except actions.AlertResolved:
            pass  # a manager resolved it at this very moment
