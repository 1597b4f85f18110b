"""The visit and presence queries as they were before the scale work (migration 0009), kept word
for word: the reference the rewritten ones must agree with (tests/integration/test_visit_queries.py)
and the "before" that bench/scale.py times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from server.people.models import Person, VisitorBadge
from server.visits.entry_log import LogLine, _visit_note
from server.visits.models import PresenceEvent, Visit
from server.visits.queries import visit_moment


@dataclass(frozen=True, slots=True)
class Present:
    kind: str  # staff | visitor
    name: str
    since: datetime | None
    person_id: int | None = None
    visit_id: int | None = None
    organisation: str | None = None
    host: str | None = None
    badge: str | None = None
    unconfirmed: bool = False


def between(start: datetime, end: datetime) -> ColumnElement[bool]:
    """Visits whose moment falls in [start, end), or that were still in during it."""
    ended = func.coalesce(Visit.left_at, Visit.closed_at)
    return or_(and_(visit_moment >= start, visit_moment < end),
               and_(Visit.entered_at < start, or_(ended.is_(None), ended >= start)))


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
            if person_id in open_entry:
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
    lines: list[LogLine] = []
    if who in ("all", "visitor"):
        lines += visitor_lines(db, start, end, now, q=q, limit=limit)
    if who in ("all", "staff"):
        lines += staff_lines(db, start, end, q=q)
    lines.sort(key=lambda line: line.moment)
    return lines[:limit] if limit else lines


def staff_inside(db: Session) -> list[Present]:
    """Staff whose latest entrance tap was an entry: every tap ever made, grouped by person."""
    latest = (select(PresenceEvent.person_id, func.max(PresenceEvent.at).label("at"))
              .where(PresenceEvent.person_id.is_not(None)).group_by(PresenceEvent.person_id).subquery())
    rows = db.execute(
        select(Person.id, Person.name, PresenceEvent.at)
        .join(latest, latest.c.person_id == Person.id)
        .join(PresenceEvent, (PresenceEvent.person_id == Person.id) & (PresenceEvent.at == latest.c.at))
        .where(PresenceEvent.kind == "entry")
        .order_by(Person.name)
    ).all()
    seen: set[int] = set()
    present = []
    for person_id, name, at in rows:
        if person_id not in seen:
            seen.add(person_id)
            present.append(Present("staff", name, at, person_id=person_id))
    return present


def visitors_inside(db: Session, *, unconfirmed_since: datetime | None = None) -> list[Present]:
    who = Visit.state == "in"
    if unconfirmed_since is not None:
        who = or_(who, and_(Visit.state == "not_signed_out", Visit.closed_at >= unconfirmed_since))
    rows = db.execute(
        select(Visit, VisitorBadge.label).outerjoin(VisitorBadge, VisitorBadge.uid == Visit.badge_uid)
        .where(who).order_by(Visit.state, Visit.entered_at, Visit.id)).all()
    return [Present("visitor", v.visitor_name, v.entered_at, visit_id=v.id, organisation=v.organisation,
                    host=v.host, badge=label, unconfirmed=v.state == "not_signed_out") for v, label in rows]


def roll_call(db: Session, now: datetime, zone: ZoneInfo) -> list[Present]:
    day_start = datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone)
    return staff_inside(db) + visitors_inside(db, unconfirmed_since=day_start)
