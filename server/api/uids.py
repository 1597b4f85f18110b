"""One uid, one meaning: a staff card, a visitor badge and an item tag never share a uid."""

from __future__ import annotations

from fastapi import HTTPException, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.items.models import Item
from server.people.models import Card, VisitorBadge


def ensure_uid_free(db: Session, uid: str) -> None:
    """409 if the uid is already a card, a badge or a tag."""
    if db.get(Card, uid):
        used = "a staff card"
    elif db.get(VisitorBadge, uid):
        used = "a visitor badge"
    elif db.scalars(select(Item.id).where(Item.tag_uid == uid)).first():
        used = "an item tag"
    else:
        return
    raise HTTPException(status.HTTP_409_CONFLICT, f"uid {uid} is already registered as {used}")
