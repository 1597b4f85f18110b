"""The ledger a set of scans and events implies, in a form that does not depend on row ids or arrival order."""

from __future__ import annotations

from sqlalchemy import select

from server.alerts.models import Alert, AlertOccurrence
from server.checkouts.models import CabinetSession, Checkout
from server.ledger.models import ReaderEvent, ScanRecord
from server.visits import inside
from server.visits.models import PresenceEvent, StaffInside, Visit
from tests.support import visits_before


class NoWire:
    """A broker link for an IngestWorker fed by hand: connected, and what it publishes goes nowhere."""

    connected = True

    def publish(self, topic: str, payload: bytes) -> None:
        pass

    def ack(self, mid: int, qos: int, connection: int) -> None:
        pass


FOLDED = ("cabinet_denied", "door_forced")  # the alerts the ledger raises as it is applied


def snapshot(factory) -> dict:
    """Sessions, checkouts and returns, presence, visits, open denial and door_forced alerts and their
    occurrences, and which scans and events are stored."""
    with factory() as db:
        opening = dict(db.execute(select(CabinetSession.id, CabinetSession.scan_id)).all())
        sessions = sorted(db.execute(select(CabinetSession.cabinet_id, CabinetSession.person_id,
                                            CabinetSession.opened_at, CabinetSession.last_scan_at,
                                            CabinetSession.closed_at, CabinetSession.closed_reason,
                                            CabinetSession.scan_id)).all())
        checkouts = sorted((row.item_id, row.person_id, opening.get(row.session_id), row.out_at, row.due_at,
                            row.loan_rule, row.purpose, row.erasure, row.returned_at, row.returned_by_id,
                            row.out_scan_id, row.return_scan_id) for row in db.scalars(select(Checkout)))
        presence = sorted(db.execute(select(PresenceEvent.kind, PresenceEvent.at, PresenceEvent.person_id,
                                            PresenceEvent.visit_id, PresenceEvent.reader_id,
                                            PresenceEvent.scan_id)).all(), key=repr)
        denials = sorted(db.execute(select(AlertOccurrence.scan_id, AlertOccurrence.event_id, AlertOccurrence.reason,
                                           AlertOccurrence.at)
                                    .join(Alert, Alert.id == AlertOccurrence.alert_id)
                                    .where(Alert.type.in_(FOLDED), Alert.state != "resolved")).all(), key=repr)
        # Denials fold per person (or item, or reader) and reason, forced doors per cabinet: how often, first and last.
        alerts = sorted(db.execute(select(Alert.fold_key, Alert.severity, Alert.count, Alert.opened_at, Alert.last_at)
                                   .where(Alert.type.in_(FOLDED), Alert.state != "resolved")).all(), key=repr)
        visits = sorted(db.execute(select(Visit.id, Visit.state, Visit.entered_at, Visit.left_at,
                                          Visit.badge_returned_at)).all())
        scans = sorted(db.scalars(select(ScanRecord.id)))
        events = sorted(db.scalars(select(ReaderEvent.id)))
        staff_inside = _staff_inside(db)
    return {"sessions": sessions, "checkouts": checkouts, "presence": presence, "denials": denials,
            "alerts": alerts, "visits": visits, "scans": scans, "events": events, "staff_inside": staff_inside}


def _staff_inside(db) -> list[tuple]:
    return sorted(db.execute(select(StaffInside.person_id, StaffInside.since, StaffInside.reader_id,
                                    StaffInside.scan_id)).all())


def inside_as_derived(factory) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """The stored "who is in" as the ingest kept it, as `inside.rebuild` makes it from the taps, and
    (person, since) as the slowest derivation says (every tap grouped by person): all three must agree."""
    with factory() as db:
        kept = _staff_inside(db)
        inside.rebuild(db.connection())
        rebuilt = _staff_inside(db)
        grouped = sorted((p.person_id, p.since) for p in visits_before.staff_inside(db))
        db.rollback()
    return kept, rebuilt, grouped

