"""Which cards can prove they are no copy, and who or which reader requires it: the one place these change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from server.audit.service import record
from server.people.models import Card, Person
from server.readers.models import Reader

KINDS = ("ntag424_sun", "felica_lite_s_mac")


class NotFound(LookupError):
    pass


def mark_card(db: Session, now: datetime, actor: str, uid: str, kind: str | None) -> Card:
    """Record what kind of card `uid` is (None: a plain card, known by its number only)."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)} or none")
    card = db.get(Card, uid.upper())
    if card is None:
        raise NotFound(f"no staff card {uid.upper()}: register it with its holder first")
    card.auth_kind = kind
    person = db.get(Person, card.person_id)
    record(db, now, "card_auth_changed", actor, {"person": person.name if person else None, "card": card.uid,
                                                 "card_kind": kind or "none"})
    return card


def require_for_person(db: Session, now: datetime, actor: str, person_id: int, required: bool) -> None:
    """Every tap of this person's cards must carry a valid proof (or need not)."""
    _require(db, now, actor, db.get(Person, person_id), f"no person with id {person_id}", required)


def require_at_reader(db: Session, now: datetime, actor: str, reader_id: str, required: bool) -> None:
    """At this reader, cards that can prove they are no copy must (or need not)."""
    _require(db, now, actor, db.get(Reader, reader_id), f"no reader {reader_id}", required)


def _require(db: Session, now: datetime, actor: str, subject: Person | Reader | None, missing: str,
             required: bool) -> None:
    if subject is None:
        raise NotFound(missing)
    subject.card_auth_required = required
    who = "person" if isinstance(subject, Person) else "reader"
    record(db, now, "card_auth_changed", actor, {who: subject.name, "required": required})
