"""The 入退室記録簿 for a period: one line per visit, and one per stay of a member of staff."""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import chain, islice

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from server.people.models import Person, VisitorBadge
from server.visits.models import PresenceEvent, Visit
from server.visits.queries import still_on_at, visit_moment


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


_VISIT_COLUMNS = (Visit.id, Visit.visitor_name, Visit.organisation, Visit.purpose, Visit.host, Visit.state,
                  Visit.entered_at, Visit.expected_at, Visit.valid_from, Visit.registered_at, Visit.left_at,
                  Visit.valid_until, Visit.closed_by, VisitorBadge.label)
BATCH = 2000  # rows a streamed statement fetches at a time
HOLD = 20_000  # staff lines kept waiting for an exit (a day of 10,000 people) before the oldest one's is looked up


def _visitor_line(visit, now: datetime) -> LogLine:
    """A line from a row of _VISIT_COLUMNS (or a Visit with its badge's `label`)."""
    return LogLine("visitor", visit.visitor_name, visit.organisation, visit.purpose, visit.host, visit.label or "",
                   _moment(visit), visit.entered_at, visit.left_at, _visit_note(visit, now))


def _moment(visit) -> datetime:
    return visit.entered_at or visit.expected_at or visit.valid_from or visit.registered_at


def visitor_lines(db: Session, start: datetime, end: datetime, now: datetime, *, q: str = "",
                  limit: int | None = None) -> Iterator[LogLine]:
    """Each visit of the period or still on when it began, by moment (then number).

    Two statements: the few still on at its start (all came in before it, so they come first), then
    the period's visits in the order of ix_visits_moment, read as they are written (the screen stops
    after `limit`). One statement with the OR makes both databases read and sort every visit of the
    period before the first line."""
    query = select(*_VISIT_COLUMNS).outerjoin(VisitorBadge, VisitorBadge.uid == Visit.badge_uid)
    if q:
        query = query.where(or_(Visit.visitor_name.contains(q, autoescape=True),
                                Visit.organisation.contains(q, autoescape=True), Visit.host.contains(q, autoescape=True)))
    earlier = sorted(db.execute(query.where(still_on_at(start))).all(), key=lambda row: (_moment(row), row.id))
    of_period = query.where(visit_moment >= start, visit_moment < end).order_by(visit_moment, Visit.id)
    if limit is not None:
        of_period = of_period.limit(limit)
    rows = chain(earlier, db.execute(of_period.execution_options(yield_per=BATCH)))
    return (_visitor_line(row, now) for row in islice(rows, limit))


def staff_lines(db: Session, start: datetime, end: datetime, *, q: str = "",
                limit: int | None = None) -> Iterator[LogLine]:
    """Each entry paired with the same person's next exit; an exit with no entry in the period
    (they came in before it) and an entry with no exit yet are lines of their own. In the order of
    the tap that makes the line (time, then number)."""
    if limit is not None:
        return iter(_first_staff_lines(db, start, end, limit, q=q))
    return _stream_staff_lines(db, start, end, q=q)


class _Stay:
    """A staff line begun by an entry, waiting for what follows it."""

    __slots__ = ("name", "person_id", "entered", "tap_id", "left", "done", "settled")

    def __init__(self, name: str, person_id: int, entered: datetime, tap_id: int):
        self.name, self.person_id, self.entered, self.tap_id = name, person_id, entered, tap_id
        self.left: datetime | None = None
        self.done = self.settled = False  # settled: ended by a look-up, its exit still to come by

    def end(self, left: datetime | None) -> None:
        self.left, self.done = left, True

    def line(self) -> LogLine:
        return LogLine("staff", self.name, "", "", "", "", self.entered, self.entered, self.left, None)


def _stream_staff_lines(db: Session, start: datetime, end: datetime, *, q: str = "") -> Iterator[LogLine]:
    """The period's taps in time order, in one pass: a line is written once every line before it is
    complete. A stay waits for its person's next tap; when more than HOLD lines wait behind the oldest
    one (somebody who never tapped out), its next tap is looked up instead, so memory stays flat."""
    query = (select(PresenceEvent.kind, PresenceEvent.at, PresenceEvent.id, Person.id, Person.name)
             .join(Person, Person.id == PresenceEvent.person_id)
             .where(PresenceEvent.at >= start, PresenceEvent.at < end)
             .order_by(PresenceEvent.at, PresenceEvent.id))
    if q:
        query = query.where(Person.name.contains(q, autoescape=True))
    waiting: deque[_Stay | LogLine] = deque()
    open_stay: dict[int, _Stay] = {}
    for kind, at, tap_id, person_id, name in db.execute(query.execution_options(yield_per=BATCH)):
        stay = open_stay.pop(person_id, None)
        if kind == "exit":
            if stay is None:
                waiting.append(LogLine("staff", name, "", "", "", "", at, None, at, None))
            elif not stay.settled:
                stay.end(at)
        else:
            if stay is not None and not stay.settled:  # two entries in a row: the first stay's exit went unseen
                stay.end(None)
            open_stay[person_id] = _Stay(name, person_id, at, tap_id)
            waiting.append(open_stay[person_id])
        while waiting:
            head = waiting[0]
            if isinstance(head, _Stay) and not head.done:
                if len(waiting) <= HOLD:
                    break
                _settle(db, head, end, open_stay)
            waiting.popleft()
            yield head.line() if isinstance(head, _Stay) else head
    for head in waiting:
        yield head.line() if isinstance(head, _Stay) else head


def _settle(db: Session, stay: _Stay, end: datetime, open_stay: dict[int, _Stay]) -> None:
    """End `stay` by its person's next tap in the period, read ahead: an exit ends it (and is then
    passed by when the stream reaches it), anything else leaves it without one."""
    tap = PresenceEvent
    following = db.execute(
        select(tap.kind, tap.at)
        .where(tap.person_id == stay.person_id, tap.at < end, tap.at >= stay.entered,
               or_(tap.at > stay.entered, tap.id > stay.tap_id))
        .order_by(tap.at, tap.id).limit(1)).first()
    if following is not None and following.kind == "exit":
        stay.end(following.at)
        stay.settled = True
    else:
        stay.end(None)
        open_stay.pop(stay.person_id, None)


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


def lines(db: Session, start: datetime, end: datetime, now: datetime, *, who: str = "all",
          q: str = "") -> Iterator[LogLine]:
    """Every line of the period in time order (at the same moment, visitors first), read as it is
    written: the CSV streams it, holding a few thousand lines at most."""
    parts = []
    if who in ("all", "visitor"):
        parts.append(visitor_lines(db, start, end, now, q=q))
    if who in ("all", "staff"):
        parts.append(staff_lines(db, start, end, q=q))
    return heapq.merge(*parts, key=lambda line: line.moment)  # stable: visitors first at one moment


def entry_log(db: Session, start: datetime, end: datetime, now: datetime, *, who: str = "all", q: str = "",
              limit: int | None = None) -> list[LogLine]:
    """Lines in time order (at the same moment, visitors first); `who` is all, visitor or staff.
    With a limit (the screen), each part stops after that many."""
    if limit is None:
        return list(lines(db, start, end, now, who=who, q=q))
    found: list[LogLine] = []
    if who in ("all", "visitor"):
        found += visitor_lines(db, start, end, now, q=q, limit=limit)
    if who in ("all", "staff"):
        found += staff_lines(db, start, end, q=q, limit=limit)
    found.sort(key=lambda line: line.moment)
    return found[:limit]
