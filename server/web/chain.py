"""/ledger/chain: the evidence chain's head, today's anchor, the last verification (managers and
auditors), and a button that runs one now (managers)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from server.accounts.models import User
from server.api.deps import Db
from server.evidence.chain import head
from server.evidence.models import ChainVerification
from server.evidence.runs import run
from server.evidence.verify import Anchor
from server.evidence.watch import NIGHTLY
from server.web.admin.common import EDIT, VIEW, audit
from server.web.deps import require_page
from server.web.i18n import MESSAGES, translator
from server.web.render import page

router = APIRouter(include_in_schema=False)
Viewer = Annotated[User, Depends(require_page(*VIEW))]
Manager = Annotated[User, Depends(require_page(*EDIT))]
HISTORY = 10


def problem_words(stored: str | None, lang: str) -> str:
    """A verification's first problem as the page says it: the kind of record in words, its number."""
    if not stored:
        return ""
    t = translator(lang)
    problem = json.loads(stored)
    kind = problem.get("kind", "")
    kind_key = f"evidence.kind.{kind}"
    return t(f"evidence.problem.{problem['what']}", kind=t(kind_key) if kind_key in MESSAGES else kind,
             id=problem.get("row_id", ""), seq=problem.get("seq", ""))


@router.get("/ledger/chain", response_class=HTMLResponse)
def chain_page(request: Request, db: Db, user: Viewer) -> HTMLResponse:
    lang, settings = request.state.lang, request.app.state.settings
    now_head = head(db)
    anchor = (str(Anchor(now_head.hash, now_head.at.astimezone(settings.zone).date()))
              if now_head is not None else None)
    runs = db.scalars(select(ChainVerification).order_by(ChainVerification.started_at.desc(),
                                                         ChainVerification.id.desc()).limit(HISTORY)).all()
    t = translator(lang)
    return page(request, "chain.html", {
        "head": now_head, "anchor": anchor, "runs": runs, "can_run": user.role in EDIT,
        "problem": lambda run_: problem_words(run_.first_problem, lang),
        "who": lambda run_: t("chain.by.nightly") if run_.by == NIGHTLY else run_.by,
        "done": request.query_params.get("done", ""),
    })


@router.post("/ledger/chain/verify")
def verify_now(request: Request, db: Db, user: Manager) -> Response:
    app = request.app.state
    report, _kept = run(app.session_factory, app.settings.zone, app.clock, by=user.name)
    audit(db, request, "chain_verified", {"links": report.links, "problems": report.count})
    return RedirectResponse(f"/ledger/chain?done={'ok' if report.ok else 'broken'}", status_code=303)
