"""/lost: marking an item lost (from the list, or the dashboard's "lost?" prompt), the records with
their frozen history on screen and on A4 paper, and marking an item found again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.api.deps import Db
from server.api.schemas import RowId
from server.checkouts.models import Checkout
from server.incidents.models import Incident
from server.items.models import Item
from server.lost import service
from server.lost.finding import find_items
from server.lost.models import LostItem
from server.people.models import Person
from server.readers.models import Reader
from server.web.admin.common import EDIT, VIEW, address, audit
from server.web.deps import require_page
from server.web.i18n import translator
from server.web.printout import printout
from server.web.render import office_time, page

router = APIRouter(include_in_schema=False)
Viewer = Annotated[User, Depends(require_page(*VIEW))]
Manager = Annotated[User, Depends(require_page(*EDIT))]
NOTICES = {"marked": "lost.marked", "found": "lost.found.done"}
SHOWN = 200


def _holders(db: Session, ids: set[int]) -> dict[int, str]:
    return dict(db.execute(select(Person.id, Person.name).where(Person.id.in_(ids))).all()) if ids else {}


def _list_context(request: Request, db: Session) -> dict[str, Any]:
    records = service.listing(db, limit=SHOWN)
    return {"records": records, "holders": _holders(db, {lost.person_id for lost, _ in records if lost.person_id}),
            "can_edit": request.state.user.role in EDIT}


@router.get("/lost", response_class=HTMLResponse)
def lost_list(request: Request, db: Db, user: Viewer) -> HTMLResponse:
    return page(request, "lost/list.html", {**_list_context(request, db), "values": {}, "errors": {}})


def _one_item(request: Request, db: Session, typed: str) -> Item | HTMLResponse:
    """The one item meant, or the list page again: "not found" next to the field, or the matches to choose from."""
    found = find_items(db, typed)
    if len(found) == 1:
        return found[0]
    context = {**_list_context(request, db), "values": {"item": typed}, "errors": {}, "choices": found}
    if not found:
        context["errors"] = {"item": translator(request.state.lang)("lost.err.no_item")}
    return page(request, "lost/list.html", context, status_code=422 if not found else 200)


def _mark_context(db: Session, item: Item) -> dict[str, Any]:
    loan = db.execute(select(Checkout, Person).join(Person, Person.id == Checkout.person_id)
                      .where(Checkout.item_id == item.id, Checkout.returned_at.is_(None))).first()
    return {"item": item, "cabinet": db.get(Reader, item.cabinet_id), "loan": loan,
            "record": service.open_record(db, item.id) if item.status == "lost" else None}


@router.get("/lost/mark", response_class=HTMLResponse)
def mark_form(request: Request, db: Db, user: Manager, item: str = "") -> HTMLResponse:
    """The form for one item: what is known of it now, and a note."""
    if not item.strip():
        return page(request, "lost/list.html", {**_list_context(request, db), "values": {}, "errors": {}})
    found = _one_item(request, db, item)
    if not isinstance(found, Item):
        return found
    return page(request, "lost/mark.html", {**_mark_context(db, found), "values": {}, "errors": {}})


@router.post("/lost/mark", response_class=HTMLResponse)
def mark(request: Request, db: Db, user: Manager, item: Annotated[str, Form()] = "",
         note: Annotated[str, Form(max_length=service.NOTE_MAX)] = "") -> Response:
    t = translator(request.state.lang)
    found = _one_item(request, db, item)
    if not isinstance(found, Item):
        return found
    if not note.strip():
        return page(request, "lost/mark.html", {**_mark_context(db, found), "values": {"note": note},
                                                "errors": {"note": t("admin.err.required")}}, status_code=422)
    try:
        lost = service.mark_lost(db, found, by=user.name, at=request.app.state.clock(),
                                 zone=request.app.state.settings.zone, note=note, address=address(request))
    except service.AlreadyLost:
        return page(request, "lost/mark.html", {**_mark_context(db, found), "values": {"note": note}, "errors": {}},
                    status_code=409)
    return RedirectResponse(f"/lost/{lost.id}?done=marked", status_code=303)


def _record_context(request: Request, db: Session, lost: LostItem) -> dict[str, Any]:
    item = db.get(Item, lost.item_id)
    loan = db.get(Checkout, lost.checkout_id) if lost.checkout_id else None
    holder = db.get(Person, lost.person_id) if lost.person_id else None
    return {"lost": lost, "item": item, "cabinet": db.get(Reader, item.cabinet_id) if item else None, "loan": loan,
            "holder": holder, "history": [_history_line(entry, request) for entry in lost.history or []],
            "can_edit": request.state.user.role in EDIT,
            "incidents": db.scalars(select(Incident).where(Incident.lost_item_id == lost.id)).all()}


def _history_line(entry: dict, request: Request) -> dict[str, str]:
    """One frozen history entry in the viewer's words (its times are kept in office time)."""
    t, zone, lang = translator(request.state.lang), request.app.state.settings.zone, request.state.lang

    def when(value: str | None) -> str:
        return office_time(datetime.fromisoformat(value), zone, lang) if value else "—"

    if entry.get("kind") == "checkout":
        detail = t("lost.hist.checkout_detail", due=when(entry.get("due_at")),
                   back=when(entry["returned_at"]) if entry.get("returned_at") else t("lost.hist.not_back"),
                   rule=entry.get("loan_rule") or "—", purpose=entry.get("purpose") or "—")
        return {"when": when(entry.get("out_at")), "what": t("lost.hist.checkout"), "who": entry.get("person") or "—",
                "detail": detail}
    if entry.get("result") == "deny":
        reason_key = f"alert.reason.{entry.get('reason')}"
        reason = t(reason_key)
        result = t("lost.act.deny", reason=entry.get("reason") if reason == reason_key else reason)
    else:
        action_key = f"lost.act.{entry.get('action')}"
        result = t(action_key) if t(action_key) != action_key else str(entry.get("action"))
    if entry.get("duplicate"):
        result += t("lost.hist.duplicate")
    return {"when": when(entry.get("at")), "what": t("lost.hist.scan"), "who": entry.get("person") or "—",
            "detail": t("lost.hist.scan_detail", reader=entry.get("reader") or "—", result=result)}


