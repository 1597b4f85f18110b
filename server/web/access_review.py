"""/access-review (利用権限の点検): a manager signs off the access-rights report each quarter.

The report is the 持ち出し管理簿's access-rights report (who can open which cabinet, when; its CSV and
printout are there). What is signed off is the SHA-256 of that report's CSV at the moment of signing;
the page carries the digest it showed, so a list that changed meanwhile is not signed unseen.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.api.deps import Db
from server.checkouts import register
from server.checkouts.register import RegisterFilter
from server.domain.reviews import quarter_end
from server.grants import review
from server.grants.models import AccessReview
from server.web.admin.common import EDIT, VIEW, Posted, audit, text
from server.web.csv_export import to_csv
from server.web.deps import require_page
from server.web.i18n import translator
from server.web.register.cells import Cells
from server.web.render import page

router = APIRouter(include_in_schema=False)


def report(request: Request, db: Session, lang: str, *, full: bool) -> tuple[list[str], list[list[str]]]:
    """The access-rights report as of now: headers and rows (full: as the CSV has them)."""
    settings, now = request.app.state.settings, request.app.state.clock()
    lines = register.access_rights(db, RegisterFilter(), now.astimezone(settings.zone).date(),
                                   settings.training_valid_days, now)
    cells = Cells(settings.zone, translator(lang), lang, now, full)
    return cells.headers("access"), [cells.access(line) for line in lines]


def current_digest(request: Request, db: Session) -> tuple[str, int]:
    """The digest of the report's Japanese CSV (the office's own copy), and its number of lines."""
    headers, rows = report(request, db, "ja", full=True)
    return review.digest(to_csv(headers, rows)), len(rows)


def _context(request: Request, db: Session, error: str | None = None) -> dict:
    settings, now = request.app.state.settings, request.app.state.clock()
    quarter = review.this_quarter(now, settings)
    headers, rows = report(request, db, request.state.lang, full=False)
    digest, _lines = current_digest(request, db)
    signed = db.scalars(select(AccessReview).where(AccessReview.quarter == quarter)
                        .order_by(AccessReview.signed_at.desc())).first()
    return {"quarter": quarter, "due": quarter_end(quarter), "signed": signed, "columns": headers, "rows": rows,
            "digest": digest, "history": review.sign_offs(db), "can_sign": request.state.user.role in EDIT,
            "error": error}


@router.get("/access-review", response_class=HTMLResponse)
def review_page(request: Request, db: Db, user: Annotated[User, Depends(require_page(*VIEW))],
                done: str | None = None) -> HTMLResponse:
    return page(request, "access_review.html", {**_context(request, db), "done": bool(done)})


@router.post("/access-review", response_class=HTMLResponse)
def sign_off(request: Request, db: Db, user: Annotated[User, Depends(require_page(*EDIT))],
             form: Posted) -> Response:
    digest, lines = current_digest(request, db)
    if text(form, "digest") != digest:
        error = translator(request.state.lang)("review.changed")
        return page(request, "access_review.html", {**_context(request, db, error), "done": False}, status_code=409)
    now = request.app.state.clock()
    quarter = review.this_quarter(now, request.app.state.settings)
    note = text(form, "note")[:1000]
    review.sign(db, quarter=quarter, report_digest=digest, lines=lines, by=user.name, now=now, note=note)
    audit(db, request, "access_review_signed", {"quarter": quarter, "digest": digest, "lines": lines, "note": note})
    return RedirectResponse("/access-review?done=1", status_code=303)
