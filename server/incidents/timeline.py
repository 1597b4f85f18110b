"""The timeline of an incident, read from the ledger: for its items, people and cabinets in its period,
every tap, take-out and return, cabinet session, door event, entry and exit, alert, remote unlock and
lost-item record, as plain facts (names as they were then, codes the pages put into words).

`take()` writes the lines not taken yet, with the step that took them; a line once taken is never
rewritten, so the timeline shows what the ledger said when the incident was opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, select
from sqlalchemy.orm import Session, aliased

from server.alerts.models import Alert
from server.audit.models import AuditEvent
from server.audit.service import facts_of
from server.checkouts.models import CabinetSession, Checkout
from server.evidence.models import ChainLink
from server.incidents.models import Incident, TimelineLine
from server.items.models import Item
from server.ledger.models import ReaderEvent, ScanRecord
from server.lost.models import LostItem
from server.people.models import Person
from server.readers.models import Reader
from server.visits.models import PresenceEvent

UNLOCKS = ("remote_unlock", "remote_unlock_failed")
CHUNK = 500


@dataclass(frozen=True)
class Scope:
    """What a timeline covers."""

    start: datetime
    end: datetime
    items: tuple[int, ...] = ()
    people: tuple[int, ...] = ()
    readers: tuple[str, ...] = ()


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _line(table: str, row_id: object, at: datetime, kind: str, **facts: Any) -> dict[str, Any]:
    return {"source_table": table, "source_id": str(row_id), "at": at, "kind": kind, "facts": facts}


def _within(column, scope: Scope):
    return column.between(scope.start, scope.end)


_person, _returner, _item, _reader = aliased(Person), aliased(Person), aliased(Item), aliased(Reader)


def _taps(db: Session, scope: Scope) -> list[dict]:
    who = [ScanRecord.item_id.in_(scope.items), ScanRecord.person_id.in_(scope.people)]
    rows = db.execute(select(ScanRecord, _person.name, _item.label, _reader.name)
                      .outerjoin(_person, _person.id == ScanRecord.person_id)
                      .outerjoin(_item, _item.id == ScanRecord.item_id)
                      .outerjoin(_reader, _reader.id == ScanRecord.reader_id)
                      .where(_within(ScanRecord.at, scope), or_(*who)))
    return [_line("scans", s.id, s.at, "tap", reader=reader or s.reader_id, person=person, item=item, result=s.result,
                  action=s.action, reason=s.reason, duplicate=s.duplicate_of is not None)
            for s, person, item, reader in rows]


def _loans(db: Session, scope: Scope) -> list[dict]:
    who = [Checkout.item_id.in_(scope.items), Checkout.person_id.in_(scope.people)]
    touched = or_(_within(Checkout.out_at, scope), _within(Checkout.returned_at, scope))
    rows = db.execute(select(Checkout, _item.label, _person.name, _returner.name)
                      .join(_item, _item.id == Checkout.item_id).join(_person, _person.id == Checkout.person_id)
                      .outerjoin(_returner, _returner.id == Checkout.returned_by_id).where(or_(*who), touched))
    lines = []
    for c, item, person, returner in rows:
        if scope.start <= c.out_at <= scope.end:
            lines.append(_line("checkouts", c.id, c.out_at, "checkout", item=item, person=person,
                               due_at=_when(c.due_at), purpose=c.purpose))
        if c.returned_at and scope.start <= c.returned_at <= scope.end:
            lines.append(_line("checkouts", c.id, c.returned_at, "return", item=item, person=returner,
                               out_at=_when(c.out_at)))
    return lines


def _sessions(db: Session, scope: Scope) -> list[dict]:
    who = [CabinetSession.cabinet_id.in_(scope.readers), CabinetSession.person_id.in_(scope.people)]
    rows = db.execute(select(CabinetSession, _person.name, _reader.name)
                      .join(_person, _person.id == CabinetSession.person_id)
                      .join(_reader, _reader.id == CabinetSession.cabinet_id)
                      .where(_within(CabinetSession.opened_at, scope), or_(*who)))
    return [_line("cabinet_sessions", s.id, s.opened_at, "session", reader=reader, person=person,
                  closed_at=_when(s.closed_at)) for s, person, reader in rows]


def _doors(db: Session, scope: Scope) -> list[dict]:
    rows = db.execute(select(ReaderEvent, _reader.name).join(_reader, _reader.id == ReaderEvent.reader_id)
                      .where(_within(ReaderEvent.at, scope), ReaderEvent.reader_id.in_(scope.readers)))
    return [_line("reader_events", e.id, e.at, "door", reader=reader, event=e.type) for e, reader in rows]


def _presence(db: Session, scope: Scope) -> list[dict]:
    rows = db.execute(select(PresenceEvent, _person.name, _reader.name)
                      .join(_person, _person.id == PresenceEvent.person_id)
                      .join(_reader, _reader.id == PresenceEvent.reader_id)
                      .where(_within(PresenceEvent.at, scope), PresenceEvent.person_id.in_(scope.people)))
    return [_line("presence_events", p.id, p.at, "presence", reader=reader, person=person, direction=p.kind)
            for p, person, reader in rows]


def _alerts(db: Session, scope: Scope) -> list[dict]:
    loans = select(Checkout.id).where(Checkout.item_id.in_(scope.items))
    who = [Alert.item_id.in_(scope.items), Alert.person_id.in_(scope.people), Alert.reader_id.in_(scope.readers),
           Alert.checkout_id.in_(loans)]
    last = func.coalesce(Alert.last_at, Alert.opened_at)
    rows = db.execute(select(Alert, _person.name, _item.label, _reader.name)
                      .outerjoin(_person, _person.id == Alert.person_id).outerjoin(_item, _item.id == Alert.item_id)
                      .outerjoin(_reader, _reader.id == Alert.reader_id)
                      .where(or_(*who), Alert.opened_at <= scope.end, last >= scope.start))
    return [_line("alerts", a.id, a.opened_at, "alert", type=a.type, severity=a.severity, reason=a.reason,
                  reader=reader, person=person, item=item, count=a.count, last_at=_when(a.last_at), state=a.state)
            for a, person, item, reader in rows]


def _unlocks(db: Session, scope: Scope) -> list[dict]:
    """Remote unlocks are kept in the audit log, by the cabinet's name at the time."""
    names = set(db.scalars(select(Reader.name).where(Reader.id.in_(scope.readers)))) | set(scope.readers)
    rows = db.scalars(select(AuditEvent).where(_within(AuditEvent.at, scope), AuditEvent.action.in_(UNLOCKS)))
    lines = []
    for entry in rows:
        facts = facts_of(entry.detail) or {}
        if facts.get("reader") in names:
            lines.append(_line("audit_events", entry.id, entry.at, "unlock", reader=facts["reader"], by=entry.actor,
                               failed=entry.action != "remote_unlock", note=facts.get("note")))
    return lines


