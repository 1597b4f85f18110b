"""The queries the ingest needs to decide one scan (its repository)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.checkouts.models import CabinetSession, Checkout
from server.domain.facts import Identity, ItemTag, OpenSession, PriorTap, StaffCard, UnknownUid, VisitorCard
from server.items.models import Item
from server.ledger.models import ScanRecord
from server.people.models import Card, Person, VisitorBadge
from server.visits.models import PresenceEvent, Visit


def identify(session: Session, uid: str) -> Identity:
    """Whose card, which badge or which item a uid is."""
    row = session.execute(
        select(Card, Person).join(Person, Person.id == Card.person_id).where(Card.uid == uid)
    ).first()
    if row:
        card, person = row
        return StaffCard(person.id, person.active, card.active, person.key_holder, person.training_on)
    badge = session.get(VisitorBadge, uid)
    if badge:
        visit = current_visit(session, uid)
        return VisitorCard(badge.active, visit.id if visit else None, visit.state if visit else None)
    item = session.scalars(select(Item).where(Item.tag_uid == uid)).first()
    if item:
        return ItemTag(item.id, item.kind, item.cabinet_id, item.encrypted, item.status,
                       out=open_checkout(session, item.id) is not None)
    return UnknownUid()


def current_visit(session: Session, badge_uid: str) -> Visit | None:
    """The visit a badge is lent to now (expected or in), if any."""
    return session.scalars(
        select(Visit).where(Visit.badge_uid == badge_uid, Visit.state != "out").order_by(Visit.id)
    ).first()


def open_checkout(session: Session, item_id: int) -> Checkout | None:
    return session.scalars(
        select(Checkout).where(Checkout.item_id == item_id, Checkout.returned_at.is_(None))
    ).first()


def prior_tap(session: Session, reader_id: str, uid: str, at: datetime) -> PriorTap | None:
    """The last first-of-its-kind tap of `uid` on this reader at or before `at`."""
    rec = session.scalars(
        select(ScanRecord)
        .where(ScanRecord.reader_id == reader_id, ScanRecord.uid == uid, ScanRecord.at <= at,
               ScanRecord.duplicate_of.is_(None))
        .order_by(ScanRecord.at.desc())
        .limit(1)
    ).first()
    return PriorTap(rec.id, rec.at, rec.result, rec.action, rec.reason) if rec else None


def person_inside(session: Session, person_id: int, at: datetime) -> bool:
    """Whether the person's last entry or exit before `at` was an entry."""
    kind = session.scalars(
        select(PresenceEvent.kind)
        .where(PresenceEvent.person_id == person_id, PresenceEvent.at <= at)
        .order_by(PresenceEvent.at.desc(), PresenceEvent.id.desc())
        .limit(1)
    ).first()
    return kind == "entry"


def open_session_row(session: Session, cabinet_id: str) -> CabinetSession | None:
    return session.scalars(
        select(CabinetSession)
        .where(CabinetSession.cabinet_id == cabinet_id, CabinetSession.closed_at.is_(None))
        .order_by(CabinetSession.opened_at.desc())
    ).first()


def as_open_session(row: CabinetSession | None) -> OpenSession | None:
    if row is None:
        return None
    return OpenSession(row.id, row.person_id, row.opened_at, row.last_scan_at)
