"""Adding and changing staff, their cards and visitor badges: shared by the API and the admin pages.

The callers validate the input (the API's schemas) and check that a uid is free
(`server.api.uids`); these functions only write, inside the caller's unit of work.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.people.models import Card, Person, VisitorBadge
from server.training.roster_changes import note_added, note_changed, roster_view
from server.training.service import carry_over


def add_person(db: Session, now: datetime, *, name: str, card_uid: str | None, key_holder: bool = False,
               training_on: date | None = None, roles: list[str] | None = None, active: bool = True,
               qualification: str | None = None, registered_on: date | None = None, by: str = "mamori",
               today: date | None = None) -> Person:
    """A new person is untrained; `training_on` (an earlier training on paper) becomes a carried-over session."""
    person = Person(name=name, key_holder=key_holder, roles=roles or [], active=active, qualification=qualification,
                    registered_on=registered_on, created_at=now)
    db.add(person)
    db.flush()
    note_added(db, person, now, by)
    if card_uid:
        db.add(Card(uid=card_uid, person_id=person.id, created_at=now))
    db.flush()
    if training_on is not None:
        carry_over(db, now, by, person, training_on, today)
    return person


def change_person(db: Session, person: Person, changes: dict[str, Any], now: datetime,
                  by: str) -> dict[str, tuple[Any, Any]]:
    """Apply `changes` (field -> value; never `training_on`, which only sessions set); returns what changed
    as field -> (before, after). What the roster shows is kept in its change history."""
    if "training_on" in changes:
        raise ValueError("training_on comes from the sessions attended: record a session (server/training)")
    before = roster_view(person)
    changed = {}
    for field, value in changes.items():
        was = getattr(person, field)
        if was != value:
            changed[field] = (was, value)
            setattr(person, field, value)
    note_changed(db, person, before, now, by)
    db.flush()
    return changed


def card_uids(db: Session, person_id: int, *, active_only: bool = False) -> list[str]:
    query = select(Card.uid).where(Card.person_id == person_id)
    if active_only:
        query = query.where(Card.active.is_(True))
    return list(db.scalars(query.order_by(Card.created_at, Card.uid)))


def replace_card(db: Session, person: Person, uid: str | None, now: datetime) -> list[str]:
    """The person's card is now `uid` (None: no card): their other cards stop opening anything.

    A card is never deleted: the ledger's taps keep naming it. Returns the uids retired.
    """
    retired = []
    for card in db.scalars(select(Card).where(Card.person_id == person.id, Card.active.is_(True))):
        if card.uid != uid:
            card.active = False
            retired.append(card.uid)
    if uid is not None:
        card = db.get(Card, uid)
        if card is None:
            db.add(Card(uid=uid, person_id=person.id, created_at=now))
        elif card.person_id == person.id:
            card.active = True
        else:
            raise ValueError(f"card {uid} belongs to someone else")
    db.flush()
    return retired


def add_badge(db: Session, now: datetime, *, uid: str, label: str, active: bool = True) -> VisitorBadge:
    badge = VisitorBadge(uid=uid, label=label, active=active, created_at=now)
    db.add(badge)
    db.flush()
    return badge
