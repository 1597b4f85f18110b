"""The 入退室記録簿 as it was read before it was streamed: every line of the period built in memory,
then sorted. Kept word for word as the reference the streamed reading must agree with, line for line
and in the same order (tests/integration/test_streamed_exports.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.people.models import Person, VisitorBadge
from server.visits.entry_log import LogLine, _visit_note
from server.visits.models import PresenceEvent, Visit
from server.visits.queries import between, visit_moment


def _moment(visit: Visit) -> datetime:
    return visit.entered_at or visit.expected_at or visit.valid_from or visit.registered_at


def visitor_lines(db: Session, start: datetime, end: datetime, now: datetime, *, q: str = "") -> list[LogLine]:
    query = select(Visit, VisitorBadge.label).outerjoin(VisitorBadge, VisitorBadge.uid == Visit.badge_uid)
    if q:
        query = query.where(Visit.visitor_name.contains(q, autoescape=True)
                            | Visit.organisation.contains(q, autoescape=True) | Visit.host.contains(q, autoescape=True))
    rows = db.execute(query.where(between(start, end)).order_by(visit_moment, Visit.id)).all()
    return [LogLine("visitor", v.visitor_name, v.organisation, v.purpose, v.host, label or "", _moment(v),
                    v.entered_at, v.left_at, _visit_note(v, now)) for v, label in rows]


def staff_lines(db: Session, start: datetime, end: datetime, *, q: str = "") -> list[LogLine]:
    query = (select(PresenceEvent.kind, PresenceEvent.at, PresenceEvent.id, Person.id, Person.name)
             .join(Person, Person.id == PresenceEvent.person_id)
             .where(PresenceEvent.at >= start, PresenceEvent.at < end)
             .order_by(Person.id, PresenceEvent.at, PresenceEvent.id))
    if q:
        query = query.where(Person.name.contains(q, autoescape=True))
    lines: list[tuple[datetime, int, LogLine]] = []
    open_entry: dict[int, tuple[str, datetime, int]] = {}
    for kind, at, tap_id, person_id, name in db.execute(query).all():
        if kind == "entry":
            if person_id in open_entry:
                lines.append(_stay(*open_entry.pop(person_id), None))
            open_entry[person_id] = (name, at, tap_id)
        elif person_id in open_entry:
            lines.append(_stay(*open_entry.pop(person_id), at))
        else:
            lines.append((at, tap_id, LogLine("staff", name, "", "", "", "", at, None, at, None)))
    lines += [_stay(name, at, tap_id, None) for name, at, tap_id in open_entry.values()]
    lines.sort(key=lambda line: line[:2])
    return [line for _at, _id, line in lines]


def _stay(name: str, entered: datetime, tap_id: int, left: datetime | None) -> tuple[datetime, int, LogLine]:
    return entered, tap_id, LogLine("staff", name, "", "", "", "", entered, entered, left, None)


def entry_log(db: Session, start: datetime, end: datetime, now: datetime, *, who: str = "all",
              q: str = "") -> list[LogLine]:
    lines: list[LogLine] = []
    if who in ("all", "visitor"):
        lines += visitor_lines(db, start, end, now, q=q)
    if who in ("all", "staff"):
        lines += staff_lines(db, start, end, q=q)
    lines.sort(key=lambda line: line.moment)
    return lines
