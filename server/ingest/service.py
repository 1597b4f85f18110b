"""What one scan, event or status means for the ledger, and the decision a fresh scan earns.

Works on the batch's `BatchLedger` and never commits: the worker commits once per batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from gateway import protocol
from server.config import Settings
from server.domain.alerts import cabinet_denial_severity
from server.domain.cabinet import decide_cabinet, live_session
from server.domain.entrance import decide_entrance
from server.domain.facts import ItemTag, StaffCard, VisitorCard
from server.domain.loans import due_at
from server.domain.verdict import Verdict
from server.ingest.ledger_view import BatchLedger
from server.ingest.directory import ReaderInfo
from server.readers.models import Reader


@dataclass(frozen=True, slots=True)
class ScanResult:
    duplicate: bool  # the scan id was already in the ledger: ack again, change nothing
    decision: protocol.Decision | None  # None for duplicates and stale scans


class IngestService:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.zone = settings.zone
        self.idle = timedelta(seconds=settings.cabinet_session_idle_s)
        self.duplicate_window = timedelta(seconds=settings.entrance_duplicate_s)

    # ------------------------------------------------------------ scans

    def handle_scan(self, ledger: BatchLedger, reader: ReaderInfo, scan: protocol.Scan,
                    received_at: datetime) -> ScanResult:
        if not ledger.is_new_scan(scan.id):
            return ScanResult(duplicate=True, decision=None)
        row = {"id": scan.id, "reader_id": reader.id, "uid": scan.uid, "tech": scan.tech, "at": scan.at,
               "received_at": received_at, "fresh": protocol.is_fresh(scan.at, received_at),
               "person_id": None, "item_id": None, "visit_id": None, "duplicate_of": None}
        if reader.role == "entrance":
            verdict = self._entrance(ledger, reader, scan, row)
        else:
            verdict = self._cabinet(ledger, reader, scan, row)
        row.update(result=verdict.result, action=verdict.action, reason=verdict.reason)
        ledger.record_scan(row)
        if not row["fresh"]:
            return ScanResult(duplicate=False, decision=None)
        return ScanResult(duplicate=False, decision=protocol.Decision(
            v=1, scan=scan.id, result=verdict.result, action=verdict.action, reason=verdict.reason,
            unlock_s=self.settings.unlock_s if verdict.result == "unlock" else None,
            at=received_at.astimezone(self.zone),
        ))

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
        open_session = ledger.open_session(reader.id)
        live = live_session(open_session, scan.at, self.idle)
        if open_session is not None and live is None and scan.at >= open_session.opened_at:
            ledger.end_session(reader.id, open_session.last_scan_at + self.idle, "timeout")
        identity = ledger.identify(scan.uid)
        outcome = decide_cabinet(identity, cabinet_id=reader.id, session=live,
                                 today=scan.at.astimezone(self.zone).date(),
                                 training_valid_days=self.settings.training_valid_days)
        verdict = outcome.verdict
        if isinstance(identity, StaffCard):
            row["person_id"] = identity.person_id
        if isinstance(identity, ItemTag):
            row["item_id"] = identity.item_id
        if outcome.ends_session and live is not None:
            ledger.end_session(reader.id, scan.at, "next_card")
        if outcome.touches_session and live is not None:
            ledger.touch_session(reader.id, scan.at)
        if verdict.action == "session_open":
            assert isinstance(identity, StaffCard)
            ledger.start_session(reader.id, identity.person_id, scan.at, scan.id)
        elif verdict.action == "checkout":
            assert isinstance(identity, ItemTag) and live is not None
            ledger.check_out(identity.item_id, live.person_id, live.session_id, scan.at,
                             due_at(scan.at, self.settings.due_time, self.zone), scan.id)
            row["person_id"] = live.person_id
        elif verdict.action == "return":
            assert isinstance(identity, ItemTag) and live is not None
            ledger.give_back(identity.item_id, scan.at, live.person_id, scan.id)
            row["person_id"] = live.person_id
        elif verdict.denied:
            ledger.raise_alert(_alert("cabinet_denied", cabinet_denial_severity(verdict.reason or ""), scan.at,
                                      f"{reader.name}: {scan.uid} ({verdict.reason})", reader.id,
                                      reason=verdict.reason, person_id=row["person_id"],
                                      item_id=row["item_id"], scan_id=scan.id))
        return verdict

    # ------------------------------------------------------------ events and status

    def handle_event(self, ledger: BatchLedger, reader: ReaderInfo, event: protocol.Event,
                     received_at: datetime) -> bool:
        """Record a door/tamper/exit/offline-unlock event; False if it was already recorded."""
        if not ledger.is_new_event(event.id):
            return False
        ledger.record_event({"id": event.id, "reader_id": reader.id, "type": event.type, "at": event.at,
                             "received_at": received_at, "scan_id": event.scan})
        if event.type == "door_closed" and reader.role == "cabinet":
            session = ledger.open_session(reader.id)
            if session is not None and session.opened_at <= event.at:
                ledger.end_session(reader.id, event.at, "door_closed")
        elif event.type == "tamper":
            ledger.raise_alert(_alert("tamper", "high", event.at, f"{reader.name}: tamper", reader.id))
        return True

    @staticmethod
    def handle_status(db: Session, reader: ReaderInfo, status: protocol.Status, received_at: datetime) -> None:
        """Keep what the reader last said of itself (online, version, queued) for the dashboard."""
        values: dict = {"online": status.online, "last_seen_at": received_at}
        for field in ("at", "version", "queued"):
            if (value := getattr(status, field)) is not None:
                values["status_at" if field == "at" else field] = value
        db.execute(update(Reader).where(Reader.id == reader.id).values(**values))


def _alert(type_: str, severity: str, at: datetime, subject: str, reader_id: str, *, reason: str | None = None,
           person_id: int | None = None, item_id: int | None = None, scan_id: str | None = None) -> dict:
    return {"type": type_, "severity": severity, "state": "open", "opened_at": at, "subject": subject,
            "reason": reason, "reader_id": reader_id, "person_id": person_id, "item_id": item_id,
            "scan_id": scan_id}
