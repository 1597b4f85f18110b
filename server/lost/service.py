"""Marking an item lost (blocked, its history frozen on a record) and found again.

Shared by the pages and the API, PATCH /items/{id} included, so every "lost" has its record.
Never commits: the request's unit of work does.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from server.alerts import actions
from server.alerts.models import Alert
from server.audit.service import record
from server.checkouts.models import Checkout
from server.items.models import Item
from server.ledger.models import ScanRecord
from server.lost.models import LostItem
from server.people.models import Person

CHASE_ALERTS = ("overdue", "escalated", "lost_prompt")
NOTE_MAX = 1000


class LostMissing(LookupError):
    pass


class AlreadyLost(Exception):
    def __init__(self, item: Item, lost: LostItem | None):
        super().__init__(f"item {item.id} ({item.label}) is already marked lost"
                         + (f" (record {lost.id}, by {lost.marked_by})" if lost else ""))
        self.item, self.lost = item, lost


class AlreadyFound(Exception):
    def __init__(self, lost: LostItem):
        super().__init__(f"lost item record {lost.id} was already marked found by {lost.found_by}")
        self.lost = lost


def open_record(db: Session, item_id: int) -> LostItem | None:
    """The item's lost record not yet found, if any."""
    return db.scalar(select(LostItem).where(LostItem.item_id == item_id, LostItem.found_at.is_(None))
                     .order_by(LostItem.id.desc()).limit(1))


def history(db: Session, item_id: int, zone: ZoneInfo) -> list[dict]:
    """Every checkout and every tap of the item so far, as plain JSON (times in office time)."""
    def when(value: datetime | None) -> str | None:
        return value.astimezone(zone).isoformat(timespec="seconds") if value else None

    returner = aliased(Person)
    loans = db.execute(select(Checkout, Person.name, returner.name).join(Person, Person.id == Checkout.person_id)
                       .outerjoin(returner, returner.id == Checkout.returned_by_id)
                       .where(Checkout.item_id == item_id).order_by(Checkout.out_at, Checkout.id)).all()
    taps = db.execute(select(ScanRecord, Person.name).outerjoin(Person, Person.id == ScanRecord.person_id)
                      .where(ScanRecord.item_id == item_id).order_by(ScanRecord.at, ScanRecord.id)).all()
    entries = [{"kind": "checkout", "at": when(c.out_at), "checkout_id": c.id, "person": name,
                "out_at": when(c.out_at), "due_at": when(c.due_at), "returned_at": when(c.returned_at),
                "returned_by": back_by, "loan_rule": c.loan_rule, "purpose": c.purpose}
               for c, name, back_by in loans]
    entries += [{"kind": "scan", "at": when(s.at), "scan_id": s.id, "reader": s.reader_id, "person": name,
                 "result": s.result, "action": s.action, "reason": s.reason, "duplicate": s.duplicate_of is not None}
                for s, name in taps]
    return sorted(entries, key=lambda e: (e["at"] or "", e["kind"] == "scan"))


def mark_lost(db: Session, item: Item, *, by: str, at: datetime, zone: ZoneInfo, note: str | None = None,
              address: str | None = None) -> LostItem:
    """Block the item (a tap out is refused; a tap back still takes it in) and keep its record."""
    if item.status == "lost":
        raise AlreadyLost(item, open_record(db, item.id))
    note = (note or "").strip()[:NOTE_MAX] or None
    loan = db.scalar(select(Checkout).where(Checkout.item_id == item.id, Checkout.returned_at.is_(None)))
    lost = LostItem(item_id=item.id, checkout_id=loan.id if loan else None, person_id=loan.person_id if loan else None,
                    marked_at=at, marked_by=by, note=note, history=history(db, item.id, zone))
    before = item.status
    item.status = "lost"
    db.add(lost)
    db.flush()
    chased = db.scalars(select(Alert.id).where(Alert.item_id == item.id, Alert.type.in_(CHASE_ALERTS),
                                               Alert.state != "resolved").order_by(Alert.id)).all()
    for alert_id in chased:
        actions.resolve(db, alert_id, by=by, at=at, zone=zone, why="marked_lost", lost=lost.id,
                        address=address)
    holder = db.get(Person, loan.person_id) if loan else None
    record(db, at, "item_marked_lost", by, {"item": item.label, "lost": lost.id, "status": before,
                                            "holder": holder.name if holder else None, "note": note}, address)
    return lost


def mark_found(db: Session, lost_id: int, *, by: str, at: datetime, address: str | None = None) -> LostItem:
    """The item turned up: loanable again, and the record says who found it when."""
    lost = db.get(LostItem, lost_id)
    if lost is None:
        raise LostMissing(lost_id)
    if lost.found_at is not None:
        raise AlreadyFound(lost)
    lost.found_at, lost.found_by = at, by
    item = db.get(Item, lost.item_id)
    assert item is not None
    if item.status == "lost":
        item.status = "active"
    db.flush()
    record(db, at, "item_found", by, {"item": item.label, "lost": lost.id, "status": item.status}, address)
    return lost


def set_status(db: Session, item: Item, status: str, *, by: str, at: datetime, zone: ZoneInfo,
               address: str | None = None) -> None:
    """A status change from an edit (PATCH, a form): to lost makes the record, lost → active closes it."""
    if status == item.status:
        return
    if status == "lost":
        mark_lost(db, item, by=by, at=at, zone=zone, address=address)
    elif item.status == "lost" and status == "active" and (lost := open_record(db, item.id)) is not None:
        mark_found(db, lost.id, by=by, at=at, address=address)
    else:
        record(db, at, "item_changed", by, {"item": item.label, "changes": {"status": (item.status, status)}}, address)
        item.status = status
        db.flush()


def listing(db: Session, state: str | None = None, limit: int = 100, offset: int = 0) -> list[tuple[LostItem, Item]]:
    """Lost items, still missing first, the newest first."""
    query = select(LostItem, Item).join(Item, Item.id == LostItem.item_id)
    if state == "open":
        query = query.where(LostItem.found_at.is_(None))
    elif state == "found":
        query = query.where(LostItem.found_at.is_not(None))
    query = query.order_by(LostItem.found_at.is_not(None), LostItem.marked_at.desc(), LostItem.id.desc())
    return [(lost, item) for lost, item in db.execute(query.limit(limit).offset(offset)).all()]
