"""/rollcall: who is in the office now, in big type, printable as the evacuation list (点呼)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from server.api.deps import Db
from server.visits.presence import roll_call
from server.web.dashboard import Viewer
from server.web.render import page

router = APIRouter(include_in_schema=False)


@router.get("/rollcall", response_class=HTMLResponse)
def rollcall(request: Request, db: Db, user: Viewer) -> HTMLResponse:
    present = roll_call(db, request.app.state.clock(), request.app.state.settings.zone)
    return page(request, "reception/rollcall.html", {
        "now": request.app.state.clock(),
        "staff": [p for p in present if p.kind == "staff"],
        "visitors": [p for p in present if p.kind == "visitor" and not p.unconfirmed],
        "unconfirmed": [p for p in present if p.unconfirmed],
    })
