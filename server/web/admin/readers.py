"""/admin/readers: the entrance and cabinet readers, their status, and registering a new one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.api.deps import Db
from server.readers import service
from server.readers.heard import last_heard
from server.readers.models import Reader
from server.readers.routes import ReaderIn
from server.web.admin.common import EDIT, VIEW, Posted, audit, messages, notice, readers, text
from server.web.admin.validation import check
from server.web.deps import require_page
from server.web.render import page

router = APIRouter(include_in_schema=False)
ROLES = ("entrance", "cabinet")


def _listing(request: Request, db: Session) -> dict[str, Any]:
    return {"readers": readers(db), "heard": last_heard(db), "can_edit": request.state.user.role in EDIT,
            "roles": ROLES}


@router.get("/admin/readers", response_class=HTMLResponse)
def readers_page(request: Request, db: Db, user: Annotated[User, Depends(require_page(*VIEW))],
                 saved: str | None = None) -> HTMLResponse:
    listing = _listing(request, db)
    site = listing["readers"][0].site if listing["readers"] else ""  # one office, one site: offer it
    return page(request, "admin/readers.html", {**listing, "values": {"site": site, "role": "entrance"},
                                                 "errors": {}, "notice": notice(saved)})


@router.post("/admin/readers", response_class=HTMLResponse)
def add_reader(request: Request, db: Db, user: Annotated[User, Depends(require_page(*EDIT))],
               form: Posted) -> Response:
    typed = {name: text(form, name) for name in ("id", "site", "role", "name")}
    body, problems = check(ReaderIn, typed)
    if body is not None and db.get(Reader, body.id) is not None:
        problems["id"] = ("admin.err.reader_taken", {})
    elif body is not None and body.id in service.reserved_ids(request.app.state.settings):
        problems["id"] = ("admin.err.reader_reserved", {})
    if problems:
        return page(request, "admin/readers.html", {**_listing(request, db), "values": typed,
                                                     "errors": messages(request, problems)}, status_code=422)
    assert body is not None
    reader = service.register_reader(db, request.app.state.clock(), request.app.state.settings,
                                      **body.model_dump())
    audit(db, request, "reader_added", {"reader": reader.name, "reader_role": reader.role, "site": reader.site})
    return RedirectResponse(f"/admin/readers?saved=added#reader-{reader.id}", status_code=303)


def _reader(db: Session, reader_id: str) -> Reader:
    reader = db.get(Reader, reader_id)
    if reader is None:
        raise HTTPException(404, f"no reader {reader_id}")
    return reader


@router.get("/admin/readers/{reader_id}", response_class=HTMLResponse)
def edit_reader_page(request: Request, db: Db, reader_id: str,
                     user: Annotated[User, Depends(require_page(*EDIT))]) -> HTMLResponse:
    reader = _reader(db, reader_id)
    return page(request, "admin/reader_edit.html", {"reader": reader, "values": {"name": reader.name}, "errors": {}})


@router.post("/admin/readers/{reader_id}", response_class=HTMLResponse)
def edit_reader(request: Request, db: Db, reader_id: str, user: Annotated[User, Depends(require_page(*EDIT))],
                form: Posted) -> Response:
    """Only the name changes: the id and site are the reader's MQTT topic and broker account, and the
    role decides what its taps mean for the ledger already written."""
    reader = _reader(db, reader_id)
    typed = {"name": text(form, "name")}
    body, problems = check(ReaderIn, {"id": reader.id, "site": reader.site, "role": reader.role, **typed})
    if problems:
        return page(request, "admin/reader_edit.html", {"reader": reader, "values": typed,
                                                         "errors": messages(request, problems)}, status_code=422)
    assert body is not None
    if body.name == reader.name:
        return RedirectResponse(f"/admin/readers?saved=unchanged#reader-{reader.id}", status_code=303)
    changes = {"name": (reader.name, body.name)}
    reader.name = body.name
    audit(db, request, "reader_changed", {"reader": reader.name, "changes": changes})
    return RedirectResponse(f"/admin/readers?saved=saved#reader-{reader.id}", status_code=303)
