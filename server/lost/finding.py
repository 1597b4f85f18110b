"""Finding the item a person means by what they know of it: its name on the label, its case
number, its item number or the UID printed on its tag."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from server.items.models import Item

MATCHES_SHOWN = 20


def find_items(db: Session, typed: str) -> list[Item]:
    """Exact matches (number, tag UID, case number, label) if any; else labels containing the words."""
    typed = " ".join(typed.split())
    if not typed:
        return []
    exact = [Item.tag_uid == typed.upper(), func.upper(Item.case_number) == typed.upper(),
             func.lower(Item.label) == typed.lower()]
    if typed.isdigit() and len(typed) <= 9:
        exact.append(Item.id == int(typed))
    # A retired folder may share its tag with the new one that took it over: the one in use comes first.
    found = list(db.scalars(select(Item).where(or_(*exact)).order_by(Item.status == "retired", Item.label, Item.id)
                            .limit(MATCHES_SHOWN)))
    if found:
        return found
    pattern = "%" + typed.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return list(db.scalars(select(Item).where(or_(func.lower(Item.label).like(pattern, escape="\\"),
                                                   func.lower(Item.case_number).like(pattern, escape="\\")))
                           .order_by(Item.label, Item.id).limit(MATCHES_SHOWN)))
