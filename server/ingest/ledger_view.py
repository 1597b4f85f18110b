"""The slice of the ledger one batch of reader messages touches.

Loaded with a handful of set-based queries, changed in memory while the batch's scans are
decided in event-time order, and written back in bulk: a burst of 500 scans costs about as
many round trips as one. It is the ingest's repository; it never commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from server.alerts import fold
from server.alerts.models import Alert, AlertOccurrence
from server.bulk import among, insert_rows
from server.checkouts.models import CabinetSession, Checkout
from server.domain.door import DOOR_EVENTS, UNLOCK_EVENTS
from server.domain.facts import Identity, ItemTag, OpenSession, PriorTap, StaffCard, UnknownUid, VisitorCard
from server.domain.loans import LoanRule
from server.grants.facts import GrantBook
from server.ingest.rewind import Rewind
from server.items.models import Item
from server.ledger.models import ReaderEvent, ScanRecord
from server.lost.models import LostItem
from server.people.models import Card, Person, VisitorBadge
from server.readers.models import Reader
from server.stocktakes.models import Stocktake
from server.visits import inside
from server.visits.models import PresenceEvent, Visit

# Built once: building a statement costs more than running it on SQLite.
_KNOWN_SCANS = select(ScanRecord.id).where(among(ScanRecord.id, "ids"))
_KNOWN_EVENTS = select(ReaderEvent.id).where(among(ReaderEvent.id, "ids"))
# With what the card checks need (server/ingest/card_check.py): the same rows, one statement.
_STAFF = (select(Card.uid, Person.id, Person.active, Card.active, Person.key_holder, Person.training_on,
                 Card.auth_kind, Person.card_auth_required)
          .join(Person, Person.id == Card.person_id).where(among(Card.uid, "uids")))
_BADGES = select(VisitorBadge.uid, VisitorBadge.active).where(among(VisitorBadge.uid, "uids"))
_ITEMS = (select(Item.tag_uid, Item.id, Item.kind, Item.cabinet_id, Item.encrypted, Item.status, Item.screen_locked,
                 Item.case_number, Item.due_time, Item.loan_minutes).where(among(Item.tag_uid, "uids"))
          # A re-issued tag: the item in use comes last and is the one the tag means.
          .order_by(Item.status != "retired"))
_LOANS = select(Checkout.id, Checkout.item_id).where(among(Checkout.item_id, "ids"), Checkout.returned_at.is_(None))
# The visit each badge is lent to now: until the badge is back at reception.
_VISITS = (select(Visit.badge_uid, Visit.id, Visit.state, Visit.valid_from, Visit.valid_until)
           .where(among(Visit.badge_uid, "uids"), Visit.badge_returned_at.is_(None)).order_by(Visit.id))
# Each person's newest entry or exit: one step down (person_id, at) per person, driven from `people`,
# however many entries and exits the years have kept (filtering every row of the person on "at = its
# max" cost PostgreSQL 18 ms a tap with a year loaded).
_INSIDE = (select(Person.id, select(PresenceEvent.kind).where(PresenceEvent.person_id == Person.id)
                  .order_by(PresenceEvent.at.desc(), PresenceEvent.id.desc()).limit(1).scalar_subquery())
           .where(among(Person.id, "ids")))
# Each card's newest counted tap per reader since `since`, leaving out the stretch a rewind applies again:
# one row per (reader, card). Sending every counted tap of the window instead, a key holder tapping one
# cabinet 100 times a second made each tap load the 500 before it (3 → 7 ms of CPU a tap over 5 s).
_counted = (among(ScanRecord.uid, "uids"), among(ScanRecord.reader_id, "readers"),
            ScanRecord.at >= bindparam("since"), ScanRecord.duplicate_of.is_(None),
            ~among(ScanRecord.id, "replayed"))
_PRIOR_TAPS = {
    # SQLite takes the other columns from the row with the max (its documented bare-column rule).
    "sqlite": select(ScanRecord.reader_id, ScanRecord.uid, ScanRecord.id, func.max(ScanRecord.at),
                     ScanRecord.result, ScanRecord.action, ScanRecord.reason)
    .where(*_counted).group_by(ScanRecord.reader_id, ScanRecord.uid),
    "postgresql": select(ScanRecord.reader_id, ScanRecord.uid, ScanRecord.id, ScanRecord.at, ScanRecord.result,
                         ScanRecord.action, ScanRecord.reason)
    .where(*_counted).distinct(ScanRecord.reader_id, ScanRecord.uid)
    .order_by(ScanRecord.reader_id, ScanRecord.uid, ScanRecord.at.desc(), ScanRecord.id.desc()),
}
# One reader at a time: "the newest row" is one step down the (reader_id, at) index.
_LAST_READ = (select(ScanRecord.uid, ScanRecord.at)
              .where(ScanRecord.reader_id == bindparam("reader"), ScanRecord.at < bindparam("before"))
              .order_by(ScanRecord.at.desc(), ScanRecord.id.desc()).limit(1))
_SESSIONS = (select(CabinetSession.cabinet_id, CabinetSession.id, CabinetSession.person_id, CabinetSession.opened_at,
                    CabinetSession.last_scan_at)
             .where(among(CabinetSession.cabinet_id, "cabinets"), CabinetSession.closed_at.is_(None))
             .order_by(CabinetSession.opened_at))
# Cabinets being counted: their item taps are stock-take taps from `started_at` on.
_STOCKTAKES = (select(Stocktake.cabinet_id, Stocktake.started_at)
               .where(among(Stocktake.cabinet_id, "cabinets"), Stocktake.state == "open"))
# A stretch applied again (server/ingest/rewind.py): what it made before, and the state before it.
_SESSIONS_FROM = select(CabinetSession.id, CabinetSession.scan_id).where(
    CabinetSession.cabinet_id == bindparam("cabinet"), CabinetSession.opened_at >= bindparam("since"))
_CHECKOUT_FACTS = select(Checkout.id, Checkout.item_id, Checkout.out_scan_id)
_TAKEN_IN_STRETCH = _CHECKOUT_FACTS.where(among(Checkout.out_scan_id, "ids"))
_RETURNED_IN_STRETCH = _CHECKOUT_FACTS.where(among(Checkout.return_scan_id, "ids"))
_INSIDE_BEFORE = (select(PresenceEvent.kind)
                  .where(PresenceEvent.person_id == bindparam("person"), PresenceEvent.at < bindparam("before"))
                  .order_by(PresenceEvent.at.desc(), PresenceEvent.id.desc()).limit(1))
# A replayed scan's denial: its occurrence on a (folded) alert, whatever the alert's state.
_DENIALS = (select(AlertOccurrence.scan_id, AlertOccurrence.id, Alert.id, Alert.state, AlertOccurrence.reason)
            .join(Alert, Alert.id == AlertOccurrence.alert_id)
            .where(Alert.type == "cabinet_denied", among(AlertOccurrence.scan_id, "ids")))
_NEVER = datetime.max.replace(tzinfo=UTC)
_NEW_SESSION = insert(CabinetSession).returning(CabinetSession.id)
_RETURN = (update(Checkout.__table__)
           .where(Checkout.__table__.c.id == bindparam("checkout_id"))
           .values(returned_at=bindparam("r_at"), returned_by_id=bindparam("r_by"),
                   return_scan_id=bindparam("r_scan")))
_REMADE_FIELDS = ("id", "person_id", "session_id", "out_at", "due_at", "loan_rule", "purpose", "returned_at",
                  "returned_by_id", "return_scan_id")
_REMAKE = (update(Checkout.__table__).where(Checkout.__table__.c.id == bindparam("c_id"))
           .values(**{f: bindparam(f"c_{f}") for f in _REMADE_FIELDS if f != "id"}))
REVISED_BY = "mamori"  # a replayed stretch, not a person, changed it
_SESSION_CHANGE = (update(CabinetSession.__table__).where(CabinetSession.__table__.c.id == bindparam("session_id"))
                   .values(last_scan_at=bindparam("s_last"), closed_at=bindparam("s_closed"),
                           closed_reason=bindparam("s_reason")))
# Cabinet doors: what may explain an opening (door_forced), and the door's state before a closing.
_UNLOCK_SCANS = select(ScanRecord.reader_id, ScanRecord.at).where(
    among(ScanRecord.reader_id, "cabinets"), ScanRecord.at >= bindparam("since"),
    ScanRecord.result == "unlock", ScanRecord.fresh.is_(True))
_UNLOCK_EVENTS = select(ReaderEvent.reader_id, ReaderEvent.at).where(
    among(ReaderEvent.reader_id, "cabinets"), ReaderEvent.at >= bindparam("since"),
    ReaderEvent.type.in_(sorted(UNLOCK_EVENTS)))
_REMOTE_UNLOCKS = select(Reader.id, Reader.remote_unlock_at).where(
    among(Reader.id, "cabinets"), Reader.remote_unlock_at.is_not(None))
_DOOR_EVENTS_OF = (select(ReaderEvent.id, ReaderEvent.type, ReaderEvent.at)
                   .where(ReaderEvent.reader_id == bindparam("reader"), ReaderEvent.type.in_(DOOR_EVENTS)))
_DOOR_BEFORE = _DOOR_EVENTS_OF.where(ReaderEvent.at <= bindparam("at")).order_by(ReaderEvent.at.desc()).limit(1)
_DOOR_AFTER = _DOOR_EVENTS_OF.where(ReaderEvent.at > bindparam("at")).order_by(ReaderEvent.at).limit(1)


@dataclass(slots=True)
class _Loan:
    checkout_id: int | None  # None while the checkout is still only in this batch
    row: dict[str, Any] | None = None  # the pending row, when checkout_id is None


@dataclass(slots=True)
class _Session:
    id: int
    person_id: int
    opened_at: datetime
    last_scan_at: datetime
    closed_at: datetime | None = None
    closed_reason: str | None = None

    def as_open(self) -> OpenSession:
        return OpenSession(self.id, self.person_id, self.opened_at, self.last_scan_at)


class BatchLedger:
    def __init__(self, db: Session):
        self.conn = db.connection()
        self._known_scans: set[str] = set()
        self._known_events: set[str] = set()
        self._staff: dict[str, tuple[int, bool, bool, bool, Any]] = {}
        self._badges: dict[str, bool] = {}
        self._items: dict[str, tuple[int, str, str, bool, str, bool, str | None]] = {}
        self.cards: dict[str, tuple[str | None, int, bool]] = {}  # uid -> (auth kind, person, person requires)
        self._loans: dict[int, _Loan] = {}
        self._item_rules: dict[int, LoanRule] = {}  # items with a loan rule of their own
        self._visits: dict[str, tuple[int, str, datetime | None, datetime | None]] = {}
        self._inside: dict[int, bool] = {}
        self._prior: dict[tuple[str, str], PriorTap] = {}
        self._last_read: dict[str, tuple[str, datetime]] = {}  # cabinet -> newest (uid, at)
        self._sessions: dict[str, _Session] = {}
        self._stocktakes: dict[str, datetime] = {}  # cabinet -> when its open stock-take started
        self._dirty_sessions: dict[int, _Session] = {}
        self._scans: list[dict] = []
        self._presence: list[dict] = []
        self._checkouts: list[dict] = []
        self._returns: list[dict] = []
        self._visit_changes: dict[int, dict] = {}
        self._alerts: list[dict] = []
        self._events: list[dict] = []
        self.arrivals: list[tuple[int, datetime]] = []  # (visit id, entered at): their hosts are told
        self.session = db  # notices made with the batch (door alerts) go in the same transaction
        self._cabinets: set[str] = set()
        self._unlocks: dict[str, list[datetime]] = {}  # cabinet -> unlocks this batch applied so far
        self._stored_unlocks: dict[str, list[datetime]] | None = None  # from the database, once needed
        self._stored_unlocks_from: datetime | None = None
        self._door_events: dict[str, list[tuple[datetime, str, str]]] = {}  # reader -> this batch's (at, type, id)
        self._now: datetime | None = None
        # A stretch applied again: the rows it made before (by the scan that made them), to keep or drop.
        self._old_sessions: dict[str, int] = {}  # opening scan id -> session id
        self._old_checkouts: dict[str, int] = {}  # out scan id -> checkout id
        self._unreturned: set[int] = set()  # returned inside the stretch: open again unless the return recurs
        self._replayed_presence: list[str] = []  # scan ids whose entries and exits are made again
        # scan id -> (occurrence id, alert id, alert state, reason) of a replayed scan's denial
        self._denial_alerts: dict[str, tuple[int, int, str, str]] = {}
        self._denials_kept: set[str] = set()
        self._remade: list[dict] = []  # checkouts a replay made again, with their old ids
        # Grants (server/grants/facts.py): read once per batch, at its first staff tap on a cabinet.
        self._grant_scope: tuple[list[str], list[int], list[datetime]] = ([], [], [])
        self._grants: GrantBook | None = None
        self.card_checks = None  # the batch's server/ingest/card_check.py, set by the worker

    # ------------------------------------------------------------ loading

    @staticmethod
    def known(db: Session, scan_ids: list[str], event_ids: list[str]) -> tuple[set[str], set[str]]:
        """Which of these scans and events are already recorded (a reader re-sent them)."""
        conn = db.connection()
        rows = BatchLedger._rows_of
        return ({r[0] for r in rows(conn, _KNOWN_SCANS, "ids", scan_ids)},
                {r[0] for r in rows(conn, _KNOWN_EVENTS, "ids", event_ids)})

    @classmethod
    def load(cls, db: Session, scans: list[tuple[str, str, str, datetime]], cabinets: set[str], since: datetime,
             known: tuple[set[str], set[str]], rewind: Rewind, now: datetime) -> BatchLedger:
        """`scans` as (scan id, reader id, uid, at), the batch's and the replayed ones; `since` bounds
        how far back a double tap can lie; `rewind` says which stretches are applied again: their
        cabinets and people are loaded as they stood when the stretch began."""
        view = cls(db)
        view._now = now
        uids = list({uid for _id, _reader, uid, _at in scans})
        run = view._rows
        view._known_scans, view._known_events = set(known[0]), set(known[1])
        for uid, *facts, auth_kind, auth_required in run(_STAFF, "uids", uids):
            view._staff[uid] = tuple(facts)
            view.cards[uid] = (auth_kind, facts[0], auth_required)
        # A uid is a staff card, else a badge, else an item (`identify`): each asked for only if not yet found.
        rest = [uid for uid in uids if uid not in view._staff]
        view._badges = dict(run(_BADGES, "uids", rest))
        rest = [uid for uid in rest if uid not in view._badges]
        for uid, *facts, due_time, minutes in run(_ITEMS, "uids", rest):
            view._items[uid] = tuple(facts)
            if due_time is not None or minutes is not None:
                view._item_rules[facts[0]] = LoanRule(due_time=due_time, minutes=minutes)
        view._loans = {item_id: _Loan(checkout_id) for checkout_id, item_id in
                       run(_LOANS, "ids", [facts[0] for facts in view._items.values()])}
        # Visits and who is inside matter only at the entrance.
        at_entrance = {uid for _id, reader, uid, _at in scans if reader not in cabinets}
        for badge, *visit in run(_VISITS, "uids", [b for b in view._badges if b in at_entrance]):
            view._visits.setdefault(badge, tuple(visit))
        view._inside = {person_id: kind == "entry" for person_id, kind in
                        run(_INSIDE, "ids", [facts[0] for uid, facts in view._staff.items() if uid in at_entrance])}
        replayed = rewind.scan_ids
        readers = list({reader for _id, reader, _uid, _at in scans})
        prior_taps = _PRIOR_TAPS[view.conn.dialect.name]
        for reader, uid, scan_id, at, result, action, reason in run(prior_taps, "uids", uids, readers=readers,
                                                                    since=since, replayed=list(replayed)):
            view._prior[(reader, uid)] = PriorTap(scan_id, at, result, action, reason)
        for cabinet in cabinets:
            if cabinet in rewind.newest_reads:  # the plan read it already
                last = rewind.newest_reads[cabinet]
            else:
                found = view.conn.execute(_LAST_READ, {"reader": cabinet,
                                                       "before": rewind.cabinets.get(cabinet, _NEVER)}).first()
                last = (found.uid, found.at) if found is not None else None
            if last is not None:
                view._last_read[cabinet] = last
        for cabinet, *facts in run(_SESSIONS, "cabinets", list(cabinets)):
            if facts[2] < rewind.cabinets.get(cabinet, _NEVER):
                view._sessions[cabinet] = _Session(*facts)
        view._stocktakes = dict(run(_STOCKTAKES, "cabinets", list(cabinets)))
        view._cabinets = set(cabinets)
        at_cabinets = [(uid, at) for _id, reader, uid, at in scans if reader in cabinets and uid in view._staff]
        view._grant_scope = (sorted(cabinets), sorted({view._staff[uid][0] for uid, _at in at_cabinets}),
                             [at for _uid, at in at_cabinets])
        if rewind.steps:
            view._rewind(rewind)
        return view

    def _rewind(self, rewind: Rewind) -> None:
        """Put the rewound cabinets and people back as they stood when their stretch began, and
        remember the rows the stretch made, so those that come out the same keep their ids."""
        replayed_ids = rewind.scan_ids
        replayed = list(replayed_ids)
        for cabinet, since in rewind.cabinets.items():
            for session_id, scan_id in self.conn.execute(_SESSIONS_FROM, {"cabinet": cabinet, "since": since}):
                self._old_sessions[scan_id] = session_id
        touched = {row.id: row for statement in (_TAKEN_IN_STRETCH, _RETURNED_IN_STRETCH)
                   for row in self._rows(statement, "ids", replayed)}
        for checkout_id, item_id, out_scan in touched.values():
            if out_scan in replayed_ids:
                self._old_checkouts[out_scan] = checkout_id
                if (loan := self._loans.get(item_id)) is not None and loan.checkout_id == checkout_id:
                    del self._loans[item_id]
            else:  # taken out before the stretch and returned in it: out again until the return is replayed
                self._loans[item_id] = _Loan(checkout_id)
                self._unreturned.add(checkout_id)
        for person_id, since in rewind.people.items():
            kind = self.conn.execute(_INSIDE_BEFORE, {"person": person_id, "before": since}).scalar()
            self._inside[person_id] = kind == "entry"
        for badge, visit in rewind.visits.items():
            self._visits[badge] = (visit.visit_id, visit.state, visit.valid_from, visit.valid_until)
            self._visit_changes[visit.visit_id] = dict(visit.changes)
        self._replayed_presence = replayed
        self._denial_alerts = {scan_id: tuple(facts) for scan_id, *facts in self._rows(_DENIALS, "ids", replayed)}

    def _rows(self, statement, name: str, values: list, **params) -> list:
        return self._rows_of(self.conn, statement, name, values, **params)

    @staticmethod
    def _rows_of(conn, statement, name: str, values: list, **params) -> list:
        """Run `statement` with `values` bound to the IN list `name`, in slices the drivers accept."""
        rows: list = []
        for start in range(0, len(values), 500):
            chunk = values[start:start + 500]
            rows += conn.execute(statement, {name: chunk, **params}).all()
        return rows

    # ------------------------------------------------------------ reading

    def is_new_scan(self, scan_id: str) -> bool:
        return scan_id not in self._known_scans

    def is_new_event(self, event_id: str) -> bool:
        return event_id not in self._known_events

    def identify(self, uid: str) -> Identity:
        if (staff := self._staff.get(uid)) is not None:
            return StaffCard(*staff)
        if (badge_active := self._badges.get(uid)) is not None:
            return VisitorCard(badge_active, *self._visits.get(uid, (None, None, None, None)))
        if (item := self._items.get(uid)) is not None:
            item_id, kind, cabinet_id, encrypted, status, screen_locked, case_number = item
            return ItemTag(item_id, kind, cabinet_id, encrypted, status, out=item_id in self._loans,
                           screen_locked=screen_locked, case_number=case_number)
        return UnknownUid()

    def item_rule(self, item_id: int) -> LoanRule | None:
        return self._item_rules.get(item_id)

    def person_inside(self, person_id: int) -> bool:
        return self._inside.get(person_id, False)

    def prior_tap(self, reader_id: str, uid: str) -> PriorTap | None:
        """The last counted tap of `uid` on this reader (since shortly before the batch)."""
        return self._prior.get((reader_id, uid))

    def last_read(self, reader_id: str) -> tuple[str, datetime] | None:
        """The uid and time of a cabinet reader's newest scan."""
        return self._last_read.get(reader_id)

    def stocktake_counts(self, cabinet_id: str, at: datetime) -> bool:
        """Whether a tap at `at` on this cabinet belongs to its open stock-take."""
        started_at = self._stocktakes.get(cabinet_id)
        return started_at is not None and at >= started_at

    def grant_refusal(self, cabinet_id: str, person_id: int, at: datetime, zone) -> str | None:
        """Why the cabinet's grants keep this person out at `at` (no_grant, outside_hours), or None."""
        if self._grants is None:
            self._grants = GrantBook.load(self.conn, *self._grant_scope, zone)
        return self._grants.refusal(cabinet_id, person_id, at)

    def open_session(self, cabinet_id: str) -> OpenSession | None:
        session = self._sessions.get(cabinet_id)
        return session.as_open() if session else None

    # ------------------------------------------------------------ changing

    def record_scan(self, row: dict, *, replayed: bool = False) -> None:
        """A scan applied: stored, unless it is a stored one applied again."""
        if not replayed:
            self._known_scans.add(row["id"])
            self._scans.append(row)
        reader, uid, at = row["reader_id"], row["uid"], row["at"]
        # A scan older than what is already known changes neither "newest read" nor "last tap".
        last = self._last_read.get(reader)
        if last is None or at >= last[1]:
            self._last_read[reader] = (uid, at)
        prior = self._prior.get((reader, uid))
        if row["duplicate_of"] is None and (prior is None or at >= prior.at):
            self._prior[(reader, uid)] = PriorTap(row["id"], at, row["result"], row["action"], row["reason"])
        if row["result"] == "unlock" and row["fresh"]:  # a stale scan got no decision: it opened nothing
            self._unlocks.setdefault(reader, []).append(at)

    def record_event(self, row: dict, *, replayed: bool = False) -> None:
        if not replayed:
            self._known_events.add(row["id"])
            self._events.append(row)
        if row["type"] in UNLOCK_EVENTS:
            self._unlocks.setdefault(row["reader_id"], []).append(row["at"])
        elif row["type"] in DOOR_EVENTS:
            self._door_events.setdefault(row["reader_id"], []).append((row["at"], row["type"], row["id"]))

    def staff_passed(self, person_id: int, kind: str, at: datetime, reader_id: str, scan_id: str) -> None:
        self._inside[person_id] = kind == "entry"
        self._presence.append({"kind": kind, "at": at, "person_id": person_id, "visit_id": None,
                               "reader_id": reader_id, "scan_id": scan_id})

    def visitor_passed(self, badge_uid: str, visit_id: int, kind: str, at: datetime, reader_id: str,
                       scan_id: str) -> None:
        change = self._visit_changes.setdefault(visit_id, {})
        if kind == "entry":
            _id, _state, *window = self._visits[badge_uid]
            self._visits[badge_uid] = (visit_id, "in", *window)
            change.update(state="in", entered_at=at)
            self.arrivals.append((visit_id, at))
        else:  # the visit ends and its badge goes back to the pool
            self._visits.pop(badge_uid, None)
            change.update(state="out", left_at=at, badge_returned_at=at)
        self._presence.append({"kind": kind, "at": at, "person_id": None, "visit_id": visit_id,
                               "reader_id": reader_id, "scan_id": scan_id})

    def start_session(self, cabinet_id: str, person_id: int, at: datetime, scan_id: str) -> None:
        if (session_id := self._old_sessions.pop(scan_id, None)) is not None:  # made again by a replay
            session = self._sessions[cabinet_id] = _Session(session_id, person_id, at, at)
            self._dirty_sessions[session_id] = session
            return
        # Inserted at once: the checkouts of this session need its id.
        session_id = self.conn.execute(_NEW_SESSION, {
            "cabinet_id": cabinet_id, "person_id": person_id, "opened_at": at, "last_scan_at": at,
            "scan_id": scan_id}).scalar_one()
        self._sessions[cabinet_id] = _Session(session_id, person_id, at, at)

    def end_session(self, cabinet_id: str, at: datetime, reason: str) -> None:
        session = self._sessions.pop(cabinet_id, None)
        if session is not None:
            session.closed_at, session.closed_reason = at, reason
            self._dirty_sessions[session.id] = session

    def touch_session(self, cabinet_id: str, at: datetime) -> None:
        session = self._sessions[cabinet_id]
        session.last_scan_at = max(session.last_scan_at, at)
        self._dirty_sessions[session.id] = session

    def check_out(self, item_id: int, person_id: int, session_id: int, at: datetime, due: datetime,
                  scan_id: str, rule: str, *, purpose: str | None, erasure: str | None) -> None:
        row = {"item_id": item_id, "person_id": person_id, "session_id": session_id, "out_at": at, "due_at": due,
               "loan_rule": rule, "purpose": purpose, "erasure": erasure, "erased_at": None, "erased_by": None,
               "returned_at": None, "returned_by_id": None, "out_scan_id": scan_id, "return_scan_id": None}
        if (checkout_id := self._old_checkouts.pop(scan_id, None)) is not None:  # made again by a replay
            self._remade.append({"id": checkout_id, **row})
            self._loans[item_id] = _Loan(None, self._remade[-1])
            return
        self._checkouts.append(row)
        self._loans[item_id] = _Loan(None, row)

    def give_back(self, item_id: int, at: datetime, by: int, scan_id: str) -> None:
        loan = self._loans.pop(item_id)
        if loan.row is not None:
            loan.row.update(returned_at=at, returned_by_id=by, return_scan_id=scan_id)
        else:
            self._returns.append({"checkout_id": loan.checkout_id, "r_at": at, "r_by": by, "r_scan": scan_id})

    def raise_alert(self, row: dict) -> None:
        scan_id = row.get("scan_id")
        known = self._denial_alerts.get(scan_id)
        if row["type"] == "cabinet_denied" and known is not None and known[3] == row["reason"]:
            self._denials_kept.add(scan_id)  # a replayed denial already counted on its alert
            return
        self._alerts.append(row)

    # ------------------------------------------------------------ writing

    def write(self) -> None:
        """Send every change of the batch to the database (the caller commits)."""
        conn = self.conn
        passed: set[int] = set()  # staff whose taps changed: their row of the stored "who is in" follows
        if self._replayed_presence:
            for start in range(0, len(self._replayed_presence), 500):
                passed.update(conn.scalars(delete(PresenceEvent).where(
                    PresenceEvent.scan_id.in_(self._replayed_presence[start:start + 500]))
                    .returning(PresenceEvent.person_id)))
        for model, rows in ((ScanRecord, self._scans), (ReaderEvent, self._events),
                            (PresenceEvent, self._presence)):
            insert_rows(conn, model.__table__, rows)
        passed.update(row["person_id"] for row in self._presence)
        passed.discard(None)
        if passed:
            inside.refresh(conn, passed)
        fold.write(conn, self._alerts)  # a repeat of an open alert counts it up
        self._write_checkouts()
        for visit_id, change in self._visit_changes.items():
            conn.execute(update(Visit.__table__).where(Visit.__table__.c.id == visit_id).values(**change))
        if self._dirty_sessions:
            conn.execute(_SESSION_CHANGE, [
                {"session_id": s.id, "s_last": s.last_scan_at, "s_closed": s.closed_at, "s_reason": s.closed_reason}
                for s in self._dirty_sessions.values()])
        if self._old_sessions:  # sessions a replay did not make again: their checkouts have moved or gone
            conn.execute(delete(CabinetSession).where(CabinetSession.id.in_(list(self._old_sessions.values()))))
        # A denial a replay no longer makes (the tap was in a session after all) leaves its alert, unless
        # the alert is resolved: then it is history as it was.
        stale = {occurrence: alert for scan_id, (occurrence, alert, state, _reason) in self._denial_alerts.items()
                 if scan_id not in self._denials_kept and state != "resolved"}
        fold.withdraw(conn, stale, self._now, REVISED_BY)

    def _write_checkouts(self) -> None:
        """New checkouts, returns, and a replay's remade, re-opened and vanished checkouts.

        At most one checkout per item may be open at any moment (the database's promise), so
        everything that closes is written before anything that opens.
        """
        conn, table = self.conn, Checkout.__table__
        remade = {row["id"]: row for row in self._remade}
        if remade:  # closed for a moment; written with their final values below
            conn.execute(update(table).where(table.c.id.in_(list(remade)), table.c.returned_at.is_(None))
                         .values(returned_at=table.c.out_at))
        if self._old_checkouts:  # taps a replay no longer reads as a take-out
            gone = list(self._old_checkouts.values())
            conn.execute(update(Alert).where(Alert.checkout_id.in_(gone)).values(
                checkout_id=None, state="resolved", resolved_at=self._now, resolved_by=REVISED_BY))
            conn.execute(update(LostItem).where(LostItem.checkout_id.in_(gone)).values(checkout_id=None))
            conn.execute(delete(Checkout).where(Checkout.id.in_(gone)))
        if self._returns:
            conn.execute(_RETURN, self._returns)
        returned_again = {r["checkout_id"] for r in self._returns}
        # The person's erasure confirmation on a remade checkout is theirs: kept as it is.
        closing = [r for r in remade.values() if r["returned_at"] is not None]
        opening = [r for r in remade.values() if r["returned_at"] is None]
        for rows in (closing, opening):
            if rows:
                conn.execute(_REMAKE, [{f"c_{k}": v for k, v in row.items() if k in _REMADE_FIELDS} for row in rows])
        if reopened := [i for i in self._unreturned if i not in returned_again]:
            conn.execute(update(table).where(table.c.id.in_(reopened)).values(
                returned_at=None, returned_by_id=None, return_scan_id=None))
        insert_rows(conn, table, self._checkouts)

    # ------------------------------------------------------------ cabinet doors

    def unlocks_since(self, cabinet_id: str, since: datetime) -> list[datetime]:
        """Every unlock of this cabinet from `since` on: fresh granted taps, offline unlocks, exit
        buttons (stored, or applied earlier in this batch) and the last remote unlock.

        Read from the database once per batch, for all its cabinets, the first time a door opens
        (a batch of taps alone pays nothing); the batch's own unlocks are added as they are applied
        in event-time order, so a replayed burst is judged as it was live.
        """
        if self._stored_unlocks is None or self._stored_unlocks_from is None or since < self._stored_unlocks_from:
            stored: dict[str, list[datetime]] = {}
            cabinets = sorted(self._cabinets | {cabinet_id})
            for statement in (_UNLOCK_SCANS, _UNLOCK_EVENTS):
                for reader, at in self._rows(statement, "cabinets", cabinets, since=since):
                    stored.setdefault(reader, []).append(at)
            for reader, at in self._rows(_REMOTE_UNLOCKS, "cabinets", cabinets):
                stored.setdefault(reader, []).append(at)
            self._stored_unlocks, self._stored_unlocks_from = stored, since
        return self._stored_unlocks.get(cabinet_id, []) + self._unlocks.get(cabinet_id, [])

    @property
    def unlocks_applied(self) -> dict[str, list[datetime]]:
        """cabinet -> the unlocks this batch applied (its own and a replayed stretch's)."""
        return self._unlocks

    def door_before(self, reader_id: str, at: datetime) -> tuple[str, str, datetime] | None:
        """The newest door event (id, type, at) of this reader at or before `at`, stored or in this batch."""
        return self._door_next(_DOOR_BEFORE, reader_id, at, later=False)

    def door_after(self, reader_id: str, at: datetime) -> tuple[str, str, datetime] | None:
        """The oldest door event (id, type, at) of this reader after `at`, stored or in this batch: an
        opening that arrives after its closing is judged against it."""
        return self._door_next(_DOOR_AFTER, reader_id, at, later=True)

    def _door_next(self, statement, reader_id: str, at: datetime, *, later: bool) -> tuple[str, str, datetime] | None:
        stored = self.conn.execute(statement, {"reader": reader_id, "at": at}).first()
        found = (stored.id, stored.type, stored.at) if stored is not None else None
        for event_at, event_type, event_id in self._door_events.get(reader_id, []):
            on_side = event_at > at if later else event_at <= at
            nearer = found is None or (event_at < found[2] if later else event_at >= found[2])
            if on_side and nearer:
                found = (event_id, event_type, event_at)
        return found
