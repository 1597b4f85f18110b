"""Server-rendered pages."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select

from server import __version__
from server.readers.models import Reader

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    """A public status page: whether the server and the readers are up, in counts only (reader
    ids are broker account names; which reader is down is for the logged-in dashboard)."""
    with request.app.state.session_factory() as db:
        counts = dict(db.execute(select(Reader.online, func.count()).group_by(Reader.online)).tuples().all())
    ingest = getattr(request.app.state, "ingest", None)
    return templates.TemplateResponse(request, "home.html", {
        "version": __version__, "online": counts.get(True, 0), "total": sum(counts.values()),
        "broker_connected": bool(ingest and ingest.link.connected),
        "ingest_running": bool(ingest and ingest.worker.alive),
    })
