"""The 要介護認定調査員名簿 (surveyors and the manager, with their 資格, 登録日 and training dates) and the
変更届 (additions, removals and changes since a date): the queries behind the pages, CSV and prints."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from server.domain.roster import ROSTER_ROLES, change_kind, roster_role
from server.people.models import Person
from server.training.models import Attendance, PersonChange, TrainingSession


@dataclass(frozen=True)
class RosterLine:
    person: Person
    role: str
    trained_on: list[date]  # every attended session, newest first
    change: str | None  # added | changed, since the date asked (None: unchanged or no date asked)


@dataclass(frozen=True)
class ChangeLine:
    at: datetime
    person: Person
    kind: str  # added | removed | changed
    fields: dict[str, list[Any]]  # what the roster shows, field -> [before, after]
    by: str


def trained_on(db: Session, person_ids: list[int]) -> dict[int, list[date]]:
    """Each person's attended sessions (withdrawals left out), newest first."""
    withdrawal = aliased(Attendance)
    rows = db.execute(select(Attendance.person_id, TrainingSession.held_on)
                      .join(TrainingSession, TrainingSession.id == Attendance.session_id)
                      .outerjoin(withdrawal, withdrawal.withdraws_id == Attendance.id)
                      .where(Attendance.action == "attended", withdrawal.id.is_(None),
                             Attendance.person_id.in_(person_ids))
                      .order_by(TrainingSession.held_on.desc()))
    found: dict[int, list[date]] = defaultdict(list)
    for person_id, held_on in rows:
        if held_on not in found[person_id]:
            found[person_id].append(held_on)
    return found


def changes_since(db: Session, since: datetime, until: datetime | None = None) -> list[ChangeLine]:
    """The 変更届: every change the roster shows, from `since` (to `until`, exclusive)."""
    query = select(PersonChange, Person).join(Person, Person.id == PersonChange.person_id)
    if until is not None:
        query = query.where(PersonChange.at < until)
    rows = db.execute(query.where(PersonChange.at >= since).order_by(PersonChange.at, PersonChange.id))
    lines = []
    for change, person in rows:
        kind = change_kind(change.fields)
        if kind is not None:
            lines.append(ChangeLine(change.at, person, kind, change.fields, change.by_name))
    return lines


def roster(db: Session, since: datetime | None = None) -> list[RosterLine]:
    """Active people on the roster, the manager first, then by name; `since`: mark who changed after it."""
    people = [p for p in db.scalars(select(Person).where(Person.active.is_(True)).order_by(Person.name, Person.id))
              if roster_role(p.roles)]
    people.sort(key=lambda p: ROSTER_ROLES.index(roster_role(p.roles) or ROSTER_ROLES[-1]))
    dates = trained_on(db, [p.id for p in people])
    changed: dict[int, str] = {}
    if since is not None:
        for line in changes_since(db, since):
            # An addition since the date stays an addition, whatever changed after it.
            changed[line.person.id] = "added" if changed.get(line.person.id) == "added" else line.kind
    return [RosterLine(p, roster_role(p.roles) or "", dates.get(p.id, []),
                       changed.get(p.id) if changed.get(p.id) in ("added", "changed") else None) for p in people]
