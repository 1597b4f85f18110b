"""Turns one parsed reader message into ledger rows and, for a fresh scan, a decision.

Runs inside the caller's unit of work and never commits: the worker commits once per batch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from gateway import protocol
from server.alerts.models import Alert
from server.checkouts.models import CabinetSession, Checkout
from server.config import Settings
from server.domain.cabinet import decide_cabinet, live_session
from server.domain.alerts import cabinet_denial_severity
from server.domain.entrance import decide_entrance
from server.domain.facts import Identity, ItemTag, StaffCard, VisitorCard
from server.domain.loans import due_at
from server.domain.verdict import Verdict
from server.ingest import lookup
from server.ledger.models import ReaderEvent, ScanRecord
from server.readers.models import Reader
from server.visits.models import PresenceEvent, Visit

log = logging.getLogger("mamori.ingest")


@dataclass(frozen=True, slots=True)
class ScanResult:
    duplicate: bool  # the scan id was already in the ledger: ack again, change nothing
    decision: protocol.Decision | None  # None for duplicates and stale scans


class IngestService:
    """What a scan, an event or a status means for the ledger."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.zone = settings.zone
        self.idle = timedelta(seconds=settings.cabinet_session_idle_s)
        self.duplicate_window = timedelta(seconds=settings.entrance_duplicate_s)

    # ------------------------------------------------------------ scans

    def handle_scan(self, db: Session, reader: Reader, scan: protocol.Scan, received_at: datetime) -> ScanResult:
        if db.get(ScanRecord, scan.id) is not None:
            return ScanResult(duplicate=True, decision=None)
        record = ScanRecord(
            id=scan.id, reader_id=reader.id, uid=scan.uid, tech=scan.tech, at=scan.at,
            received_at=received_at, fresh=protocol.is_fresh(scan.at, received_at), result="deny",
        )
        identity = lookup.identify(db, scan.uid)
        if reader.role == "entrance":
            verdict = self._entrance(db, reader, scan, identity, record)
        else:
            verdict = self._cabinet(db, reader, scan, identity, record)
        record.result, record.action, record.reason = verdict.result, verdict.action, verdict.reason
        db.add(record)
        db.flush()
        if not record.fresh:
            return ScanResult(duplicate=False, decision=None)
        return ScanResult(duplicate=False, decision=self._decision(scan.id, verdict, received_at))

    def _decision(self, scan_id: str, verdict: Verdict, now: datetime) -> protocol.Decision:
        return protocol.Decision(
            v=1, scan=scan_id, result=verdict.result, action=verdict.action, reason=verdict.reason,
            unlock_s=self.settings.unlock_s if verdict.result == "unlock" else None,
            at=now.astimezone(self.zone),
        )

    def _entrance(self, db: Session, reader: Reader, scan: protocol.Scan, identity: Identity,
                  record: ScanRecord) -> Verdict:
        inside = isinstance(identity, StaffCard) and lookup.person_inside(db, identity.person_id, scan.at)
        outcome = decide_entrance(
            identity, at=scan.at, person_inside=inside,
            prior=lookup.prior_tap(db, reader.id, scan.uid, scan.at),
            duplicate_window=self.duplicate_window,
        )
        record.duplicate_of = outcome.duplicate_of
        verdict = outcome.verdict
        if isinstance(identity, StaffCard):
            record.person_id = identity.person_id
        if isinstance(identity, VisitorCard):
            record.visit_id = identity.visit_id
        if outcome.duplicate_of is not None or verdict.denied:
            return verdict
        presence = PresenceEvent(kind=verdict.action, at=scan.at, reader_id=reader.id, scan_id=scan.id)
        if isinstance(identity, StaffCard):
            presence.person_id = identity.person_id
        elif isinstance(identity, VisitorCard) and identity.visit_id is not None:
            presence.visit_id = identity.visit_id
            visit = db.get(Visit, identity.visit_id)
            assert visit is not None
            if verdict.action == "entry":
                visit.state, visit.entered_at = "in", scan.at
            else:  # the visit ends and its badge goes back to the pool
                visit.state, visit.left_at = "out", scan.at
        db.add(presence)
        return verdict

    def _cabinet(self, db: Session, reader: Reader, scan: protocol.Scan, identity: Identity,
                 record: ScanRecord) -> Verdict:
        row = lookup.open_session_row(db, reader.id)
        live = live_session(lookup.as_open_session(row), scan.at, self.idle)
        if row is not None and live is None and scan.at >= row.opened_at:
            self._close_session(row, row.last_scan_at + self.idle, "timeout")
            row = None
        outcome = decide_cabinet(
            identity, cabinet_id=reader.id, session=live,
            today=scan.at.astimezone(self.zone).date(),
            training_valid_days=self.settings.training_valid_days,
        )
        verdict = outcome.verdict
        if isinstance(identity, StaffCard):
            record.person_id = identity.person_id
        if isinstance(identity, ItemTag):
            record.item_id = identity.item_id
        if outcome.ends_session and row is not None and live is not None:
            self._close_session(row, scan.at, "next_card")
        if outcome.touches_session and row is not None:
            row.last_scan_at = max(row.last_scan_at, scan.at)
        if verdict.action == "session_open":
            assert isinstance(identity, StaffCard)
            db.add(CabinetSession(cabinet_id=reader.id, person_id=identity.person_id, opened_at=scan.at,
                                  last_scan_at=scan.at, scan_id=scan.id))
        elif verdict.action == "checkout":
            assert isinstance(identity, ItemTag) and row is not None
            db.add(Checkout(item_id=identity.item_id, person_id=row.person_id, session_id=row.id,
                            out_at=scan.at, due_at=due_at(scan.at, self.settings.due_time, self.zone),
                            out_scan_id=scan.id))
            record.person_id = row.person_id
        elif verdict.action == "return":
            assert isinstance(identity, ItemTag) and row is not None
            checkout = lookup.open_checkout(db, identity.item_id)
            assert checkout is not None
            checkout.returned_at, checkout.returned_by_id = scan.at, row.person_id
            checkout.return_scan_id = scan.id
            record.person_id = row.person_id
        elif verdict.denied:
            db.add(self._denial_alert(reader, scan, verdict.reason or "", record))
        return verdict

    @staticmethod
    def _close_session(row: CabinetSession, at: datetime, reason: str) -> None:
        row.closed_at, row.closed_reason = at, reason

    @staticmethod
    def _denial_alert(reader: Reader, scan: protocol.Scan, reason: str, record: ScanRecord) -> Alert:
        return Alert(
            type="cabinet_denied", severity=cabinet_denial_severity(reason), opened_at=scan.at,
            subject=f"{reader.name}: {scan.uid} ({reason})", reason=reason, reader_id=reader.id,
            person_id=record.person_id, item_id=record.item_id, scan_id=scan.id,
        )

    # ------------------------------------------------------------ events and status

    def handle_event(self, db: Session, reader: Reader, event: protocol.Event, received_at: datetime) -> bool:
        """Record a door/tamper/exit/offline-unlock event; False if it was already recorded."""
        if db.get(ReaderEvent, event.id) is not None:
            return False
        db.add(ReaderEvent(id=event.id, reader_id=reader.id, type=event.type, at=event.at,
                           received_at=received_at, scan_id=event.scan))
        if event.type == "door_closed" and reader.role == "cabinet":
            row = lookup.open_session_row(db, reader.id)
            if row is not None and row.opened_at <= event.at:
                self._close_session(row, event.at, "door_closed")
        elif event.type == "tamper":
            db.add(Alert(type="tamper", severity="high", opened_at=event.at, reader_id=reader.id,
                         subject=f"{reader.name}: tamper"))
        db.flush()
        return True

    @staticmethod
    def handle_status(reader: Reader, status: protocol.Status, received_at: datetime) -> None:
        reader.online = status.online
        reader.last_seen_at = received_at
        if status.at is not None:
            reader.status_at = status.at
        if status.version is not None:
            reader.version = status.version
        if status.queued is not None:
            reader.queued = status.queued
