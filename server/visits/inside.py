"""The stored "who is in" (`staff_inside`), derived from the entrance's taps person by person.

The ingest calls `refresh` for the people a batch gave or took taps (a rewind deletes and re-makes
them), in the batch's own transaction; the migration that made the table, and a test after random
late scans, call `rebuild`. Both run the one derivation below, so the table is what the taps say:
in when the person's latest tap is an entry (an entry and an exit at the very same instant: in).
Each person costs two short steps down ix_presence_person_at, whatever the years of taps.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, bindparam, delete, exists, insert, select, true
from sqlalchemy.sql.elements import ColumnElement

from server.people.models import Person
from server.visits.models import PresenceEvent, StaffInside

_tap = PresenceEvent.__table__
_entry = _tap.alias("entry")
_later = _tap.alias("later")
_COLUMNS = ["person_id", "since", "reader_id", "scan_id"]


def _derived(people: ColumnElement[bool]):
    """The rows `staff_inside` holds for the people `people` selects."""
    latest_entry = (select(_entry.c.id).where(_entry.c.person_id == Person.id, _entry.c.kind == "entry")
                    .order_by(_entry.c.at.desc(), _entry.c.id.desc()).limit(1).scalar_subquery())
    # OFFSET 0: PostgreSQL keeps the subquery whole, one probe per person, instead of hashing all taps.
    chosen = (select(latest_entry.label("tap_id")).select_from(Person.__table__).where(people)
              .offset(0).subquery("chosen"))
    return (select(_tap.c.person_id, _tap.c.at, _tap.c.reader_id, _tap.c.scan_id)
            .join(chosen, chosen.c.tap_id == _tap.c.id)
            .where(~exists().where(_later.c.person_id == _tap.c.person_id, _later.c.at > _tap.c.at)))


_PEOPLE = Person.id.in_(bindparam("people", expanding=True))
_FORGET = delete(StaffInside).where(StaffInside.person_id.in_(bindparam("people", expanding=True)))
_FILL = insert(StaffInside).from_select(_COLUMNS, _derived(_PEOPLE))
_FILL_ALL = insert(StaffInside).from_select(_COLUMNS, _derived(true()))


def refresh(conn: Connection, person_ids: Iterable[int]) -> None:
    """Make these people's rows what their taps say now (the caller commits)."""
    people = sorted(set(person_ids))
    for start in range(0, len(people), 500):
        chunk = {"people": people[start:start + 500]}
        conn.execute(_FORGET, chunk)
        conn.execute(_FILL, chunk)


def rebuild(conn: Connection) -> None:
    """Make the whole table again from the ledger (the caller commits)."""
    conn.execute(delete(StaffInside))
    conn.execute(_FILL_ALL)
