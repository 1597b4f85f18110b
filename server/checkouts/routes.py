"""`/api/v1/checkouts`: the 持ち出し管理簿 — open, overdue and returned take-outs; a device's purpose and
its "survey data erased" confirmation."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from server.accounts.models import User
from server.api.deps import HOSTS, READ, Db, Paging, require
from server.api.schemas import In, OfficeTime, Out, RowId
from server.checkouts import erasure
from server.checkouts.models import Checkout
from server.domain.erasure import PURPOSE_MAX
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
    purpose: str | None = Field(None, description="a folder's case number, or chosen on the page for a device")
    erasure: Literal["pending", "done"] | None = Field(
        None, description="phones, media and laptops: 'pending' until the survey data is confirmed erased")
    erased_at: OfficeTime | None = None
    erased_by: str | None = None


@router.get("", response_model=list[CheckoutOut], dependencies=[Depends(require(*READ))])
def list_checkouts(db: Db, page: Paging, request: Request,
                   state: Literal["open", "overdue", "returned"] | None = None) -> list[CheckoutOut]:
    now = request.app.state.clock()
    if state == "open":
        where, order = [Checkout.returned_at.is_(None)], [Checkout.due_at]
    elif state == "overdue":
        where, order = [Checkout.returned_at.is_(None), Checkout.due_at < now], [Checkout.due_at]
    elif state == "returned":
        # The newest first, ties too: ix_checkouts_returned walked backwards, nothing sorted.
        where, order = [Checkout.returned_at.is_not(None)], [Checkout.returned_at.desc(), Checkout.id.desc()]
    else:  # newest first, ties too: ix_checkouts_out_at walked backwards, nothing sorted
        where, order = [], [Checkout.out_at.desc(), Checkout.id.desc()]
    if state in ("open", "overdue"):
        order.append(Checkout.id)
    # The page's ids on the checkouts' own index first, then the names for those rows only: joined
    # before the offset, a deep page joined every row it skipped (docs/performance.md, "Deep pages").
    chosen = select(Checkout.id).where(*where).order_by(*order).limit(page.limit).offset(page.offset)
    returner = aliased(Person)
    rows = db.execute(select(Checkout, Item, Person, returner)
                      .join(Item, Item.id == Checkout.item_id)
                      .join(Person, Person.id == Checkout.person_id)
                      .outerjoin(returner, returner.id == Checkout.returned_by_id)
                      .where(Checkout.id.in_(chosen)).order_by(*order)).all()
    return [_checkout_out(c, i, p, r, now) for c, i, p, r in rows]


def _checkout_out(c: Checkout, i: Item, p: Person, r: Person | None, now) -> CheckoutOut:
    return CheckoutOut(
        id=c.id, item=ItemRef(id=i.id, label=i.label, kind=i.kind, case=i.case_number),
        person=PersonRef(id=p.id, name=p.name), out_at=c.out_at, due_at=c.due_at, loan_rule=c.loan_rule,
        returned_at=c.returned_at, returned_by=PersonRef(id=r.id, name=r.name) if r else None,
        overdue=c.returned_at is None and c.due_at < now, purpose=c.purpose, erasure=c.erasure,
        erased_at=c.erased_at, erased_by=c.erased_by,
    )


def _one(db: Session, checkout: Checkout, now) -> CheckoutOut:
    return _checkout_out(checkout, db.get(Item, checkout.item_id), db.get(Person, checkout.person_id),
                         db.get(Person, checkout.returned_by_id) if checkout.returned_by_id else None, now)


def _errors(request: Request, checkout_id: int,
            exc: erasure.CheckoutMissing | erasure.NotAllowed | erasure.CheckoutConflict) -> HTTPException:
    if isinstance(exc, erasure.CheckoutMissing):
        return HTTPException(status.HTTP_404_NOT_FOUND, f"no checkout {checkout_id}")
    if isinstance(exc, erasure.NotAllowed):
        return HTTPException(status.HTTP_403_FORBIDDEN, str(exc))
    return HTTPException(status.HTTP_409_CONFLICT, exc.describe(request.app.state.settings.zone))


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


Holder = Annotated[User, Depends(require(*HOSTS))]


@router.post("/{checkout_id}/erased", response_model=CheckoutOut)
def confirm_erased(checkout_id: RowId, request: Request, db: Db, user: Holder) -> CheckoutOut:
    """The returned device's survey data is erased: its holder or a manager confirms it (409 if it is not
    returned yet, was already confirmed, or is not a phone, medium or laptop). Resolves its not_erased alert."""
    now = request.app.state.clock()
    try:
        checkout = erasure.confirm_erased(db, checkout_id, by=user, at=now, zone=request.app.state.settings.zone,
                                          address=_address(request))
    except (erasure.CheckoutMissing, erasure.NotAllowed, erasure.CheckoutConflict) as exc:
        raise _errors(request, checkout_id, exc) from None
    return _one(db, checkout, now)


class PurposeIn(In):
    purpose: str = Field(min_length=1, max_length=PURPOSE_MAX, description="a case number, 「訪問調査」 …")


@router.put("/{checkout_id}/purpose", response_model=CheckoutOut)
def set_purpose(checkout_id: RowId, body: PurposeIn, request: Request, db: Db, user: Holder) -> CheckoutOut:
    """What a phone, medium or laptop was taken out for; its holder or a manager chooses it after the tap."""
    now = request.app.state.clock()
    try:
        checkout = erasure.set_purpose(db, checkout_id, body.purpose, by=user, at=now, address=_address(request))
    except (erasure.CheckoutMissing, erasure.NotAllowed, erasure.CheckoutConflict) as exc:
        raise _errors(request, checkout_id, exc) from None
    except erasure.BadPurpose as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"purpose: {exc.reason.replace('_', ' ')} (one line of 1 to {PURPOSE_MAX} characters)") \
            from None
    return _one(db, checkout, now)
