"""Acknowledging and resolving an alert, the same from the dashboard and the API.

Open → acknowledged → resolved; an open alert may also be resolved at once. Acknowledging twice
keeps the first person and time (a second note is still added); anything after resolved is a
conflict. Each note is kept, one line each, with when, who and what was done; every change is in
the audit log.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, update
from sqlalchemy.orm import Session

from server.alerts import notes
from server.alerts.models import Alert
from server.audit.service import record
from server.domain.alerts import CHASE_LEVELS

NOTE_MAX = 1000


class AlertMissing(LookupError):
    pass


class AlertResolved(Exception):
    def __init__(self, alert: Alert):
        super().__init__(f"alert {alert.id} was already resolved by {alert.resolved_by}")
        self.alert = alert


def _note_line(what: str, by: str, at: datetime, note: str | None, why: str | None, facts: dict) -> str | None:
    """A line for the alert's notes when there is something to say: the person's words or the system's reason."""
    note = (note or "").strip()[:NOTE_MAX]
    return notes.line(at, by, what, note, why, **facts) if note or why else None


def _change(db: Session, alert_id: int, values: dict, line: str | None) -> Alert:
    """One guarded UPDATE, so two managers acting at once cannot overwrite each other (SQLite has no
    FOR UPDATE): a resolved alert changes no more, and a note is appended in the database, not in Python."""
    condition = [Alert.id == alert_id, Alert.state != "resolved"]
    if line is not None:
        values = {**values, "note": func.coalesce(Alert.note + ("\n" + line), line)}
    changed = db.execute(update(Alert).where(*condition).values(**values)
                         .execution_options(synchronize_session=False)).rowcount if values else 1
    alert = db.get(Alert, alert_id, populate_existing=True)
    if alert is None:
        raise AlertMissing(alert_id)
    if not changed or (not values and alert.state == "resolved"):
        raise AlertResolved(alert)
    return alert


def acknowledge(db: Session, alert_id: int, *, by: str, at: datetime, zone: ZoneInfo, note: str | None = None,
                address: str | None = None) -> Alert:
    line = _note_line("acknowledged", by, at, note, None, {})
    # The first acknowledgement keeps its person and time; a later one only adds its note.
    db.execute(update(Alert).where(Alert.id == alert_id, Alert.state == "open")
               .values(state="acknowledged", acknowledged_at=at, acknowledged_by=by)
               .execution_options(synchronize_session=False))
    alert = _change(db, alert_id, {}, line)
    _earlier_levels(db, alert, ("open",), state="acknowledged", acknowledged_at=at, acknowledged_by=by)
    record(db, at, "alert_acknowledged", by, _facts(alert, note), address)
    return alert


def resolve(db: Session, alert_id: int, *, by: str, at: datetime, zone: ZoneInfo, note: str | None = None,
            why: str | None = None, address: str | None = None, **why_facts: object) -> Alert:
    """Resolve; `why` names the system's reason (alert.why.<why> in the catalog) when no person writes one."""
    alert = _change(db, alert_id, {"state": "resolved", "resolved_at": at, "resolved_by": by},
                    _note_line("resolved", by, at, note, why, why_facts))
    _earlier_levels(db, alert, ("open", "acknowledged"), state="resolved", resolved_at=at, resolved_by=by)
    record(db, at, "alert_resolved", by, {**_facts(alert, note), "reason": why and f"alert_{why}"}, address)
    return alert


def _earlier_levels(db: Session, alert: Alert, states: tuple[str, ...], **values) -> None:
    """An overdue checkout is one problem shown at its highest level: acting on that level acts on
    the levels before it too (返却期限超過 before 督促 before 紛失の疑い)."""
    if alert.checkout_id is None or alert.type not in CHASE_LEVELS:
        return
    earlier = CHASE_LEVELS[:CHASE_LEVELS.index(alert.type)]
    if earlier:
        db.execute(update(Alert).where(Alert.checkout_id == alert.checkout_id, Alert.type.in_(earlier),
                                       Alert.state.in_(states)).values(**values)
                   .execution_options(synchronize_session=False))


def _facts(alert: Alert, note: str | None) -> dict[str, object]:
    return {"alert": alert.id, "alert_type": alert.type, "subject": alert.subject,
            "note": (note or "").strip()[:NOTE_MAX] or None}