def _lost(db: Session, scope: Scope) -> list[dict]:
    lines = []
    rows = db.execute(select(LostItem, Item.label).join(Item, Item.id == LostItem.item_id)
                      .where(LostItem.item_id.in_(scope.items)))
    for lost, item in rows:
        if scope.start <= lost.marked_at <= scope.end:
            lines.append(_line("lost_items", lost.id, lost.marked_at, "lost", item=item, by=lost.marked_by,
                               note=lost.note))
        if lost.found_at and scope.start <= lost.found_at <= scope.end:
            lines.append(_line("lost_items", lost.id, lost.found_at, "found", item=item, by=lost.found_by))
    return lines


SOURCES = (_taps, _loans, _sessions, _doors, _presence, _alerts, _unlocks, _lost)


def read(db: Session, scope: Scope) -> list[dict]:
    """Every ledger line the scope covers, oldest first."""
    lines = [line for source in SOURCES for line in source(db, scope)]
    return sorted(lines, key=lambda line: (line["at"], line["source_table"], line["source_id"], line["kind"]))


def not_taken(db: Session, incident_id: int | None, scope: Scope) -> list[dict]:
    """The lines of `scope` the incident's timeline does not hold yet."""
    held = set() if incident_id is None else set(db.execute(
        select(TimelineLine.source_table, TimelineLine.source_id, TimelineLine.kind)
        .where(TimelineLine.incident_id == incident_id)).all())
    return [line for line in read(db, scope) if (line["source_table"], line["source_id"], line["kind"]) not in held]


def chain_positions(db: Session, keys: set[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, str]]:
    """(table, row id) -> (seq, hash) of the newest link that chained the row: `position()` for many rows at
    once (a query per table and 500 rows instead of one per line)."""
    found: dict[tuple[str, str], tuple[int, str]] = {}
    by_table: dict[str, list[str]] = {}
    for table, row_id in keys:
        by_table.setdefault(table, []).append(row_id)
    for table, ids in by_table.items():
        for start in range(0, len(ids), CHUNK):
            rows = db.execute(select(ChainLink.row_id, ChainLink.seq, ChainLink.hash)
                              .where(ChainLink.kind == table, ChainLink.row_id.in_(ids[start:start + CHUNK]))
                              .order_by(ChainLink.seq))
            found.update({(table, row_id): (seq, digest) for row_id, seq, digest in rows})
    return found


def write(db: Session, incident: Incident, event_id: int, lines: list[dict]) -> None:
    """Append the lines, with the step that took them and each row's position in the evidence chain now
    (the proof that the row read is the row chained)."""
    if not lines:
        return
    chain = chain_positions(db, {(line["source_table"], line["source_id"]) for line in lines})
    rows = []
    for line in lines:
        seq, digest = chain.get((line["source_table"], line["source_id"]), (None, None))
        rows.append({**line, "incident_id": incident.id, "event_id": event_id, "chain_seq": seq, "chain_hash": digest})
    db.execute(insert(TimelineLine), rows)


def lines_of(db: Session, incident_id: int) -> list[TimelineLine]:
    return list(db.scalars(select(TimelineLine).where(TimelineLine.incident_id == incident_id)
                           .order_by(TimelineLine.at, TimelineLine.id)))


def subjects(db: Session, incident: Incident) -> dict[str, list[str]]:
    """The names of what the timeline covers, for the pages."""
    people = db.scalars(select(Person.name).where(Person.id.in_(incident.person_ids)).order_by(Person.name)).all()
    items = db.scalars(select(Item.label).where(Item.id.in_(incident.item_ids)).order_by(Item.label)).all()
    readers = db.scalars(select(Reader.name).where(Reader.id.in_(incident.reader_ids)).order_by(Reader.name)).all()
    return {"items": list(items), "people": list(people), "readers": list(readers)}
