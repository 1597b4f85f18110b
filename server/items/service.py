"""Adding and changing items: shared by the API and the admin pages (callers validate and check uids)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.items.models import Item
from server.readers.models import Reader

# The model's attribute for each field name the API and the pages use.
FIELDS = {"case": "case_number", "cabinet": "cabinet_id"}


def is_cabinet(db: Session, reader_id: str) -> bool:
    reader = db.get(Reader, reader_id)
    return reader is not None and reader.role == "cabinet"


def cabinets(db: Session) -> list[Reader]:
    return list(db.scalars(select(Reader).where(Reader.role == "cabinet").order_by(Reader.id)))


def add_item(db: Session, now: datetime, *, label: str, kind: str, tag_uid: str, cabinet: str,
             encrypted: bool = False, screen_locked: bool | None = None, case: str | None = None,
             due_time: time | None = None, loan_minutes: int | None = None) -> Item:
    """`screen_locked` left out means "as encrypted": a caller that only knows the contract's `encrypted`
    flag means "this device is protected"."""
    item = Item(label=label, kind=kind, tag_uid=tag_uid, cabinet_id=cabinet, encrypted=encrypted,
                screen_locked=encrypted if screen_locked is None else screen_locked,
                case_number=case, created_at=now, due_time=due_time, loan_minutes=loan_minutes)
    db.add(item)
    db.flush()
    return item


def change_item(db: Session, item: Item, changes: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Apply `changes` (API field name -> value); returns what changed as field -> (before, after)."""
    changed = {}
    for field, value in changes.items():
        attribute = FIELDS.get(field, field)
        before = getattr(item, attribute)
        if before != value:
            changed[field] = (before, value)
            setattr(item, attribute, value)
    db.flush()
    return changed
