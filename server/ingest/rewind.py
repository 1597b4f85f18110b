"""Scans that arrive older than what is already recorded: which stretch of the ledger to apply again.

The ledger must be what it would have been had every scan arrived live, whatever order the
network delivers them in. When a batch brings a scan or door event older than something already
recorded at the same cabinet, or an entrance tap older than the same card's last one, the stored
scans and door closings from a safe point before it (the start of the cabinet session it falls
into, or the tap itself) are applied again together with the batch, in event-time order. The
rows they imply (sessions, checkouts, returns, presence, visits, denial alerts) are re-derived; rows whose
meaning did not change keep their ids. What a reader was told at the time stays in `scans`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, bindparam, func, select

from gateway import protocol
from server.bulk import among
from server.checkouts.models import CabinetSession
from server.ingest.directory import ReaderInfo
from server.ledger.models import ReaderEvent, ScanRecord
from server.people.models import Card
from server.readers.models import Reader
from server.visits.models import Visit

# Door closings end sessions; the other door events change no derived row.
REPLAYED_EVENTS = ("door_closed",)

# A cabinet's newest read (uid, at): one step down the (reader_id, at) index; the batch's ledger keeps it.
_NEWEST_READ = (select(ScanRecord.uid, ScanRecord.at).where(ScanRecord.reader_id == bindparam("reader"))
                .order_by(ScanRecord.at.desc(), ScanRecord.id.desc()).limit(1))
# Only a closing after the batch's oldest scan matters: bounded by the recent stretch, not the history.
_CLOSING_AFTER = select(func.max(ReaderEvent.at)).where(ReaderEvent.reader_id == bindparam("reader"),
                                                        ReaderEvent.at > bindparam("at"),
                                                        ReaderEvent.type.in_(REPLAYED_EVENTS))
# The session a late scan falls into (still open, or closed at or after it): replay from its opening.
# The sessions still open and those closed since the scan, each a seek on its own index, rather
# than a walk through every session the cabinet had before it.
_SESSIONS_ACROSS = (select(CabinetSession.opened_at).where(CabinetSession.cabinet_id == bindparam("cabinet"),
                                                           CabinetSession.closed_at.is_(None))
                    .union_all(select(CabinetSession.opened_at).where(
                        CabinetSession.cabinet_id == bindparam("cabinet"), CabinetSession.closed_at >= bindparam("at"))))
_CABINET_SCANS = (select(ScanRecord.id, ScanRecord.uid, ScanRecord.tech, ScanRecord.at, ScanRecord.received_at,
                         ScanRecord.fresh)
                  .where(ScanRecord.reader_id == bindparam("reader"), ScanRecord.at >= bindparam("since")))
_CABINET_CLOSINGS = (select(ReaderEvent.id, ReaderEvent.type, ReaderEvent.at, ReaderEvent.received_at)
                     .where(ReaderEvent.reader_id == bindparam("reader"), ReaderEvent.at >= bindparam("since"),
                            ReaderEvent.type.in_(REPLAYED_EVENTS)))
# The newest visit each badge was lent to, if it is one the taps move (expected, in, out).
_LENT_VISITS = (select(Visit.badge_uid, Visit.id, Visit.state, Visit.entered_at, Visit.left_at, Visit.badge_returned_at,
                       Visit.valid_from, Visit.valid_until)
                .where(Visit.id.in_(select(func.max(Visit.id)).where(among(Visit.badge_uid, "uids"))
                                    .group_by(Visit.badge_uid)),
                       Visit.state.in_(("expected", "in", "out"))))
# A card's scans after the batch's oldest entrance tap (usually none): whether any is newer than its tap.
_NEWEST_OF_UIDS = (select(ScanRecord.uid, func.max(ScanRecord.at))
                   .where(among(ScanRecord.uid, "uids"), ScanRecord.at > bindparam("after"))
                   .group_by(ScanRecord.uid))
_ENTRANCES = select(Reader.id, Reader.site, Reader.role, Reader.name).where(Reader.role == "entrance")
_STAFF_CARDS = select(Card.uid, Card.person_id).where(
    Card.person_id.in_(select(Card.person_id).where(among(Card.uid, "uids"))))
_ENTRANCE_TAPS = (select(ScanRecord.id, ScanRecord.reader_id, ScanRecord.uid, ScanRecord.tech, ScanRecord.at,
                         ScanRecord.received_at, ScanRecord.fresh, ScanRecord.visit_id)
                  .where(among(ScanRecord.uid, "uids"),
                         among(ScanRecord.reader_id, "readers"),
                         ScanRecord.at >= bindparam("since")))


@dataclass(frozen=True, slots=True)
class Replay:
    """A stored scan or door event, applied again in its place."""

    body: protocol.Scan | protocol.Event
    reader: ReaderInfo
    received_at: datetime
    fresh: bool = False


@dataclass(frozen=True, slots=True)
class VisitBefore:
    """A visitor's visit as it stood before a late tap of its badge: the taps from `since` on are applied again."""

    since: datetime
    visit_id: int
    state: str
    valid_from: datetime | None
    valid_until: datetime | None
    changes: dict  # what the visit's row goes back to


