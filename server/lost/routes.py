"""`/api/v1/lost-items` and `POST /api/v1/items/{id}/lost`: items marked lost, with their frozen history."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import Field

from server.accounts.models import User
from server.api.deps import MANAGE, READ, Db, Paging, require
from server.api.schemas import In, OfficeTime, Out, RowId
from server.checkouts.routes import ItemRef
from server.items.models import Item
from server.lost import service
from server.lost.models import LostItem

router = APIRouter(tags=["lost items"])


class LostIn(In):
    note: str = Field(min_length=1, max_length=service.NOTE_MAX,
                      description="what is known: where it was last seen, who was told")


class LostOut(Out):
    id: int
    item: ItemRef
    checkout_id: int | None = Field(description="the loan it was lost on, if it was out")
    person_id: int | None = Field(description="who held it then")
    marked_at: OfficeTime
    marked_by: str
    note: str | None
    found_at: OfficeTime | None
    found_by: str | None


class LostDetailOut(LostOut):
    history: list[dict[str, Any]] = Field(description="every checkout and tap of the item up to marked_at, frozen")


def _out(lost: LostItem, item: Item, model: type[LostOut] = LostOut) -> LostOut:
    extra = {"history": lost.history} if model is LostDetailOut else {}
    return model(id=lost.id, item=ItemRef(id=item.id, label=item.label, kind=item.kind, case=item.case_number),
                 checkout_id=lost.checkout_id, person_id=lost.person_id, marked_at=lost.marked_at,
                 marked_by=lost.marked_by, note=lost.note, found_at=lost.found_at, found_by=lost.found_by, **extra)


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.post("/items/{item_id}/lost", status_code=status.HTTP_201_CREATED, response_model=LostDetailOut)
def mark_lost(item_id: RowId, body: LostIn, request: Request, db: Db,
              user: Annotated[User, Depends(require(*MANAGE))]) -> LostOut:
    """Block the item from loans and keep a record with its whole history. 409 if it is already lost."""
    item = db.get(Item, item_id)
    if item is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no item {item_id}")
    try:
        lost = service.mark_lost(db, item, by=user.name, at=request.app.state.clock(),
                                 zone=request.app.state.settings.zone, note=body.note, address=_address(request))
    except service.AlreadyLost as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return _out(lost, item, LostDetailOut)


@router.get("/lost-items", response_model=list[LostOut], dependencies=[Depends(require(*READ))])
def list_lost(db: Db, page: Paging, state: Literal["open", "found"] | None = None) -> list[LostOut]:
    return [_out(lost, item) for lost, item in service.listing(db, state, page.limit, page.offset)]


def _record(db: Db, lost_id: int) -> tuple[LostItem, Item]:
    lost = db.get(LostItem, lost_id)
    if lost is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no lost item record {lost_id}")
    item = db.get(Item, lost.item_id)
    assert item is not None
    return lost, item


@router.get("/lost-items/{lost_id}", response_model=LostDetailOut, dependencies=[Depends(require(*READ))])
def get_lost(lost_id: RowId, db: Db) -> LostOut:
    return _out(*_record(db, lost_id), LostDetailOut)


@router.post("/lost-items/{lost_id}/found", response_model=LostDetailOut)
def mark_found(lost_id: RowId, request: Request, db: Db, user: Annotated[User, Depends(require(*MANAGE))]) -> LostOut:
    """The item turned up: it may be lent again. 409 if the record was already closed."""
    try:
        lost = service.mark_found(db, lost_id, by=user.name, at=request.app.state.clock(), address=_address(request))
    except service.LostMissing:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no lost item record {lost_id}") from None
    except service.AlreadyFound as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return _out(*_record(db, lost.id), LostDetailOut)
