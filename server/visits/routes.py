"""`/api/v1/visits` (the visitor log) and `/api/v1/presence` (who is in the office now)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import Field
from sqlalchemy import func, select

from server.api.deps import HOSTS, READ, Db, Paging, require
from server.api.schemas import CardUid, In, Name, OfficeTime, Out
from server.people.models import Person, VisitorBadge
from server.visits.models import PresenceEvent, Visit

router = APIRouter(tags=["visits"])


class VisitIn(In):
    visitor_name: Name
    organisation: str = Field("", max_length=200)
    purpose: str = Field("", max_length=500)
    host: str = Field("", max_length=200, description="the member of staff the visitor comes to see")
    badge_uid: CardUid


class VisitOut(Out):
    id: int
    visitor_name: str
    organisation: str
    purpose: str
    host: str
    badge_uid: str
    state: str
    registered_at: OfficeTime
    entered_at: OfficeTime | None
    left_at: OfficeTime | None


@router.post("/visits", status_code=status.HTTP_201_CREATED, response_model=VisitOut,
             dependencies=[Depends(require(*HOSTS))])
def register_visit(body: VisitIn, db: Db, request: Request) -> Visit:
    badge = db.get(VisitorBadge, body.badge_uid)
    if badge is None or not badge.active:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"badge {body.badge_uid} is not in the visitor badge pool; add it first")
    lent = db.scalars(select(Visit).where(Visit.badge_uid == body.badge_uid, Visit.state != "out")).first()
    if lent is not None:
        raise HTTPException(status.HTTP_409_CONFLICT,
                            f"badge {badge.label} is lent to visit {lent.id} ({lent.state}); choose another")
    visit = Visit(**body.model_dump(), registered_at=request.app.state.clock())
    db.add(visit)
    db.flush()
    return visit


@router.get("/visits", response_model=list[VisitOut], dependencies=[Depends(require(*READ))])
def list_visits(db: Db, page: Paging, state: Literal["expected", "in", "out"] | None = None) -> list[Visit]:
    query = select(Visit).order_by(Visit.registered_at.desc(), Visit.id.desc())
    if state:
        query = query.where(Visit.state == state)
    return list(db.scalars(query.limit(page.limit).offset(page.offset)))


class PresentOut(Out):
    kind: Literal["staff", "visitor"]
    name: str
    since: OfficeTime
    person_id: int | None = None
    visit_id: int | None = None
    organisation: str | None = None
    host: str | None = None


@router.get("/presence", response_model=list[PresentOut], dependencies=[Depends(require(*READ))])
def presence(db: Db) -> list[PresentOut]:
    """Everyone in the office now, staff and visitors: the evacuation roll call."""
    latest = (select(PresenceEvent.person_id, func.max(PresenceEvent.at).label("at"))
              .where(PresenceEvent.person_id.is_not(None)).group_by(PresenceEvent.person_id).subquery())
    staff = db.execute(
        select(Person, PresenceEvent.at)
        .join(latest, latest.c.person_id == Person.id)
        .join(PresenceEvent, (PresenceEvent.person_id == Person.id) & (PresenceEvent.at == latest.c.at))
        .where(PresenceEvent.kind == "entry")
        .order_by(Person.name)
    ).all()
    visitors = db.scalars(select(Visit).where(Visit.state == "in").order_by(Visit.entered_at))
    rows = [PresentOut(kind="staff", name=p.name, since=at, person_id=p.id) for p, at in staff]
    rows += [PresentOut(kind="visitor", name=v.visitor_name, since=v.entered_at, visit_id=v.id,
                        organisation=v.organisation, host=v.host) for v in visitors]
    return rows


