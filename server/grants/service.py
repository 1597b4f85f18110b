"""Changing grants, one-off openings, closed days, and revoking a lost card. The caller audits and commits."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.domain.grants import Slot, stored_hours
from server.grants.models import CabinetGrant, ClosedDay, GrantOneOff
from server.people.models import Card


class GrantProblem(ValueError):
    """A change refused, with the message key that says why."""

    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def add_grant(db: Session, *, cabinet_id: str, person_id: int | None = None, role: str | None = None,
              slots: Iterable[Slot] = (), expires_at: datetime | None = None, now: datetime, by: str) -> CabinetGrant:
    if (person_id is None) == (role is None):
        raise GrantProblem("grants.err.who")
    grant = CabinetGrant(cabinet_id=cabinet_id, person_id=person_id, role=role, hours=stored_hours(slots),
                         expires_at=expires_at, created_at=now, created_by=by)
    db.add(grant)
    db.flush()
    return grant


def set_hours(db: Session, grant: CabinetGrant, slots: Iterable[Slot], expires_at: datetime | None) -> dict:
    """The grant's weekly hours and expiry; the changes as (before, after) for the audit."""
    hours = stored_hours(slots)
    changes = {}
    if hours != grant.hours:
        changes["hours"], grant.hours = (grant.hours, hours), hours
    if expires_at != grant.expires_at:
        changes["expires_at"], grant.expires_at = (grant.expires_at, expires_at), expires_at
    return changes


def remove_grant(db: Session, grant: CabinetGrant) -> None:
    """Refused for a cabinet's last grant: a cabinet with none is open to every key holder again."""
    left = db.scalar(select(func.count()).select_from(CabinetGrant).where(CabinetGrant.cabinet_id == grant.cabinet_id))
    if left <= 1:
        raise GrantProblem("grants.err.last")
    db.delete(grant)


def add_one_off(db: Session, grant: CabinetGrant, *, day: date, starts: time, ends: time, reason: str,
                now: datetime, by: str) -> GrantOneOff:
    if not starts < ends:
        raise GrantProblem("grants.err.order")
    if not reason.strip():
        raise GrantProblem("grants.err.reason")
    one_off = GrantOneOff(grant_id=grant.id, day=day, starts=starts, ends=ends, reason=reason.strip(), created_at=now,
                          created_by=by)
    db.add(one_off)
    db.flush()
    return one_off


def add_closed_day(db: Session, day: date, label: str, *, now: datetime, by: str) -> ClosedDay:
    if db.get(ClosedDay, day) is not None:
        raise GrantProblem("grants.err.closed_twice")
    closed = ClosedDay(day=day, label=label.strip(), created_at=now, created_by=by)
    db.add(closed)
    return closed


def revoke_card(db: Session, uid: str) -> Card:
    """A lost badge or card: it opens nothing from the commit on (the caller republishes the allowlists)."""
    card = db.get(Card, uid)
    if card is None:
        raise GrantProblem("grants.err.no_card")
    if not card.active:
        raise GrantProblem("grants.err.revoked_already")
    card.active = False
    return card
