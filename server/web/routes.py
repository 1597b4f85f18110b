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
    """A public status page: no personal data, only whether the readers and the server are up."""
    with request.app.state.session_factory() as db:
        readers = list(db.scalars(select(Reader).order_by(Reader.role, Reader.id)))
        total = db.scalar(select(func.count()).select_from(Reader)) or 0
    ingest = getattr(request.app.state, "ingest", None)
    return templates.TemplateResponse(request, "home.html", {
        "version": __version__, "readers": readers, "total": total,
        "broker_connected": bool(ingest and ingest.link.connected), "zone": request.app.state.settings.zone,
    })
