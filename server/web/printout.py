"""Rendering a printout: the page context plus what print_base.html needs (when, stamp boxes)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from server.evidence.chain import head
from server.web.i18n import MESSAGES, translator
from server.web.render import page


def stamp_labels(labels: tuple[str, ...], lang: str) -> list[str]:
    """The office's stamp boxes in the page's language; a label the catalogue lacks stays as written."""
    t = translator(lang)
    return [t(f"print.stamp.{label}") if f"print.stamp.{label}" in MESSAGES else label for label in labels]


def chain_anchor(request: Request) -> tuple[int, str] | None:
    """The evidence chain's head as this print leaves the office: (link number, HASH@DATE), which
    `mamori ledger verify --anchor` checks against the database later (docs/evidence.md)."""
    with request.app.state.session_factory() as db:
        link = head(db)
    if link is None:
        return None
    return link.seq, f"{link.hash}@{link.at.astimezone(request.app.state.settings.zone).date().isoformat()}"


def printout(request: Request, name: str, context: dict, *, orientation: str = "portrait",
             status_code: int = 200) -> HTMLResponse:
    """Render a template that extends print_base.html, printed now by the person asking."""
    settings = request.app.state.settings
    base = {"orientation": orientation, "printed_at": request.app.state.clock(),
            "stamps": stamp_labels(settings.print_stamps, getattr(request.state, "lang", "ja")),
            "chain_anchor": chain_anchor(request)}
    return page(request, name, {**base, **context}, status_code=status_code)
