"""The 入退室記録簿 for a period: one line per visit, and one per stay of a member of staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from server.people.models import Person, VisitorBadge
from server.visits.models import PresenceEvent, Visit
from server.visits.queries import between, still_on_at, visit_moment


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


def _visitor_line(visit: Visit, label: str | None, now: datetime) -> LogLine:
    return LogLine("visitor", visit.visitor_name, visit.organisation, visit.purpose, visit.host, label or "",
                   _moment(visit), visit.entered_at, visit.left_at, _visit_note(visit, now))


def _moment(visit: Visit) -> datetime:
    return visit.entered_at or visit.expected_at or visit.valid_from or visit.registered_at


def visitor_lines(db: Session, start: datetime, end: datetime, now: datetime, *, q: str = "",
                  limit: int | None = None) -> list[LogLine]:
    """Each visit of the period or still on when it began, by moment (then number).

    With a limit (the screen), two statements: the period's visits in order, which stop after
    `limit` on ix_visits_moment, and the few still on at its start (all before it, so they come
    first). One statement with the OR makes both databases read and sort every visit of the period."""
    query = select(Visit, VisitorBadge.label).outerjoin(VisitorBadge, VisitorBadge.uid == Visit.badge_uid)
    if q:
        query = query.where(or_(Visit.visitor_name.contains(q, autoescape=True),
                                Visit.organisation.contains(q, autoescape=True), Visit.host.contains(q, autoescape=True)))
    if limit is None:
        rows = db.execute(query.where(between(start, end)).order_by(visit_moment, Visit.id)).all()
    else:
        of_period = (query.where(visit_moment >= start, visit_moment < end)
                     .order_by(visit_moment, Visit.id).limit(limit))
        rows = db.execute(query.where(still_on_at(start))).all() + db.execute(of_period).all()
        rows.sort(key=lambda row: (_moment(row[0]), row[0].id))
        rows = rows[:limit]
    return [_visitor_line(visit, label, now) for visit, label in rows]


def staff_lines(db: Session, start: datetime, end: datetime, *, q: str = "",
                limit: int | None = None) -> list[LogLine]:
    """Each entry paired with the same person's next exit; an exit with no entry in the period
    (they came in before it) and an entry with no exit yet are lines of their own. In the order of
    the tap that makes the line (time, then number)."""
    if limit is not None:
        return _first_staff_lines(db, start, end, limit, q=q)
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
            if person_id in open_entry:  # two entries in a row: the first stay's exit went unseen
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


def _first_staff_lines(db: Session, start: datetime, end: datetime, limit: int, *, q: str = "") -> list[LogLine]:
    """staff_lines' first `limit` lines without reading the whole period: the period's taps in time
    order, stopping after `limit` lines. Each tap looks up the same person's previous tap in the
    period (an exit right after an entry ends that stay: no line of its own), and an entry its next
    one (its exit, if that is an exit): one probe of ix_presence_person_at each."""
    tap, before, after = PresenceEvent, aliased(PresenceEvent), aliased(PresenceEvent)
    previous_kind = (select(before.kind)
                     .where(before.person_id == tap.person_id, before.at >= start, before.at <= tap.at,
                            or_(before.at < tap.at, before.id < tap.id))
                     .order_by(before.at.desc(), before.id.desc()).limit(1).scalar_subquery())

    def following(column):
        return (select(column)
                .where(after.person_id == tap.person_id, after.at < end, after.at >= tap.at,
                       or_(after.at > tap.at, after.id > tap.id))
                .order_by(after.at, after.id).limit(1).scalar_subquery())

    query = (select(tap.kind, tap.at, Person.name, following(after.kind), following(after.at))
             .join(Person, Person.id == tap.person_id)
             .where(tap.at >= start, tap.at < end,
                    or_(tap.kind == "entry", func.coalesce(previous_kind, "exit") == "exit"))
             .order_by(tap.at, tap.id).limit(limit))
    if q:
        query = query.where(Person.name.contains(q, autoescape=True))
    lines = []
    for kind, at, name, next_kind, next_at in db.execute(query):
        if kind == "entry":
            lines.append(LogLine("staff", name, "", "", "", "", at, at, next_at if next_kind == "exit" else None, None))
        else:
            lines.append(LogLine("staff", name, "", "", "", "", at, None, at, None))
    return lines


def entry_log(db: Session, start: datetime, end: datetime, now: datetime, *, who: str = "all", q: str = "",
              limit: int | None = None) -> list[LogLine]:
    """Lines in time order (at the same moment, visitors first); `who` is all, visitor or staff.
    With a limit (the screen), each part stops after that many."""
    lines: list[LogLine] = []
    if who in ("all", "visitor"):
        lines += visitor_lines(db, start, end, now, q=q, limit=limit)
    if who in ("all", "staff"):
        lines += staff_lines(db, start, end, q=q, limit=limit)
    lines.sort(key=lambda line: line.moment)
    return lines[:limit] if limit else lines