@dataclass(slots=True)
class Rewind:
    """The stretches a batch re-derives: each cabinet and person from a point in time."""

    cabinets: dict[str, datetime] = field(default_factory=dict)
    people: dict[int, datetime] = field(default_factory=dict)
    visits: dict[str, VisitBefore] = field(default_factory=dict)  # badge -> its visit as it stood
    # cabinet -> its newest read (uid, at) or None, for the cabinets not rewound: the ledger needs it too
    newest_reads: dict[str, tuple[str, datetime] | None] = field(default_factory=dict)
    steps: list[Replay] = field(default_factory=list)

    @property
    def scan_ids(self) -> set[str]:
        return {step.body.id for step in self.steps if isinstance(step.body, protocol.Scan)}

    @property
    def since(self) -> datetime | None:
        points = [*self.cabinets.values(), *self.people.values(), *(v.since for v in self.visits.values())]
        return min(points) if points else None


def plan(conn: Connection, new: list[tuple[ReaderInfo, protocol.Scan | protocol.Event]]) -> Rewind:
    """The stretches that the batch's new scans and events (not yet recorded) land inside of."""
    rewind = Rewind()
    earliest: dict[str, datetime] = {}  # cabinet -> the batch's oldest scan or door closing there
    entrance_taps: dict[str, datetime] = {}  # uid -> the batch's oldest tap of it at an entrance
    readers: dict[str, ReaderInfo] = {}
    for reader, body in new:
        readers[reader.id] = reader
        if reader.role == "cabinet":
            if isinstance(body, protocol.Scan) or body.type in REPLAYED_EVENTS:
                earliest[reader.id] = min(body.at, earliest.get(reader.id, body.at))
        elif isinstance(body, protocol.Scan):
            entrance_taps[body.uid] = min(body.at, entrance_taps.get(body.uid, body.at))
    for cabinet, at in earliest.items():
        read = conn.execute(_NEWEST_READ, {"reader": cabinet}).first()
        closing = conn.execute(_CLOSING_AFTER, {"reader": cabinet, "at": at}).scalar()
        newest = [t for t in (read.at if read else None, closing) if t is not None]
        if not newest or max(newest) <= at:  # the usual case: everything new comes after what is known
            rewind.newest_reads[cabinet] = (read.uid, read.at) if read else None
            continue
        start = min((t for t in conn.execute(_SESSIONS_ACROSS, {"cabinet": cabinet, "at": at}).scalars() if t <= at),
                    default=None)
        since = min(start, at) if start is not None else at
        rewind.cabinets[cabinet] = since
        reader = readers[cabinet]
        for row in conn.execute(_CABINET_SCANS, {"reader": cabinet, "since": since}):
            rewind.steps.append(Replay(_scan(row), reader, row.received_at, row.fresh))
        for row in conn.execute(_CABINET_CLOSINGS, {"reader": cabinet, "since": since}):
            rewind.steps.append(Replay(protocol.Event.model_construct(v=1, id=row.id, type=row.type, at=row.at,
                                                                      scan=None), reader, row.received_at))
    if entrance_taps:
        # Usually nothing of these cards is newer than the batch: one index seek per card says so.
        newest = dict(conn.execute(_NEWEST_OF_UIDS, {"uids": list(entrance_taps),
                                                     "after": min(entrance_taps.values())}).all())
        late = {uid: at for uid, at in entrance_taps.items() if uid in newest and newest[uid] > at}
        if late:
            _plan_people(conn, rewind, late)
            _plan_visits(conn, rewind, late)
    return rewind


