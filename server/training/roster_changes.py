"""The roster's change history: each addition and each change to what the 要介護認定調査員名簿 shows,
written with the change itself (server/people/service.py), never edited."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from server.domain.roster import ROSTER_FIELDS, roster_role
from server.people.models import Person
from server.training.models import PersonChange


def roster_view(person: Person) -> dict[str, Any]:
    """What the roster shows of a person, as stored in a change (dates as ISO text)."""
    view = {"name": person.name, "qualification": person.qualification, "registered_on": person.registered_on,
            "roster_role": roster_role(person.roles), "active": person.active}
    return {key: value.isoformat() if isinstance(value, date) else value for key, value in view.items()}


def note_added(db: Session, person: Person, now: datetime, by: str) -> None:
    after = roster_view(person)
    db.add(PersonChange(person_id=person.id, at=now, by_name=by,
                        fields={"added": [None, True], **{key: [None, after[key]] for key in ROSTER_FIELDS}}))


def note_changed(db: Session, person: Person, before: dict[str, Any], now: datetime, by: str) -> bool:
    """A change if the roster's view of `person` moved from `before`; who is on it is always kept, to tell
    additions and removals apart. Returns whether anything was written."""
    after = roster_view(person)
    moved = {key for key in ROSTER_FIELDS if before[key] != after[key]}
    if not moved:
        return False
    kept = moved | {"active", "roster_role"}
    db.add(PersonChange(person_id=person.id, at=now, by_name=by,
                        fields={key: [before[key], after[key]] for key in ROSTER_FIELDS if key in kept}))
    return True
