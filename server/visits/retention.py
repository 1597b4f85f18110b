"""Visitor data retention: after the retention period a visit keeps its times, host and badge,
but not who the visitor was. Run daily by `mamori visits anonymise` (a systemd timer in deploy/).

What is blanked: the visitor's name, organisation and purpose on the visit, and the same words
where they were copied — closing-time alert subjects and "visitor arrived" notices older than the
period. The audit log never held them (it names visits by number). Each run writes one audit entry saying how many and up to when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from server.alerts.models import Alert
from server.audit.service import record
from server.notify.models import Notice
from server.visits.models import Visit

ANONYMOUS = "（匿名化済み）"
CHUNK = 1000  # visits per statement: a first run over years of visits stays a set of small updates


@dataclass(frozen=True)
class Anonymised:
    cutoff: datetime
    visits: int
    alerts: int
    notices: int


# When a visit was over: left, closed at closing time or cancelled, or (never came) its window ended.
_ended = func.coalesce(Visit.left_at, Visit.closed_at, Visit.valid_until, Visit.registered_at)


def due_for_anonymising(cutoff: datetime):
    finished = or_(Visit.state.in_(("out", "not_signed_out", "cancelled")),
                   and_(Visit.state == "expected", Visit.badge_returned_at.is_not(None) | Visit.badge_uid.is_(None)))
    return and_(Visit.anonymised_at.is_(None), finished, _ended < cutoff)


def anonymise_visits(db: Session, now: datetime, *, days: int, actor: str, dry_run: bool = False) -> Anonymised:
    """Blank the personal data of visits that ended more than `days` days before `now` (the caller commits)."""
    cutoff = now - timedelta(days=days)
    ids = list(db.scalars(select(Visit.id).where(due_for_anonymising(cutoff)).order_by(Visit.id)))
    alerts = notices = 0
    if not dry_run:
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            db.execute(update(Visit).where(Visit.id.in_(chunk)).values(
                visitor_name=ANONYMOUS, organisation="", purpose="", anonymised_at=now))
            alerts += db.execute(update(Alert).where(Alert.visit_id.in_(chunk)).values(
                subject=Alert.type + " (visit anonymised)")).rowcount or 0
        notices = db.execute(update(Notice).where(Notice.kind == "visitor_arrived", Notice.created_at < cutoff,
                                                  Notice.subject != ANONYMOUS)
                             .values(subject=ANONYMOUS, body="", payload={})).rowcount or 0
        record(db, now, "visits_anonymised", actor, {"visits": len(ids), "cutoff": cutoff, "days": days,
                                                     "alerts": alerts, "notices": notices})
    return Anonymised(cutoff, len(ids), alerts, notices)
