"""`/api/v1/visits` (the visitor log) and `/api/v1/presence` (who is in the office now)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import AwareDatetime, Field, model_validator
from sqlalchemy import select

from server.accounts.models import User
from server.api.deps import HOSTS, READ, Db, Paging, require
from server.api.schemas import CardUid, In, Line, Name, OfficeTime, Out, RowId
from server.api.uid_view import ShownUid
from server.people.models import Person
from server.visits import service
from server.visits.models import Visit
from server.visits.presence import Present, roll_call
from server.visits.queries import for_day

router = APIRouter(tags=["visits"])


class VisitIn(In):
    visitor_name: Name
    organisation: Line = Field("", max_length=200)
    purpose: Line = Field("", max_length=500)
    host: Line = Field("", max_length=200, description="the member of staff the visitor comes to see")
    badge_uid: CardUid | None = Field(None, description="the visitor badge lent; may be given at arrival instead")
    host_person_id: int | None = Field(None, ge=1, description="the host as a staff member (they are told on arrival)")
    expected_at: AwareDatetime | None = None
    valid_from: AwareDatetime | None = Field(None, description="the badge lets the visitor in from then …")
    valid_until: AwareDatetime | None = Field(None, description="… until then (leaving always works)")

    @model_validator(mode="after")
    def _window(self) -> VisitIn:
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self


class VisitOut(Out):
    id: int
    visitor_name: str
    organisation: str
    purpose: str
    host: str
    host_person_id: int | None
    badge_uid: ShownUid | None
    state: str
    registered_at: OfficeTime
    expected_at: OfficeTime | None
    valid_from: OfficeTime | None
    valid_until: OfficeTime | None
    entered_at: OfficeTime | None
    left_at: OfficeTime | None
    closed_at: OfficeTime | None
    badge_returned_at: OfficeTime | None


def _problem(exc: service.VisitProblem) -> HTTPException:
    code = status.HTTP_409_CONFLICT if exc.conflict else status.HTTP_422_UNPROCESSABLE_CONTENT
    return HTTPException(code, exc.detail)


@router.post("/visits", status_code=status.HTTP_201_CREATED, response_model=VisitOut)
def register_visit(body: VisitIn, db: Db, request: Request,
                   user: Annotated[User, Depends(require(*HOSTS))]) -> Visit:
    host = None
    if body.host_person_id is not None and (host := db.get(Person, body.host_person_id)) is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"no staff member {body.host_person_id}")
    try:
        return service.register(db, request.app.state.clock(), host_person=host, by=user.name,
                                **body.model_dump(exclude={"host_person_id"}))
    except service.VisitProblem as exc:
        raise _problem(exc) from None


@router.get("/visits", response_model=list[VisitOut], dependencies=[Depends(require(*READ))])
def list_visits(db: Db, page: Paging, request: Request,
                state: Literal["expected", "in", "out", "not_signed_out", "cancelled"] | None = None,
                day: date | None = None) -> list[Visit]:
    """The visitor log, newest first; `day` keeps the visits for one office day (YYYY-MM-DD)."""
    order = (Visit.registered_at.desc(), Visit.id.desc())
    chosen = select(Visit.id).order_by(*order)
    if state:
        chosen = chosen.where(Visit.state == state)
    if day is not None:
        start = datetime.combine(day, time(0), tzinfo=request.app.state.settings.zone)
        chosen = chosen.where(for_day(start))
    # The page's ids first (ix_visits_registered alone), then those rows: a deep page skips index entries, not rows.
    chosen = chosen.limit(page.limit).offset(page.offset)
    return list(db.scalars(select(Visit).where(Visit.id.in_(chosen)).order_by(*order)))


@router.get("/visits/{visit_id}", response_model=VisitOut, dependencies=[Depends(require(*READ))])
def get_visit(db: Db, visit_id: RowId) -> Visit:
    visit = db.get(Visit, visit_id)
    if visit is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no visit {visit_id}")
    return visit


class PresentOut(Out):
    kind: Literal["staff", "visitor"]
    name: str
    since: OfficeTime | None
    person_id: int | None = None
    visit_id: int | None = None
    organisation: str | None = None
    host: str | None = None
    badge: str | None = None
    unconfirmed: bool = Field(False, description="a visitor closed at closing time as not signed out")


@router.get("/presence", response_model=list[PresentOut], dependencies=[Depends(require(*READ))])
def presence(db: Db, request: Request) -> list[Present]:
    """Everyone in the office now, staff and visitors: the evacuation roll call.

    Visitors closed as "not signed out" since the start of today are listed too, marked
    `unconfirmed`: nobody saw them leave.
    """
    return roll_call(db, request.app.state.clock(), request.app.state.settings.zone)