def _record(request: Request, db: Session, lost_id: int) -> LostItem | HTMLResponse:
    lost = db.get(LostItem, lost_id)
    if lost is None:
        t = translator(request.state.lang)
        return page(request, "lost/message.html", {"message": t("lost.missing")}, status_code=404)
    return lost


@router.get("/lost/{lost_id}", response_class=HTMLResponse)
def record_page(request: Request, db: Db, user: Viewer, lost_id: RowId, done: str | None = None) -> HTMLResponse:
    lost = _record(request, db, lost_id)
    if isinstance(lost, HTMLResponse):
        return lost
    notice = translator(request.state.lang)(NOTICES[done]) if done in NOTICES else None
    return page(request, "lost/record.html", {**_record_context(request, db, lost), "notice": notice})


@router.get("/lost/{lost_id}/print", response_class=HTMLResponse)
def record_print(request: Request, db: Db, user: Viewer, lost_id: RowId) -> HTMLResponse:
    """The record on A4 (print_base.html), for the incident file; printing it is audited."""
    lost = _record(request, db, lost_id)
    if isinstance(lost, HTMLResponse):
        return lost
    item = db.get(Item, lost.item_id)
    audit(db, request, "lost_item_printed", {"lost": lost.id, "item": item.label if item else None})
    return printout(request, "lost/print.html", {**_record_context(request, db, lost), "on_paper": True})


@router.post("/lost/{lost_id}/found", response_class=HTMLResponse)
def found(request: Request, db: Db, user: Manager, lost_id: RowId) -> Response:
    lost = _record(request, db, lost_id)
    if isinstance(lost, HTMLResponse):
        return lost
    try:
        service.mark_found(db, lost.id, by=user.name, at=request.app.state.clock(), address=address(request))
    except service.AlreadyFound as exc:
        t, settings = translator(request.state.lang), request.app.state.settings
        at = office_time(exc.lost.found_at, settings.zone, request.state.lang)
        return page(request, "lost/message.html", {"message": t("lost.found.already", name=exc.lost.found_by, at=at)},
                    status_code=409)
    return RedirectResponse(f"/lost/{lost.id}?done=found", status_code=303)
