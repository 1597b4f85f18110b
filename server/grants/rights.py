"""For the access-rights report: which cabinets each person's grants open, and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.grants.models import CabinetGrant
from server.readers.models import Reader


@dataclass(frozen=True, slots=True)
class Right:
    cabinet: str  # the cabinet's name
    hours: tuple  # stored weekly hours ([weekday, "08:00", "19:00"], …); empty: any time
    expires_at: datetime | None


def rights_of(db: Session, people: dict[int, list[str]], now: datetime) -> dict[int, list[Right]]:
    """person id -> the cabinets their live grants open (a cabinet without any grant: every key holder, any
    time). Several grants to one cabinet add up: any time wins, otherwise their hours together."""
    cabinets = db.execute(select(Reader.id, Reader.name).where(Reader.role == "cabinet").order_by(Reader.id)).all()
    grants: dict[str, list[CabinetGrant]] = {}
    for grant in db.scalars(select(CabinetGrant).order_by(CabinetGrant.id)):
        if grant.expires_at is None or grant.expires_at > now:
            grants.setdefault(grant.cabinet_id, []).append(grant)
    result: dict[int, list[Right]] = {}
    for person_id, roles in people.items():
        rights = []
        for cabinet_id, name in cabinets:
            if cabinet_id not in grants:
                rights.append(Right(name, (), None))
                continue
            theirs = [g for g in grants[cabinet_id] if g.person_id == person_id or (g.role and g.role in roles)]
            if not theirs:
                continue
            any_time = any(not g.hours for g in theirs)
            hours = () if any_time else tuple(tuple(h) for g in theirs for h in g.hours)
            ends = [g.expires_at for g in theirs]
            rights.append(Right(name, hours, None if None in ends else max(e for e in ends if e is not None)))
        result[person_id] = rights
    return result
