"""A reader that went away (its Last Will, `"online": false`) and came back.

One `reader_offline` alert per time a reader goes away — high for a cabinet (its door and lock go
unwatched), medium for an entrance — and the managers are told. The Last Will is retained, so the
broker hands it over again at every (re)subscription: it opens no second alert while one is open
or acknowledged, nor when the reader was already known to be offline. When the reader says it is
online again, mamori resolves the alert (noted 「再接続」, in the audit log) and tells the managers.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.alerts import actions
from server.alerts.models import Alert
from server.alerts.to_managers import tell_managers
from server.config import Settings

log = logging.getLogger("mamori.readers")

BY = "mamori"


def _office_time(at: datetime | None, settings: Settings) -> str:
    return at.astimezone(settings.zone).strftime("%Y/%m/%d %H:%M:%S") if at is not None else "—"


def _newest_alert(db: Session, reader_id: str) -> Alert | None:
    return db.scalars(select(Alert).where(Alert.type == "reader_offline", Alert.reader_id == reader_id)
                      .order_by(Alert.id.desc()).limit(1)).first()


def went_offline(db: Session, settings: Settings, *, reader_id: str, name: str, role: str,
                 was_online: bool | None, last_seen_at: datetime | None, now: datetime) -> Alert | None:
    """The reader's Last Will arrived: open its alert unless it is already known to be away."""
    if was_online is False:
        return None  # known to be away: no need to look at the alerts on every repeated will
    newest = _newest_alert(db, reader_id)
    if newest is not None and newest.state != "resolved":
        return None
    subject = f"{name}: offline (Last Will), last seen {_office_time(last_seen_at, settings)}"
    alert = Alert(type="reader_offline", severity="high" if role == "cabinet" else "medium", state="open",
                  opened_at=now, subject=subject, reader_id=reader_id)
    db.add(alert)
    db.flush()
    log.warning("reader offline: %s", subject)
    seen = _office_time(last_seen_at, settings)
    tell_managers(db, now, settings, kind="reader_offline", key=f"reader_offline:{alert.id}",
                  ja=("【mamori】読取機がオフラインになりました", f"{name}：接続が切れました（最終通信 {seen}）。"),
                  en=("[mamori] A reader went offline", f"{name}: the connection was lost (last seen {seen})."),
                  payload={"reader": reader_id, "alert_id": alert.id})
    return alert


def came_back(db: Session, settings: Settings, *, reader_id: str, name: str, was_online: bool | None,
              now: datetime) -> Alert | None:
    """The reader says it is online: resolve its offline alert as mamori, and tell the managers once."""
    newest = _newest_alert(db, reader_id)
    if newest is None:
        return None
    resolved = None
    if newest.state != "resolved":
        try:
            resolved = actions.resolve(db, newest.id, by=BY, at=now, zone=settings.zone, why="reconnected")
        except actions.AlertResolved:
            pass  # a manager resolved it at this very moment
    if resolved is None and was_online is not False:
        return None  # nothing changed: a repeated status, or a manager had closed it while it was away
    log.info("reader back online: %s", name)
    tell_managers(db, now, settings, kind="reader_online", key=f"reader_online:{newest.id}",
                  ja=("【mamori】読取機が再接続しました", f"{name}：{_office_time(now, settings)} に再接続しました。"),
                  en=("[mamori] A reader is back online", f"{name}: back online at {_office_time(now, settings)}."),
                  payload={"reader": reader_id, "alert_id": newest.id})
    return resolved
