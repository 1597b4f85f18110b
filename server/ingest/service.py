"""What one scan, event or status means for the ledger, and the decision a fresh scan earns.

Works on the batch's `BatchLedger` and never commits: the worker commits once per batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gateway import protocol
from server.card_keys import keyfile
from server.config import Settings
from server.domain.alerts import cabinet_denial_severity, fold_key
from server.domain.cabinet import decide_cabinet, live_session, needs_erasure
from server.domain.door import DOOR_EVENTS
from server.domain.entrance import decide_entrance
from server.domain.facts import ItemTag, StaffCard, VisitorCard
from server.domain.loans import applicable, due_at
from server.domain.verdict import Verdict, deny
from server.ingest.directory import ReaderInfo
from server.ingest.ledger_view import BatchLedger
from server.ingest.rewind import Replay
from server.items.loan_rules import RuleBook
from server.readers import clock, degraded, door_watch, offline
from server.readers.models import Reader


@dataclass(frozen=True, slots=True)
class Answer:
    """The decision a fresh scan earned, sent once the batch is committed (if still fresh then)."""

    scan_id: str
    scan_at: datetime
    verdict: Verdict
    unlock_s: int | None

    def decision(self, now: datetime) -> protocol.Decision:
        return protocol.Decision(v=1, scan=self.scan_id, result=self.verdict.result, action=self.verdict.action,
                                 reason=self.verdict.reason, unlock_s=self.unlock_s, at=now)


class IngestService:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.zone = settings.zone
        self.idle = timedelta(seconds=settings.cabinet_session_idle_s)
        self.duplicate_window = timedelta(seconds=settings.entrance_duplicate_s)
        self.rules = RuleBook()
        self.card_keys = keyfile.load(settings.card_keys_file) if settings.card_keys_file else None

    # ------------------------------------------------------------ scans

    def handle_scan(self, ledger: BatchLedger, reader: ReaderInfo, scan: protocol.Scan,
                    received_at: datetime, replay: Replay | None = None) -> Answer | None:
        """Record a scan; the answer it earns, or None for a repeat or a stale scan.

        A `replay` is a stored scan applied again after a late one landed before it: what it
        implies is derived anew; it is not stored again and earns no answer.
        """
        if replay is None and not ledger.is_new_scan(scan.id):
            return None  # acked again, changes nothing
        fresh = replay.fresh if replay is not None else protocol.is_fresh(scan.at, received_at)
        row = {"id": scan.id, "reader_id": reader.id, "uid": scan.uid, "tech": scan.tech, "at": scan.at,
               "received_at": received_at, "fresh": fresh,
               "person_id": None, "item_id": None, "visit_id": None, "duplicate_of": None}
        copy = ledger.card_checks.refusal(reader, scan, replayed=replay is not None) if ledger.card_checks else None
        if copy is not None:
            verdict = self._copy(ledger, reader, scan, row, copy, replay is not None)
        elif reader.role == "entrance":
            verdict = self._entrance(ledger, reader, scan, row)
        else:
            verdict = self._cabinet(ledger, reader, scan, row)
        row.update(result=verdict.result, action=verdict.action, reason=verdict.reason)
        ledger.record_scan(row, replayed=replay is not None)
        if replay is not None or not row["fresh"]:
            return None
        return Answer(scan.id, scan.at, verdict, self.settings.unlock_s if verdict.result == "unlock" else None)

    def _copy(self, ledger: BatchLedger, reader: ReaderInfo, scan: protocol.Scan, row: dict, reason: str,
              replayed: bool) -> Verdict:
        """A card taken for a copy (server/domain/card_auth.py): refused before any other rule, and a
        high alert on the card's holder (or the reader), once, when the scan first arrives."""
        row["person_id"] = ledger.card_checks.person_of(scan.uid)
        if not replayed:
            ledger.raise_alert(_alert(reason, "high", scan.at, f"{reader.name}: {reason}", reader.id,
                                      person_id=row["person_id"], scan_id=scan.id))
        return deny(reason)

    def _entrance(self, ledger: BatchLedger, reader: ReaderInfo, scan: protocol.Scan, row: dict) -> Verdict:
        identity = ledger.identify(scan.uid)
        inside = isinstance(identity, StaffCard) and ledger.person_inside(identity.person_id)
        outcome = decide_entrance(identity, at=scan.at, person_inside=inside,
                                  prior=ledger.prior_tap(reader.id, scan.uid),
                                  duplicate_window=self.duplicate_window)
        row["duplicate_of"] = outcome.duplicate_of
        verdict = outcome.verdict
        if isinstance(identity, StaffCard):
            row["person_id"] = identity.person_id
        if isinstance(identity, VisitorCard):
            row["visit_id"] = identity.visit_id
        if outcome.duplicate_of is not None or verdict.denied:
            return verdict
        if isinstance(identity, StaffCard):
            ledger.staff_passed(identity.person_id, verdict.action, scan.at, reader.id, scan.id)
        elif isinstance(identity, VisitorCard) and identity.visit_id is not None:
            ledger.visitor_passed(scan.uid, identity.visit_id, verdict.action, scan.at, reader.id, scan.id)
        return verdict

    def _cabinet(self, ledger: BatchLedger, reader: ReaderInfo, scan: protocol.Scan, row: dict) -> Verdict:
        # Scans reach here in event-time order: a late one has rewound the cabinet (server/ingest/rewind.py).
        open_session = ledger.open_session(reader.id)
        last_read = ledger.last_read(reader.id)
        live = live_session(open_session, scan.at, self.idle)
        if open_session is not None and live is None:
            ledger.end_session(reader.id, open_session.last_scan_at + self.idle, "timeout")
        identity = ledger.identify(scan.uid)
        # At a cabinet a repeat counts as the same tap only if nothing else was read in between:
        # the tag stayed at the antenna. Otherwise it is somebody bringing the item back.
        still_there = last_read is not None and last_read[0] == scan.uid
        outcome = decide_cabinet(identity, cabinet_id=reader.id, session=live,
                                 today=scan.at.astimezone(self.zone).date(),
                                 training_valid_days=self.settings.training_valid_days, at=scan.at,
                                 prior=ledger.prior_tap(reader.id, scan.uid) if still_there else None,
                                 duplicate_window=self.duplicate_window,
                                 stocktake_open=ledger.stocktake_counts(reader.id, scan.at))
        verdict = self._granted(ledger, reader, identity, outcome.verdict, scan.at)
        row["duplicate_of"] = outcome.duplicate_of
        if isinstance(identity, StaffCard):
            row["person_id"] = identity.person_id
        if isinstance(identity, ItemTag):
            row["item_id"] = identity.item_id
        if outcome.touches_session and live is not None:
            ledger.touch_session(reader.id, scan.at)
        if outcome.duplicate_of is not None:
            return verdict
        if outcome.ends_session and live is not None:
            ledger.end_session(reader.id, scan.at, "next_card")
        if verdict.action == "session_open":
            assert isinstance(identity, StaffCard)
            ledger.start_session(reader.id, identity.person_id, scan.at, scan.id)
        elif verdict.action == "checkout":
            assert isinstance(identity, ItemTag) and live is not None
            rule, words = applicable(self.rules.for_kind(ledger.conn, identity.kind), ledger.item_rule(identity.item_id),
                                     identity.kind)
            ledger.check_out(identity.item_id, live.person_id, live.session_id, scan.at,
                             due_at(scan.at, rule, self.zone), scan.id, words,
                             purpose=identity.case_number if identity.kind == "folder" else None,
                             erasure="pending" if needs_erasure(identity.kind) else None)
            row["person_id"] = live.person_id
        elif verdict.action == "return":
            assert isinstance(identity, ItemTag) and live is not None
            ledger.give_back(identity.item_id, scan.at, live.person_id, scan.id)
            row["person_id"] = live.person_id
        elif verdict.denied:
            ledger.raise_alert(_alert("cabinet_denied", cabinet_denial_severity(verdict.reason or ""), scan.at,
                                      f"{reader.name}: {verdict.reason}", reader.id,
                                      reason=verdict.reason, person_id=row["person_id"],
                                      item_id=row["item_id"], scan_id=scan.id))
        return verdict

    def _granted(self, ledger: BatchLedger, reader: ReaderInfo, identity, verdict: Verdict, at: datetime) -> Verdict:
        """A key holder the cabinet would open for, held to the cabinet's grants (server/domain/grants.py)."""
        if verdict.action != "session_open" or not isinstance(identity, StaffCard):
            return verdict
        refused = ledger.grant_refusal(reader.id, identity.person_id, at, self.zone)
        return deny(refused) if refused else verdict

    def clocks_ahead(self, db: Session, stamped: list[tuple[ReaderInfo, datetime, datetime]], now: datetime) -> None:
        """Messages (reader, at, received) of a batch stamped after they arrived: a fast reader clock."""
        leads: dict[ReaderInfo, tuple[float, datetime]] = {}
        for reader, at, received_at in stamped:
            lead = (at - received_at).total_seconds()
            if lead > self.settings.clock_ahead_tolerance_s and lead > leads.get(reader, (0.0, at))[0]:
                leads[reader] = (lead, at)
        for reader, (lead, at) in leads.items():
            clock.seen_ahead(db, self.settings, reader_id=reader.id, name=reader.name, lead_s=lead, at=at, now=now)

    # ------------------------------------------------------------ events and status

    def handle_event(self, ledger: BatchLedger, reader: ReaderInfo, event: protocol.Event,
                     received_at: datetime, replay: Replay | None = None) -> None:
        """Record a door/tamper/exit/offline-unlock event (once); a replayed door closing only ends
        the session it ends."""
        if replay is None and not ledger.is_new_event(event.id):
            return
        door = reader.role == "cabinet" and event.type in DOOR_EVENTS and replay is None
        before = ledger.door_before(reader.id, event.at) if door and event.type == "door_closed" else None
        ledger.record_event({"id": event.id, "reader_id": reader.id, "type": event.type, "at": event.at,
                             "received_at": received_at, "scan_id": event.scan}, replayed=replay is not None)
        if event.type == "door_closed" and reader.role == "cabinet":
            session = ledger.open_session(reader.id)
            if session is not None and session.opened_at <= event.at:
                if live_session(session, event.at, self.idle) is None:  # it had already timed out
                    ledger.end_session(reader.id, session.last_scan_at + self.idle, "timeout")
                else:
                    ledger.end_session(reader.id, event.at, "door_closed")
        if door:
            self._door_event(ledger, reader, event, before, received_at)
        if event.type == "tamper" and replay is None:
            ledger.raise_alert(_alert("tamper", "high", event.at, f"{reader.name}: tamper", reader.id,
                                      event_id=event.id))

    def handle_status(self, db: Session, reader: ReaderInfo, status: protocol.Status, received_at: datetime, *,
                      retained: bool = False) -> None:
        """Keep what the reader last said of itself (online, version, queued) for the dashboard, and
        open or resolve its reader_offline alert (server/readers/offline.py) and, when it says what does not
        work, its reader_degraded alert (server/readers/degraded.py).

        A retained status replayed by the broker at (re)subscription is old news: it does not
        mean the reader was seen now.
        """
        was = db.execute(select(Reader.online, Reader.last_seen_at, Reader.degraded)
                         .where(Reader.id == reader.id)).first()
        was_online, last_seen_at, was_degraded = was if was is not None else (None, None, None)
        values: dict = {"online": status.online}
        if not retained:
            values["last_seen_at"] = received_at
        for field in ("at", "version", "queued"):
            if (value := getattr(status, field)) is not None:
                values["status_at" if field == "at" else field] = value
        db.execute(update(Reader).where(Reader.id == reader.id).values(**values))
        if status.at is not None and not retained:
            lead = (status.at - received_at).total_seconds()
            if lead > self.settings.clock_ahead_tolerance_s:
                clock.seen_ahead(db, self.settings, reader_id=reader.id, name=reader.name, lead_s=lead, at=status.at,
                                 now=received_at)
            else:
                clock.seen_in_step(db, self.settings, reader_id=reader.id, lead_s=lead, now=received_at)
        if status.online:
            offline.came_back(db, self.settings, reader_id=reader.id, name=reader.name, was_online=was_online,
                              now=received_at)
            if status.degraded is not None:
                degraded.reported(db, self.settings, reader_id=reader.id, name=reader.name, role=reader.role,
                                  degraded=status.degraded, was=was_degraded, now=received_at)
        else:
            offline.went_offline(db, self.settings, reader_id=reader.id, name=reader.name, role=reader.role,
                                 was_online=was_online, last_seen_at=last_seen_at, now=received_at)

    def _door_event(self, ledger: BatchLedger, reader: ReaderInfo, event: protocol.Event,
                    before: tuple[str, str, datetime] | None, received_at: datetime) -> None:
        """A cabinet door opened (forced, unless an unlock explains it) or closed (how long it was open)."""
        if event.type == "door_open":
            unlocks = ledger.unlocks_since(reader.id, door_watch.unlocks_from(event.at, self.settings))
            door_watch.door_opened(ledger.session, self.settings, reader_id=reader.id, reader_name=reader.name,
                                   event_id=event.id, opened_at=event.at, unlocks=unlocks, now=received_at)
            after = ledger.door_after(reader.id, event.at)
            if after is not None and after[1] == "door_closed":  # its closing came first: was it open too long?
                door_watch.door_closed(ledger.session, self.settings, reader_id=reader.id, reader_name=reader.name,
                                       opening=(event.id, event.type, event.at), closed_at=after[2], now=received_at)
        else:
            door_watch.door_closed(ledger.session, self.settings, reader_id=reader.id, reader_name=reader.name,
                                   opening=before, closed_at=event.at, now=received_at)

    def doors_explained(self, ledger: BatchLedger, now: datetime) -> None:
        """The batch's unlocks take back the door_forced occurrences they explain (arrived after them)."""
        door_watch.explained_late(ledger.session, self.settings, ledger.unlocks_applied, now)


def _alert(type_: str, severity: str, at: datetime, subject: str, reader_id: str, *, reason: str | None = None,
           person_id: int | None = None, item_id: int | None = None, scan_id: str | None = None,
           event_id: str | None = None) -> dict:
    """An alert row for server/alerts/fold.py: its subject is for the log (never a card number); pages
    render from the fields."""
    return {"type": type_, "severity": severity, "state": "open", "opened_at": at, "subject": subject,
            "reason": reason, "reader_id": reader_id, "person_id": person_id, "item_id": item_id,
            "scan_id": scan_id, "event_id": event_id,
            "fold_key": fold_key(type_, reason=reason, person_id=person_id, item_id=item_id, reader_id=reader_id)}
