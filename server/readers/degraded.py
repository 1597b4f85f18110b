"""A reader that is online but cannot do its job: its status says what does not work (`degraded`).

The broker connection alone said "online" while the card reader hung unplugged from the Pi; now the
gateway reports it (`["card_reader_unavailable"]`). One `reader_degraded` alert opens per stretch of
trouble — high for a cabinet, medium for an entrance — and the managers are told; a later status with
nothing degraded resolves it as mamori (noted 「復旧」). A status without the field (an older reader)
changes nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.alerts import actions
from server.alerts.models import Alert
from server.alerts.to_managers import tell_managers
from server.config import Settings
from server.readers.models import Reader

log = logging.getLogger("mamori.readers")

BY = "mamori"


def codes(stored: str | None) -> list[str]:
    """A reader row's `degraded` as a list ([] when all is well)."""
    return [code for code in (stored or "").split(",") if code]


def _open_alert(db: Session, reader_id: str) -> Alert | None:
    return db.scalars(select(Alert).where(Alert.type == "reader_degraded", Alert.reader_id == reader_id,
                                          Alert.state != "resolved").order_by(Alert.id.desc()).limit(1)).first()


def reported(db: Session, settings: Settings, *, reader_id: str, name: str, role: str, degraded: list[str],
             was: str | None, now: datetime) -> Alert | None:
    """A live status listed `degraded` (maybe empty): keep it, and open or resolve the alert."""
    stored = ",".join(sorted(set(degraded))) or None
    if stored != was:
        db.execute(update(Reader).where(Reader.id == reader_id).values(degraded=stored))
    alert = _open_alert(db, reader_id)
    if not degraded:
        if alert is not None:
            try:
                actions.resolve(db, alert.id, by=BY, at=now, zone=settings.zone, why="recovered")
                log.info("reader works again: %s", name)
            except actions.AlertResolved:
                pass  # a manager resolved it at this very moment
        return None
    if alert is not None:
        return None  # already open (or acknowledged): a repeated status is the same trouble
    subject = f"{name}: {', '.join(sorted(set(degraded)))}"
    alert = Alert(type="reader_degraded", severity="high" if role == "cabinet" else "medium", state="open",
                  opened_at=now, subject=subject, reader_id=reader_id)
    db.add(alert)
    db.flush()
    log.warning("reader degraded: %s", subject)
    tell_managers(db, now, settings, kind="reader_degraded", key=f"reader_degraded:{alert.id}",
                  ja=("【mamori】読取機がカードを読み取れません",
                      f"{name}：オンラインですが、カードを読み取れません。読取機の配線と接続を確認してください。"),
                  en=("[mamori] A reader cannot read cards",
                      f"{name}: online, but it cannot read cards. Check the reader's wiring and plug."),
                  payload={"reader": reader_id, "alert_id": alert.id, "degraded": sorted(set(degraded))})
    return alert
