"""`/api/v1/checkouts`: the 持ち出し管理簿 — open, overdue and returned take-outs."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import aliased

from server.api.deps import READ, Db, Paging, require
from server.api.schemas import OfficeTime, Out
from server.checkouts.models import Checkout
from server.items.models import Item
from server.people.models import Person

router = APIRouter(prefix="/checkouts", tags=["checkouts"])


class ItemRef(BaseModel):
    id: int
    label: str
    kind: str
    case: str | None


class PersonRef(BaseModel):
    id: int
    name: str


class CheckoutOut(Out):
    id: int
    item: ItemRef
    person: PersonRef
    out_at: OfficeTime
    due_at: OfficeTime
    loan_rule: str | None
    returned_at: OfficeTime | None
    returned_by: PersonRef | None
    overdue: bool


@router.get("", response_model=list[CheckoutOut], dependencies=[Depends(require(*READ))])
def list_checkouts(db: Db, page: Paging, request: Request,
                   state: Literal["open", "overdue", "returned"] | None = None) -> list[CheckoutOut]:
    now = request.app.state.clock()
    returner = aliased(Person)
    query = (select(Checkout, Item, Person, returner)
             .join(Item, Item.id == Checkout.item_id)
             .join(Person, Person.id == Checkout.person_id)
             .outerjoin(returner, returner.id == Checkout.returned_by_id))
    if state == "open":
        query = query.where(Checkout.returned_at.is_(None)).order_by(Checkout.due_at)
    elif state == "overdue":
        query = query.where(Checkout.returned_at.is_(None), Checkout.due_at < now).order_by(Checkout.due_at)
    elif state == "returned":
        query = query.where(Checkout.returned_at.is_not(None)).order_by(Checkout.returned_at.desc())
    else:
        query = query.order_by(Checkout.out_at.desc())
    rows = db.execute(query.order_by(Checkout.id).limit(page.limit).offset(page.offset)).all()
    return [
        CheckoutOut(
            id=c.id, item=ItemRef(id=i.id, label=i.label, kind=i.kind, case=i.case_number),
            person=PersonRef(id=p.id, name=p.name), out_at=c.out_at, due_at=c.due_at, loan_rule=c.loan_rule,
            returned_at=c.returned_at, returned_by=PersonRef(id=r.id, name=r.name) if r else None,
            overdue=c.returned_at is None and c.due_at < now,
        )
        for c, i, p, r in rows
    ]
