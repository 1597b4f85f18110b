"""One uid, one meaning: a staff card, a visitor badge and an item tag never share a uid."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import HTTPException, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.items.models import Item
from server.people.models import Card, VisitorBadge

# What a registered uid is, in the words the API's 409 uses; pages translate the keys.
USES = {"card": "a staff card", "badge": "a visitor badge", "tag": "an item tag"}


def registered_as(db: Session, uid: str) -> str | None:
    """"card", "badge" or "tag" if the uid is already registered, else None."""
    return registered_uids(db, [uid]).get(uid)


def registered_uids(db: Session, uids: Iterable[str]) -> dict[str, str]:
    """Of `uids`, those already registered, each with what it is ("card", "badge" or "tag")."""
    wanted = list(set(uids))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 500):  # keep the IN list within every database's limits
        chunk = wanted[start:start + 500]
        found.update((uid, "tag") for uid in db.scalars(select(Item.tag_uid).where(Item.tag_uid.in_(chunk),
                                                                                    Item.status != "retired")))
        found.update((uid, "badge") for uid in db.scalars(select(VisitorBadge.uid).where(VisitorBadge.uid.in_(chunk))))
        found.update((uid, "card") for uid in db.scalars(select(Card.uid).where(Card.uid.in_(chunk))))
    return found


def ensure_uid_free(db: Session, uid: str) -> None:
    """409 if the uid is already a card, a badge or a tag."""
    used = registered_as(db, uid)
    if used is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"uid {uid} is already registered as {USES[used]}")
