"""`/api/v1/items`: folders, phones, media, laptops and keys, each with a home cabinet."""

from __future__ import annotations

from datetime import time
from typing import Annotated, ClassVar, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import Field, model_validator
from sqlalchemy import select

from server.accounts.models import User
from server.api.deps import MANAGE, READ, Db, Paging, require
from server.api.schemas import CardUid, Change, In, Name, OfficeTime, Out, RowId, line
from server.api.uid_view import ShownUid
from server.api.uids import ensure_uid_free
from server.items import service
from server.items.models import Item
from server.lost import service as lost_service

router = APIRouter(prefix="/items", tags=["items"])


class ItemIn(In):
    label: Name
    kind: Literal["folder", "phone", "media", "laptop", "key"]
    tag_uid: CardUid
    cabinet: str = Field(description="id of the cabinet reader this item lives in")
    encrypted: bool = False
    screen_locked: bool | None = Field(None, description="a phone also needs a screen lock to leave the cabinet "
                                       "(omitted: the same as encrypted)")
    case: line(64) | None = Field(None, description="the ward's case number; never a resident's name")
    due_time: time | None = Field(None, description="this item's own loan rule: back by this time of day …")
    loan_minutes: int | None = Field(None, ge=1, le=60 * 24 * 60, description="… or after this many minutes "
                                     "(neither: its kind's rule)")

    @model_validator(mode="after")
    def _one_rule(self) -> ItemIn:
        if self.due_time is not None and self.loan_minutes is not None:
            raise ValueError("give due_time or loan_minutes, not both")
        return self


class ItemOut(Out):
    id: int
    label: str
    kind: str
    tag_uid: ShownUid
    cabinet: str
    encrypted: bool
    screen_locked: bool
    case: str | None
    status: str
    created_at: OfficeTime
    due_time: time | None
    loan_minutes: int | None


def _item_out(item: Item) -> ItemOut:
    return ItemOut(id=item.id, label=item.label, kind=item.kind, tag_uid=item.tag_uid, cabinet=item.cabinet_id,
                   encrypted=item.encrypted, screen_locked=item.screen_locked, case=item.case_number, status=item.status,
                   created_at=item.created_at, due_time=item.due_time, loan_minutes=item.loan_minutes)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ItemOut,
             dependencies=[Depends(require(*MANAGE))])
def add_item(body: ItemIn, db: Db, request: Request) -> ItemOut:
    if not service.is_cabinet(db, body.cabinet):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"cabinet {body.cabinet!r} is not a registered cabinet reader; register it first")
    ensure_uid_free(db, body.tag_uid)
    return _item_out(service.add_item(db, request.app.state.clock(), **body.model_dump()))


class ItemChange(Change):
    nullable: ClassVar[frozenset[str]] = frozenset({"case", "due_time", "loan_minutes"})

    label: Name | None = None
    encrypted: bool | None = None
    screen_locked: bool | None = None
    status: Literal["active", "lost", "retired"] | None = Field(
        None, description="lost or retired items cannot be checked out")
    case: line(64) | None = None
    due_time: time | None = None
    loan_minutes: int | None = Field(None, ge=1, le=60 * 24 * 60)


@router.patch("/{item_id}", response_model=ItemOut)
def change_item(item_id: RowId, body: ItemChange, db: Db, request: Request,
                user: Annotated[User, Depends(require(*MANAGE))]) -> ItemOut:
    item = db.get(Item, item_id)
    if item is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no item {item_id}")
    changes = body.model_dump(exclude_unset=True)
    due_time, minutes = changes.get("due_time", item.due_time), changes.get("loan_minutes", item.loan_minutes)
    if due_time is not None and minutes is not None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            "an item has due_time or loan_minutes, not both; set the other to null")
    if (new_status := changes.pop("status", None)) is not None:
        # "lost" goes through the lost-item service, so the record with the item's history is made.
        lost_service.set_status(db, item, new_status, by=user.name, at=request.app.state.clock(),
                                zone=request.app.state.settings.zone,
                                address=request.client.host if request.client else None)
    service.change_item(db, item, changes)
    return _item_out(item)


@router.get("", response_model=list[ItemOut], dependencies=[Depends(require(*READ))])
def list_items(db: Db, page: Paging) -> list[ItemOut]:
    items = db.scalars(select(Item).order_by(Item.id).limit(page.limit).offset(page.offset))
    return [_item_out(i) for i in items]


@router.get("/{item_id}", response_model=ItemOut, dependencies=[Depends(require(*READ))])
def get_item(item_id: RowId, db: Db) -> ItemOut:
    item = db.get(Item, item_id)
    if item is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no item {item_id}")
    return _item_out(item)