def _plan_people(conn: Connection, rewind: Rewind, taps: dict[str, datetime]) -> None:
    """A staff member's entries and exits alternate: a late tap flips every later one."""
    person_of: dict[str, int] = {}
    uids_of: dict[int, list[str]] = {}
    for uid, person_id in conn.execute(_STAFF_CARDS, {"uids": list(taps)}):
        person_of[uid] = person_id
        uids_of.setdefault(person_id, []).append(uid)
    late: dict[int, datetime] = {}
    for uid, at in taps.items():
        if (person_id := person_of.get(uid)) is not None:
            late[person_id] = min(at, late.get(person_id, at))
    if not late:
        return
    entrances = {row.id: ReaderInfo(row.id, row.site, row.role, row.name) for row in conn.execute(_ENTRANCES)}
    since = min(late.values())
    stored = conn.execute(_ENTRANCE_TAPS, {"uids": [u for p in late for u in uids_of[p]],
                                           "readers": list(entrances), "since": since}).all()
    for person_id, at in late.items():
        mine = [row for row in stored if person_of[row.uid] == person_id and row.at >= at]
        if not any(row.at > at for row in mine):
            continue
        rewind.people[person_id] = at
        rewind.steps += [Replay(_scan(row), entrances[row.reader_id], row.received_at, row.fresh) for row in mine]


def _plan_visits(conn: Connection, rewind: Rewind, taps: dict[str, datetime]) -> None:
    """A visitor's badge taps in and then out: a late tap re-orders the visit's entry and exit.

    Only the visit the badge is lent to now, and only while every later tap of the badge is that
    visit's: a badge already lent again to the next visitor keeps the earlier visit as it is.
    """
    visits = {row.badge_uid: row for row in conn.execute(_LENT_VISITS, {"uids": list(taps)})}
    if not visits:
        return
    entrances = {row.id: ReaderInfo(row.id, row.site, row.role, row.name) for row in conn.execute(_ENTRANCES)}
    stored = conn.execute(_ENTRANCE_TAPS, {"uids": list(visits), "readers": list(entrances),
                                        "since": min(taps[uid] for uid in visits)}).all()
    for uid, visit in visits.items():
        since = taps[uid]
        later = [row for row in stored if row.uid == uid and row.at >= since]
        if not any(row.at > since for row in later) or any(row.visit_id not in (None, visit.id) for row in later):
            continue
        changes: dict = {}
        state = visit.state
        if visit.left_at is not None and visit.left_at >= since:
            changes.update(left_at=None, state="in")
            if visit.badge_returned_at == visit.left_at:  # the exit tap gave the badge back
                changes["badge_returned_at"] = None
            state = "in"
        if visit.entered_at is not None and visit.entered_at >= since:
            changes.update(entered_at=None, state="expected")
            state = "expected"
        if visit.badge_returned_at is not None and "badge_returned_at" not in changes:
            continue  # given back at the desk: the visit is over whatever the taps say
        rewind.visits[uid] = VisitBefore(since, visit.id, state, visit.valid_from, visit.valid_until, changes)
        rewind.steps += [Replay(_scan(row), entrances[row.reader_id], row.received_at, row.fresh) for row in later]


def _scan(row) -> protocol.Scan:
    return protocol.Scan.model_construct(v=1, id=row.id, uid=row.uid, tech=row.tech, at=row.at)
