"""/admin/items: folders, phones, media, laptops and keys, each with its tag and home cabinet.

No resident personal data: a case is known by the ward's case number only, and the form says so.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.api.deps import Db
from server.api.schemas import RowId
from server.api.uids import registered_as
from server.items import service
from server.items.models import Item
from server.items.routes import ItemChange, ItemIn
from server.lost import service as lost_service
from server.readers.models import Reader
from server.web.admin.common import (
    EDIT,
    VIEW,
    Posted,
    audit,
    messages,
    notice,
    readers,
    text,
    ticked,
)
from server.web.admin.validation import check
from server.web.deps import require_page
from server.web.render import page

router = APIRouter(include_in_schema=False)
KINDS = ("folder", "phone", "media", "laptop", "key")
STATUSES = ("active", "lost", "retired")
PAGE_SIZE = 100


def _listing(request: Request, db: Session, page_no: int = 1) -> dict[str, Any]:
    total = db.scalar(select(func.count()).select_from(Item)) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page_no = min(max(1, page_no), pages)
    items = list(db.scalars(select(Item).order_by(Item.status, Item.cabinet_id, Item.label, Item.id)
                            .limit(PAGE_SIZE).offset((page_no - 1) * PAGE_SIZE)))
    cabinets = service.cabinets(db)
    return {"items": items, "can_edit": request.state.user.role in EDIT, "readers": readers(db),
            "cabinets": cabinets, "cabinet_names": {c.id: c.name for c in cabinets}, "kinds": KINDS,
            "page_no": page_no, "pages": pages, "total": total}


@router.get("/admin/items", response_class=HTMLResponse)
def items_page(request: Request, db: Db, user: Annotated[User, Depends(require_page(*VIEW))],
               saved: str | None = None,
               page_no: Annotated[int, Query(alias="page", ge=1, le=2**31 - 1)] = 1) -> HTMLResponse:
    listing = _listing(request, db, page_no)
    first_cabinet = listing["cabinets"][0].id if listing["cabinets"] else ""
    return page(request, "admin/items.html", {**listing, "values": {"kind": "folder", "cabinet": first_cabinet},
                                               "errors": {}, "notice": notice(saved)})


@router.post("/admin/items", response_class=HTMLResponse)
def add_item(request: Request, db: Db, user: Annotated[User, Depends(require_page(*EDIT))], form: Posted) -> Response:
    typed = {"label": text(form, "label"), "kind": text(form, "kind"), "tag_uid": text(form, "tag_uid"),
             "cabinet": text(form, "cabinet"), "encrypted": ticked(form, "encrypted"),
             "screen_locked": ticked(form, "screen_locked"), "case": text(form, "case")}
    body, problems = check(ItemIn, {**typed, "case": typed["case"] or None})
    if body is not None:
        if not service.is_cabinet(db, body.cabinet):
            problems["cabinet"] = ("admin.err.not_cabinet", {})
        if used := registered_as(db, body.tag_uid):
            problems["tag_uid"] = (f"admin.err.uid_taken.{used}", {})
    if problems:
        return page(request, "admin/items.html", {**_listing(request, db), "values": typed,
                                                   "errors": messages(request, problems)}, status_code=422)
    assert body is not None
    item = service.add_item(db, request.app.state.clock(), **body.model_dump())
    audit(db, request, "item_added", {
        "item": item.label, "kind": item.kind, "tag": item.tag_uid, "cabinet": db.get(Reader, item.cabinet_id).name,
        "encrypted": item.encrypted, "screen_locked": item.screen_locked, "case": item.case_number})
    return RedirectResponse(f"/admin/items?saved=added#item-{item.id}", status_code=303)


def _item(db: Session, item_id: int) -> Item:
    item = db.get(Item, item_id)
    if item is None:
        raise HTTPException(404, f"no item {item_id}")
    return item


def _edit_context(db: Session, item: Item) -> dict[str, Any]:
    cabinet = next((c for c in service.cabinets(db) if c.id == item.cabinet_id), None)
    return {"item": item, "cabinet_name": cabinet.name if cabinet else item.cabinet_id, "statuses": STATUSES}


@router.get("/admin/items/{item_id}", response_class=HTMLResponse)
def edit_item_page(request: Request, db: Db, item_id: RowId,
                   user: Annotated[User, Depends(require_page(*EDIT))]) -> HTMLResponse:
    item = _item(db, item_id)
    values = {"label": item.label, "encrypted": item.encrypted, "screen_locked": item.screen_locked,
              "case": item.case_number or "", "status": item.status}
    return page(request, "admin/item_edit.html", {**_edit_context(db, item), "values": values, "errors": {}})


@router.post("/admin/items/{item_id}", response_class=HTMLResponse)
def edit_item(request: Request, db: Db, item_id: RowId, user: Annotated[User, Depends(require_page(*EDIT))],
              form: Posted) -> Response:
    item = _item(db, item_id)
    typed = {"label": text(form, "label"), "encrypted": ticked(form, "encrypted"),
             "screen_locked": ticked(form, "screen_locked"), "case": text(form, "case"), "status": text(form, "status")}
    body, problems = check(ItemChange, {**typed, "case": typed["case"] or None})
    if problems:
        return page(request, "admin/item_edit.html", {**_edit_context(db, item), "values": typed,
                                                       "errors": messages(request, problems)}, status_code=422)
    assert body is not None
    label, status_before = item.label, item.status
    wanted = body.model_dump(exclude_unset=True)
    if (new_status := wanted.pop("status", None)) is not None:
        # "lost" goes through the lost-item service, as from the API, so the record with the history is made.
        lost_service.set_status(db, item, new_status, by=user.name, at=request.app.state.clock(),
                                zone=request.app.state.settings.zone,
                                address=request.client.host if request.client else None)
    changes = service.change_item(db, item, wanted)
    if not changes and item.status == status_before:
        return RedirectResponse(f"/admin/items?saved=unchanged#item-{item.id}", status_code=303)
    if changes:
        audit(db, request, "item_changed", {"item": label, "changes": changes})
    return RedirectResponse(f"/admin/items?saved=saved#item-{item.id}", status_code=303)
