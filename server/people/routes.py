"""`/api/v1/people` and `/api/v1/visitor-badges`: staff with their cards, and the badge pool."""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import Field
from sqlalchemy import select

from server.accounts.models import User
from server.api.deps import MANAGE, READ, RECEPTION, Db, Paging, require
from server.api.schemas import CardUid, Change, In, Line, Name, OfficeTime, Out, RowId
from server.api.uid_view import ShownUid
from server.api.uids import ensure_uid_free
from server.domain.roster import QUALIFICATIONS
from server.people import service
from server.people.models import Card, Person, VisitorBadge
from server.training.service import TrainingError

router = APIRouter(tags=["people"])


Qualification = Literal[QUALIFICATIONS]  # type: ignore[valid-type]


class PersonIn(In):
    name: Name
    card_uid: CardUid | None = None
    key_holder: bool = False
    training_on: date | None = Field(None, description="an earlier information-security training (情報セキュリティ教育) "
                                    "on paper: recorded as a carried-over session; a new person is otherwise untrained")
    roles: list[str] = Field(default_factory=list, description="job roles, e.g. surveyor, manager")
    active: bool = True
    qualification: Qualification | None = Field(None, description="資格 for the surveyor roster")
    registered_on: date | None = Field(None, description="登録日: registered with the ward as a surveyor")


class PersonOut(Out):
    id: int
    name: str
    card_uids: list[ShownUid]
    key_holder: bool
    training_on: date | None = Field(description="the latest attended 情報セキュリティ教育 session")
    roles: list[str]
    active: bool
    qualification: str | None
    registered_on: date | None
    created_at: OfficeTime


def _person_out(person: Person, cards: list[str]) -> PersonOut:
    return PersonOut(id=person.id, name=person.name, card_uids=cards, key_holder=person.key_holder,
                     training_on=person.training_on, roles=person.roles, active=person.active,
                     qualification=person.qualification, registered_on=person.registered_on,
                     created_at=person.created_at)


Manager = Annotated[User, Depends(require(*MANAGE))]


@router.post("/people", status_code=status.HTTP_201_CREATED, response_model=PersonOut)
def add_person(body: PersonIn, db: Db, request: Request, user: Manager) -> PersonOut:
    if body.card_uid:
        ensure_uid_free(db, body.card_uid)
    now, zone = request.app.state.clock(), request.app.state.settings.zone
    try:
        person = service.add_person(db, now, name=body.name, card_uid=body.card_uid, key_holder=body.key_holder,
                                    training_on=body.training_on, roles=body.roles, active=body.active,
                                    qualification=body.qualification, registered_on=body.registered_on,
                                    by=user.name, today=now.astimezone(zone).date())
    except TrainingError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY,
                            "training_on is after today: give the date the training was held") from exc
    return _person_out(person, [body.card_uid] if body.card_uid else [])


class PersonChange(Change):
    """`training_on` is not here: it is the latest attended session (`/training`)."""

    nullable: ClassVar[frozenset[str]] = frozenset({"qualification", "registered_on"})

    name: Name | None = None
    key_holder: bool | None = None
    roles: list[str] | None = None
    qualification: Qualification | None = None
    registered_on: date | None = None
    active: bool | None = Field(None, description="an inactive person's cards open nothing")


@router.patch("/people/{person_id}", response_model=PersonOut)
def change_person(person_id: RowId, body: PersonChange, db: Db, request: Request, user: Manager) -> PersonOut:
    person = db.get(Person, person_id)
    if person is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no person {person_id}")
    service.change_person(db, person, body.model_dump(exclude_unset=True), request.app.state.clock(), user.name)
    return _person_out(person, service.card_uids(db, person_id))


@router.get("/people", response_model=list[PersonOut], dependencies=[Depends(require(*READ))])
def list_people(db: Db, page: Paging) -> list[PersonOut]:
    people = list(db.scalars(select(Person).order_by(Person.id).limit(page.limit).offset(page.offset)))
    cards: dict[int, list[str]] = {p.id: [] for p in people}
    for card in db.scalars(select(Card).where(Card.person_id.in_(cards)).order_by(Card.created_at)):
        cards[card.person_id].append(card.uid)
    return [_person_out(p, cards[p.id]) for p in people]


@router.get("/people/{person_id}", response_model=PersonOut, dependencies=[Depends(require(*READ))])
def get_person(person_id: RowId, db: Db) -> PersonOut:
    person = db.get(Person, person_id)
    if person is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no person {person_id}")
    return _person_out(person, service.card_uids(db, person_id))


class BadgeIn(In):
    uid: CardUid
    label: Line = Field(min_length=1, max_length=100, description="the number printed on the badge")


class BadgeOut(Out):
    uid: ShownUid
    label: str
    active: bool
    created_at: OfficeTime


@router.post("/visitor-badges", status_code=status.HTTP_201_CREATED, response_model=BadgeOut,
             dependencies=[Depends(require(*RECEPTION))])
def add_visitor_badge(body: BadgeIn, db: Db, request: Request) -> VisitorBadge:
    ensure_uid_free(db, body.uid)
    return service.add_badge(db, request.app.state.clock(), uid=body.uid, label=body.label)


@router.get("/visitor-badges", response_model=list[BadgeOut], dependencies=[Depends(require(*READ))])
def list_visitor_badges(db: Db, page: Paging) -> list[VisitorBadge]:
    return list(db.scalars(select(VisitorBadge).order_by(VisitorBadge.label, VisitorBadge.uid)
                           .limit(page.limit).offset(page.offset)))
