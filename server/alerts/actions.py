"""Acknowledging and resolving an alert, the same from the dashboard and the API.

Open → acknowledged → resolved; an open alert may also be resolved at once. Acknowledging twice
keeps the first person and time (a second note is still added); anything after resolved is a
conflict. Each note is kept, one line each, with when, who and what was done; every change is in
the audit log.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from server.alerts.models import Alert
from server.audit.service import record

NOTE_MAX = 1000


class AlertMissing(LookupError):
    pass


class AlertResolved(Exception):
    def __init__(self, alert: Alert):
        super().__init__(f"alert {alert.id} was already resolved by {alert.resolved_by}")
        self.alert = alert


def _locked(db: Session, alert_id: int) -> Alert:
    # FOR UPDATE on PostgreSQL: two managers resolving at once are served one after the other.
    alert = db.get(Alert, alert_id, with_for_update=True)
    if alert is None:
        raise AlertMissing(alert_id)
    if alert.state == "resolved":
        raise AlertResolved(alert)
    return alert


def _add_note(alert: Alert, what: str, by: str, at: datetime, zone: ZoneInfo, note: str | None) -> None:
    note = (note or "").strip()[:NOTE_MAX]
    if not note:
        return
    line = f"{at.astimezone(zone):%Y-%m-%d %H:%M} {by} ({what}): {note}"
    alert.note = f"{alert.note}\n{line}" if alert.note else line


def acknowledge(db: Session, alert_id: int, *, by: str, at: datetime, zone: ZoneInfo, note: str | None = None,
                address: str | None = None) -> Alert:
    alert = _locked(db, alert_id)
    if alert.state == "open":
        alert.state, alert.acknowledged_at, alert.acknowledged_by = "acknowledged", at, by
    _add_note(alert, "acknowledged", by, at, zone, note)
    record(db, at, "alert_acknowledged", by, _detail(alert, note), address)
    db.flush()
    return alert


def resolve(db: Session, alert_id: int, *, by: str, at: datetime, zone: ZoneInfo, note: str | None = None,
            address: str | None = None) -> Alert:
    alert = _locked(db, alert_id)
    alert.state, alert.resolved_at, alert.resolved_by = "resolved", at, by
    _add_note(alert, "resolved", by, at, zone, note)
    record(db, at, "alert_resolved", by, _detail(alert, note), address)
    db.flush()
    return alert


def _detail(alert: Alert, note: str | None) -> str:
    text = f"alert {alert.id} ({alert.type}, {alert.severity}): {alert.subject}"
    note = (note or "").strip()
    return f"{text} — note: {note[:NOTE_MAX]}" if note else text
