"""The 入退室記録簿 for a period: one line per visit, and one per stay of a member of staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from server.people.models import Person, VisitorBadge
from server.visits.models import PresenceEvent, Visit
from server.visits.queries import between, visit_moment


@dataclass(frozen=True, slots=True)
class LogLine:
    kind: str  # visitor | staff
    name: str
    organisation: str
    purpose: str
    host: str
    badge: str
    moment: datetime  # what the line is sorted and dated by
    entered_at: datetime | None
    left_at: datetime | None
    note: str | None  # a message key: not_signed_out, desk, cancelled, no_show, still_in


def _visit_note(visit: Visit, now: datetime) -> str | None:
    if visit.state == "not_signed_out":
        return "not_signed_out"
    if visit.state == "cancelled":
        return "cancelled"
    if visit.state == "in":
        return "still_in"
    if visit.state == "out" and visit.closed_by:
        return "desk"
    if visit.state == "expected" and visit.valid_until is not None and visit.valid_until < now:
        return "no_show"
    return None


def visitor_lines(db: Session, start: datetime, end: datetime, now: datetime, *, q: str = "",
                  limit: int | None = None) -> list[LogLine]:
    query = (select(Visit, VisitorBadge.label).outerjoin(VisitorBadge, VisitorBadge.uid == Visit.badge_uid)
             .where(between(start, end)).order_by(visit_moment, Visit.id))
    if q:
        query = query.where(or_(Visit.visitor_name.contains(q, autoescape=True),
                                Visit.organisation.contains(q, autoescape=True), Visit.host.contains(q, autoescape=True)))
    return [LogLine("visitor", v.visitor_name, v.organisation, v.purpose, v.host, label or "",
                    v.entered_at or v.expected_at or v.valid_from or v.registered_at, v.entered_at, v.left_at,
                    _visit_note(v, now))
            for v, label in db.execute(query.limit(limit)).all()]


def staff_lines(db: Session, start: datetime, end: datetime, *, q: str = "") -> list[LogLine]:
    """Each entry paired with the same person's next exit; an exit with no entry in the period
    (they came in before it) and an entry with no exit yet are lines of their own."""
    query = (select(PresenceEvent.kind, PresenceEvent.at, Person.id, Person.name)
             .join(Person, Person.id == PresenceEvent.person_id)
             .where(PresenceEvent.at >= start, PresenceEvent.at < end)
             .order_by(Person.id, PresenceEvent.at, PresenceEvent.id))
    if q:
        query = query.where(Person.name.contains(q, autoescape=True))
    lines: list[LogLine] = []
    open_entry: dict[int, tuple[str, datetime]] = {}
    for kind, at, person_id, name in db.execute(query).all():
        if kind == "entry":
            if person_id in open_entry:  # two entries in a row: the first stay's exit went unseen
                lines.append(_stay(*open_entry.pop(person_id), None))
            open_entry[person_id] = (name, at)
        elif person_id in open_entry:
            lines.append(_stay(*open_entry.pop(person_id), at))
        else:
            lines.append(LogLine("staff", name, "", "", "", "", at, None, at, None))
    lines += [_stay(name, at, None) for name, at in open_entry.values()]
    return lines


def _stay(name: str, entered: datetime, left: datetime | None) -> LogLine:
    return LogLine("staff", name, "", "", "", "", entered, entered, left, None)


def entry_log(db: Session, start: datetime, end: datetime, now: datetime, *, who: str = "all", q: str = "",
              limit: int | None = None) -> list[LogLine]:
    """Lines in time order; `who` is all, visitor or staff."""
    lines: list[LogLine] = []
    if who in ("all", "visitor"):
        lines += visitor_lines(db, start, end, now, q=q, limit=limit)
    if who in ("all", "staff"):
        lines += staff_lines(db, start, end, q=q)
    lines.sort(key=lambda line: line.moment)
    return lines[:limit] if limit else lines

