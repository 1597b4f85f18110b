"""Opening an incident (by hand, from a lost item, from an alert), adding a step to its process log,
extending its timeline, closing it. Each change writes its event first and then the incident's row.

Shared by the pages; the caller commits. Nothing here changes or deletes an event or a timeline line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.alerts import actions
from server.alerts.models import Alert
from server.audit.service import record
from server.cases.service import Actor
from server.checkouts.models import Checkout
from server.domain import incidents as rules
from server.incidents import timeline
from server.incidents.models import Incident, IncidentEvent
from server.items.models import Item
from server.ledger.models import ScanRecord
from server.lost.models import LostItem

LATE_ALERT = "incident_report_late"


class IncidentError(Exception):
    """A step that cannot be taken: `reason` is a code the pages put into words, `field` the form field."""

    def __init__(self, reason: str, field: str = ""):
        super().__init__(reason)
        self.reason, self.field = reason, field


@dataclass(frozen=True)
class Opening:
    """What a manager states when opening an incident."""

    kind: str
    summary: str
    discovered_at: datetime
    discovered_by: str
    first_aid: str = ""
    manager_reported_at: datetime | None = None


@dataclass(frozen=True)
class Origin:
    """Where an incident comes from, and what its timeline covers by default."""

    source: str
    scope: timeline.Scope
    lost_item_id: int | None = None
    alert_id: int | None = None
    kind: str = "loss_theft"
    summary: str = ""
    discovered_at: datetime | None = None


def facts(incident: Incident) -> rules.IncidentFacts:
    return rules.IncidentFacts(discovered_at=incident.discovered_at, ward_reported_at=incident.ward_reported_at,
                               cause=incident.cause, prevention=incident.prevention,
                               closed=incident.closed_at is not None)


def _last_seen(db: Session, item_id: int) -> datetime | None:
    return db.scalar(select(func.max(ScanRecord.at)).where(ScanRecord.item_id == item_id))


def from_lost_item(db: Session, lost: LostItem, now: datetime, zone: ZoneInfo) -> Origin:
    """A lost item: the item, who held it, its cabinet, from the day it was last taken out or seen."""
    item = db.get(Item, lost.item_id)
    assert item is not None
    loan = db.get(Checkout, lost.checkout_id) if lost.checkout_id else None
    start, end = rules.default_period(now, zone, discovered_at=lost.marked_at, last_seen_at=_last_seen(db, item.id),
                                      out_at=loan.out_at if loan else None)
    scope = timeline.Scope(start, end, (item.id,), (lost.person_id,) if lost.person_id else (), (item.cabinet_id,))
    return Origin("lost_item", scope, lost_item_id=lost.id, kind="loss_theft" if loan else "missing",
                  summary=item.label, discovered_at=lost.marked_at)


ALERT_KINDS = {"stocktake_missing": "missing", "door_forced": "loss_theft"}


def from_alert(db: Session, alert: Alert, now: datetime, zone: ZoneInfo) -> Origin:
    """An alert: its item, person and reader (the item's cabinet too), from the day its loan began or it was raised."""
    item = db.get(Item, alert.item_id) if alert.item_id else None
    loan = db.get(Checkout, alert.checkout_id) if alert.checkout_id else None
    readers = {r for r in (alert.reader_id, item.cabinet_id if item else None) if r}
    start, end = rules.default_period(now, zone, discovered_at=alert.opened_at,
                                      last_seen_at=_last_seen(db, item.id) if item else None,
                                      out_at=loan.out_at if loan else None)
    scope = timeline.Scope(start, end, (item.id,) if item else (), (alert.person_id,) if alert.person_id else (),
                           tuple(sorted(readers)))
    return Origin("alert", scope, alert_id=alert.id, kind=ALERT_KINDS.get(alert.type, "loss_theft"),
                  summary=item.label if item else "", discovered_at=alert.opened_at)


def _event(db: Session, incident: Incident, now: datetime, by: Actor, action: str, *, text: str | None = None,
           happened_at: datetime | None = None, changes: dict[str, Any] | None = None) -> IncidentEvent:
    event = IncidentEvent(incident_id=incident.id, at=now, action=action, happened_at=happened_at,
                          by_user_id=by.user_id, by_name=by.name, text=text or None, changes=changes or {})
    db.add(event)
    db.flush()
    return event


def _check_opening(opening: Opening, scope: timeline.Scope, now: datetime) -> None:
    if opening.kind not in rules.KINDS:
        raise IncidentError("unknown_kind", "kind")
    summary = opening.summary.strip()
    if not summary:
        raise IncidentError("text_required", "summary")
    if len(summary) > rules.SUMMARY_MAX or any(c in summary for c in "\r\n\t"):
        raise IncidentError("summary_line", "summary")
    if not opening.discovered_by.strip():
        raise IncidentError("text_required", "discovered_by")
    if opening.discovered_at > now + timedelta(minutes=5):
        raise IncidentError("in_future", "discovered_at")
    if len(opening.first_aid) > rules.TEXT_MAX:
        raise IncidentError("text_too_long", "first_aid")
    if problem := rules.period_problem(scope.start, scope.end):
        raise IncidentError(problem, "period_from")


def open_incident(db: Session, now: datetime, by: Actor, opening: Opening, origin: Origin,
                  address: str | None = None) -> Incident:
    """The incident, its opening step, and its timeline taken from the ledger in the same transaction."""
    scope = origin.scope
    _check_opening(opening, scope, now)
    incident = Incident(kind=opening.kind, summary=opening.summary.strip(), discovered_at=opening.discovered_at,
                        discovered_by=opening.discovered_by.strip(), source=origin.source,
                        lost_item_id=origin.lost_item_id, alert_id=origin.alert_id, item_ids=list(scope.items),
                        person_ids=list(scope.people), reader_ids=list(scope.readers), period_from=scope.start,
                        period_to=scope.end, opened_at=now, opened_by=by.name)
    db.add(incident)
    db.flush()
    lines = timeline.not_taken(db, None, scope)
    opened = _event(db, incident, now, by, "opened", text=incident.summary, changes={
        "kind": opening.kind, "discovered_at": opening.discovered_at.isoformat(), "discovered_by": incident.discovered_by,
        "source": origin.source, "lost_item_id": origin.lost_item_id, "alert_id": origin.alert_id,
        "period_from": scope.start.isoformat(), "period_to": scope.end.isoformat(), "lines": len(lines)})
    timeline.write(db, incident, opened.id, lines)
    if opening.first_aid.strip():
        _step(db, incident, now, by, "first_aid", opening.first_aid)
    if opening.manager_reported_at:
        _step(db, incident, now, by, "manager_reported", "", opening.manager_reported_at)
    record(db, now, "incident_opened", by.name, {"incident": incident.id, "incident_kind": opening.kind,
                                                 "summary": incident.summary, "lines": len(lines)}, address)
    return incident


def add_step(db: Session, incident: Incident, now: datetime, by: Actor, step: str, text: str,
             happened_at: datetime | None = None, address: str | None = None) -> IncidentEvent:
    """One step of the process log, in the audit log too."""
    event = _step(db, incident, now, by, step, text, happened_at, address)
    record(db, now, "incident_step", by.name, {"incident": incident.id, "step": step}, address)
    return event


def _step(db: Session, incident: Incident, now: datetime, by: Actor, step: str, text: str,
          happened_at: datetime | None = None, address: str | None = None) -> IncidentEvent:
    """The row keeps the first report times, every first aid, and the newest cause and prevention."""
    if problem := rules.step_refusal(facts(incident), step, text, happened_at, now):
        raise IncidentError(problem, "when" if problem in ("when_required", "in_future") else "text")
    text = text.strip()
    event = _event(db, incident, now, by, step, text=text, happened_at=happened_at)
    if step == "first_aid":
        incident.first_aid = f"{incident.first_aid}\n{text}" if incident.first_aid else text
    elif step == "manager_reported" and incident.manager_reported_at is None:
        incident.manager_reported_at = happened_at
    elif step == "ward_reported" and incident.ward_reported_at is None:
        incident.ward_reported_at = happened_at
        _resolve_late_alert(db, incident, now, by, address)
    elif step in ("cause", "prevention"):
        setattr(incident, step, text)
    db.flush()
    return event


def _resolve_late_alert(db: Session, incident: Incident, now: datetime, by: Actor, address: str | None) -> None:
    late = db.scalar(select(Alert.id).where(Alert.incident_id == incident.id, Alert.type == LATE_ALERT,
                                            Alert.state != "resolved"))
    if late is not None:
        actions.resolve(db, late, by=by.name, at=now, zone=ZoneInfo("UTC"), why="ward_reported",
                        incident=incident.id, address=address)


def extend(db: Session, incident: Incident, now: datetime, by: Actor, scope: timeline.Scope,
           address: str | None = None) -> int:
    """Widen the period and add items, people or cabinets: the lines not yet taken are appended."""
    if incident.closed_at is not None:
        raise IncidentError("closed")
    if problem := rules.period_problem(scope.start, scope.end, before=(incident.period_from, incident.period_to)):
        raise IncidentError(problem, "period_from")
    if scope.end > now + timedelta(minutes=5):
        raise IncidentError("in_future", "period_to")
    wider = timeline.Scope(scope.start, scope.end, tuple(dict.fromkeys((*incident.item_ids, *scope.items))),
                           tuple(dict.fromkeys((*incident.person_ids, *scope.people))),
                           tuple(dict.fromkeys((*incident.reader_ids, *scope.readers))))
    lines = timeline.not_taken(db, incident.id, wider)
    event = _event(db, incident, now, by, "timeline", changes={
        "period_from": wider.start.isoformat(), "period_to": wider.end.isoformat(),
        "items": [i for i in wider.items if i not in incident.item_ids],
        "people": [p for p in wider.people if p not in incident.person_ids],
        "readers": [r for r in wider.readers if r not in incident.reader_ids], "lines": len(lines)})
    timeline.write(db, incident, event.id, lines)
    incident.period_from, incident.period_to = wider.start, wider.end
    incident.item_ids, incident.person_ids, incident.reader_ids = list(wider.items), list(wider.people), \
        list(wider.readers)
    db.flush()
    record(db, now, "incident_timeline_extended", by.name, {"incident": incident.id, "lines": len(lines)}, address)
    return len(lines)


def close(db: Session, incident: Incident, now: datetime, by: Actor, address: str | None = None) -> IncidentEvent:
    if problem := rules.close_refusal(facts(incident)):
        raise IncidentError(problem)
    event = _event(db, incident, now, by, "closed")
    incident.closed_at, incident.closed_by = now, by.name
    db.flush()
    record(db, now, "incident_closed", by.name, {"incident": incident.id}, address)
    return event


def events_of(db: Session, incident_id: int) -> list[IncidentEvent]:
    return list(db.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident_id)
                           .order_by(IncidentEvent.at, IncidentEvent.id)))


def listing(db: Session, limit: int = 200) -> list[Incident]:
    """Open incidents first, then the newest discovered."""
    return list(db.scalars(select(Incident).order_by(Incident.closed_at.is_not(None), Incident.discovered_at.desc(),
                                                     Incident.id.desc()).limit(limit)))
